"""The main job: demo town → store → replayed day of readings → summary.

Later stages of the loop (detectors, incidents, plans, the dashboard) hang off the same job.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def run_demo(date: str = "2026-07-15", seed: int = 0, db: str | None = None, fresh: bool = True) -> dict[str, Any]:
    """Run the demo day and return a summary dict (counts per utility and per rejection reason)."""
    from rich.console import Console

    from lifeline.datasets.town import load_town
    from lifeline.ingest.service import ingest_frame
    from lifeline.scenarios.day import bad_records, simulate_day
    from lifeline.store import open_store

    console = Console(stderr=True)
    start = pd.Timestamp(date, tz="UTC")
    with console.status("Loading the demo town (first run builds and caches it)…"):
        town = load_town()
    console.print(f"[green]✓[/] town loaded: {len(town.assets)} assets, {len(town.customers)} customers, {len(town.sensors)} sensors")

    with console.status("Simulating the day (WNTR, pandapower, pandapipes; cached after the first run)…"):
        readings = simulate_day(town, start=start, seed=seed)
    raw = pd.concat([readings, pd.DataFrame(bad_records(town.sensors, start, seed))], ignore_index=True)
    console.print(f"[green]✓[/] day simulated: {len(readings):,} readings (+{len(raw) - len(readings)} deliberately bad records)")

    if fresh:
        _drop_previous_demo(db)
    with open_store(db) as store:
        for name in ("district", "zone", "asset", "customer", "sensor", "dependency"):
            store.replace_table(name, getattr(town, _TOWN_ATTR[name]))
        report = ingest_frame(store, raw, source=f"demo:{date}", sensors=town.sensors)
        stored_total = store.count("reading")
        kind = store.kind

    return {
        "date": date,
        "store": kind,
        "town": {
            "assets": len(town.assets),
            "customers": len(town.customers),
            "sensors": len(town.sensors),
        },
        "ingest": report.as_dict(),
        "readings_in_store": stored_total,
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


def print_summary(summary: dict[str, Any]) -> None:
    """Print the demo summary as rich tables on stdout."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    ingest = summary["ingest"]
    table = Table(title=f"Demo day {summary['date']} — readings per utility ({summary['store']})")
    table.add_column("utility")
    table.add_column("stored", justify="right")
    table.add_column("rejected", justify="right")
    for utility, counts in sorted(ingest.get("per_utility", {}).items()):
        table.add_row(utility or "(unknown sensor)", f"{counts.get('stored', 0):,}", f"{counts.get('rejected', 0):,}")
    table.add_row("[b]total[/]", f"[b]{ingest.get('stored', 0):,}[/]", f"[b]{ingest.get('rejected_total', 0):,}[/]")
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
