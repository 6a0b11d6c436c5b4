"""Live accelerated replay of a simulated day into the store, publishing events as it goes.

The day is cut into steps of ``step_s`` simulated seconds. Each step: the step's readings go
through the shared ingestion (validator → store, rejected kept), the day source's detectors turn
them into alarms (stored and published), alarms and complaints are correlated into incidents
(:class:`lifeline.incidents.correlate.Correlator`), new or grown incidents are assessed (type,
cascade, plan, grade, safety review) and stored, and an ``incident`` event is published. The
thread sleeps so that ``speed`` simulated seconds pass per wall-clock second.

The day comes from a :class:`DaySource`: :class:`SimulatedDay` wraps
``lifeline.scenarios.day.simulate_day`` on the demo town; tests pass a small source of their own.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from lifeline.errors import LifelineError, StateError

if TYPE_CHECKING:
    from lifeline.api.context import ApiContext

log = logging.getLogger(__name__)


class DaySource(Protocol):
    """What a replay needs: reference tables, the day's readings, and detection per step."""

    def prepare(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
        """(reference tables by store name, readings [sensor_id, ts, value], complaints)."""
        ...

    def detect(
        self, readings: pd.DataFrame, history: pd.DataFrame, t_end: pd.Timestamp
    ) -> pd.DataFrame:
        """Alarms (``schema.ALARM`` columns) raised by ``readings`` (the step), given ``history``."""
        ...


_TOWN_TABLES = {
    "district": "districts",
    "zone": "zones",
    "asset": "assets",
    "customer": "customers",
    "sensor": "sensors",
    "dependency": "dependencies",
}


@dataclass
class SimulatedDay:
    """The scripted day of the demo town (``lifeline.scenarios.day``), with its detectors.

    Detection uses ``detector`` if given, else ``lifeline.scenarios.day.detect_alarms`` when the
    scenario package provides it, else ``lifeline.detect.detect_window``, else the generic
    step and level detectors of :mod:`lifeline.api.replay_detect`.
    """

    date: str = "2026-07-15"
    seed: int = 0
    #: scripted incidents (``lifeline.scenarios.events``); None: ``demo_events(town, start)`` of
    #: lifeline.scenarios.day / .events if it exists, else a quiet day
    events: list[Any] | None = None
    #: ``detector(town, readings, history=, t_end=) -> ALARM frame``; None: see class doc
    detector: Any = None
    #: ``complaints(town, start=, seed=) -> COMPLAINT frame`` (hotline calls of the day)
    complaints: Any = None
    _town: Any = None
    _detector: Any = None

    def prepare(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
        from lifeline.datasets.town import load_town

        try:
            from lifeline.scenarios import day
        except ImportError as exc:
            raise StateError(
                "the simulated day (lifeline.scenarios.day) is not available in this build",
                where="replay",
            ) from exc
        town = self._town if self._town is not None else load_town()
        self._town = town
        start = pd.Timestamp(self.date, tz="UTC")
        from lifeline.scenarios import events as events_mod

        def hook(*names: str) -> Any:
            for mod in (day, events_mod):
                for name in names:
                    fn = getattr(mod, name, None)
                    if callable(fn):
                        return fn
            return None

        events = self.events
        if events is None:
            fn = hook("demo_events", "scripted_events") or default_events
            events = list(fn(town, start))
        readings = day.simulate_day(town, start=start, seed=self.seed, events=events)
        complaints = pd.DataFrame()
        cfn = self.complaints or hook("day_complaints", "demo_complaints", "scripted_complaints")
        if cfn is not None:
            complaints = cfn(town, start=start, seed=self.seed)
        self._detector = self.detector or hook("detect_alarms")
        tables = {k: getattr(town, v) for k, v in _TOWN_TABLES.items()}
        return tables, readings, complaints

    @property
    def town(self) -> Any:
        """The loaded town (after :meth:`prepare`)."""
        return self._town

    def detect(
        self, readings: pd.DataFrame, history: pd.DataFrame, t_end: pd.Timestamp
    ) -> pd.DataFrame:
        if not callable(self._detector):
            try:
                from lifeline.detect import detect_window  # type: ignore[attr-defined]

                self._detector = lambda town, r, history, t_end: detect_window(
                    r, history, town.sensors
                )
            except ImportError:
                from lifeline.api.replay_detect import FallbackDetection

                self._detector = FallbackDetection(self._town.sensors, self._town.assets)
        return self._detector(self._town, readings, history=history, t_end=t_end)  # type: ignore[no-any-return]


#: phases of a replay (``ReplayStatus.phase``): the dashboard shows "preparing" until the first step
PHASES = ("idle", "preparing", "replaying", "finished", "stopped", "failed")


@dataclass
class ReplayStatus:
    """Progress of a replay (shown by ``GET /api/scenarios/replay``).

    ``phase`` is one of :data:`PHASES`; while ``preparing`` (loading the town, simulating the day,
    calibrating the detectors: tens of seconds on a first run), ``phase_detail`` says which step.
    """

    running: bool = False
    phase: str = "idle"
    phase_detail: str = ""
    date: str | None = None
    speed: float | None = None
    sim_time: pd.Timestamp | None = None
    steps_done: int = 0
    steps_total: int = 0
    readings: int = 0
    alarms: int = 0
    incidents: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        d = dict(self.__dict__)
        d["sim_time"] = self.sim_time.isoformat() if self.sim_time is not None else None
        return d


@dataclass
class ReplayRunner:
    """Runs one replay in a background thread (``start``) or inline (``run``)."""

    ctx: ApiContext
    source: DaySource
    speed: float = 600.0
    step_s: int = 900
    date: str = ""
    actor: str = "replay"
    status: ReplayStatus = field(default_factory=ReplayStatus)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the replay thread (StateError if one is running)."""
        if self._thread is not None and self._thread.is_alive():
            raise StateError("a replay is already running", where="replay")
        self.status = ReplayStatus(
            running=True, date=self.date, speed=self.speed, phase="preparing"
        )
        self._thread = threading.Thread(target=self._safe_run, name="lifeline-replay", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Ask the replay to stop and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def join(self, timeout_s: float | None = None) -> None:
        """Wait for the replay thread to finish."""
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _safe_run(self) -> None:
        try:
            self.run()
        except LifelineError as exc:
            self.status.error = str(exc)
            log.error("replay failed: %s", exc)
        except Exception as exc:  # a background thread must report, not vanish
            self.status.error = f"{type(exc).__name__}: {exc}"
            log.exception("replay failed")
        finally:
            self.status.running = False
            self.status.phase = (
                "failed" if self.status.error else "stopped" if self._stop.is_set() else "finished"
            )
            self.status.phase_detail = ""
            self.ctx.bus.publish("replay", self.status.as_dict())

    def run(self) -> ReplayStatus:
        """Replay the whole day in this thread; returns the final status."""
        from lifeline.ingest.service import ingest_frame
        from lifeline.ingest.validate import SensorIndex

        self.status.running = True
        self._phase("preparing", "loading the town and simulating the day")
        store = self.ctx.store
        tables, readings, complaints = self.source.prepare()
        self._phase("preparing", "storing the reference tables")
        town = getattr(self.source, "town", None)
        if town is not None and not self.ctx.adapters:
            from lifeline.api.incident_ops import attach_town

            attach_town(self.ctx, town)
        for name, df in tables.items():
            if df is not None and len(df):
                store.replace_table(name, df)
        self.ctx.cache.clear()
        readings = readings.assign(ts=pd.to_datetime(readings["ts"], utc=True)).sort_values(
            "ts", kind="stable"
        )
        if len(complaints):
            complaints = complaints.assign(ts=pd.to_datetime(complaints["ts"], utc=True))
        t0 = readings["ts"].min().floor(f"{self.step_s}s")
        t1 = readings["ts"].max()
        steps = pd.date_range(t0, t1 + pd.Timedelta(seconds=self.step_s), freq=f"{self.step_s}s")
        self.status.steps_total = max(len(steps) - 1, 0)
        index = SensorIndex(
            tables.get("sensor") if tables.get("sensor") is not None else store.read_table("sensor")
        )
        correlator = self._correlator()
        history = readings.iloc[0:0]
        wall0 = time.monotonic()
        for k in range(len(steps) - 1):
            if self._stop.is_set():
                break
            a, b = steps[k], steps[k + 1]
            win = readings[(readings["ts"] >= a) & (readings["ts"] < b)]
            if k == 0:
                self._phase("preparing", "calibrating the detectors")
            rep = ingest_frame(
                store, win, source=f"replay:{self.date}", sensors=index, now=b, progress=False
            )
            self.ctx.metrics.count_ingest(rep.as_dict(), "replay")
            self.status.readings += rep.stored
            alarms = self.source.detect(win, history, b)
            history = pd.concat([history, win]).tail(2_000_000)
            new_alarms = self._store_alarms(alarms)
            evidence = self._evidence(new_alarms, complaints, a, b)
            touched = {
                inc.incident_id: inc for ev in evidence if (inc := correlator.add(ev)) is not None
            }
            for inc in touched.values():
                self._save_incident(inc)
            self.status.steps_done = k + 1
            self.status.sim_time = b
            if k == 0:
                self._phase("replaying", "")
            self.ctx.bus.publish("replay", {**self.status.as_dict(), "stored": rep.stored})
            target = wall0 + (k + 1) * self.step_s / self.speed
            delay = target - time.monotonic()
            if delay > 0 and self._stop.wait(delay):
                break
        return self.status

    def _phase(self, phase: str, detail: str) -> None:
        """Set the phase (see :data:`PHASES`) and publish it as a ``replay`` event."""
        self.status.phase, self.status.phase_detail = phase, detail
        self.ctx.bus.publish("replay", self.status.as_dict())

    def _correlator(self) -> Any:
        from lifeline.incidents.correlate import Correlator, ZoneArea

        # neighbouring water zones (DMAs) are upstream/downstream of each other: evidence there
        # may belong together (a burst's pressure signature often points across a boundary)
        town = getattr(self.source, "town", None)
        links: set[tuple[str, str]] = set()
        if town is not None and getattr(town, "water", None) is not None:
            from lifeline.scenarios.script import zone_links

            links = zone_links(town)
        area = ZoneArea.from_tables(
            self.ctx.store.read_table("asset"), self.ctx.store.read_table("customer"), links=links
        )
        return Correlator(area=area)

    def _store_alarms(self, alarms: pd.DataFrame) -> pd.DataFrame:
        from lifeline.api.routes.alarms import publish_alarms
        from lifeline.store.base import frame

        if alarms is None or len(alarms) == 0:
            return pd.DataFrame()
        df = frame("alarm", alarms)
        known = set(self.ctx.store.list_alarms(since=df["ts"].min())["alarm_id"].astype(str))
        df = df[~df["alarm_id"].astype(str).isin(known)]
        if len(df):
            self.ctx.store.add_alarms(df)
            publish_alarms(self.ctx, df)
            self.status.alarms += len(df)
        return df

    def _evidence(
        self, alarms: pd.DataFrame, complaints: pd.DataFrame, a: pd.Timestamp, b: pd.Timestamp
    ) -> list[Any]:
        from lifeline.incidents.evidence import Evidence

        out = [Evidence.from_alarm(r) for r in alarms.to_dict("records")] if len(alarms) else []
        if len(complaints):
            c = complaints[(complaints["ts"] >= a) & (complaints["ts"] < b)]
            if len(c):
                self.ctx.store.add_complaints(c)
                for r in c.to_dict("records"):
                    self.ctx.bus.publish(
                        "complaint",
                        {
                            "complaint_id": str(r.get("complaint_id")),
                            "utility": r.get("utility"),
                            "text": r.get("text"),
                            "ts": pd.Timestamp(r["ts"]).isoformat(),
                        },
                    )
                out += [Evidence.from_complaint(r) for r in c.to_dict("records")]
        return sorted(out, key=lambda e: e.ts)

    def _save_incident(self, inc: Any) -> None:
        from lifeline.api import incident_ops as ops

        new = True
        try:
            stored = ops.load(self.ctx, inc.incident_id)
            new = False
            # keep what people did meanwhile (state, approval, timeline) — the replay only adds evidence
            inc.state, inc.timeline, inc.approval, inc.audit = (
                stored.state,
                stored.timeline,
                stored.approval,
                stored.audit,
            )
        except LifelineError:
            pass
        if not inc.district_id:
            inc.district_id = next(
                (
                    d
                    for e in inc.evidence
                    for aid in e.asset_ids
                    if (d := self.ctx.asset_district(aid))
                ),
                "",
            )
        ops.assess(self.ctx, inc)
        ops.save(
            self.ctx,
            inc,
            self.actor,
            "open_incident" if new else "update_incident",
            {"evidence": len(inc.evidence)},
        )
        if new:
            self.status.incidents += 1


def alarm_rows(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Alarms given as dicts (``sensors``/``location``/``detail`` as Python objects) → ALARM frame."""
    df = pd.DataFrame(rows)
    for c in ("sensors", "location", "detail"):
        if c in df.columns:
            df[c] = [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in df[c]]
    return df


def default_events(town: Any, start: pd.Timestamp) -> list[Any]:
    """The replay's scripted day when the scenario package scripts none: a burst main at 07:10,
    a gas leak by a manhole at 10:20 and a feeder fault from 14:40 to 16:00 (UTC). The places
    are instrumented (a junction with a pressure sensor, a manhole with a methane detector) so
    that the day is observable, picked deterministically (the middle of each sorted list)."""
    from lifeline.scenarios.events import BurstMain, FeederFault, GasLeak

    out: list[Any] = []
    s, a = town.sensors, town.assets
    names = set(town.water.junction_name_list)
    junctions = sorted(
        j
        for j in (
            x.rsplit(":", 1)[-1]
            for x in s.loc[s["quantity"] == "pressure_m", "asset_id"].astype(str)
        )
        if j in names
    ) or sorted(names)
    if junctions:
        out.append(
            BurstMain(
                junction=junctions[len(junctions) // 2],
                start=start + pd.Timedelta("7h10min"),
                flow_m3h=60.0,
            )
        )
    manholes = sorted(
        set(s.loc[s["quantity"] == "methane_pct_lel", "asset_id"].astype(str))
    ) or sorted(a.loc[a["kind"] == "manhole", "asset_id"].astype(str))
    if manholes:
        out.append(
            GasLeak(manhole=manholes[len(manholes) // 2], start=start + pd.Timedelta("10h20min"))
        )
    lines = sorted(
        int(i) for i in town.power.line.index[town.power.line["in_service"].astype(bool)]
    )
    if lines:
        out.append(
            FeederFault(
                line=lines[len(lines) // 2],
                start=start + pd.Timedelta("14h40min"),
                end=start + pd.Timedelta("16h"),
            )
        )
    return out
