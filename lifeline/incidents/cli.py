"""`lifeline incidents` and `lifeline complaints` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(
    help="Incidents: list, show, advance through the lifecycle, review.", no_args_is_help=True
)
complaints_app = typer.Typer(
    help="Complaints (hotline tickets, app reports): ingest and classify.", no_args_is_help=True
)


def _store() -> Any:
    try:
        from lifeline.store import open_store
    except ImportError as exc:  # pragma: no cover - the store ships with lifeline
        from lifeline.errors import StoreError

        raise StoreError(f"the store module is not available ({exc})") from exc
    return open_store()


def _load(store: Any, incident_id: str) -> Any:
    from lifeline.incidents.lifecycle import Incident

    return Incident.from_row(store.get_incident(incident_id))


CITY = typer.Option(
    None,
    "--city",
    help="City package folder: times are shown in its timezone; default: the imported city's, else the demo town's.",
)


@app.command("list")
def list_cmd(
    state: str = typer.Option(None, help="Only incidents in this state (detected, confirmed, …)."),
    district: str = typer.Option(None, help="Only incidents in this district id."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    city: Path = CITY,
) -> None:
    """List incidents in the store, oldest first (the table in the city's local time; JSON in
    UTC)."""

    with _store() as store:
        df = store.list_incidents(state=state, district=district)
    rows = [
        {
            "incident_id": r["incident_id"],
            "state": r["state"],
            "utility": r["utility"],
            "grade": r["grade"],
            "district_id": r["district_id"],
            "opened_at": str(r["opened_at"]),
        }
        for r in df.to_dict("records")
    ]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
        return
    from lifeline.tables import make_table, print_table
    from lifeline.timefmt import format_local

    tz = _tz(city)
    cols = ("incident_id", "state", "utility", "grade", "district_id")
    print_table(
        make_table(
            f"{len(rows)} incident(s) · times in {tz}",
            [*cols, "opened"],
            [
                [*(str(r[c] or "") for c in cols), format_local(rec["opened_at"], tz)]
                for r, rec in zip(rows, df.to_dict("records"), strict=True)
            ],
            whole=["incident_id", "state", "utility", "grade", "opened"],
        )
    )


@app.command("show")
def show_cmd(
    incident_id: str = typer.Argument(..., help="Incident id, e.g. INC-20260601-0812-ab12cd."),
    as_json: bool = typer.Option(
        False, "--json", help="Print the full incident (row + body) as JSON."
    ),
    lang: str = typer.Option("zh-CN", help="Language of plan texts: zh-CN or en."),
    evidence: bool = typer.Option(
        False,
        "--evidence",
        help="List every evidence item with its grouping rule (default: a summary by kind).",
    ),
    city: Path = CITY,
) -> None:
    """Show one incident: cascade, plan actions, safety, KPIs, evidence (summarised) and audit.

    Times are the city's local time with its zone; ``--json`` keeps UTC.
    """
    with _store() as store:
        inc = _load(store, incident_id)
    if as_json:
        row = inc.to_row()
        row["body"] = json.loads(row["body"])
        typer.echo(json.dumps(row, ensure_ascii=False, indent=1, default=str))
        return
    for line in show_lines(inc, lang, _tz(city), full_evidence=evidence):
        typer.echo(line)


def _tz(city: Path | None = None) -> str:
    """The timezone times are shown in (see :func:`lifeline.model.city.city_timezone`)."""
    from lifeline.model.city import city_timezone

    with _store() as store:
        return city_timezone(city, store)


def show_lines(inc: Any, lang: str, tz: str, full_evidence: bool = False) -> list[str]:
    """The text of ``incidents show``: header, cascade, plan, safety, KPIs, evidence, audit."""
    from lifeline.incidents.kpi import kpi_reasons
    from lifeline.incidents.summary import cascade_line, evidence_summary
    from lifeline.timefmt import format_local

    def loc(ts: Any) -> str:
        return format_local(ts, tz)

    def xy(v: Any) -> str:
        return "-" if v is None else f"{v:.0f}"

    out = [
        f"{inc.incident_id}  {inc.utility}  {inc.kind}  state={inc.state}  grade={inc.grade or '-'} {inc.grading.get('name_zh', '')}".rstrip(),
        f"opened {loc(inc.opened_at)}; location ({xy(inc.x_m)}, {xy(inc.y_m)}) m via {inc.location.get('method', '-')}, district {inc.district_id or '-'}, routed to {inc.routing.get('level', '-')} {inc.routing.get('unit_id', '')}".rstrip(),
    ]
    for c in inc.cascade:
        out.append(f"cascade: {cascade_line(c)} customers={c.get('customers_affected')}")
    out.append(f"plan: {len(inc.actions)} action(s)" if inc.actions else "plan: none")
    for a in inc.actions:
        out.append(
            f"  action {a['action_id']}: {a['text'].get(lang, a['text'].get('en'))}  [cites: {', '.join(a.get('cites', []))}]"
        )
    for r in inc.safety:
        out.append(f"safety {'PASS' if r['passed'] else 'FAIL'} {r['rule']}: {r['detail']}")
    if inc.approval:
        out.append(f"approved by {inc.approval.get('by')} at {loc(inc.approval.get('at'))}")
    out.append(
        "kpis: "
        + "; ".join(
            f"{name}={v:.1f}" if v is not None else f"{name}: {why}"
            for name, v, why in kpi_reasons(inc)
        )
    )
    summ = evidence_summary(inc)
    out.append(
        f"evidence: {summ['total']} item(s)"
        + (f", {loc(summ['first'])} to {loc(summ['last'])}" if summ["total"] else "")
        + ("" if full_evidence or not summ["total"] else " (--evidence lists every item)")
    )
    for kind, k in summ["by_kind"].items():
        sources = ", ".join(
            f"{s} {n}" for s, n in sorted(k["sources"].items(), key=lambda x: -x[1])[:4]
        )
        rules = ", ".join(f"{r} {n}" for r, n in sorted(k["rules"].items(), key=lambda x: -x[1]))
        out.append(
            f"  {kind} {k['count']}: {loc(k['first'])} to {loc(k['last'])}; sources {sources}; grouped by {rules}"
        )
    if summ["places"]:
        out.append("  places: " + ", ".join(f"{p} ({n})" for p, n in summ["places"]))
    if full_evidence:
        for g in inc.grouping:
            vals = {k: v for k, v in g.items() if k not in ("kind", "evidence_id", "rule")}
            out.append(f"  {g.get('kind')}:{g.get('evidence_id')}  rule={g.get('rule')}  {vals}")
    for a in inc.audit:
        out.append(f"audit {loc(a['ts'])} {a['actor']} {a['action']} {a['detail']}")
    return out


@app.command("advance")
def advance_cmd(
    incident_id: str = typer.Argument(..., help="Incident id."),
    to_state: str = typer.Argument(
        ...,
        help="Target state: confirmed, dispatched, on_site, isolated, repaired, restored, closed, reviewed.",
    ),
    actor: str = typer.Option(
        ..., "--actor", help="Who makes the transition (recorded in the audit trail)."
    ),
    why: str = typer.Option(..., "--why", help="Why (recorded in the audit trail)."),
    at: str = typer.Option(None, "--at", help="When (ISO 8601, UTC if no zone); default now."),
) -> None:
    """Move an incident to its next lifecycle state, with an audit entry (who, when, why)."""
    from lifeline.cliopts import parse_time
    from lifeline.incidents.lifecycle import advance

    when = parse_time(at, "--at") if at is not None else None
    with _store() as store:
        inc = _load(store, incident_id)
        entry = advance(inc, to_state, actor, why, ts=when)
        store.upsert_incident(inc.to_row())
        store.append_audit(
            entry["actor"], entry["action"], entry["object_id"], entry["detail"], ts=entry["ts"]
        )
    typer.echo(
        f"{incident_id}: {entry['detail']['from']} -> {to_state} by {actor} at {entry['ts']}"
    )


@app.command("review")
def review_cmd(
    incident_id: str = typer.Argument(..., help="Incident id."),
    out: Path = typer.Option(None, help="Output folder (default: <data_dir>/reviews)."),
    expected: str = typer.Option(
        "", help="Comma-separated detector names expected to cover the area (to report misses)."
    ),
) -> None:
    """Write the post-incident review (Markdown, HTML, timeline PNG)."""
    from lifeline.config import get_settings
    from lifeline.incidents.review import write_review

    with _store() as store:
        inc = _load(store, incident_id)
    out_dir = out or get_settings().data_dir / "reviews"
    paths = write_review(inc, out_dir, [d for d in expected.split(",") if d], tz=_tz())
    for k, p in paths.items():
        typer.echo(f"{k}: {p}")


@app.command("approve")
def approve_cmd(
    incident_id: str = typer.Argument(..., help="Incident id."),
    actor: str = typer.Option(
        ..., "--actor", help="Who approves the plan (recorded with the plan and action ids)."
    ),
    note: str = typer.Option("", help="Optional note stored with the approval."),
) -> None:
    """Approve the incident's plan after re-running the safety review (refused if a rule fails)."""
    from lifeline.respond.safety import approve, review

    with _store() as store:
        inc = _load(store, incident_id)
        if not inc.actions:
            from lifeline.errors import StateError

            raise StateError("the incident has no plan to approve", where=incident_id)
        review(inc)
        for r in inc.safety:
            typer.echo(f"safety {'PASS' if r['passed'] else 'FAIL'} {r['rule']}: {r['detail']}")
        try:
            a = approve(inc, actor, note=note)
        finally:
            store.upsert_incident(inc.to_row())
        store.append_audit(actor, "approve_plan", incident_id, a)
    typer.echo(f"{incident_id}: plan {', '.join(a['plan_ids'])} approved by {actor} at {a['at']}")


@app.command("kpis")
def kpis_cmd(
    freq: str = typer.Option("D", help="Period: a pandas offset alias (D day, W week, M month)."),
    by_district: bool = typer.Option(True, "--by-district/--city", help="Group by district too."),
    per_incident: bool = typer.Option(
        False, "--per-incident", help="One row per incident instead of the summary."
    ),
) -> None:
    """KPIs (minutes to detect/confirm/dispatch/isolate/restore, customer-minutes lost)."""
    from lifeline.cliopts import parse_period
    from lifeline.incidents.kpi import kpi_summary, kpi_table
    from lifeline.incidents.lifecycle import Incident

    parse_period(freq, "--freq")

    with _store() as store:
        df = store.list_incidents()
    incs = [Incident.from_row(r) for r in df.to_dict("records")]
    t = kpi_table(incs) if per_incident else kpi_summary(incs, freq=freq, by_district=by_district)
    if per_incident and len(t):
        from lifeline.timefmt import format_local

        tz = _tz()
        t["opened_at"] = [format_local(v, tz) for v in t["opened_at"]]
    typer.echo(t.to_string(index=False) if len(t) else "no incidents")


@complaints_app.command("ingest")
def ingest_cmd(
    file: Path = typer.Argument(
        ...,
        help="CSV or JSON(L) with ts, text and address or x_m/y_m or lon/lat (complaint_id, channel optional).",
    ),
    customers: Path = typer.Option(
        None,
        help="Customer table (CSV/Parquet, schema CUSTOMER) to place on; default: the city's customers.",
    ),
    city: Path = typer.Option(
        None,
        "--city",
        help="City package folder (docs/cities.md) whose customers and CRS place the complaints; default: the demo town.",
    ),
    store: bool = typer.Option(
        True, "--store/--no-store", help="Save the classified complaints in the store."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Classify (utility, category), place (nearest customer / address) and store complaints."""
    import pandas as pd

    from lifeline.errors import InputError
    from lifeline.incidents.complaints.ingest import classify_and_place, read_complaints

    df = read_complaints(file)
    cust = None
    crs = None
    tz = "UTC"
    if city is not None or customers is None:
        from lifeline.model.city import resolve_city

        try:
            the_city = resolve_city(city)
            cust, crs, tz = the_city.customers, the_city.crs, the_city.timezone
        except Exception as exc:  # no city available: classify anyway, say why not placed
            if city is not None:
                raise
            typer.secho(
                f"warning: demo town not available ({exc}); complaints are not placed",
                err=True,
                fg=typer.colors.YELLOW,
            )
    if customers is not None:
        if not customers.exists():
            raise InputError("customer file not found", where=str(customers))
        cust = (
            pd.read_parquet(customers)
            if customers.suffix == ".parquet"
            else pd.read_csv(customers, dtype={"customer_id": str, "address": str})
        )
    out = classify_and_place(df, cust, crs)
    stored = None
    if store:
        from lifeline.model.schema import conform

        with _store() as st:
            stored = st.add_complaints(conform("complaint", out))
    cols = [
        "complaint_id",
        "ts",
        "utility",
        "category",
        "utility2",
        "category2",
        "customer_id",
        "place_method",
        "place_reason",
        "text",
    ]
    if as_json:
        typer.echo(
            json.dumps(out[cols].astype(str).to_dict("records"), ensure_ascii=False, indent=1)
        )
        return
    from lifeline.tables import make_table, print_table
    from lifeline.timefmt import format_local

    rows = []
    for r in out.to_dict("records"):
        text = str(r["text"])
        rows.append(
            [
                str(r["complaint_id"]),
                format_local(r["ts"], tz, "%m-%d %H:%M"),
                str(r["utility"]),
                str(r["category"])
                + (f" + {r['utility2']}/{r['category2']}" if r.get("category2") else ""),
                str(r["customer_id"] or "-"),
                str(r["place_method"]),
                str(r["place_reason"]),
                text if len(text) <= 40 else text[:39] + "…",
            ]
        )
    print_table(
        make_table(
            f"{len(out)} complaint(s)"
            + (f", {stored} new in the store" if stored is not None else ""),
            ["id", "time", "utility", "category", "customer", "placed", "reason", "text"],
            rows,
            whole=["id", "time", "utility", "category", "customer"],
        )
    )
