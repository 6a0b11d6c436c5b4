"""Running the engine beside a server: a background thread advances it as data arrives, and
flushes what is pending when a live stream goes quiet."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pandas as pd

from lifeline.engine.engine import Engine

log = logging.getLogger(__name__)


class EngineRunner:
    """Feeds and advances an :class:`Engine` in a background thread.

    Ingestion calls :meth:`submit_readings` / :meth:`submit_events` / :meth:`submit_complaints`
    (the same interface as the engine, so either can be an ingestion ``feed``); the thread
    advances the engine, and after ``idle_flush_s`` wall seconds without new data it processes
    everything pending (a live stream that stopped must still raise its alarms).
    """

    def __init__(self, engine: Engine, idle_flush_s: float | None = 30.0) -> None:
        self.engine = engine
        self.idle_flush_s = idle_flush_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._last_data = time.monotonic()
        self._dirty = False
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, name="lifeline-engine", daemon=True)

    def start(self) -> EngineRunner:
        """Start the thread."""
        self._thread.start()
        return self

    def _note(self) -> None:
        self._last_data = time.monotonic()
        self._dirty = True
        self._wake.set()

    def not_before(self) -> pd.Timestamp | None:
        """See :meth:`Engine.not_before`."""
        return self.engine.not_before()

    def submit_readings(self, df: pd.DataFrame) -> None:
        """See :meth:`Engine.submit_readings`."""
        self.engine.submit_readings(df)
        self._note()

    def submit_events(self, df: pd.DataFrame) -> None:
        """See :meth:`Engine.submit_events`."""
        self.engine.submit_events(df)
        self._note()

    def submit_complaints(self, df: pd.DataFrame) -> None:
        """See :meth:`Engine.submit_complaints`."""
        self.engine.submit_complaints(df)
        self._note()

    def status(self) -> dict[str, Any]:
        """The engine's status (GET /api/engine)."""
        st = self.engine.status()
        if self.error:
            st["error"] = self.error
        return st

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            try:
                self.engine.advance()
                idle = time.monotonic() - self._last_data
                if (
                    self._dirty
                    and self.idle_flush_s is not None
                    and idle >= self.idle_flush_s
                    and self.engine.pending
                ):
                    self.engine.flush()
                    self._dirty = False
            except Exception as exc:  # the loop must report, not die silently
                self.error = f"{type(exc).__name__}: {exc}"
                log.exception("engine step failed")

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the thread and checkpoint (pending data stays in the store for the next start)."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        try:
            self.engine.checkpoint()
        except Exception:  # shutting down: the last checkpoint stands
            log.exception("final checkpoint failed")
