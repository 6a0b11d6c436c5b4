"""The recent readings of many sensors in one bounded ring buffer (a detector's history).

Each sensor owns one row of two ``(sensors, capacity)`` arrays (times in int64 ns, values);
:meth:`Ring.append` writes a batch in event-time order with one numba loop, :meth:`Ring.window`
returns a sensor's readings in a time interval, oldest first. New sensors get a row on first
sight. Memory is ``16 · capacity`` bytes per sensor; the state (:meth:`Ring.to_state`) holds the
readings of the last ``span`` only, as a first time (ISO 8601) and offsets in seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from lifeline.detect.readings import NO_TS


@njit(cache=True)
def _append(pos, ts, val, t, v, head, count, last):  # type: ignore[no-untyped-def]
    cap = t.shape[1]
    for i in range(len(pos)):
        s = pos[i]
        h = head[s]
        t[s, h] = ts[i]
        v[s, h] = val[i]
        head[s] = (h + 1) % cap
        count[s] = min(count[s] + 1, cap)
        last[s] = ts[i]


class Ring:
    """Bounded recent readings per sensor (module doc)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(int(capacity), 2)
        self.rows: dict[str, int] = {}
        self.ids: list[str] = []  # row -> sensor id
        self._index = pd.Index([], dtype=object)
        self.id_array = np.zeros(0, dtype=object)  # row -> sensor id
        self._cats: tuple[Any, np.ndarray] | None = None
        self.t = np.zeros((0, self.capacity), np.int64)
        self.v = np.zeros((0, self.capacity))
        self.head = np.zeros(0, np.int64)
        self.count = np.zeros(0, np.int64)
        self.last = np.zeros(0, np.int64)

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Rows of the sensor ids (str; new sensors are added)."""
        pos = self._index.get_indexer(ids)
        if (pos < 0).any():
            for s in pd.unique(ids[pos < 0]).tolist():
                self.rows[str(s)] = len(self.ids)
                self.ids.append(str(s))
            self._index = pd.Index(self.ids, dtype=object)
            self.id_array = np.asarray(self.ids, dtype=object)
            self._grow(len(self.ids))
            pos = self._index.get_indexer(ids)
        return pos.astype(np.int64)

    def positions_of(self, ids: pd.Series) -> np.ndarray:
        """:meth:`positions` of a column of sensor ids; a categorical column is looked up once
        per categories object (a stream's batches share it)."""
        if isinstance(ids.dtype, pd.CategoricalDtype):
            cat = ids.cat.categories
            if self._cats is None or self._cats[0] is not cat:
                self._cats = (cat, self.positions(cat.astype(str).to_numpy(dtype=object)))
            return self._cats[1][ids.cat.codes.to_numpy()]
        return self.positions(ids.astype(str).to_numpy(dtype=object))

    def _grow(self, n: int) -> None:
        add = n - len(self.head)
        self.t = np.vstack([self.t, np.zeros((add, self.capacity), np.int64)])
        self.v = np.vstack([self.v, np.zeros((add, self.capacity))])
        self.head = np.r_[self.head, np.zeros(add, np.int64)]
        self.count = np.r_[self.count, np.zeros(add, np.int64)]
        self.last = np.r_[self.last, np.full(add, NO_TS, np.int64)]

    def append(self, pos: np.ndarray, ts: np.ndarray, val: np.ndarray) -> None:
        """Write readings (rows ``pos``, int64 ns ``ts`` ascending per sensor, ``val``)."""
        _append(pos, ts, val, self.t, self.v, self.head, self.count, self.last)

    def series(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """All buffered readings of ``row``, oldest first."""
        n, h = int(self.count[row]), int(self.head[row])
        idx = (h - n + np.arange(n)) % self.capacity
        return self.t[row, idx], self.v[row, idx]

    def window(self, row: int, t_lo: int, t_hi: int) -> tuple[np.ndarray, np.ndarray]:
        """Readings of ``row`` with ``t_lo <= t <= t_hi``, oldest first."""
        t, v = self.series(row)
        a = int(np.searchsorted(t, t_lo, side="left"))
        b = int(np.searchsorted(t, t_hi, side="right"))
        return t[a:b], v[a:b]

    def to_state(self, span_ns: int) -> dict[str, Any]:
        """Per sensor the readings of its last ``span_ns``: ``{"t0", "dt_s", "v"}``, JSON-able."""
        out: dict[str, Any] = {}
        for s, r in self.rows.items():
            t, v = self.window(r, int(self.last[r]) - span_ns, int(self.last[r]))
            if len(t):
                out[s] = {
                    "t0": pd.Timestamp(int(t[0]), tz="UTC").isoformat(),
                    "dt_s": ((t - t[0]) / 1e9).tolist(),
                    "v": v.tolist(),
                }
        return out

    def from_state(self, state: dict[str, Any]) -> None:
        """Refill from :meth:`to_state` output (the ring is emptied first)."""
        self.__init__(self.capacity)  # type: ignore[misc]
        for s, b in state.items():
            t0 = pd.Timestamp(b["t0"]).value
            t = t0 + np.rint(np.asarray(b["dt_s"], float) * 1e9).astype(np.int64)
            pos = self.positions(np.array([s] * len(t), dtype=object))
            self.append(pos, t, np.asarray(b["v"], float))
