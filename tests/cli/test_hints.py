"""A core error's hint is worded by each front end: CLI options vs HTTP parameters."""

from __future__ import annotations

from api.cli.common import advice as cli_advice
from api.cli.common import problem_line
from api.errors import advice as api_advice
from geo.errors import Hint, Problem


def test_repair_is_a_flag_on_the_cli_and_a_query_parameter_on_the_api() -> None:
    hint = Hint(option="repair")
    assert "--repair" in cli_advice(hint) and "?repair=true" in api_advice(hint)
    assert "--" not in api_advice(hint)


def test_values_are_carried_to_both() -> None:
    hint = Hint(option="encoding", value="gb18030")
    assert cli_advice(hint) == "use --encoding gb18030"
    assert "?encoding=gb18030" in api_advice(hint)


def test_missing_runs_point_to_each_front_ends_way_of_running_them() -> None:
    assert "servicecircle analyze courier" in cli_advice(Hint(run="courier"))
    assert "POST /cities/{city}/courier/runs" in api_advice(Hint(run="courier"))


def test_problems_print_with_their_advice() -> None:
    p = Problem("invalid geometry", row=3, field="geometry", hint=Hint(option="repair"))
    assert problem_line(p) == "row 3, field 'geometry': invalid geometry; use --repair"


def test_no_core_message_names_a_flag() -> None:
    import pathlib
    import re

    root = pathlib.Path(__file__).parents[2] / "geo"
    flagged = []
    for f in root.rglob("*.py"):
        if "migrations" in f.parts or f.name in ("cluster.py", "pdf.py"):
            continue  # commands the code runs, not messages
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"[\"'].*\s--[a-z]", line):
                flagged.append(f"{f.relative_to(root)}:{n}")
    assert not flagged, flagged
