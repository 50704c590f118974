"""``servicecircle analyze siting``: best new stations of a type, as a ranked table.

Runs the same scenario as ``POST /cities/{city}/siting/plan`` (imported candidate sites
plus street/gate points generated near uncovered compounds), prints whom the demand counts
and how fast they walk (the type's, as in its coverage: "60岁以上居民，步行60米/分钟" for
elderly canteens), the ranked proposals (site, newly covered demand, compounds brought
inside, cost) and optionally saves the scenario and writes its one-page report (HTML or
PDF, by the file's extension).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.analyze import Scheduler, Workers, run_all
from api.cli.common import console, engine, settings
from api.cli.options import Options, with_params
from geo.errors import Problem
from geo.runs.params import PlanParams
from geo.siting.scenario import SitingDemand

#: Options not named ``--field-name`` (``exclude`` and ``compounds`` are HTTP-only).
FLAGS = {"service_type": "--type", "weight": "--demand", "case_start": "--since",
         "case_end": "--until", "use_imported": "--imported", "spacing_m": "--spacing",
         "time_limit_s": "--time-limit", "use_capacity": "--capacity"}


def register(analyze_app: typer.Typer) -> None:
    """Add the ``siting`` command to the ``analyze`` group."""
    analyze_app.command(name="siting")(analyze_siting)


def _table(plan: Any, demand: SitingDemand) -> Table:
    t = Table(title=f"拟新建站点 Proposed sites ({plan.result.model}, {plan.minutes:g} min)")
    gain = f"新覆盖{demand.label('zh')} {demand.label('en')}"
    for col, just in (("#", "right"), ("站点 site", "left"), ("类型 kind", "left"),
                      (gain, "right"), ("纳入小区 compounds in", "right"),
                      ("成本 cost", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in plan.proposals.itertuples():
        cost = "" if r.cost is None or math.isnan(float(r.cost)) else f"{float(r.cost):,.0f}"
        t.add_row(str(r.rank), str(r.name or r.candidate), str(r.kind), f"{float(r.gain):,.0f}",
                  str(int(r.demand_inside)), cost)
    return t


def _share(v: float, total: float) -> str:
    return f"{v / total:.1%}" if total else "–"


def _line(o: Any) -> str:
    """One city of a batch: demand covered before → after, and the saved scenario."""
    sm = o.summaries[0]
    saved = f"; saved as scenario {o.run_ids[0]}" if o.run_ids else ""
    return (f"{o.city}: {sm['proposals']} sites ({sm['model']}, {sm['minutes']:g} min; "
            f"{sm['walkers']['en']}): "
            f"{sm['before_weight']:,.0f} → {sm['after_weight']:,.0f} of "
            f"{sm['total_weight']:,.0f} ({_share(sm['before_weight'], sm['total_weight'])} → "
            f"{_share(sm['after_weight'], sm['total_weight'])}); {sm['solver']} "
            f"{sm['status']}{saved}.")


@with_params(PlanParams, flags=FLAGS, skip=("exclude", "compounds"))
def analyze_siting(
    city: Annotated[str, typer.Option("--city", help="City code, or 'all' (one Dask task "
                                      "per city; --save keeps each city's scenario).")],
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write the one-page report: out.html or out.pdf.")] = None,
    scheduler: Scheduler = None, workers: Workers = None,
    *, options: Options[PlanParams],
) -> None:
    """Best new stations of a type: ranked proposals, optionally saved and reported."""
    from geo.runs import plan_report, run_plan
    from geo.siting.report import render_html, render_pdf

    problems = []
    if report is not None and report.suffix.lower() not in (".html", ".pdf"):
        problems.append(Problem("report must end in .html or .pdf", field="--report"))
    if report is not None and city == "all":
        problems.append(Problem("a report is of one city; give --city", field="--report"))
    params = options.build(problems=problems)
    if city == "all":
        run_all("siting", [params], scheduler=scheduler, workers=workers, line=_line)
        return
    with engine() as eng, eng.begin() as conn, console.status(
            f"Reading {city} streets, compounds and stations; solving {params.model} "
            f"({params.service_type}, {params.minutes:g} min)…"):
        run = run_plan(conn, city, params, settings(), by="cli")
        data = plan_report(run, conn=conn, settings=settings()) if report is not None else None
    plan, t, demand = run.plan, run.totals, run.inputs.demand
    total, before, after = t["total_weight"], t["before_weight"], t["after_weight"]
    r = plan.result
    out = Console()
    console.print(f"需求 demand: {demand.statement('zh')} ({demand.statement('en')}); "
                  f"{params.minutes:g} min = {demand.budget_m(params.minutes):,.0f} m",
                  markup=False, highlight=False)
    Console(width=max(out.width, 120)).print(_table(plan, demand))
    console.print(f"{demand.label('en')}: {before:,.0f} → {after:,.0f} of {total:,.0f} covered "
                  f"({_share(before, total)} → {_share(after, total)}); "
                  f"{plan.n_candidates} candidates, "
                  f"{r.solver} {r.status}, gap {r.gap if r.gap is not None else '–'}.",
                  markup=False, highlight=False)
    if run.scenario_id is not None:
        console.print(f"saved as scenario {run.scenario_id}", markup=False, highlight=False)
    if report is not None and data is not None:
        html = render_html(data)
        with console.status(f"Writing {report.name}…"):
            if report.suffix.lower() == ".pdf":
                report.write_bytes(render_pdf(html))
            else:
                report.write_text(html, encoding="utf-8")
        console.print(f"report written to {report}", markup=False, highlight=False)
