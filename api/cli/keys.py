"""``servicecircle keys …``: create, list and revoke API keys (stored hashed)."""

from __future__ import annotations

import typer

from api.cli.common import console, engine

app = typer.Typer(help="API keys with roles viewer < analyst < admin.", no_args_is_help=True)


@app.command()
def create(
    name: str = typer.Argument(..., help="A name for the key (who or what uses it)."),
    role: str = typer.Option("viewer", "--role", help="viewer, analyst or admin."),
) -> None:
    """Create a key and print it once; only its hash is stored."""
    from geo.store.keys import create_key

    with engine() as eng, eng.begin() as conn:
        key, plain = create_key(conn, name, role=role)
    console.print(f"created key {key.name!r} with role {key.role}; it is shown only now:")
    print(plain)


@app.command("list")
def list_() -> None:
    """List keys (names, roles, dates; never the keys)."""
    from geo.store.keys import list_keys

    with engine() as eng, eng.connect() as conn:
        keys = list_keys(conn)
    if not keys:
        console.print("no API keys")
    for k in keys:
        state = f"revoked {k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "active"
        print(f"{k.name}\t{k.role}\tcreated {k.created_at:%Y-%m-%d %H:%M}\t{state}")


@app.command()
def revoke(name: str = typer.Argument(..., help="Name of the key to revoke.")) -> None:
    """Revoke a key; requests using it get 401 from then on."""
    from geo.store.keys import revoke_key

    with engine() as eng, eng.begin() as conn:
        key = revoke_key(conn, name)
    console.print(f"revoked key {key.name!r}")
