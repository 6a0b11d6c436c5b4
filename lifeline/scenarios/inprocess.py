"""A simulated day (the demo day, a drill) run in-process through a fresh live engine.

The day is published, in event-time steps, into :class:`lifeline.engine.Engine` through the
same validator and store as live data (:class:`lifeline.scenarios.publish.EnginePublisher`);
the summary gives what was stored and rejected, the alarms per detector and the incidents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from lifeline.model.city import City
    from lifeline.scenarios.publish import DayData


def run_in_process(
    city: City,
    day: DayData,
    db: str | None = None,
    source: str = "drill",
    step_s: int = 900,
    quiet: bool = False,
    label: str = "Running the day through the live engine",
) -> dict[str, Any]:
    """Publish ``day`` into a fresh engine on the store ``db`` (default: the settings' store)
    in steps of ``step_s`` seconds of event time. Returns the summary: counts per utility and
    per rejection reason, meter events and complaints, alarms per detector, the engine's
    status and the incidents (``lifeline.incidents.summary.incident_json``), oldest first."""
    from lifeline.engine import Engine
    from lifeline.incidents.lifecycle import Incident
    from lifeline.incidents.summary import incident_json
    from lifeline.model.store_io import import_city
    from lifeline.progress import make_progress
    from lifeline.scenarios.publish import EnginePublisher, publish_day
    from lifeline.store import open_store

    with open_store(db) as store:
        import_city(store, city)
        engine = Engine(city, store, resume=False)
        pub = EnginePublisher(store, engine, city, source=source)
        with make_progress(transient=True, disable=quiet) as bar:
            task = bar.add_task(label, total=None)

            def on_step(t: pd.Timestamp, k: int, n: int) -> None:
                bar.update(task, completed=k, total=n)

            publish_day(day, pub, step_s=step_s, on_step=on_step)
        alarms = store.list_alarms()
        incidents = [
            Incident.from_row({k: (None if _na(v) else v) for k, v in r.items()})
            for r in store.list_incidents().to_dict("records")
        ]
        readings_in_store = store.count("reading")
        kind = store.kind
    return {
        "store": kind,
        "city": {
            "name": city.name,
            "assets": len(city.assets),
            "customers": len(city.customers),
            "sensors": len(city.sensors),
            "timezone": city.timezone,
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
        "meter_events_rejected": dict(pub.event_counts["rejected"]),
        "engine": engine.status(),
        "incidents": [incident_json(inc) for inc in sorted(incidents, key=lambda i: i.opened_at)],
    }


def _na(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def drop_embedded_store(db: str | None, name: str | None = None) -> str | None:
    """Start an embedded store afresh and return the store URL to use.

    Without ``db``: with ``name`` the DuckDB file ``<data_dir>/<name>.duckdb`` (a store of its
    own, e.g. for drills), else the default embedded file when the settings name no other
    store — removed with its WAL. A ``db`` given explicitly (DuckDB or PostgreSQL) is never
    dropped; readings are idempotent on (sensor_id, ts), so a re-run there stores nothing twice.
    """
    from lifeline.config import get_settings

    if db:
        return db
    settings = get_settings()
    if name is not None:
        path = settings.data_dir / f"{name}.duckdb"
        path.parent.mkdir(parents=True, exist_ok=True)
        url: str | None = f"duckdb://{path}"
    elif settings.db == "":
        path, url = settings.duckdb_path(), None
    else:
        return None
    for p in (path, path.with_name(path.name + ".wal")):
        p.unlink(missing_ok=True)
    return url
