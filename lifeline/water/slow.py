"""The slow channel of the leak detector: growing (incipient) leaks against a fixed reference.

The fast channel compares each hour with the same hour of the previous week, so a leak that
grows over months never stands out. The slow channel compares the mean residual of the last
week with a reference week (per hour of day) and projects the whitened difference on the pipe
signatures (the LILA idea: a fixed linear model, re-trained after each event). The reference is
re-set after every alarm (to the week after it, so the new leak is absorbed), after a strong rise
of pressure along a signature (a repair), and when it becomes older than ``ref_max_days``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WEEK = 168


@dataclass
class SlowChannel:
    """State of the slow channel over hourly residuals ``r`` (hours × sensors)."""

    r: np.ndarray
    hours: np.ndarray
    ref_max_days: float = 90.0
    ref_start: int = 0
    _ref: np.ndarray | None = None
    _ref_at: int = -1

    def reset(self, t: int) -> None:
        """Use the week starting at hour ``t`` as the new reference."""
        self.ref_start = max(0, t)

    def _reference(self) -> np.ndarray | None:
        if self._ref_at == self.ref_start and self._ref is not None:
            return self._ref
        rows = np.arange(self.ref_start, min(self.ref_start + WEEK, len(self.r)))
        if len(rows) < WEEK:
            return None
        ref = np.full((24, self.r.shape[1]), np.nan)
        for k in range(24):
            sel = rows[self.hours[rows] == k]
            if len(sel):
                ref[k] = np.nanmedian(self.r[sel], axis=0)
        self._ref, self._ref_at = ref, self.ref_start
        return ref

    def difference(self, t: int) -> np.ndarray | None:
        """Mean residual of the week ending at hour ``t`` minus the reference (m), or None."""
        if t - WEEK + 1 < self.ref_start + WEEK:
            return None
        if t - self.ref_start > self.ref_max_days * 24:
            self.reset(t - WEEK + 1 - WEEK)
        ref = self._reference()
        if ref is None:
            return None
        win = np.arange(t - WEEK + 1, t + 1)
        diff = self.r[win] - ref[self.hours[win]]
        diff = diff[np.isfinite(diff).all(axis=1)]
        if len(diff) < WEEK // 2:
            return None
        return np.asarray(diff.mean(axis=0))
