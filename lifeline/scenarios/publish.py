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
    #: readings of quiet days before the day (sensor_id, ts, value): stored and studied by the
    #: detectors before the day is published (in process only; a live server uses `lifeline learn`)
    history: pd.DataFrame | None = None

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

    def history(self, df: pd.DataFrame) -> None:
        """Store quiet days before the day and let the detectors study them (no alarms)."""
        from lifeline.ingest.service import ingest_frame

        if len(df):
            ingest_frame(
                self.store,
                df,
                source=f"{self.source}:history",
                sensors=self._sensors,
                progress=False,
            )
            self.engine.learn(df)

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


def topic_prefix(topic_filter: str) -> str:
    """The publish prefix of a subscription filter: ``lifeline/readings/#`` → ``lifeline/readings/``."""
    t = topic_filter.strip()
    return t[:-1] if t.endswith("#") else t.rstrip("/") + "/"


@dataclass
class MqttPublisher:
    """Readings and events to an MQTT broker (QoS 1, in order); complaints through ``api`` when
    given (an :class:`ApiPublisher`), else counted in ``sent["complaints_skipped"]``.

    At most ``window`` messages are unacknowledged at a time: beyond that, publishing waits for
    the oldest PUBACK (paho's ``MQTTMessageInfo.wait_for_publish``), so memory stays bounded and
    :meth:`finish` returns only when the broker holds every message. A broker that stops
    acknowledging for ``ack_timeout_s`` raises :class:`lifeline.errors.IngestError`.

    After a step's events and again after its readings every message is acknowledged and the
    publisher lets the server catch up: with ``api``, until the engine has seen the latest event
    time published (``GET /api/engine``), else for ``settle_s`` seconds. A day published in
    compressed time would otherwise outrun the server's two subscriptions (readings, events),
    and what reaches the engine after its lateness bound (in event time) is rejected as late.
    """

    url: str
    readings_prefix: str = "lifeline/readings/"
    events_prefix: str = "lifeline/events/"
    api: ApiPublisher | None = None
    client_id: str = ""
    window: int = 1000
    ack_timeout_s: float = 60.0
    settle_s: float = 0.5
    catch_up_timeout_s: float = 60.0
    sent: dict[str, int] = field(
        default_factory=lambda: {
            "readings": 0,
            "events": 0,
            "complaints": 0,
            "complaints_skipped": 0,
        }
    )
    _client: Any = None
    _inflight: Any = None
    _latest: pd.Timestamp | None = None

    def connect(self) -> None:
        """Connect to the broker now (raises :class:`lifeline.errors.ConfigError` if it cannot
        be reached); publishing connects on first use otherwise."""
        self._connect()

    def _connect(self) -> Any:
        if self._client is None:
            import collections
            import uuid

            import paho.mqtt.client as mqtt

            from lifeline.errors import ConfigError
            from lifeline.ingest.mqtt import parse_mqtt_url

            host, port, user, pw = parse_mqtt_url(self.url)
            c = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2,
                client_id=self.client_id or f"lifeline-drill-{uuid.uuid4().hex[:8]}",
            )
            if user:
                c.username_pw_set(user, pw)
            c.max_inflight_messages_set(self.window)
            c.max_queued_messages_set(0)
            try:
                c.connect(host, port, keepalive=30)
            except OSError as exc:
                raise ConfigError(
                    f"cannot connect to the MQTT broker {host}:{port}: {exc}", where="--publish"
                ) from exc
            c.loop_start()
            self._client = c
            self._inflight = collections.deque()
        return self._client

    def _wait(self, info: Any) -> None:
        from lifeline.errors import IngestError

        try:
            info.wait_for_publish(self.ack_timeout_s)
        except (ValueError, RuntimeError) as exc:
            raise IngestError(f"MQTT publish failed: {exc}", where=self.url) from exc
        if not info.is_published():
            raise IngestError(
                f"the broker did not acknowledge a message within {self.ack_timeout_s:g} s",
                where=self.url,
            )

    def _publish(self, topic: str, payload: str) -> None:
        c = self._connect()
        self._inflight.append(c.publish(topic, payload, qos=1))
        while len(self._inflight) > self.window:
            self._wait(self._inflight.popleft())

    def _seen(self, df: pd.DataFrame) -> None:
        t = event_times(df).max()
        if pd.notna(t) and (self._latest is None or t > self._latest):
            self._latest = t

    def readings(self, df: pd.DataFrame) -> None:
        for sid, ts, v in zip(df["sensor_id"], df["ts"], df["value"], strict=True):
            payload = json.dumps({"ts": _iso(ts), "value": _num(v)})
            self._publish(f"{self.readings_prefix}{sid}", payload)
            self.sent["readings"] += 1
        self._seen(df)

    def events(self, df: pd.DataFrame) -> None:
        for r in df.to_dict("records"):
            self._publish(f"{self.events_prefix}{r['kind']}", json.dumps(_event_json(r)))
            self.sent["events"] += 1
        if len(df):
            self._seen(df)
            # the server takes events and readings on two subscriptions: let the events reach
            # the engine before this step's calls and readings move its watermark on
            self._catch_up(event_times(df).max())

    def _drain(self) -> None:
        while self._inflight:  # every QoS-1 message acknowledged by the broker
            self._wait(self._inflight.popleft())

    def _catch_up(self, t: pd.Timestamp | None) -> None:
        """Wait for the broker's acks, then for the server's engine to see ``t`` (with ``api``)
        or ``settle_s`` seconds."""
        if self._client is None:
            return
        self._drain()
        if self.api is not None and t is not None and pd.notna(t):
            self.api.wait_for_engine(t, self.catch_up_timeout_s)
        elif self.settle_s > 0:
            time.sleep(self.settle_s)

    def complaints(self, df: pd.DataFrame) -> None:
        if not len(df):
            return
        if self.api is not None:
            self.api.complaints(df)
            self.sent["complaints"] += len(df)
        else:
            self.sent["complaints_skipped"] += len(df)

    def step_done(self, t: pd.Timestamp) -> None:
        # a (deliberately bad) record far ahead of the step must not stall the catch-up
        self._catch_up(min(self._latest, t) if self._latest is not None else None)

    def finish(self) -> None:
        c = self._client
        if c is None:
            return
        try:
            self._drain()
        finally:
            c.disconnect()
            c.loop_stop()
            self._client = None


def _iso(ts: Any) -> Any:
    """A reading's time as ISO text; a deliberately bad one (unparseable) as it is."""
    try:
        return pd.Timestamp(ts).isoformat()
    except (ValueError, TypeError):
        return str(ts)


def _num(v: Any) -> Any:
    """A reading's value as a JSON number; a deliberately bad one (text) as it is."""
    try:
        return float(v)
    except (ValueError, TypeError):
        return v


@dataclass
class ApiPublisher:
    """Batches to the lifeline HTTP API (``token`` a bearer token of an operator or above)."""

    base_url: str
    token: str
    batch: int = 5000
    sent: dict[str, int] = field(
        default_factory=lambda: {"readings": 0, "events": 0, "complaints": 0}
    )

    @classmethod
    def login(cls, base_url: str, user: str, password: str, **kw: Any) -> ApiPublisher:
        """A publisher with a bearer token from ``POST /api/auth/login``."""
        body = _http_post(base_url, "/api/auth/login", {"username": user, "password": password})
        return cls(base_url, str(body["access_token"]), **kw)

    def _post(self, path: str, body: Any) -> Any:
        return _http_post(self.base_url, path, body, self.token)

    def wait_for_engine(self, t: pd.Timestamp, timeout_s: float = 60.0) -> bool:
        """Wait until the server's engine has seen event time ``t`` (``latest_event`` of
        ``GET /api/engine``); False when it has not within ``timeout_s`` (some data of the
        step may have been rejected: the publication goes on)."""
        import httpx

        url = self.base_url.rstrip("/") + "/api/engine"
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                r = httpx.get(url, headers={"authorization": f"Bearer {self.token}"}, timeout=30)
                latest = r.json().get("latest_event") if r.status_code == 200 else None
            except (httpx.HTTPError, ValueError):
                latest = None
            if latest and pd.Timestamp(latest) >= t:
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)

    def readings(self, df: pd.DataFrame) -> None:
        rows = [
            {"sensor_id": str(s), "ts": _iso(t), "value": _num(v)}
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


def _http_post(base_url: str, path: str, body: Any, token: str = "") -> Any:
    """POST JSON to the lifeline API; errors (unreachable, refused, 4xx/5xx) as
    :class:`lifeline.errors.IngestError` naming the URL and the server's reason."""
    import httpx

    from lifeline.errors import IngestError

    url = base_url.rstrip("/") + path
    headers = {"authorization": f"Bearer {token}"} if token else {}
    try:
        r = httpx.post(url, json=body, headers=headers, timeout=120)
    except httpx.HTTPError as exc:
        raise IngestError(f"cannot reach the API: {exc}", where=url) from exc
    if r.status_code >= 400:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        raise IngestError(f"HTTP {r.status_code}: {str(detail)[:300]}", where=url)
    return r.json()


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
    if data.history is not None and len(data.history) and hasattr(publisher, "history"):
        publisher.history(data.history)
    first, last = data.span()
    t0 = first.floor(f"{step_s}s")
    steps = pd.date_range(t0, last + pd.Timedelta(seconds=step_s), freq=f"{step_s}s")
    # within a step the sparse streams go first (meter events, then calls), readings last: the
    # engine's watermark follows the latest event time it has seen, so readings taken first by
    # a live server could make the step's events and calls late
    frames = {
        "events": data.meter_events,
        "complaints": data.complaints,
        "readings": data.readings,
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
