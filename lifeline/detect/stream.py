"""A base for detectors that keep per-sensor state and score reading by reading.

Subclasses set ``name``, ``utility``, ``warmup`` and the per-sensor arrays in ``_arrays()``, and
implement ``_run(pos, ts, val) -> (scores, rich)``: the per-reading recursion (state updated in
place, in event-time order) and a function building the rich detail of row ``i``. Everything else
— ``learn``, ``score``, ``status``, ``get_state``/``set_state`` — is here, so every such detector
behaves the same way under the conformance suite.

Readings of a sensor at or before its last processed time are ignored (late data is the
engine's business: it holds data back up to its watermark), so replaying a batch twice does not
learn it twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from lifeline.detect.base import DetectorStatus
from lifeline.detect.readings import (
    NO_TS,
    SensorArrays,
    details_for,
    pack_state,
    score_frame,
    unpack_state,
)

STATE_VERSION = 1


class StreamDetector:
    """Per-sensor online detector over a :class:`SensorArrays` (see module docstring)."""

    name = ""
    utility = ""
    inputs = "readings"
    warmup = ""
    #: rows scoring at least this carry the rich detail (others only the sensor's location)
    rich_from = 0.5
    #: names of the int64-ns time arrays among ``_arrays()``
    time_arrays: tuple[str, ...] = ("last_ts",)

    def __init__(self, sensors: SensorArrays) -> None:
        self.sensors = sensors
        self.n = len(sensors)
        self.last_ts = np.full(self.n, NO_TS, np.int64)
        self._base = sensors.base_details()

    # ---- to implement --------------------------------------------------------------------
    def _arrays(self) -> dict[str, np.ndarray]:
        """Every per-sensor state array (first axis = sensor), including ``last_ts``."""
        return {"last_ts": self.last_ts}

    def _run(
        self, pos: np.ndarray, ts: np.ndarray, val: np.ndarray
    ) -> tuple[np.ndarray, Callable[[int], dict[str, Any]]]:
        """Update state reading by reading; return per-reading scores (NaN = not scored) and
        the rich-detail builder of row ``i``."""
        raise NotImplementedError

    def _ready(self) -> np.ndarray:
        """Boolean per sensor: scoring (warm-up done)."""
        return np.ones(self.n, bool)

    # ---- the protocol ----------------------------------------------------------------------
    def learn(self, batch: pd.DataFrame) -> None:
        """Seed normal behaviour from history: the same online updates as :meth:`score`."""
        self.score(batch)

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Score the batch's readings of watched sensors (one row per reading, event-time
        order) and learn from them."""
        pos, ts, val = self.sensors.take(batch)
        if len(pos) == 0:
            return score_frame(np.zeros(0, object), ts, np.zeros(0), [])
        scores, rich = self._run(pos, ts, val)
        keep = np.isfinite(scores)
        build = rich
        if not keep.all():
            idx = np.flatnonzero(keep)
            pos, ts, scores = pos[idx], ts[idx], scores[idx]

            def build(i: int) -> dict[str, Any]:
                return rich(int(idx[i]))

        details = details_for(pos, scores, self._base, self.rich_from, build)
        return score_frame(self.sensors.ids[pos], ts, scores, details)

    def status(self) -> DetectorStatus:
        """Ready when every watched sensor finished its warm-up."""
        r = self._ready()
        return DetectorStatus(
            name=self.name,
            ready=bool(r.all()) if self.n else True,
            sensors=self.n,
            sensors_ready=int(r.sum()),
            warmup=self.warmup,
        )

    def get_state(self) -> dict[str, Any]:
        """Per-sensor state, JSON-serialisable."""
        arrays = self._arrays()
        head: dict[str, Any] = {"detector": self.name, "version": STATE_VERSION}
        return {**head, **pack_state(self.sensors, arrays, self.time_arrays)} if arrays else head

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state` output (sensors matched by id)."""
        unpack_state(self.sensors, state, self._arrays(), self.time_arrays)


def rich_base(det: StreamDetector, p: int) -> dict[str, Any]:
    """A fresh copy of sensor ``p``'s base detail, to extend with a row's facts."""
    return dict(det._base[p])
