"""``servicecircle bench …``: side-by-side benchmarks writing to benchmarks/results/.

The benchmarks live in the top-level ``benchmarks`` package and compare us with libraries
the service itself does not use (NetworkX, PuLP + CBC, tipg): the optional dependency
group ``bench`` (``pip install -e .[bench]``). A benchmark is imported only when it runs.
"""

from __future__ import annotations

import importlib
import json
from importlib.util import find_spec
from pathlib import Path
from types import ModuleType
from typing import Any

import typer
from rich.markup import escape

from api.cli.common import console, progress
from geo.settings import PROJECT_ROOT

app = typer.Typer(help="Run benchmarks; figures go to benchmarks/results/.", no_args_is_help=True)

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
INSTALL = "pip install -e .[bench]"

#: The benchmarks (modules of the ``benchmarks`` package) and what each measures.
BENCHMARKS: dict[str, str] = {
    "tiles": "Tile endpoint throughput/latency under concurrency, next to tipg.",
    "coverage": "Nearest service and service circles, next to the NetworkX approach.",
    "courier": "Courier-station reach at city scale.",
    "cases": "Case hex aggregation and Getis-Ord Gi* at scale.",
    "siting": "MCLP siting: our solver next to HiGHS and PuLP+CBC.",
    "load": "100 concurrent clients on 127.0.0.1, one server worker per CPU: cached tiles "
            "(with and without a key), feature pages, peak memory.",
    "ogc": "A 10,000-feature OGC API collection read in full through GDAL (pyogrio, "
           "ogr2ogr): requests and seconds.",
    "finder": "Nearest-station finder: per-request latency through the HTTP server on the "
              "demo (median, p95; goal < 100 ms).",
    "scale": "analyze coverage --city all as Dask tasks over 2 and 8 generated cities (32 with "
             "--with-32), 1 vs 2 local worker processes: batch time, peak memory per worker, "
             "a large city in parts; tile throughput of 1 vs 2 server processes.",
    "map": "The web map in Chromium: time to first tiles and to a full coverage view, at "
           "opening and after pans (desktop and phone sizes).",
}


def _load(name: str) -> ModuleType:
    """The benchmark module ``name``; a plain error naming the ``bench`` extras when the
    benchmarks or a library they need is not installed."""
    if find_spec("benchmarks") is None:
        missing = ["benchmarks"]
    else:
        from benchmarks import EXTRAS

        missing = [m for m in EXTRAS.get(name, ()) if find_spec(m) is None]
    if missing:
        console.print(f"[red]error:[/red] bench {name} needs {', '.join(missing)}, which is not "
                      f"installed; install the benchmark extras: {escape(INSTALL)}", soft_wrap=True)
        raise typer.Exit(1)
    return importlib.import_module(f"benchmarks.{name}")


def _run(name: str, quick: bool, out: Path | None, **options: Any) -> None:
    module = _load(name)
    with progress() as bar:
        bar.add_task(f"bench {name}{' --quick' if quick else ''} (minutes at full size)",
                     total=None)
        result = module.run(quick=quick, **options)
    target = out or RESULTS / f"{name}{'-quick' if quick else ''}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n")
    md = module.to_markdown(result) if hasattr(module, "to_markdown") else None
    if md:
        target.with_suffix(".md").write_text(md)
        console.print(md, markup=False, highlight=False)
    console.print(f"written: {target}")


def _command(name: str, doc: str) -> None:
    def command(
        quick: bool = typer.Option(False, "--quick", help="Smaller inputs, fewer repeats."),
        out: Path = typer.Option(None, help="Write the JSON figures here instead."),
    ) -> None:
        _run(name, quick, out)

    command.__doc__ = doc
    app.command(name=name)(command)


for _name, _doc in BENCHMARKS.items():
    if _name != "scale":
        _command(_name, _doc)


@app.command(name="scale")
def scale(
    quick: bool = typer.Option(False, "--quick", help="Cities of 60 compounds."),
    with_32: bool = typer.Option(False, "--with-32", help="Also 32 cities (about an hour "
                                 "on 2 cores)."),
    out: Path = typer.Option(None, help="Write the JSON figures here instead."),
) -> None:
    """analyze coverage --city all as Dask tasks over 2 and 8 generated cities (32 with
    --with-32), 1 vs 2 local worker processes: batch time, peak memory per worker, a large
    city in parts; tile throughput of 1 vs 2 server processes."""
    _run("scale", quick, out, with_32=with_32)
