"""The live loop: one engine for every input (MQTT, HTTP, files, a replay, a drill).

    ingest → validate → store → **engine**: score (every detector that applies) → policy →
    alarm episodes → evidence → correlation → incident → assessment → store → live push

Ingestion validates and stores, then hands what it stored to :meth:`Engine.submit_readings`,
:meth:`Engine.submit_events`, :meth:`Engine.submit_complaints` or
:meth:`Engine.submit_forecasts` (rainfall nowcasts, ``schema.FORECAST``). The engine works in **event
time**: it keeps what arrives in a buffer and processes fixed windows of ``window_s`` seconds
(aligned to the clock) once the watermark — the latest event time seen minus the lateness bound
``lateness_s`` — has passed a window's end. Within a window, readings, events and complaints are
taken in time order. A nowcast's event time is its issue time: the nowcasts issued in a window
are handed to the detectors that take them (a ``take_forecasts(frame)`` method) before the
window's readings are scored. Because the windows are fixed, the results do not depend on how the input
was batched or how fast it arrived. Data older than the last processed window is *late*:
ingestion rejects it (reason ``late``) via :meth:`Engine.not_before`.

State (detectors, episodes, correlator, watermark) is checkpointed in the store; a restarted
engine resumes from the checkpoint and re-reads from the store what came after it. Ids are
deterministic (alarms: detector, key, episode start; incidents: their first evidence), so
re-processing never makes a second copy.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.detect.episodes import EpisodeTracker
from lifeline.engine.buffer import EventBuffer, utc_timestamp
from lifeline.engine.payload import Publish, alarm_payload, no_publish

if TYPE_CHECKING:
    from lifeline.model.city import City
    from lifeline.store import Store

log = logging.getLogger(__name__)

#: a wall-clock checkpoint waits at least this many times the last checkpoint's duration
CHECKPOINT_COST = 20.0
#: GET /api/engine waits at most this long (seconds) for a busy engine
STATUS_WAIT_S = 1.0


@dataclass
class EngineConfig:
    """Engine settings: window and lateness in seconds of event time, checkpoint cadence."""

    window_s: int = 300
    lateness_s: int = 120
    checkpoint_every: int = 12  # windows (12 × 5 min = 1 h of event time)
    checkpoint_wall_s: float = 30.0
    assess: bool = True
    name: str = "engine"
    #: scale-out: the workers whose progress bounds the watermark (``w0`` … ``w{n-1}``); empty
    #: for a single engine, whose watermark follows the latest event time it has seen
    sources: tuple[str, ...] = ()


@dataclass
class StepReport:
    """What a call to :meth:`Engine.advance` did."""

    windows: int = 0
    readings: int = 0
    events: int = 0
    complaints: int = 0
    forecasts: int = 0
    alarms_changed: int = 0
    incidents_touched: int = 0
    seconds: float = 0.0

    def merge(self, o: StepReport) -> None:
        """Add ``o``'s counts."""
        for k in self.__dataclass_fields__:
            setattr(self, k, getattr(self, k) + getattr(o, k))


class Engine:
    """The live loop over one city (see the module docstring)."""

    def __init__(
        self,
        city: City,
        store: Store,
        *,
        config: EngineConfig | None = None,
        publish: Publish | None = None,
        detectors: list[str] | None = None,
        resume: bool = True,
        incident_lock: Any = None,
        partition: Any = None,
        shared: Any = None,
    ) -> None:
        from lifeline.detect.registry import build_detectors
        from lifeline.engine.incidents import IncidentStage
        from lifeline.engine.inputs import SensorMeta

        self.city = city
        self.store = store
        self.cfg = config or EngineConfig()
        self.publish: Publish = publish or no_publish
        self.meta = SensorMeta(city)
        self.instances = build_detectors(city, detectors)
        self.trackers = {
            i.spec.name: EpisodeTracker(
                i.policy, i.spec.name, i.spec.utility or "", utility_of=self.meta.utility_of
            )
            for i in self.instances
        }
        #: scale-out: ``(Partitioner, k)`` — this engine sees partition k's items only
        self.partition = partition
        self.incidents = IncidentStage(
            city, store, self.publish, assess=self.cfg.assess, lock=incident_lock, shared=shared
        )
        #: scale-out: the latest event time each source (worker) has received and forwarded
        self.progress: dict[str, pd.Timestamp] = {}
        self._readings = EventBuffer()
        self._events = EventBuffer()
        self._complaints = EventBuffer()
        self._forecasts = EventBuffer()
        self._lock = threading.RLock()
        self.max_seen: pd.Timestamp | None = None
        self.processed_until: pd.Timestamp | None = None  # end of the last processed window
        self.received = 0
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        self._checkpoint_s = 0.0  # how long the last checkpoint took (wall seconds)
        self._watch_masks: dict[str, np.ndarray] = {}
        self._last_status: dict[str, Any] = {"detectors": []}
        self.totals = StepReport()
        if resume:
            self._resume()

    # ---- inputs ------------------------------------------------------------------------------
    def not_before(self) -> pd.Timestamp | None:
        """Event time before which new data is late (the end of the last processed window)."""
        return self.processed_until

    def _seen(self, df: pd.DataFrame) -> None:
        m = df["ts"].max()
        if self.max_seen is None or m > self.max_seen:
            self.max_seen = m
        self.received += len(df)

    def submit_readings(self, df: pd.DataFrame) -> None:
        """Readings stored by ingestion (``sensor_id``, ``ts`` UTC, ``value``)."""
        if df is None or len(df) == 0:
            return
        ts = df["ts"]
        ts = (
            ts.dt.tz_convert("UTC")
            if isinstance(ts.dtype, pd.DatetimeTZDtype)
            else pd.to_datetime(ts, utc=True)
        )
        r = pd.DataFrame(
            {
                "sensor_id": df["sensor_id"].astype(str).to_numpy(),
                # a tz-aware index, never .to_numpy(): that makes one Timestamp object per row
                "ts": pd.DatetimeIndex(ts).astype("datetime64[ns, UTC]"),
                "value": pd.to_numeric(df["value"], errors="coerce").to_numpy(float),
            }
        )
        with self._lock:
            self._readings.add(self._drop_late(r))
            self._seen(r)

    def submit_events(self, df: pd.DataFrame) -> None:
        """Meter and switchgear events stored by ingestion (``schema.METER_EVENT``)."""
        if df is None or len(df) == 0:
            return
        e = df.assign(ts=pd.to_datetime(df["ts"], utc=True))
        with self._lock:
            self._events.add(self._drop_late(e))
            self._seen(e)

    def submit_complaints(self, df: pd.DataFrame) -> None:
        """Classified and placed complaints stored by ingestion (``schema.COMPLAINT``)."""
        if df is None or len(df) == 0:
            return
        c = df.assign(ts=pd.to_datetime(df["ts"], utc=True))
        with self._lock:
            self._complaints.add(self._drop_late(c))
            self._seen(c)

    def submit_forecasts(self, df: pd.DataFrame) -> None:
        """Rainfall nowcast rows stored by ingestion (``issued_at``, ``ts``, ``gauge_id``,
        ``rain_mm_h``; times UTC). Their event time is the issue time."""
        if df is None or len(df) == 0:
            return
        f = pd.DataFrame(
            {
                "ts": pd.to_datetime(df["issued_at"], utc=True).to_numpy(),
                "valid_ts": pd.to_datetime(df["ts"], utc=True).to_numpy(),
                "gauge_id": df["gauge_id"].astype(str).to_numpy(),
                "rain_mm_h": pd.to_numeric(df["rain_mm_h"], errors="coerce").to_numpy(float),
            }
        )
        f["ts"] = pd.to_datetime(f["ts"], utc=True)
        f["valid_ts"] = pd.to_datetime(f["valid_ts"], utc=True)
        with self._lock:
            self._forecasts.add(self._drop_late(f))
            self._seen(f)

    def submit(
        self,
        readings: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        complaints: pd.DataFrame | None = None,
    ) -> None:
        """Hand over what one ingestion step stored, in one go: the engine does not advance
        between the parts (so none of them is late because of another)."""
        with self._lock:
            if events is not None:
                self.submit_events(events)
            if complaints is not None:
                self.submit_complaints(complaints)
            if readings is not None:
                self.submit_readings(readings)

    def _drop_late(self, df: pd.DataFrame) -> pd.DataFrame:
        if self.processed_until is None:
            return df
        late = df["ts"] < self.processed_until
        if late.any():
            log.debug("engine: %d late items dropped", int(late.sum()))
        return df[~late]

    def set_progress(self, source: str, ts: pd.Timestamp) -> None:
        """Scale-out: ``source`` (a worker) has received and forwarded everything up to event
        time ``ts`` (see :mod:`lifeline.engine.partition`)."""
        t = utc_timestamp(ts)
        with self._lock:
            old = self.progress.get(source)
            if old is None or t > old:
                self.progress[source] = t

    @property
    def pending(self) -> int:
        """Readings, events and complaints received but not yet processed."""
        return self._readings.n + self._events.n + self._complaints.n + self._forecasts.n

    @property
    def watermark(self) -> pd.Timestamp | None:
        """The latest event time fully processed."""
        return self.processed_until

    def learn(self, readings: pd.DataFrame) -> int:
        """Let every reading detector study ``readings`` (history: no scores, no alarms); returns
        how many readings were used."""
        if readings is None or len(readings) == 0:
            return 0
        r = pd.DataFrame(
            {
                "sensor_id": readings["sensor_id"].astype(str).to_numpy(),
                "ts": pd.to_datetime(readings["ts"], utc=True).to_numpy(),
                "value": pd.to_numeric(readings["value"], errors="coerce").to_numpy(float),
            }
        )
        r["ts"] = pd.to_datetime(r["ts"], utc=True)
        rich = self.meta.enrich(r.sort_values(["ts", "sensor_id"], kind="stable"))
        with self._lock:
            for inst in self.instances:
                if inst.spec.inputs != "readings":
                    continue
                sub = rich[rich["sensor_id"].isin(inst.sensor_ids)]
                if len(sub):
                    inst.detector.learn(sub.reset_index(drop=True))
        return len(rich)

    # ---- processing -------------------------------------------------------------------------
    def _window_start(self, t: pd.Timestamp) -> pd.Timestamp:
        return t.floor(f"{self.cfg.window_s}s")

    def advance(self, until: pd.Timestamp | None = None) -> StepReport:
        """Process every complete window that the watermark (latest event time seen minus the
        lateness bound, or ``until``) has passed."""
        with self._lock:
            if self.max_seen is None:
                return StepReport()
            if until is not None:
                limit = utc_timestamp(until)
            elif self.cfg.sources:
                # every worker must have forwarded up to the window's end (plus lateness)
                if any(s not in self.progress for s in self.cfg.sources):
                    return StepReport()
                limit = min(self.progress[s] for s in self.cfg.sources) - pd.Timedelta(
                    seconds=self.cfg.lateness_s
                )
            else:
                limit = self.max_seen - pd.Timedelta(seconds=self.cfg.lateness_s)
            return self._run_to(limit)

    def flush(self) -> StepReport:
        """Process everything received (the end of a replay or drill, or an idle stream)."""
        with self._lock:
            if self.max_seen is None:
                return StepReport()
            end = self._window_start(self.max_seen) + pd.Timedelta(seconds=self.cfg.window_s)
            rep = self._run_to(end)
            self.checkpoint()
            return rep

    def _run_to(self, limit: pd.Timestamp) -> StepReport:
        rep = StepReport()
        t0 = time.perf_counter()
        w = pd.Timedelta(seconds=self.cfg.window_s)
        start = self.processed_until
        if start is None:
            first = (
                min(
                    t
                    for t in (
                        self._readings.min_ts(),
                        self._events.min_ts(),
                        self._complaints.min_ts(),
                        self._forecasts.min_ts(),
                    )
                    if t is not None
                )
                if self.pending
                else None
            )
            if first is None:
                return rep
            start = self._window_start(first)
        while start + w <= limit:
            if self.pending == 0:
                # nothing buffered: the windows up to the limit are empty
                self.processed_until = max(start, self._window_start(limit))
                break
            rep.merge(self._window(start, start + w))
            self.processed_until = start + w
            start = start + w
            self._since_checkpoint += 1
            # by event time (checkpoint_every windows) or by wall time — but never more often
            # than CHECKPOINT_COST times its own duration: a big city's state takes seconds
            # to save, and a stream drained faster than real time must not spend its time there
            wall = max(self.cfg.checkpoint_wall_s, CHECKPOINT_COST * self._checkpoint_s)
            if self._since_checkpoint >= self.cfg.checkpoint_every or (
                time.monotonic() - self._last_checkpoint > wall
            ):
                self.checkpoint()
        rep.seconds = time.perf_counter() - t0
        self.totals.merge(rep)
        return rep

    def _window(self, a: pd.Timestamp, b: pd.Timestamp) -> StepReport:
        """Process the window [a, b)."""
        rep = StepReport(windows=1)
        readings = self._readings.take(b)
        events = self._events.take(b)
        complaints = self._complaints.take(b)
        forecasts = self._forecasts.take(b)
        if len(forecasts):
            rep.forecasts = self._hand_forecasts(forecasts)
        if len(readings):
            readings = (
                readings.drop_duplicates(["sensor_id", "ts"], keep="last")
                .sort_values(["ts", "sensor_id"], kind="stable")
                .reset_index(drop=True)
            )
        if len(events):
            events = events.drop_duplicates("event_id").sort_values(
                ["ts", "event_id"], kind="stable"
            )
        if len(complaints):
            complaints = complaints.drop_duplicates("complaint_id").sort_values(
                ["ts", "complaint_id"], kind="stable"
            )
        rep.readings, rep.events, rep.complaints = len(readings), len(events), len(complaints)
        changed = self._score(readings, events)
        rep.alarms_changed = len(changed)
        if len(changed):
            self.store.upsert_alarms(changed)
            for r in changed.to_dict("records"):
                self.publish("alarm", alarm_payload(r), None)
        rep.incidents_touched = self.incidents.process(changed, events, complaints, b)
        return rep

    def _hand_forecasts(self, forecasts: pd.DataFrame) -> int:
        """Give the window's nowcast rows (issue time order) to the detectors that take them."""
        f = (
            forecasts.rename(columns={"ts": "issued_at", "valid_ts": "ts"})
            .drop_duplicates(["issued_at", "gauge_id", "ts"], keep="last")
            .sort_values(["issued_at", "gauge_id", "ts"], kind="stable")
            .reset_index(drop=True)
        )
        for inst in self.instances:
            take = getattr(inst.detector, "take_forecasts", None)
            if callable(take):
                try:
                    take(f)
                except Exception:  # one failing detector must not stop the loop
                    log.exception("detector %s failed on forecasts", inst.spec.name)
        return len(f)

    def _score(self, readings: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
        from lifeline.detect.episodes import Changes

        out = Changes()
        rich, codes = self.meta.enrich_codes(readings) if len(readings) else (readings, None)
        for inst in self.instances:
            if inst.spec.inputs == "events":
                batch = (
                    events[events["kind"].isin(inst.spec.event_kinds)]
                    if len(events) and inst.spec.event_kinds
                    else events
                )
            elif codes is None:
                batch = rich
            else:  # which readings it watches: a lookup by sensor position, not a set test
                batch = rich[self._watch(inst)[codes]]
            if len(batch) == 0:
                continue
            try:
                scores = inst.detector.score(batch.reset_index(drop=True))
            except Exception:  # one failing detector must not stop the loop
                log.exception("detector %s failed on a batch", inst.spec.name)
                continue
            ch = self.trackers[inst.spec.name].update(scores)
            out.rows.extend(ch.rows)
        return out.frame()

    def _watch(self, inst: Any) -> np.ndarray:
        """Boolean mask over the city's sensors (SensorMeta order) of those ``inst`` watches."""
        m = self._watch_masks.get(inst.spec.name)
        if m is None:
            m = self.meta.ids.isin(list(inst.sensor_ids))
            self._watch_masks[inst.spec.name] = m
        return m

    # ---- state ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """``{"watermark", "pending", "received", "detectors": [...]}`` (GET /api/engine).

        While the engine works through a long backlog (it holds its lock for every window the
        watermark passed), waits at most :data:`STATUS_WAIT_S` and then answers with the
        current watermark and counts beside the detectors of the last full status
        (``"busy": true``)."""
        if not self._lock.acquire(timeout=STATUS_WAIT_S):
            pu, seen = self.processed_until, self.max_seen
            return {
                **self._last_status,
                "watermark": pu.isoformat() if pu is not None else None,
                "latest_event": seen.isoformat() if seen is not None else None,
                "pending": self.pending,
                "received": self.received,
                "busy": True,
            }
        try:
            self._last_status = self._full_status()
            return self._last_status
        finally:
            self._lock.release()

    def _full_status(self) -> dict[str, Any]:
        """:meth:`status` under the lock."""
        dets = []
        for inst in self.instances:
            try:
                st = inst.detector.status().as_dict()
            except Exception as exc:  # a status must never break the endpoint
                st = {"name": inst.spec.name, "ready": False, "error": str(exc)}
            st.update(
                {
                    "name": inst.spec.name,
                    "utility": inst.spec.utility,
                    "inputs": inst.spec.inputs,
                    "threshold": inst.policy.threshold,
                    "warmup": st.get("warmup") or inst.spec.warmup,
                    "open_alarms": len(self.trackers[inst.spec.name].open),
                }
            )
            dets.append(st)
        return {
            "watermark": self.processed_until.isoformat()
            if self.processed_until is not None
            else None,
            "latest_event": self.max_seen.isoformat() if self.max_seen is not None else None,
            "pending": self.pending,
            "received": self.received,
            "window_s": self.cfg.window_s,
            "lateness_s": self.cfg.lateness_s,
            "incidents_open": self.incidents.open_count(),
            "detectors": dets,
            **(
                {
                    "partition": f"{self.partition[1]}/{self.partition[0].n}",
                    "progress": {k: v.isoformat() for k, v in sorted(self.progress.items())},
                }
                if self.partition is not None
                else {}
            ),
        }

    def get_state(self) -> dict[str, Any]:
        """Everything needed to resume (JSON-able)."""
        det: dict[str, Any] = {}
        for inst in self.instances:
            try:
                det[inst.spec.name] = inst.detector.get_state()
            except Exception:  # a detector without state support restarts cold
                log.exception("detector %s cannot checkpoint", inst.spec.name)
        return {
            "processed_until": self.processed_until.isoformat()
            if self.processed_until is not None
            else None,
            "max_seen": self.max_seen.isoformat() if self.max_seen is not None else None,
            "detectors": det,
            "episodes": {k: t.get_state() for k, t in self.trackers.items()},
            "incidents": self.incidents.get_state(),
        }

    def checkpoint(self) -> None:
        """Save the state and watermark in the store."""
        with self._lock:
            t0 = time.monotonic()
            self.store.save_checkpoint(self.cfg.name, self.processed_until, self.get_state())
            self._since_checkpoint = 0
            self._last_checkpoint = time.monotonic()
            self._checkpoint_s = self._last_checkpoint - t0

    def _resume(self) -> None:
        """Load the last checkpoint and re-read from the store what came after it."""
        cp = self.store.load_checkpoint(self.cfg.name)
        if cp is None:
            return
        _, state = cp
        for inst in self.instances:
            s = state.get("detectors", {}).get(inst.spec.name)
            if s is not None:
                try:
                    inst.detector.set_state(s)
                except Exception:
                    log.exception(
                        "detector %s could not restore its state; it restarts cold", inst.spec.name
                    )
        for k, t in self.trackers.items():
            if k in state.get("episodes", {}):
                t.set_state(state["episodes"][k])
        self.incidents.set_state(state.get("incidents", {}))
        pu = state.get("processed_until")
        self.processed_until = utc_timestamp(pu) if pu else None
        ms = state.get("max_seen")
        self.max_seen = utc_timestamp(ms) if ms else None
        if self.processed_until is not None:
            self._reload_after(self.processed_until)

    def _reload_after(self, t: pd.Timestamp) -> None:
        """Re-buffer what the store holds from event time ``t`` on (stored before a crash) —
        of this engine's partition only, when it has one."""
        parts, k = self.partition if self.partition is not None else (None, 0)
        r = self.store.read_readings(parts.sensors_of(k) if parts is not None else None, t, None)
        if len(r):
            self._readings.add(
                r[["sensor_id", "ts", "value"]].assign(sensor_id=r["sensor_id"].astype(str))
            )
            self._seen(r)
        e = self.store.list_meter_events(since=t)
        if len(e) and parts is not None:
            e = e[parts.events(e) == k].reset_index(drop=True)
        if len(e):
            self._events.add(e)
            self._seen(e)
        c = self.store.list_complaints(since=t)
        if len(c) and parts is not None:
            c = c[parts.complaints(c) == k].reset_index(drop=True)
        if len(c):
            self._complaints.add(c)
            self._seen(c)
        f = self.store.list_forecasts(since=t)
        if len(f):
            self.submit_forecasts(f)
