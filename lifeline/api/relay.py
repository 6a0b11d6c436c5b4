"""The API of a scaled-out loop (``lifeline serve --workers N``): no engine of its own.

* HTTP input (readings, meter events, complaints) is validated and stored as usual, then
  forwarded to the worker of each item's partition on ``lifeline/route/<k>``
  (:class:`WorkersFeed`, the ``ctx.engine`` of such an API).
* The workers' alarms and incidents reach the SSE clients through PostgreSQL
  ``LISTEN``/``NOTIFY`` (:func:`start_relay`): a worker notifies after it has saved.
* ``GET /api/engine`` shows each worker's checkpoint (watermark, when it was saved).
"""

from __future__ import annotations

import json
import logging
import threading
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)


class WorkersFeed:
    """Forwards stored HTTP input to the workers; reports their checkpoints."""

    def __init__(self, store: Any, city: Any, n: int, mqtt: str, route: str, seed: int) -> None:
        import uuid

        from lifeline.engine.partition import Partitioner, PartitionFeed
        from lifeline.engine.worker import RouteClient

        self.store, self.n = store, n
        self.parts = Partitioner(city, n, seed)
        self.route = RouteClient(mqtt, route, f"lifeline-api-{uuid.uuid4().hex[:8]}")
        self.route.connect()
        self.feed = PartitionFeed(self.parts, None, None, self.route.send)

    def not_before(self) -> pd.Timestamp | None:
        """No bound here: each worker's engine drops what it has already processed."""
        return None

    def submit(self, **items: Any) -> None:
        """See :meth:`lifeline.engine.partition.PartitionFeed.submit`."""
        self.feed.submit(**items)

    def submit_readings(self, df: pd.DataFrame) -> None:
        """Forward stored readings to their workers."""
        self.feed.submit(readings=df)

    def submit_events(self, df: pd.DataFrame) -> None:
        """Forward stored meter events to their workers."""
        self.feed.submit(events=df)

    def submit_complaints(self, df: pd.DataFrame) -> None:
        """Forward stored complaints to their workers."""
        self.feed.submit(complaints=df)

    def status(self) -> dict[str, Any]:
        """``{"watermark": the slowest worker's, "workers": [{name, watermark, saved_at}]}``."""
        names = [f"engine-{k}of{self.n}" for k in range(self.n)]
        df = self.store._query(
            "SELECT name, watermark, saved_at FROM checkpoint WHERE name = ANY(?)", [names]
        )
        rows = {str(r.name): r for r in df.itertuples()}
        workers = []
        for name in names:
            r = rows.get(name)
            wm = None if r is None or pd.isna(r.watermark) else pd.Timestamp(r.watermark)
            workers.append(
                {
                    "name": name,
                    "watermark": wm.isoformat() if wm is not None else None,
                    "saved_at": pd.Timestamp(r.saved_at).isoformat() if r is not None else None,
                }
            )
        marks = [str(w["watermark"]) for w in workers if w["watermark"]]
        return {
            "watermark": min(marks) if len(marks) == len(workers) else None,
            "pending": None,
            "workers": workers,
            "detectors": [],
            "forwarded": self.feed.forwarded,
        }

    def close(self) -> None:
        """Disconnect from the broker."""
        self.route.close()


def start_relay(app: FastAPI, channel: str) -> threading.Event:
    """LISTEN on ``channel`` and publish what the workers notify to the SSE bus (alarms with
    their district and metrics, as the in-process engine does). Returns the stop event."""
    import psycopg

    ctx = app.state.ctx
    dsn = ctx.store.dsn
    schema = getattr(ctx.store, "schema", None)
    stop = threading.Event()
    ready = threading.Event()

    def relay(doc: dict[str, Any]) -> None:
        topic = str(doc.get("topic") or "")
        payload = doc.get("payload")
        if payload is None:
            payload = _load(ctx, topic, doc.get("ref") or {})
            if payload is None:
                return
        district = doc.get("district")
        if topic == "alarm":
            ctx.metrics.count_alarm(payload)
            district = ctx.alarm_district(payload)
            payload = {**payload, "district_id": district}
        ctx.bus.publish(topic, payload, district)

    def loop() -> None:
        while not stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as con:
                    con.execute(f'LISTEN "{channel}"')
                    ready.set()
                    while not stop.is_set():
                        for n in con.notifies(timeout=0.5):
                            try:
                                relay(json.loads(n.payload))
                            except Exception:  # one bad notification must not stop the relay
                                log.exception("relaying a notification failed")
            except psycopg.Error as exc:  # the database went away: listen again
                log.warning("LISTEN %s (schema %s) failed: %s; retrying", channel, schema, exc)
                stop.wait(1.0)

    threading.Thread(target=loop, name="lifeline-relay", daemon=True).start()
    ready.wait(10.0)
    app.state.on_shutdown.append(stop.set)
    return stop


def _load(ctx: Any, topic: str, ref: dict[str, Any]) -> dict[str, Any] | None:
    """A notification too big for NOTIFY names its row: read it back."""
    from lifeline.errors import LifelineError

    if topic == "alarm" and ref.get("alarm_id"):
        from lifeline.engine.payload import alarm_payload

        df = ctx.store._query("SELECT * FROM alarm WHERE alarm_id = ?", [ref["alarm_id"]])
        return alarm_payload(df.iloc[0].to_dict()) if len(df) else None
    if topic == "incident" and ref.get("incident_id"):
        from lifeline.api.incident_ops import summary
        from lifeline.incidents.lifecycle import Incident

        try:
            inc = Incident.from_row(ctx.store.get_incident(ref["incident_id"]))
        except LifelineError:
            return None
        return {"action": "update_incident", **summary(inc, ctx.crs)}
    return None
