"""Rate of change: an abrupt step between consecutive readings of a sensor, against its own noise.

The score of a reading is ``|Δ| / (K · σ_Δ)``: ``Δ`` the change since the sensor's previous
reading, ``σ_Δ`` the sensor's noise of first differences learnt online (``1.2533 · E|Δ|``,
winsorised at 4σ, one-day time constant; ``1.2533 = √(π/2)`` makes it the standard deviation for
Gaussian noise), never under the quantity's floor (:data:`MIN_SCALE`) nor a fraction of the
sensor's level (:data:`REL_FLOOR`: loads and currents move by 5 % between readings, pressures by
1 %). ``K = 6``: a step of six sigmas of the sensor's own differences scores 1 (the default
threshold): a burst main (pressure drop, flow rise), a feeder trip (current and power fall), a
methane jump. A step is one reading, so its episode opens and closes at once.

Readings after a gap of more than three intervals restart the difference (no score), so a
sensor coming back does not look like a step. Steps that score ≥ 1 are not learnt.

Warm-up: 6 h of readings per sensor (72 at 5-min intervals, 360 at 1-min).

This replaces the replay's ``StepDetector`` (``lifeline/api/replay_detect.py``), whose floors
are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from lifeline.detect.readings import NO_TS, SensorArrays
from lifeline.detect.stream import StreamDetector, rich_base

if TYPE_CHECKING:
    import pandas as pd

    from lifeline.model.city import City

K = 6.0
WARMUP_S = 6 * 3600.0
TAU_S = 86_400.0
GAP_INTERVALS = 3.0
MIN_SCALE = {"pressure_bar": 0.002, "pressure_m": 0.2, "flow_m3h": 1.0, "voltage_pu": 0.002}
REL_FLOOR = {"p_mw": 0.05, "current_a": 0.05, "flow_m3h": 0.05}
REL_FLOOR_DEFAULT = 0.01


@njit(cache=True)
def _rate_kernel(
    pos, ts, val, dt_s, min_scale, rel_floor, k, last_x, sabs, n_upd, level, last_ts,
    out_score, out_delta, out_sigma,
):  # type: ignore[no-untyped-def]  # fmt: skip
    for i in range(len(pos)):
        s = pos[i]
        t = ts[i]
        x = val[i]
        out_score[i] = np.nan
        if t <= last_ts[s]:
            continue
        prev = last_ts[s]
        last_ts[s] = t
        if prev == NO_TS:
            last_x[s] = x
            level[s] = abs(x)
            out_score[i] = 0.0
            continue
        gap = (t - prev) / 1e9
        a_l = min(1.0, dt_s[s] / TAU_S)
        if gap > GAP_INTERVALS * dt_s[s]:
            last_x[s] = x
            level[s] += a_l * (abs(x) - level[s])
            out_score[i] = 0.0
            continue
        d = x - last_x[s]
        last_x[s] = x
        sig = 1.2533141373155 * sabs[s] if not np.isnan(sabs[s]) else 0.0
        sig = max(sig, min_scale[s], rel_floor[s] * level[s], 1e-12)
        ready = n_upd[s] * dt_s[s] >= WARMUP_S
        score = abs(d) / (k * sig) if ready else 0.0
        out_score[i] = score
        out_delta[i] = d
        out_sigma[i] = sig
        if score < 1.0:
            n_upd[s] += 1.0
            a = max(dt_s[s] / TAU_S, 1.0 / n_upd[s])
            ad = abs(d)
            if np.isnan(sabs[s]):
                sabs[s] = ad
            else:
                sabs[s] += a * (min(ad, 4.0 * sig) - sabs[s])
            level[s] += a_l * (abs(x) - level[s])


class RateDetector(StreamDetector):
    """Abrupt steps between consecutive readings (module doc)."""

    name = "rate_of_change"
    utility = ""
    warmup = "6 h of readings per sensor (72 at 5-min intervals, 360 at 1-min)"
    rich_from = 0.5

    def __init__(self, sensors: SensorArrays, k: float = K) -> None:
        super().__init__(sensors)
        n = self.n
        self.k = float(k)
        self.dt_s = sensors.interval_s.astype(float)
        q = [str(x) for x in sensors.quantity]
        self.min_scale = np.array([MIN_SCALE.get(x, 0.0) for x in q], dtype=float)
        self.rel_floor = np.array([REL_FLOOR.get(x, REL_FLOOR_DEFAULT) for x in q], dtype=float)
        self.last_x = np.zeros(n)
        self.sabs = np.full(n, np.nan)
        self.n_upd = np.zeros(n)
        self.level = np.zeros(n)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "last_ts": self.last_ts,
            "last_value": self.last_x,
            "abs_difference": self.sabs,
            "updates": self.n_upd,
            "level": self.level,
        }

    def _ready(self) -> np.ndarray:
        return self.n_upd * self.dt_s >= WARMUP_S

    def _run(
        self, pos: np.ndarray, ts: np.ndarray, val: np.ndarray
    ) -> tuple[np.ndarray, Callable[[int], dict[str, Any]]]:
        m = len(pos)
        score, delta, sig = (np.zeros(m) for _ in range(3))
        _rate_kernel(
            pos, ts, val, self.dt_s, self.min_scale, self.rel_floor, self.k, self.last_x,
            self.sabs, self.n_upd, self.level, self.last_ts, score, delta, sig,
        )  # fmt: skip

        def rich(i: int) -> dict[str, Any]:
            d = rich_base(self, int(pos[i]))
            d.update(
                {
                    "value": float(val[i]),
                    "delta": float(delta[i]),
                    "sigma_delta": float(sig[i]),
                    "direction": "up" if delta[i] > 0 else "down",
                }
            )
            return d

        return score, rich


def build(city: City, sensors: pd.DataFrame) -> RateDetector:
    """A :class:`RateDetector` on ``sensors`` of ``city``."""
    return RateDetector(SensorArrays.from_table(sensors, city))
