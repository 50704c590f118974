"""The ``analyze`` commands' options are the run layer's parameter objects, field by field.

The same models are the HTTP request bodies, so an option whose default, bounds or help
differed from its field would be the two front ends drifting apart.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main
from pydantic_core import PydanticUndefined

from api.cli import app
from api.cli.options import bounds
from geo.runs.params import (
    CasesParams,
    CourierParams,
    CoverageParams,
    GridsParams,
    Params,
    PlanParams,
    RegridParams,
)

ROOT = typer.main.get_command(app)

#: command → (model, fields with no option of that name, the command's own options,
#: options whose command-line default differs on purpose).
#: The Dask options of the commands that run over every city (--city all).
BATCH = {"scheduler", "workers"}
COMMANDS: dict[str, tuple[type[Params], set[str], set[str], dict[str, Any]]] = {
    "coverage": (CoverageParams, set(), {"city", "week", "split_compounds"} | BATCH, {}),
    "cases": (CasesParams, set(), {"city"} | BATCH, {}),
    # several presets at once: --preset is the command's own; --type replaces them
    "courier": (CourierParams, {"preset"}, {"city", "presets"} | BATCH, {"service_type": None}),
    # exclusion zones and the compounds layer are HTTP answers' business; --report the CLI's
    "siting": (PlanParams, {"exclude", "compounds"}, {"city", "report"} | BATCH, {}),
    "grids": (GridsParams, set(), {"city", "out"}, {}),
    "regrid": (RegridParams, set(), {"city", "out"}, {"community": None}),
}


def _options(command: str) -> dict[str, Any]:
    cmd = ROOT.commands["analyze"].commands[command]  # type: ignore[attr-defined]
    return {p.name: p for p in cmd.params
            if p.param_type_name == "option" and p.name != "help"}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_field_is_an_option_and_every_option_a_field(command: str) -> None:
    model, http_only, own, _ = COMMANDS[command]
    assert set(_options(command)) == (set(model.model_fields) - http_only) | own


@pytest.mark.parametrize("command", COMMANDS)
def test_options_have_their_fields_defaults_bounds_and_help(command: str) -> None:
    model, http_only, _, overrides = COMMANDS[command]
    options = _options(command)
    for name, field in model.model_fields.items():
        if name in http_only:
            continue
        opt = options[name]
        want = overrides.get(name, field.default)
        assert want is not PydanticUndefined
        assert opt.default == want, name
        assert (field.description or "") in (opt.help or ""), name
        assert bounds(field) in (opt.help or ""), name
        if field.annotation is bool:
            assert opt.secondary_opts == [f"--no-{opt.opts[0][2:]}"], name


def test_bounds_are_written_from_the_field() -> None:
    assert bounds(PlanParams.model_fields["p"]) == "[1<=x<=200]"
    assert bounds(PlanParams.model_fields["minutes"]) == "[0<x<=60]"
    assert bounds(PlanParams.model_fields["service_type"]) == ""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from api.cli import main; main()", *args],
                          capture_output=True, text=True, cwd=Path(__file__).parents[2],
                          timeout=120, check=False)


@pytest.mark.parametrize(("args", "option"), [
    (("siting", "--city", "x", "--p", "0"), "--p"),
    (("siting", "--city", "x", "--minutes", "61"), "--minutes"),
    (("courier", "--speed", "0"), "--speed"),
    (("cases", "--area", "town"), "--area"),
    (("regrid", "--city", "x", "--community", "a", "--attempts", "0"), "--attempts"),
    (("coverage", "--minutes", "5,abc"), "--minutes"),
    (("coverage", "--at", "Xy 22:00"), "--at"),
])
def test_out_of_bounds_values_are_refused_by_the_model_naming_the_option(
        args: tuple[str, ...], option: str) -> None:
    done = _cli("analyze", *args)
    assert done.returncode == 2, done.stderr
    assert f"field '{option}'" in done.stderr and "Traceback" not in done.stderr
    assert "Nothing was written." in done.stderr
