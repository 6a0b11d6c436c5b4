"""The main job: demo town → store → replayed day of readings → summary.

Later stages of the loop (detectors, incidents, plans, the dashboard) hang off the same job.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def demo_day(town: Any, date: str = "2026-07-15", seed: int = 0) -> Any:
    """The demo day's data (readings with a few deliberately bad records, smart-meter events,
    hotline calls): a drill of the demo town (:func:`lifeline.scenarios.script.demo_events`)."""
    from lifeline.scenarios.day import bad_records, simulate
    from lifeline.scenarios.publish import DayData
    from lifeline.scenarios.script import day_complaints, demo_events

    start = pd.Timestamp(date, tz="UTC")
    events = demo_events(town, start)
    sim = simulate(town, start=start, seed=seed, events=events)
    raw = pd.concat(
        [sim.readings, pd.DataFrame(bad_records(town.sensors, start, seed))], ignore_index=True
    )
    return DayData(
        raw,
        sim.meter_events,
        day_complaints(town, start, seed=seed),
        events,
        start=start,
        end=start + pd.Timedelta(days=1) - pd.Timedelta(seconds=1),
    )


def run_demo(
    date: str = "2026-07-15",
    seed: int = 0,
    db: str | None = None,
    fresh: bool = True,
    step_min: int = 15,
    quiet: bool = False,
) -> dict[str, Any]:
    """Run the scripted demo day in-process and return its summary.

    The day (a burst main, a gas leak into a cable well, a feeder fault that stops the pumping
    station) is simulated on the demo town and published, in steps of ``step_min`` minutes of
    event time, into the live engine — the same loop ``lifeline serve`` runs: readings (plus a
    few deliberately bad records) through the shared validator into the store, smart-meter
    events and hotline calls likewise; detectors, alarm episodes, correlation and assessment in
    event time. Returns counts per utility and per rejection reason, the alarms per detector and
    the incidents (``lifeline.incidents.summary.incident_json``).
    """
    from rich.console import Console

    from lifeline.datasets.town import load_town
    from lifeline.engine import Engine
    from lifeline.incidents.lifecycle import Incident
    from lifeline.incidents.summary import incident_json
    from lifeline.model.store_io import import_city
    from lifeline.progress import make_progress
    from lifeline.scenarios.publish import EnginePublisher, publish_day
    from lifeline.store import open_store

    console = Console(stderr=True, quiet=quiet)
    with console.status("Loading the demo town (first run builds and caches it)…"):
        town = load_town()
    console.print(
        f"[green]✓[/] town loaded: {len(town.assets)} assets, {len(town.customers)} customers, {len(town.sensors)} sensors"
    )
    with console.status(
        "Simulating the day (WNTR, pandapower, pandapipes; cached after the first run)…"
    ):
        day = demo_day(town, date, seed)
    console.print(
        f"[green]✓[/] day simulated: {len(day.readings):,} readings, {len(day.meter_events):,} meter events, {len(day.complaints)} calls"
    )
    if fresh:
        _drop_previous_demo(db)
    with open_store(db) as store:
        import_city(store, town)
        engine = Engine(town, store, resume=False)
        pub = EnginePublisher(store, engine, town, source=f"demo:{date}")
        with make_progress(transient=True, disable=quiet) as bar:
            task = bar.add_task("Running the day through the live engine", total=None)

            def on_step(t: pd.Timestamp, k: int, n: int) -> None:
                bar.update(task, completed=k, total=n)

            publish_day(day, pub, step_s=step_min * 60, on_step=on_step)
        alarms = store.list_alarms()
        incidents = [
            Incident.from_row({k: (None if _na(v) else v) for k, v in r.items()})
            for r in store.list_incidents().to_dict("records")
        ]
        readings_in_store = store.count("reading")
        kind = store.kind
    return {
        "date": date,
        "store": kind,
        "town": {
            "assets": len(town.assets),
            "customers": len(town.customers),
            "sensors": len(town.sensors),
        },
        "events": [
            {"kind": type(e).__name__, **{k: str(v) for k, v in vars(e).items()}}
            for e in day.events
        ],
        "ingest": pub.report.as_dict(),
        "readings_in_store": readings_in_store,
        "alarms": {str(k): int(v) for k, v in alarms.groupby("detector").size().items()}
        if len(alarms)
        else {},
        "complaints": len(day.complaints),
        "meter_events": int(pub.event_counts["stored"]),
        "engine": engine.status(),
        "incidents": [incident_json(inc) for inc in sorted(incidents, key=lambda i: i.opened_at)],
    }


def _na(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


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
