"""The main job: demo town → store → replayed day of readings → summary.

Later stages of the loop (detectors, incidents, plans, the dashboard) hang off the same job.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def run_demo(
    date: str = "2026-07-15",
    seed: int = 0,
    db: str | None = None,
    fresh: bool = True,
    step_min: int = 30,
    quiet: bool = False,
) -> dict[str, Any]:
    """Run the scripted demo day in-process and return its summary.

    The day (a burst main, a gas leak into a cable well, a feeder fault that stops the pumping
    station) is simulated on the demo town, its readings (plus a few deliberately bad records)
    go through the shared ingestion into the store, the detectors run over it in steps of
    ``step_min`` minutes as they would online, the day's hotline calls are classified and placed,
    and alarms, complaints and smart-meter events are correlated into graded incidents with plans
    and safety checks, all stored. Returns counts per utility and per rejection reason, the
    alarms per detector and the incidents (``lifeline.incidents.summary.incident_json``).
    """
    from rich.console import Console

    from lifeline.datasets.town import load_town
    from lifeline.incidents.correlate import Correlator, ZoneArea
    from lifeline.incidents.pipeline import correlate_and_assess
    from lifeline.incidents.summary import incident_json
    from lifeline.ingest.service import ingest_frame
    from lifeline.progress import track
    from lifeline.scenarios.day import bad_records, simulate_day
    from lifeline.scenarios.script import (
        DemoDetection,
        day_complaints,
        demo_events,
        meter_events,
        zone_links,
    )
    from lifeline.store import open_store

    console = Console(stderr=True, quiet=quiet)
    start = pd.Timestamp(date, tz="UTC")
    with console.status("Loading the demo town (first run builds and caches it)…"):
        town = load_town()
    console.print(
        f"[green]✓[/] town loaded: {len(town.assets)} assets, {len(town.customers)} customers, {len(town.sensors)} sensors"
    )

    events = demo_events(town, start)
    with console.status(
        "Simulating the day (WNTR, pandapower, pandapipes; cached after the first run)…"
    ):
        readings = simulate_day(town, start=start, seed=seed, events=events)
    raw = pd.concat(
        [readings, pd.DataFrame(bad_records(town.sensors, start, seed))], ignore_index=True
    )
    console.print(
        f"[green]✓[/] day simulated: {len(readings):,} readings (+{len(raw) - len(readings)} deliberately bad records)"
    )

    if fresh:
        _drop_previous_demo(db)
    with open_store(db) as store:
        for name in ("district", "zone", "asset", "customer", "sensor", "dependency"):
            store.replace_table(name, getattr(town, _TOWN_ATTR[name]))
        report = ingest_frame(
            store, raw, source=f"demo:{date}", sensors=town.sensors, progress=not quiet
        )
        stored_total = store.count("reading")
        kind = store.kind

        detection = DemoDetection(town, start, seed=seed)
        steps = pd.date_range(start, start + pd.Timedelta(days=1), freq=f"{step_min}min")
        alarms = []
        for a, b in track(
            list(zip(steps[:-1], steps[1:], strict=True)),
            "Detecting (water leaks, methane, supply loss)",
        ):
            batch = readings[(readings["ts"] >= a) & (readings["ts"] < b)]
            alarms.append(detection(town, batch, readings[readings["ts"] < a], b))
        alarm_df = pd.concat(alarms, ignore_index=True)
        complaints = day_complaints(town, start, seed=seed)
        meters = meter_events(town, readings)
        with console.status(
            "Correlating evidence into incidents; planning (isolation, FLISR, cascades, crews)…"
        ):
            area = ZoneArea.from_tables(town.assets, town.customers, links=zone_links(town))
            incidents = correlate_and_assess(
                alarm_df,
                complaints,
                meters,
                town=town,
                min_evidence=2,
                correlator=Correlator(area=area),
            )
        store.add_alarms(alarm_df)
        store.add_complaints(complaints)
        for inc in incidents:
            store.upsert_incident(inc.to_row())

    return {
        "date": date,
        "store": kind,
        "town": {
            "assets": len(town.assets),
            "customers": len(town.customers),
            "sensors": len(town.sensors),
        },
        "events": [
            {"kind": type(e).__name__, **{k: str(v) for k, v in vars(e).items()}} for e in events
        ],
        "ingest": report.as_dict(),
        "readings_in_store": stored_total,
        "alarms": {str(k): int(v) for k, v in alarm_df.groupby("detector").size().items()}
        if len(alarm_df)
        else {},
        "complaints": len(complaints),
        "meter_events": len(meters),
        "incidents": [incident_json(inc) for inc in incidents],
    }


def _drop_previous_demo(db: str | None) -> None:
    """Start the embedded store afresh: remove the DuckDB file of an earlier demo run.

    A PostgreSQL store is never dropped here; readings are idempotent on (sensor_id, ts), so a
    re-run there stores nothing twice.
    """
    from lifeline.config import get_settings

    settings = get_settings()
    url = settings.db if db is None else db
    if url == "":
        path = settings.duckdb_path()
        for p in (path, path.with_name(path.name + ".wal")):
            p.unlink(missing_ok=True)


_TOWN_ATTR = {
    "district": "districts",
    "zone": "zones",
    "asset": "assets",
    "customer": "customers",
    "sensor": "sensors",
    "dependency": "dependencies",
}


def print_summary(summary: dict[str, Any], width: int | None = None) -> None:
    """Print the demo summary as rich tables on stdout (``width`` characters; default: the
    terminal's). Incident ids and kinds are never cut."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    ingest = summary["ingest"]
    table = Table(title=f"Demo day {summary['date']} — readings per utility ({summary['store']})")
    table.add_column("utility")
    table.add_column("stored", justify="right")
    table.add_column("rejected", justify="right")
    for utility, counts in sorted(ingest.get("per_utility", {}).items()):
        table.add_row(
            utility or "(unknown sensor)",
            f"{counts.get('stored', 0):,}",
            f"{counts.get('rejected', 0):,}",
        )
    table.add_row(
        "[b]total[/]",
        f"[b]{ingest.get('stored', 0):,}[/]",
        f"[b]{ingest.get('rejected_total', 0):,}[/]",
    )
    console.print(table)
    reasons = ingest.get("rejected", {})
    if reasons:
        rt = Table(title="Rejected records by reason (kept in the store's `rejected` table)")
        rt.add_column("reason")
        rt.add_column("count", justify="right")
        for reason, n in sorted(reasons.items(), key=lambda kv: -kv[1]):
            rt.add_row(reason, str(n))
        console.print(rt)
    console.print(f"readings in store: {summary['readings_in_store']:,}")
    if summary.get("alarms"):
        console.print(
            "alarms by detector: " + ", ".join(f"{k} {v}" for k, v in summary["alarms"].items())
        )
    console.print(
        f"complaints: {summary.get('complaints', 0)}, smart-meter events: {summary.get('meter_events', 0)}"
    )
    incidents = summary.get("incidents", [])
    if incidents:
        from lifeline.datasets.town import TIMEZONE
        from lifeline.tables import make_table, print_table
        from lifeline.timefmt import format_local

        rows = []
        for inc in incidents:
            safety = inc.get("safety", [])
            ok = all(r.get("passed") for r in safety) if safety else False
            rows.append(
                [
                    str(inc["incident_id"]),
                    format_local(inc.get("opened_at"), TIMEZONE, "%H:%M"),
                    str(inc["utility"]),
                    str(inc.get("kind", "")),
                    str(inc.get("grade", "")),
                    str(inc["location"].get("district_id", "")),
                    ", ".join(f"{k} {v}" for k, v in inc.get("evidence_counts", {}).items()),
                    ", ".join(str(c.get("kind")) for c in inc.get("cascade", [])),
                    str(len(inc.get("actions", []))),
                    "[green]passed[/]" if ok else "[red]failed[/]",
                ]
            )
        cols = ["id", "opened", "utility", "kind", "grade", "district", "evidence", "cascade"]
        print_table(
            make_table(
                "Incidents",
                [*cols, "actions", "safety"],
                rows,
                whole=["id", "opened", "utility", "kind", "grade", "actions", "safety"],
                right=["actions"],
            ),
            width=width,
        )
