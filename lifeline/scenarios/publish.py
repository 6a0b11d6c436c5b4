"""Publishing a simulated day (a drill, the demo day, a replay) into the live loop.

A simulation only *publishes*: readings, smart-meter events and hotline complaints go into the
same engine as live data, through one of three publishers —

* :class:`EnginePublisher`: in-process, through the shared validator into the store and the
  engine (the headless demo, the replay, tests);
* :class:`MqttPublisher`: readings to ``lifeline/readings/<sensor_id>`` and events to
  ``lifeline/events/<kind>`` on a broker (QoS 1), complaints by HTTP if an API is given;
* :class:`ApiPublisher`: ``POST /api/readings``, ``/api/meter-events``, ``/api/complaints``.

:func:`publish_day` walks the day in event-time steps and hands each step's data to a publisher,
optionally paced (``speed`` × real time).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

if TYPE_CHECKING:
    from lifeline.engine import Engine
    from lifeline.model.city import City
    from lifeline.store import Store


@dataclass
class DayData:
    """What a drill publishes: readings (sensor_id, ts, value), meter events
    (``schema.METER_EVENT``) and complaints (``schema.COMPLAINT``, classified and placed)."""

    readings: pd.DataFrame
    meter_events: pd.DataFrame
    complaints: pd.DataFrame
    events: list[Any] = field(default_factory=list)  # the scripted incidents
    #: the day's extent (UTC); None: from the data. Records outside it (deliberately bad ones,
    #: e.g. a timestamp a year ahead) are published with the first step.
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None

    def span(self) -> tuple[pd.Timestamp, pd.Timestamp]:
        """(first, last) event time of the day: ``start``/``end`` when set, else of everything
        in it (unparseable times ignored)."""
        if self.start is not None and self.end is not None:
            return pd.Timestamp(self.start), pd.Timestamp(self.end)
        ts = [
            event_times(df) for df in (self.readings, self.meter_events, self.complaints) if len(df)
        ]
        allts = pd.concat(ts).dropna()
        return allts.min(), allts.max()


def event_times(df: pd.DataFrame) -> pd.Series:
    """The rows' ``ts`` as UTC timestamps; NaT where a (deliberately bad) record has none."""
    if isinstance(df["ts"].dtype, pd.DatetimeTZDtype):
        return df["ts"]
    return pd.Series(
        [pd.to_datetime(v, utc=True, errors="coerce") for v in df["ts"]],
        index=df.index,
        dtype="datetime64[ns, UTC]",
    )


class Publisher(Protocol):
    """Where a drill's data goes."""

    def readings(self, df: pd.DataFrame) -> None:
        """Publish readings."""

    def events(self, df: pd.DataFrame) -> None:
        """Publish meter events."""

    def complaints(self, df: pd.DataFrame) -> None:
        """Publish complaints."""

    def step_done(self, t: pd.Timestamp) -> None:
        """Event time ``t`` has been published."""

    def finish(self) -> None:
        """Everything has been published."""


@dataclass
class EnginePublisher:
    """In-process: validate and store, then let the engine score (the same path as HTTP/MQTT)."""

    store: Store
    engine: Engine
    city: City
    source: str = "drill"
    report: Any = None
    _index: Any = None

    def __post_init__(self) -> None:
        from lifeline.ingest.events import EventIndex
        from lifeline.ingest.service import IngestReport
        from lifeline.ingest.validate import SensorIndex

        self.report = IngestReport(sources=[self.source])
        self._sensors = SensorIndex(self.city.sensors)
        switches = self.city.power.switch.index if self.city.has("power") else []
        self._index = EventIndex.of(self.city.customers, switches)
        self.event_counts: dict[str, Any] = {"stored": 0, "rejected": {}}

    def readings(self, df: pd.DataFrame) -> None:
        from lifeline.ingest.service import ingest_frame

        if len(df):
            rep = ingest_frame(
                self.store,
                df,
                source=self.source,
                sensors=self._sensors,
                progress=False,
                feed=self.engine,
            )
            self.report.merge(rep)

    def events(self, df: pd.DataFrame) -> None:
        from lifeline.ingest.events import ingest_events

        if len(df):
            items = [(_event_json(r), f"{self.source}:events") for r in df.to_dict("records")]
            out = ingest_events(self.store, items, self._index, feed=self.engine)
            self.event_counts["stored"] += out["stored"]
            for k, v in out["rejected"].items():
                self.event_counts["rejected"][k] = self.event_counts["rejected"].get(k, 0) + v

    def complaints(self, df: pd.DataFrame) -> None:
        from lifeline.incidents.complaints.ingest import submit_complaints

        if len(df):
            submit_complaints(self.store, df, self.engine)

    def step_done(self, t: pd.Timestamp) -> None:
        self.engine.advance()

    def finish(self) -> None:
        self.engine.flush()


def _event_json(r: dict[str, Any]) -> dict[str, Any]:
    out = {"ts": pd.Timestamp(r["ts"]).isoformat(), "kind": r["kind"]}
    if r.get("customer_id"):
        out["customer_id"] = r["customer_id"]
    if r.get("element"):
        out["element"] = r["element"]
    if r.get("utility") in ("water", "gas") and r["kind"] in ("zero_consumption", "reverse_flow"):
        out["utility"] = r["utility"]
    return out


def _complaint_json(r: dict[str, Any]) -> dict[str, Any]:
    out = {
        "complaint_id": str(r["complaint_id"]),
        "ts": pd.Timestamp(r["ts"]).isoformat(),
        "channel": str(r.get("channel") or "hotline"),
        "text": str(r.get("text") or ""),
    }
    for k in ("address", "customer_id"):
        if isinstance(r.get(k), str) and r[k]:
            out[k] = r[k]
    for k in ("x_m", "y_m"):
        v = r.get(k)
        if v is not None and v == v:
            out[k] = float(v)
    return out


@dataclass
class MqttPublisher:
    """Readings and events to an MQTT broker (QoS 1, in order); complaints through ``api`` when
    given (an :class:`ApiPublisher`), else dropped with a count."""

    url: str
    readings_prefix: str = "lifeline/readings/"
    events_prefix: str = "lifeline/events/"
    api: ApiPublisher | None = None
    client_id: str = ""
    sent: dict[str, int] = field(
        default_factory=lambda: {"readings": 0, "events": 0, "complaints": 0}
    )
    _client: Any = None

    def _connect(self) -> Any:
        if self._client is None:
            import uuid

            import paho.mqtt.client as mqtt

            from lifeline.ingest.mqtt import parse_mqtt_url

            host, port, user, pw = parse_mqtt_url(self.url)
            c = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2,
                client_id=self.client_id or f"lifeline-drill-{uuid.uuid4().hex[:8]}",
            )
            if user:
                c.username_pw_set(user, pw)
            c.max_inflight_messages_set(1000)
            c.max_queued_messages_set(0)
            c.connect(host, port, keepalive=30)
            c.loop_start()
            self._client = c
        return self._client

    def readings(self, df: pd.DataFrame) -> None:
        c = self._connect()
        for sid, ts, v in zip(df["sensor_id"], df["ts"], df["value"], strict=True):
            payload = json.dumps({"ts": pd.Timestamp(ts).isoformat(), "value": float(v)})
            c.publish(f"{self.readings_prefix}{sid}", payload, qos=1)
            self.sent["readings"] += 1

    def events(self, df: pd.DataFrame) -> None:
        c = self._connect()
        for r in df.to_dict("records"):
            c.publish(f"{self.events_prefix}{r['kind']}", json.dumps(_event_json(r)), qos=1)
            self.sent["events"] += 1

    def complaints(self, df: pd.DataFrame) -> None:
        if self.api is not None and len(df):
            self.api.complaints(df)
            self.sent["complaints"] += len(df)

    def step_done(self, t: pd.Timestamp) -> None:
        pass

    def finish(self) -> None:
        c = self._client
        if c is not None:
            deadline = time.monotonic() + 60
            while c._out_messages and time.monotonic() < deadline:  # wait for QoS-1 acks
                time.sleep(0.05)
            c.loop_stop()
            c.disconnect()
            self._client = None


@dataclass
class ApiPublisher:
    """Batches to the lifeline HTTP API (``token`` a bearer token of an operator or above)."""

    base_url: str
    token: str
    batch: int = 5000
    sent: dict[str, int] = field(
        default_factory=lambda: {"readings": 0, "events": 0, "complaints": 0}
    )

    def _post(self, path: str, body: Any) -> Any:
        import httpx

        r = httpx.post(
            self.base_url.rstrip("/") + path,
            json=body,
            headers={"authorization": f"Bearer {self.token}"},
            timeout=120,
        )
        r.raise_for_status()
        return r.json()

    def readings(self, df: pd.DataFrame) -> None:
        rows = [
            {"sensor_id": str(s), "ts": pd.Timestamp(t).isoformat(), "value": float(v)}
            for s, t, v in zip(df["sensor_id"], df["ts"], df["value"], strict=True)
        ]
        for i in range(0, len(rows), self.batch):
            self._post("/api/readings", {"readings": rows[i : i + self.batch]})
        self.sent["readings"] += len(rows)

    def events(self, df: pd.DataFrame) -> None:
        rows = [_event_json(r) for r in df.to_dict("records")]
        for i in range(0, len(rows), self.batch):
            self._post("/api/meter-events", {"events": rows[i : i + self.batch]})
        self.sent["events"] += len(rows)

    def complaints(self, df: pd.DataFrame) -> None:
        for r in df.to_dict("records"):
            self._post("/api/complaints", _complaint_json(r))
        self.sent["complaints"] += len(df)

    def step_done(self, t: pd.Timestamp) -> None:
        pass

    def finish(self) -> None:
        pass


def publish_day(
    data: DayData,
    publisher: Publisher,
    step_s: int = 900,
    speed: float | None = None,
    stop: Any = None,
    on_step: Callable[[pd.Timestamp, int, int], None] | None = None,
) -> int:
    """Publish ``data`` in event-time steps of ``step_s`` seconds; ``speed`` paces it (simulated
    seconds per wall second; None = as fast as possible). ``stop`` (a threading.Event) ends it
    early. ``on_step(t, k, n)`` is called after each step. Returns the steps published."""
    first, last = data.span()
    t0 = first.floor(f"{step_s}s")
    steps = pd.date_range(t0, last + pd.Timedelta(seconds=step_s), freq=f"{step_s}s")
    frames = {
        "readings": data.readings,
        "events": data.meter_events,
        "complaints": data.complaints,
    }

    # when each row is published: its event time; a record without a valid one, or outside the
    # day, goes first
    def when_of(df: pd.DataFrame) -> pd.Series:
        w = event_times(df)
        return w.where((w >= steps[0]) & (w < steps[-1]), steps[0]).fillna(steps[0])

    when = {
        k: when_of(df) if len(df) else pd.Series(dtype="datetime64[ns, UTC]")
        for k, df in frames.items()
    }
    wall0 = time.monotonic()
    n = len(steps) - 1
    done = 0
    for k in range(n):
        if stop is not None and stop.is_set():
            break
        a, b = steps[k], steps[k + 1]
        for kind, df in frames.items():
            if len(df) == 0:
                continue
            w = when[kind]
            part = df[((w >= a) & (w < b)).to_numpy()]
            if len(part):
                order = w[part.index].argsort(kind="stable")
                getattr(publisher, kind)(part.iloc[order.to_numpy()])
        publisher.step_done(b)
        done = k + 1
        if on_step is not None:
            on_step(b, done, n)
        if speed:
            delay = wall0 + (k + 1) * step_s / speed - time.monotonic()
            if delay > 0:
                if stop is not None:
                    if stop.wait(delay):
                        break
                else:
                    time.sleep(delay)
    publisher.finish()
    return done
