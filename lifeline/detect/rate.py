"""Rate of change: an abrupt step between consecutive readings of a sensor, against its own noise.

The score of a reading is ``|Δ| / (K · σ_Δ)``: ``Δ`` the change since the sensor's previous
reading, ``σ_Δ`` the sensor's noise of first differences learnt online (``1.2533 · E|Δ|``,
winsorised at 4σ, one-day time constant; ``1.2533 = √(π/2)`` makes it the standard deviation for
Gaussian noise), never under the quantity's floor (:data:`MIN_SCALE`) nor a fraction of the
sensor's level or of its previous reading, whichever is larger (:data:`REL_FLOOR`: loads,
currents and methane concentrations move by 5 % between readings, pressures by 1 %); the floors include the quantity's resolution (a methane sensor at 0 %LEL learns no noise,
and its first 0.1 %LEL is not a step). ``K = 6``: a step of six sigmas of the sensor's own differences scores 1 (the default
threshold): a burst main (pressure drop, flow rise), a feeder trip (current and power fall), a
methane jump. A step is one reading, so its episode opens and closes at once.

Readings after a gap of more than three intervals restart the difference (no score), so a
sensor coming back does not look like a step. Steps that score ≥ 1 are not learnt, but
remembered (the last 16 per sensor, for 7 days): a step at the same time of day as one on an
earlier day (within 10 minutes, same sign, half to twice its size) is an operation on a schedule
— a pump or a valve switched by time — and scores at most 0.9, under the default threshold, with
``scheduled`` in its detail. The first occurrence of a schedule does alarm (nothing is known
yet).

Warm-up: 6 h of readings per sensor (72 at 5-min intervals, 360 at 1-min).

This replaces the replay's former ``StepDetector`` (``lifeline/api/replay_detect.py``), whose floors
are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from lifeline.detect.readings import DAY_NS, NO_TS, RESOLUTION, SensorArrays
from lifeline.detect.stream import StreamDetector, rich_base

if TYPE_CHECKING:
    import pandas as pd

    from lifeline.model.city import City

K = 6.0
WARMUP_S = 6 * 3600.0
TAU_S = 86_400.0
GAP_INTERVALS = 3.0
#: the replay step detector's floors, and at least the quantity's resolution
MIN_SCALE = {
    **RESOLUTION,
    "pressure_bar": 0.002,
    "pressure_m": 0.2,
    "flow_m3h": 1.0,
    "voltage_pu": 0.002,
}
REL_FLOOR = {"p_mw": 0.05, "current_a": 0.05, "flow_m3h": 0.05, "methane_pct_lel": 0.05}
REL_FLOOR_DEFAULT = 0.01
CAL_ENTRIES = 16  # recent steps remembered per sensor
CAL_DAYS = 7  # … for this long
CAL_MINUTES = 10.0  # same time of day within this many minutes
SCHEDULED_SCORE = 0.9  # a scheduled step scores under the default threshold


@njit(cache=True)
def _rate_kernel(
    pos, ts, val, dt_s, min_scale, rel_floor, k, last_x, sabs, n_upd, level, last_ts,
    cal_t, cal_d, out_score, out_delta, out_sigma, out_sched,
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
        sig = 1.2533141373155 * sabs[s] if not np.isnan(sabs[s]) else 0.0
        sig = max(sig, min_scale[s], rel_floor[s] * max(level[s], abs(last_x[s])), 1e-12)
        last_x[s] = x
        ready = n_upd[s] * dt_s[s] >= WARMUP_S
        score = abs(d) / (k * sig) if ready else 0.0
        out_sched[i] = 0.0
        if score >= 1.0:
            # a step seen at this time of day on an earlier day (same sign, similar size) is
            # an operation on a schedule (a pump, a valve), not an anomaly
            tod = (t % DAY_NS) / 60e9
            oldest = 0
            for j in range(cal_t.shape[1]):
                tj = cal_t[s, j]
                if tj == NO_TS or t - tj > CAL_DAYS * DAY_NS:
                    oldest = j
                    cal_t[s, j] = NO_TS
                    continue
                if cal_t[s, oldest] != NO_TS and tj < cal_t[s, oldest]:
                    oldest = j
                if t - tj < DAY_NS // 2:
                    continue  # the same day
                dm = abs(tod - (tj % DAY_NS) / 60e9)
                dm = min(dm, 1440.0 - dm)
                r = d / cal_d[s, j] if cal_d[s, j] != 0.0 else 0.0
                if dm <= CAL_MINUTES and 0.5 <= r <= 2.0:
                    out_sched[i] = 1.0
            cal_t[s, oldest] = t
            cal_d[s, oldest] = d
            if out_sched[i] > 0.0:
                score = min(score, SCHEDULED_SCORE)
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
    time_arrays = ("last_ts", "step_ts")

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
        self.cal_t = np.full((n, CAL_ENTRIES), NO_TS, np.int64)
        self.cal_d = np.zeros((n, CAL_ENTRIES))

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "last_ts": self.last_ts,
            "last_value": self.last_x,
            "abs_difference": self.sabs,
            "updates": self.n_upd,
            "level": self.level,
            "step_ts": self.cal_t,
            "step_delta": self.cal_d,
        }

    def _ready(self) -> np.ndarray:
        return self.n_upd * self.dt_s >= WARMUP_S

    def _run(
        self, pos: np.ndarray, ts: np.ndarray, val: np.ndarray
    ) -> tuple[np.ndarray, Callable[[int], dict[str, Any]]]:
        m = len(pos)
        score, delta, sig, sched = (np.zeros(m) for _ in range(4))
        _rate_kernel(
            pos, ts, val, self.dt_s, self.min_scale, self.rel_floor, self.k, self.last_x,
            self.sabs, self.n_upd, self.level, self.last_ts, self.cal_t, self.cal_d, score,
            delta, sig, sched,
        )  # fmt: skip

        def rich(i: int) -> dict[str, Any]:
            d = rich_base(self, int(pos[i]))
            d.update(
                {
                    "value": float(val[i]),
                    "delta": float(delta[i]),
                    "sigma_delta": float(sig[i]),
                    "direction": "up" if delta[i] > 0 else "down",
                    "scheduled": bool(sched[i] > 0),
                }
            )
            return d

        return score, rich


def build(city: City, sensors: pd.DataFrame) -> RateDetector:
    """A :class:`RateDetector` on ``sensors`` of ``city``."""
    return RateDetector(SensorArrays.from_table(sensors, city))
