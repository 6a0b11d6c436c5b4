"""The main job: demo town → store → replayed day of readings → summary.

The demo day is a drill of the demo town: its scripted events
(:func:`lifeline.scenarios.script.demo_events`) simulated and published into a fresh engine
(:func:`lifeline.scenarios.inprocess.run_in_process`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

#: quiet days simulated before the demo day for the detectors to learn from (CUSUM needs two)
HISTORY_DAYS = 2


def demo_day(
    town: Any, date: str = "2026-07-15", seed: int = 0, history_days: int = HISTORY_DAYS
) -> Any:
    """The demo day's data (readings with a few deliberately bad records, smart-meter events,
    hotline calls) and ``history_days`` quiet days before it: a drill of the demo town
    (:func:`lifeline.scenarios.script.demo_events`)."""
    from lifeline.scenarios.day import bad_records, quiet_days, simulate
    from lifeline.scenarios.publish import DayData
    from lifeline.scenarios.script import day_complaints, demo_events

    start = pd.Timestamp(date, tz="UTC")
    events = demo_events(town, start)
    sim = simulate(town, start=start, seed=seed, events=events)
    raw = pd.concat(
        [sim.readings, pd.DataFrame(bad_records(town.sensors, start, seed))], ignore_index=True
    )
    calls = day_complaints(town, start, seed=seed, meter_events=sim.meter_events)
    return DayData(
        raw,
        sim.meter_events,
        calls,
        events,
        start=start,
        end=start + pd.Timedelta(days=1) - pd.Timedelta(seconds=1),
        history=quiet_days(town, start, history_days, seed),
    )


def run_demo(
    date: str = "2026-07-15",
    seed: int = 0,
    db: str | None = None,
    fresh: bool = True,
    step_min: int = 15,
    quiet: bool = False,
    town: Any = None,
) -> dict[str, Any]:
    """Run the scripted demo day in-process on ``town`` (default: the demo town, from
    :func:`lifeline.model.city.resolve_city`) and return its summary.

    The day (a burst main, a gas leak into a cable well, a feeder fault that stops the pumping
    station) is simulated on the town and published, in steps of ``step_min`` minutes of
    event time, into the live engine — the same loop ``lifeline serve`` runs: readings (plus a
    few deliberately bad records) through the shared validator into the store, smart-meter
    events and hotline calls likewise; detectors, alarm episodes, correlation and assessment in
    event time. ``fresh`` starts the default embedded store afresh. Returns counts per utility
    and per rejection reason, the alarms per detector and the incidents
    (:func:`lifeline.scenarios.inprocess.run_in_process`).
    """
    from rich.console import Console

    from lifeline.scenarios.inprocess import drop_embedded_store, run_in_process

    console = Console(stderr=True, quiet=quiet)
    if town is None:
        from lifeline.model.city import resolve_city

        with console.status("Loading the demo town (first run builds and caches it)…"):
            town = resolve_city(None)
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
        db = drop_embedded_store(db)
    summary = run_in_process(
        town, day, db=db, source=f"demo:{date}", step_s=step_min * 60, quiet=quiet
    )
    return {"date": date, "title": f"Demo day {date}", **summary, "town": summary["city"]}


def print_summary(summary: dict[str, Any], width: int | None = None) -> None:
    """Print the demo summary as rich tables on stdout (``width`` characters; default: the
    terminal's). Incident ids and kinds are never cut."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    ingest = summary["ingest"]
    title = summary.get("title") or f"Day {summary.get('date', '')}"
    table = Table(title=f"{title} — readings per utility ({summary['store']})")
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

        tz = summary.get("city", {}).get("timezone") or TIMEZONE
        rows = []
        for inc in incidents:
            safety = inc.get("safety", [])
            ok = all(r.get("passed") for r in safety) if safety else False
            rows.append(
                [
                    str(inc["incident_id"]),
                    format_local(inc.get("opened_at"), tz, "%H:%M"),
                    str(inc["utility"]),
                    str(inc.get("kind", "")),
                    str(inc.get("grade", "")),
                    str(inc["location"].get("district_id", "")),
                    ", ".join(f"{k} {v}" for k, v in inc.get("evidence_counts", {}).items()),
                    ", ".join(
                        f"{k} ×{n}" if n > 1 else str(k)
                        for k, n in Counter(
                            str(c.get("kind")) for c in inc.get("cascade", [])
                        ).items()
                    ),
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
