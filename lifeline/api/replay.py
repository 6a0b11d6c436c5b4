"""The live replay: a simulated day (a drill) published into the server's engine at speed.

The replay is only a publisher: readings, smart-meter events and hotline calls go through the
shared validator into the store and the live engine, exactly as MQTT or HTTP input would; the
engine detects, correlates, plans and pushes. While it runs, operator actions are stamped with
the replay's simulated time (the engine's watermark). A second replay of the same day adds
nothing: its data is late (the engine has processed that time) and its ids repeat.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

from lifeline.errors import LifelineError, StateError

if TYPE_CHECKING:
    from lifeline.api.context import ApiContext
    from lifeline.scenarios.publish import DayData

log = logging.getLogger(__name__)


class DaySource(Protocol):
    """What a replay needs: the day's data."""

    def prepare(self) -> DayData:
        """The readings, meter events and complaints to publish."""
        ...


@dataclass
class SimulatedDay:
    """The scripted demo day on the served city (the demo town by default)."""

    date: str = "2026-07-15"
    seed: int = 0
    city: Any = None

    def prepare(self) -> DayData:
        from lifeline.scenarios.demo import demo_day

        if self.city is None:
            from lifeline.datasets.town import load_town

            self.city = load_town()
        return demo_day(self.city, self.date, self.seed)


@dataclass
class ReplayStatus:
    """Progress of a replay (shown by ``GET /api/scenarios/replay``)."""

    running: bool = False
    phase: str = "idle"  # preparing | replaying | finished | stopped | failed
    phase_detail: str = ""  # what the preparing phase is doing
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
            running=True, phase="preparing", date=self.date, speed=self.speed
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
            self.status.phase = "failed"
            log.error("replay failed: %s", exc)
        except Exception as exc:  # a background thread must report, not vanish
            self.status.error = f"{type(exc).__name__}: {exc}"
            self.status.phase = "failed"
            log.exception("replay failed")
        finally:
            # operator actions after the replay stay on its clock (the day's incidents live in
            # its event time): ctx.clock keeps returning the engine's watermark
            self.status.running = False
            self.ctx.bus.publish("replay", self.status.as_dict())

    def _phase(self, phase: str, detail: str) -> None:
        """Set the phase and publish it as a ``replay`` event (the dashboard's banner)."""
        self.status.phase, self.status.phase_detail = phase, detail
        self.ctx.bus.publish("replay", self.status.as_dict())

    def run(self) -> ReplayStatus:
        """Replay the whole day in this thread; returns the final status."""
        from lifeline.scenarios.publish import EnginePublisher, publish_day

        ctx = self.ctx
        if ctx.engine is None or ctx.city is None:
            raise StateError(
                "the server runs no live engine (start it with a city)", where="replay"
            )
        self.status.running = True
        self._phase("preparing", "loading the city and simulating the day")
        data = self.source.prepare()
        engine = ctx.engine.engine
        first, _ = data.span()
        ctx.clock = lambda: engine.watermark if engine.watermark is not None else first
        self._phase("replaying", "")
        pub = EnginePublisher(ctx.store, engine, ctx.city, source=f"replay:{self.date}")
        alarms0 = ctx.store.count("alarm")
        incidents0 = ctx.store.count("incident")

        def on_step(t: pd.Timestamp, k: int, n: int) -> None:
            self.status.steps_done, self.status.steps_total = k, n
            self.status.sim_time = t
            self.status.readings = pub.report.stored
            self.status.alarms = ctx.store.count("alarm") - alarms0
            self.status.incidents = ctx.store.count("incident") - incidents0
            ctx.bus.publish("replay", self.status.as_dict())

        publish_day(
            data, pub, step_s=self.step_s, speed=self.speed, stop=self._stop, on_step=on_step
        )
        ctx.metrics.count_ingest(pub.report.as_dict(), "replay")
        self.status.readings = pub.report.stored
        self.status.alarms = ctx.store.count("alarm") - alarms0
        self.status.incidents = ctx.store.count("incident") - incidents0
        done = self.status.steps_done >= self.status.steps_total
        self.status.phase = "finished" if done else "stopped"
        return self.status
