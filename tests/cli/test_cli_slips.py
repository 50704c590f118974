"""Ordinary slips on the command line: one short message with "did you mean …", exit code 2,
never a traceback.

Every command gets a typo'd sub-command or option, and those with required parameters are
run without them (in this process: usage errors are found before any database is opened);
out-of-range numbers, unknown categories, cities, types and kinds are checked on the
commands taking them, the last three against the demo database in a real ``servicecircle``
process (the code of this checkout).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main
from sqlalchemy import Engine, text

from api.cli import app
from api.cli.common import run_cli
from geo.settings import Settings

ROOT = typer.main.get_command(app)


def _leaves(cmd: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subs = getattr(cmd, "commands", None)
    if subs is None:
        yield prefix, cmd
        return
    for name, sub in subs.items():
        yield from _leaves(sub, (*prefix, name))


def _groups(cmd: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if getattr(cmd, "commands", None) is None:
        return
    yield prefix, cmd
    for name, sub in cmd.commands.items():
        yield from _groups(sub, (*prefix, name))


LEAVES = list(_leaves(ROOT))
GROUPS = list(_groups(ROOT))


def _typo(word: str) -> str:
    """``word`` with one letter dropped (``--city`` → ``--cty``)."""
    core = word.lstrip("-")
    i = min(2, len(core) - 1)
    return word[: len(word) - len(core)] + core[:i] + core[i + 1:]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = run_cli(app, list(args))
    out = capsys.readouterr()
    return code, out.out + out.err


def _short(output: str) -> None:
    assert "Traceback" not in output and 'File "' not in output, output
    assert len(output.strip().splitlines()) <= 6, output


def _long_option(cmd: Any) -> str | None:
    names = [o for p in cmd.params for o in getattr(p, "opts", []) if o.startswith("--")
             and len(o) >= 6 and o != "--help"]
    return names[0] if names else None


@pytest.mark.parametrize(("path", "group"), GROUPS, ids=lambda v: " ".join(v) if isinstance(
    v, tuple) else "")
def test_typo_in_a_command_suggests_it(capsys: pytest.CaptureFixture[str],
                                       path: tuple[str, ...], group: Any) -> None:
    name = next(n for n in group.commands if len(n) >= 4)
    code, out = _run(capsys, *path, _typo(name))
    assert code == 2, out
    assert f"Did you mean '{name}'?" in out, out
    _short(out)


OPTIONED = [(p, c) for p, c in LEAVES if _long_option(c)]


@pytest.mark.parametrize(("path", "cmd"), OPTIONED, ids=lambda v: " ".join(v) if isinstance(
    v, tuple) else "")
def test_typo_in_an_option_suggests_it(capsys: pytest.CaptureFixture[str],
                                       path: tuple[str, ...], cmd: Any) -> None:
    opt = _long_option(cmd)
    assert opt is not None
    code, out = _run(capsys, *path, _typo(opt), "x")
    assert code == 2, out
    assert f"no such option {_typo(opt)}; did you mean" in out and opt in out, out
    assert f"Try 'servicecircle {' '.join(path)} --help'" in out
    _short(out)


REQUIRING = [(p, c) for p, c in LEAVES if any(q.required for q in c.params)]


@pytest.mark.parametrize(("path", "cmd"), REQUIRING, ids=lambda v: " ".join(v) if isinstance(
    v, tuple) else "")
def test_a_missing_required_parameter_is_named(capsys: pytest.CaptureFixture[str],
                                               path: tuple[str, ...], cmd: Any) -> None:
    code, out = _run(capsys, *path)
    assert code == 2, out
    required = [q for q in cmd.params if q.required]
    names = {o for q in required for o in q.opts if o.startswith("--")} | {
        f"'{q.name}'" for q in required}
    assert re.search(r"Missing (option|argument|parameter)", out), out
    assert any(n in out for n in names), out
    _short(out)


def test_all_the_commands_are_covered() -> None:
    assert len(LEAVES) >= 20 and len(OPTIONED) >= 10 and len(REQUIRING) >= 8
    assert {("analyze", "siting"), ("import",), ("city", "add")} <= {p for p, _ in REQUIRING}


@pytest.mark.parametrize(("args", "words"), [
    (("analyze", "siting", "--city", "guixi", "--p", "0"), "field '--p': Input should be greater"),
    (("analyze", "siting", "--city", "guixi", "--p", "abc"), "Invalid value for '--p'"),
    (("analyze", "siting", "--city", "guixi", "--model", "mlcp"), "did you mean 'mclp'?"),
    (("analyze", "cases", "--resolution", "12"), "field '--resolution': Input should be less than"),
    (("analyze", "courier", "--overlap", "2"), "--overlap"),
    (("analyze", "coverage", "--minutes", "5,abc"), "field '--minutes'"),
    (("analyze", "cases", "--categories", "安全隐患,sanitaton"),
     "field '--categories': unknown case category 'sanitaton'; did you mean sanitation (环境卫生)?"),
    (("city", "add", "Bad Code!", "--osm", "x.osm"), "city code"),
])
def test_bad_values_are_named_without_a_traceback(capsys: pytest.CaptureFixture[str],
                                                  args: tuple[str, ...], words: str) -> None:
    code, out = _run(capsys, *args)
    assert code == 2, out
    assert words in out, out
    assert "Traceback" not in out


def test_no_arguments_prints_the_help(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys)
    assert code == 0 and "Usage" in out and "analyze" in out


def test_an_unexpected_error_is_one_line_unless_debugging(capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    boom = typer.Typer()

    @boom.command()
    def fail() -> None:
        raise RuntimeError("boom")

    code, out = run_cli(boom, []), capsys.readouterr()
    assert code == 1 and "RuntimeError: boom" in out.err and "Traceback" not in out.err
    assert "SERVICECIRCLE_DEBUG=1" in out.err
    with pytest.raises(RuntimeError):
        run_cli(boom, [], debug=True)


# --- against the database, in a real process -------------------------------------------


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, SERVICECIRCLE_DB_NAME=settings.db_name)
    env.pop("SERVICECIRCLE_DEBUG", None)
    if settings.database_url:
        env["SERVICECIRCLE_DATABASE_URL"] = settings.url(settings.db_name).replace(
            "postgresql+psycopg://", "postgresql://")
    return subprocess.run([sys.executable, "-c", "from api.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, cwd=root, timeout=300,
                          check=False)


@pytest.mark.parametrize(("args", "words"), [
    (("analyze", "coverage", "--city", "guixii"), "no city 'guixii'; did you mean guixi?"),
    (("export", "compounds", "out.geojson", "--city", "wudaokuo"), "did you mean wudaokou?"),
    (("analyze", "siting", "--city", "guixi", "--type", "红色驿占"),
     "unknown service type '红色驿占'; did you mean red_station (红色驿站)?"),
    (("analyze", "courier", "--city", "guixi", "--type", "parcel_statoin"),
     "did you mean parcel_station (快递驿站)?"),
    (("import", "compunds", "nofile.csv", "--city", "guixi"),
     "unknown kind 'compunds'; did you mean compounds?"),
])
def test_unknown_names_suggest_close_ones(settings: Settings, demo_engine: Engine,
                                          args: tuple[str, ...], words: str) -> None:
    done = _cli(settings, *args)
    assert done.returncode == 2, done.stderr
    assert words in done.stderr, done.stderr
    _short(done.stderr)


def test_chinese_names_run_end_to_end(settings: Settings, demo_engine: Engine) -> None:
    done = _cli(settings, "analyze", "courier", "--city", "guixi", "--type", "快递驿站",
                "--mode", "walk", "--minutes", "5")
    assert done.returncode == 0, done.stderr
    assert "guixi parcel_station (walk, 5 min)" in done.stderr, done.stderr
    done = _cli(settings, "analyze", "cases", "--city", "guixi", "--categories",
                "安全隐患、Sanitation", "--permutations", "99")
    assert done.returncode == 0, done.stderr
    with demo_engine.connect() as conn:
        params = conn.execute(text(
            "SELECT params FROM analysis_run WHERE kind = 'case_hotspots' ORDER BY id DESC LIMIT 1"
        )).scalar_one()
    assert params["categories"] == ["safety_hazard", "sanitation"]
