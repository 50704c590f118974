"""``servicecircle analyze siting``: best new stations of a type, as a ranked table.

Runs the same scenario as ``POST /cities/{city}/siting/plan`` (imported candidate sites
plus street/gate points generated near uncovered compounds), prints the ranked proposals
(site, newly covered demand, compounds brought inside, cost) and optionally saves the
scenario and writes its one-page report (HTML or PDF, by the file's extension).
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from api.cli.common import console, engine
from geo.domain import DEFAULT_SITING_TYPE, LIFE_CIRCLE_MINUTES, MAX_WALK_MINUTES
from geo.errors import InvalidInputError, Problem

MODELS = ("mclp", "lscp", "pmedian")
DEMANDS = ("residents", "households", "elderly", "cases", "rider_demand")
#: Column header of the newly covered demand, per measure (zh / en).
GAIN_LABEL = {"residents": "新覆盖居民 residents", "households": "新覆盖户数 households",
              "elderly": "新覆盖老人 elderly", "cases": "新覆盖案件 cases",
              "rider_demand": "新覆盖订单 rider demand"}


def register(analyze_app: typer.Typer) -> None:
    """Add the ``siting`` command to the ``analyze`` group."""
    analyze_app.command(name="siting")(analyze_siting)


def _check(model: str, demand: str, target_share: float | None, report: Path | None) -> None:
    problems = []
    if model not in MODELS:
        problems.append(Problem(f"{model!r} is not one of {', '.join(MODELS)}", field="model"))
    if demand not in DEMANDS:
        problems.append(Problem(f"{demand!r} is not one of {', '.join(DEMANDS)}",
                                field="demand"))
    if model == "lscp" and target_share is None:
        problems.append(Problem("lscp needs --target-share", field="target_share"))
    if report is not None and report.suffix.lower() not in (".html", ".pdf"):
        problems.append(Problem("report must end in .html or .pdf", field="report"))
    if problems:
        raise InvalidInputError("invalid siting options", problems)


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
    service_type: Annotated[str, typer.Option("--type", help="Station type, e.g. red_station.")]
    = DEFAULT_SITING_TYPE,
    p: Annotated[int, typer.Option("--p", min=1, max=200,
                                   help="Number of new stations (mclp, pmedian).")] = 5,
    minutes: Annotated[float, typer.Option("--minutes", min=0.1, max=MAX_WALK_MINUTES,
                                           help="Walking circle in minutes.")]
    = LIFE_CIRCLE_MINUTES,
    model: Annotated[str, typer.Option("--model", help="mclp (most demand covered), lscp "
                                       "(fewest sites reaching --target-share) or pmedian "
                                       "(least total walk).")] = "mclp",
    target_share: Annotated[float | None, typer.Option(
        "--target-share", min=0.0, max=1.0, help="Share of demand to cover (lscp).")] = None,
    demand: Annotated[str, typer.Option(
        "--demand", help="residents, households, elderly, cases (grid cases inside each "
        "compound) or rider_demand (imported courier demand).")] = "residents",
    case_categories: Annotated[str | None, typer.Option(
        "--case-categories", help="With --demand cases: comma-separated categories.")] = None,
    since: Annotated[datetime | None, typer.Option(
        "--since", help="With --demand cases: reported on or after (UTC date).")] = None,
    until: Annotated[datetime | None, typer.Option(
        "--until", help="With --demand cases: reported before (UTC date).")] = None,
    use_imported: Annotated[bool, typer.Option(
        "--imported/--no-imported", help="Use the city's imported candidate sites.")] = True,
    generate: Annotated[bool, typer.Option(
        "--generate/--no-generate", help="Generate street/gate candidates in gap areas.")]
    = True,
    time_limit_s: Annotated[float, typer.Option("--time-limit", min=1.0, max=600.0,
                                                help="Solver time limit in seconds.")] = 30.0,
    save: Annotated[bool, typer.Option("--save", help="Save as a scenario.")] = False,
    name: Annotated[str | None, typer.Option("--name", help="Scenario name.")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write the one-page report: out.html or out.pdf.")] = None,
) -> None:
    """Best new stations of a type: ranked proposals, optionally saved and reported."""
    from datetime import UTC

    from geo.siting.report import ReportData, render_html, render_pdf
    from geo.siting.scenario import plan_sites
    from geo.store.cities import get_city
    from geo.store.inputs import read_compounds, read_services
    from geo.store.network import read_network
    from geo.store.siting import (
        read_candidates,
        save_scenario,
        service_type_exists,
        with_demand,
    )

    _check(model, demand, target_share, report)
    cats = [c.strip() for c in case_categories.split(",") if c.strip()] if case_categories \
        else None
    start, end = (None if t is None else t.replace(tzinfo=t.tzinfo or UTC)
                  for t in (since, until))
    with engine() as eng, eng.begin() as conn:
        c = get_city(conn, city)
        if not service_type_exists(conn, service_type):
            raise InvalidInputError("unknown service type", [Problem(
                f"{service_type!r} is not a known service type", field="type")])
        with console.status(f"Reading {c.code} streets, compounds and stations…"):
            net = read_network(conn, c.id, mode="walk", metric_epsg=c.metric_epsg)
            compounds = read_compounds(conn, c.id)
            if not len(compounds):
                raise InvalidInputError("the city has no compounds", [Problem(
                    "no compounds", field="compound")])
            compounds = with_demand(conn, c.id, compounds, demand, categories=cats,
                                    start=start, end=end)
            stations = read_services(conn, c.id, service_type=service_type)
            imported = read_candidates(conn, c.id) if use_imported else None
        with console.status(f"Solving {model} ({service_type}, {minutes:g} min)…"):
            plan = plan_sites(net, compounds, stations, p=p, minutes=minutes, weight=demand,
                              model=model, target_share=target_share,
                              imported=imported if imported is not None and len(imported)
                              else None, generate=generate, time_limit_s=time_limit_s)
        total, before, after = plan.total_weight, plan.before_weight, plan.after_weight
        r = plan.result
        solve = {"objective": r.objective, "bound": r.bound, "gap": r.gap, "solver": r.solver,
                 "status": r.status}
        title = name or f"{c.name_zh} {service_type} {model} p={len(plan.proposals)}"
        sid = None
        if save:
            totals = {"total_weight": total, "before_weight": before, "after_weight": after}
            params = {"service_type": service_type, "p": p, "model": model,
                      "target_share": target_share, "minutes": minutes, "weight": demand,
                      "case_categories": cats, "case_start": start and start.isoformat(),
                      "case_end": end and end.isoformat(), "use_imported": use_imported,
                      "generate": generate, "by": "cli"}
            sid = save_scenario(conn, c.id, name=title, service_type=service_type, model=model,
                                minutes=minutes, weight=demand, totals=totals,
                                sites=plan.proposals.assign(source="model"), params=params,
                                solve=solve)
    out = Console()
    Console(width=max(out.width, 120)).print(_table(plan, demand))
    console.print(f"{demand}: {before:,.0f} → {after:,.0f} of {total:,.0f} covered "
                  f"({_share(before, total)} → {_share(after, total)}); "
                  f"{plan.n_candidates} candidates, "
                  f"{r.solver} {r.status}, gap {r.gap if r.gap is not None else '–'}.",
                  markup=False, highlight=False)
    if sid is not None:
        console.print(f"saved as scenario {sid}", markup=False, highlight=False)
    if report is not None:
        data = ReportData(title=title, city_name=f"{c.name_zh} {c.name_en}",
                          service_type=service_type, minutes=minutes, weight=demand,
                          total_weight=total, before_weight=before, after_weight=after,
                          sites=plan.proposals, compounds=plan.compounds, stations=stations,
                          solver={"solver": r.solver, "status": r.status, "gap": r.gap})
        html = render_html(data)
        with console.status(f"Writing {report.name}…"):
            if report.suffix.lower() == ".pdf":
                report.write_bytes(render_pdf(html))
            else:
                report.write_text(html, encoding="utf-8")
        console.print(f"report written to {report}", markup=False, highlight=False)
