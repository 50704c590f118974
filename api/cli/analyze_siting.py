"""``servicecircle analyze siting``: best new stations of a type, as a ranked table.

Runs the same scenario as ``POST /cities/{city}/siting/plan`` (imported candidate sites
plus street/gate points generated near uncovered compounds), prints the ranked proposals
(site, newly covered demand, compounds brought inside, cost) and optionally saves the
scenario and writes its one-page report (HTML or PDF, by the file's extension).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import build, console, engine, settings
from geo.domain import DEFAULT_SITING_TYPE, LIFE_CIRCLE_MINUTES
from geo.errors import Problem
from geo.runs.params import PlanParams, field_help

H = PlanParams
#: Options not named ``--field-name`` (``exclude`` and ``compounds`` are HTTP-only).
FLAGS = {"service_type": "--type", "weight": "--demand", "case_start": "--since",
         "case_end": "--until", "use_imported": "--imported", "spacing_m": "--spacing",
         "time_limit_s": "--time-limit", "use_capacity": "--capacity"}
#: Column header of the newly covered demand, per measure (zh / en).
GAIN_LABEL = {"residents": "新覆盖居民 residents", "households": "新覆盖户数 households",
              "elderly": "新覆盖老人 elderly", "cases": "新覆盖案件 cases",
              "rider_demand": "新覆盖订单 rider demand"}


def register(analyze_app: typer.Typer) -> None:
    """Add the ``siting`` command to the ``analyze`` group."""
    analyze_app.command(name="siting")(analyze_siting)


def _table(plan: Any, demand: str) -> Table:
    t = Table(title=f"拟新建站点 Proposed sites ({plan.result.model}, {plan.minutes:g} min)")
    for col, just in (("#", "right"), ("站点 site", "left"), ("类型 kind", "left"),
                      (GAIN_LABEL[demand], "right"), ("纳入小区 compounds in", "right"),
                      ("成本 cost", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in plan.proposals.itertuples():
        cost = "" if r.cost is None or math.isnan(float(r.cost)) else f"{float(r.cost):,.0f}"
        t.add_row(str(r.rank), str(r.name or r.candidate), str(r.kind), f"{float(r.gain):,.0f}",
                  str(int(r.demand_inside)), cost)
    return t


def _share(v: float, total: float) -> str:
    return f"{v / total:.1%}" if total else "–"


def analyze_siting(
    city: Annotated[str, typer.Option("--city", help="City code.")],
    service_type: Annotated[str, typer.Option("--type", help=field_help(H, "service_type"))]
    = DEFAULT_SITING_TYPE,
    p: Annotated[int, typer.Option("--p", help=field_help(H, "p"))] = 5,
    minutes: Annotated[float, typer.Option("--minutes", help=field_help(H, "minutes"))]
    = LIFE_CIRCLE_MINUTES,
    model: Annotated[str, typer.Option("--model", help=field_help(H, "model"))] = "mclp",
    target_share: Annotated[float | None, typer.Option(
        "--target-share", help=field_help(H, "target_share"))] = None,
    weight: Annotated[str, typer.Option("--demand", help=field_help(H, "weight"))]
    = "residents",
    case_categories: Annotated[str | None, typer.Option(
        "--case-categories", help=field_help(H, "case_categories") + " Comma-separated.")]
    = None,
    case_start: Annotated[str | None, typer.Option(
        "--since", help=field_help(H, "case_start"))] = None,
    case_end: Annotated[str | None, typer.Option("--until", help=field_help(H, "case_end"))]
    = None,
    method: Annotated[str, typer.Option("--method", help=field_help(H, "method"))] = "auto",
    use_imported: Annotated[bool, typer.Option(
        "--imported/--no-imported", help=field_help(H, "use_imported"))] = True,
    generate: Annotated[bool, typer.Option(
        "--generate/--no-generate", help=field_help(H, "generate"))] = True,
    spacing_m: Annotated[float, typer.Option("--spacing", help=field_help(H, "spacing_m"))]
    = 100.0,
    time_limit_s: Annotated[float, typer.Option(
        "--time-limit", help=field_help(H, "time_limit_s"))] = 20.0,
    use_capacity: Annotated[bool, typer.Option(
        "--capacity/--no-capacity", help=field_help(H, "use_capacity"))] = False,
    save: Annotated[bool, typer.Option("--save", help=field_help(H, "save"))] = False,
    name: Annotated[str | None, typer.Option("--name", help=field_help(H, "name"))] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write the one-page report: out.html or out.pdf.")] = None,
) -> None:
    """Best new stations of a type: ranked proposals, optionally saved and reported."""
    from geo.runs import plan_report, run_plan
    from geo.siting.report import render_html, render_pdf

    problems = []
    if report is not None and report.suffix.lower() not in (".html", ".pdf"):
        problems.append(Problem("report must end in .html or .pdf", field="--report"))
    params = build(PlanParams, flags=FLAGS, problems=problems, service_type=service_type, p=p,
                   minutes=minutes, model=model, target_share=target_share, weight=weight,
                   case_categories=case_categories, case_start=case_start, case_end=case_end,
                   method=method, use_imported=use_imported, generate=generate,
                   spacing_m=spacing_m, time_limit_s=time_limit_s, use_capacity=use_capacity,
                   save=save, name=name)
    with engine() as eng, eng.begin() as conn, console.status(
            f"Reading {city} streets, compounds and stations; solving {model} "
            f"({service_type}, {minutes:g} min)…"):
        run = run_plan(conn, city, params, settings(), by="cli")
    plan, t = run.plan, run.totals
    total, before, after = t["total_weight"], t["before_weight"], t["after_weight"]
    r = plan.result
    out = Console()
    Console(width=max(out.width, 120)).print(_table(plan, params.weight))
    console.print(f"{params.weight}: {before:,.0f} → {after:,.0f} of {total:,.0f} covered "
                  f"({_share(before, total)} → {_share(after, total)}); "
                  f"{plan.n_candidates} candidates, "
                  f"{r.solver} {r.status}, gap {r.gap if r.gap is not None else '–'}.",
                  markup=False, highlight=False)
    if run.scenario_id is not None:
        console.print(f"saved as scenario {run.scenario_id}", markup=False, highlight=False)
    if report is not None:
        html = render_html(plan_report(run))
        with console.status(f"Writing {report.name}…"):
            if report.suffix.lower() == ".pdf":
                report.write_bytes(render_pdf(html))
            else:
                report.write_text(html, encoding="utf-8")
        console.print(f"report written to {report}", markup=False, highlight=False)
