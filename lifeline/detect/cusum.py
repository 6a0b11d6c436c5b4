"""Two-sided CUSUM on residuals from an online per-sensor baseline.

Baseline, learnt from the stream reading by reading (no history needed):

* a **time-of-day profile**: 48 half-hour bins (UTC), linearly interpolated between bin centres;
  a bin starts at its first reading and then follows the readings with the weight
  ``interval_s / (1800 s · PROFILE_DAYS)`` per reading (a memory of about three days);
* a **level offset** ``L``: the exponentially weighted mean of the residual from the profile
  (time constant 6 h), which follows slow drifts (a weekday, a season);
* a **robust scale**: ``σ = 1.2533 · E|e|`` (the mean absolute residual, winsorised at 4σ, time
  constant 6 h; ``1.2533 = √(π/2)`` makes it the standard deviation for Gaussian noise), never
  below the quantity's resolution floor or 0.1 % of the expected value.

With ``z = (x − profile − L) / σ`` the two CUSUMs are ``S⁺ = max(0, S⁺ + z − k)`` and
``S⁻ = max(0, S⁻ − z − k)``; the score is ``max(S⁺, S⁻)`` in sigmas (capped at ``4 h``). A
signal (``S ≥ h``) restarts that CUSUM at ``h / 2`` — the fast initial response of Lucas &
Crosier (1982): a shift that goes on signals again within a few readings (a 1σ shift within 10),
one that has ended lets the score fall under ``h`` at once, and the default policy closes the
episode after 12 readings without a signal. While a CUSUM is at or above ``h / 2`` the baseline
stops learning (an anomaly must not become normal); a shift that keeps signalling for
``RELEARN_H`` hours is accepted as the new normal (the level offset jumps to it, the CUSUMs
restart at 0).

Defaults ``k = 0.5`` and ``h = 5`` (a shift of one sigma): Montgomery, *Introduction to
Statistical Quality Control* (7th ed., §9.1.3) recommends ``h = 4`` or ``5`` with ``k = 0.5``;
with ``h = 5`` the in-control average run length is about 465 readings and a 1σ shift is found
after about 10 (Hawkins & Olwell, *Cumulative Sum Charts and Charting for Quality
Improvement*, 1998, Table 3.1).

Warm-up: a sensor scores once it has been watched for one day (every profile bin seen), e.g.
288 readings at 5-min intervals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from lifeline.detect.readings import DAY_NS, NO_TS, SensorArrays
from lifeline.detect.stream import StreamDetector, rich_base

if TYPE_CHECKING:
    import pandas as pd

    from lifeline.model.city import City

K = 0.5
H = 10.0
CAP = 4.0 * H
BINS = 48
BIN_S = 86_400.0 / BINS
PROFILE_DAYS = 3.0
LEVEL_TAU_S = 6 * 3600.0
SCALE_TAU_S = 6 * 3600.0
RELEARN_H = 24.0
WARMUP_DAYS = 1.0
SCALE_WARMUP_S = 2 * 3600.0
#: the smallest meaningful sigma per quantity (sensor resolution), in the sensor's unit
MIN_SCALE = {
    "pressure_m": 0.05,
    "pressure_bar": 0.0005,
    "flow_m3h": 0.1,
    "level_m": 0.005,
    "voltage_pu": 0.001,
    "current_a": 0.5,
    "p_mw": 0.001,
    "methane_pct_lel": 0.5,
}
REL_SCALE = 1e-3


@njit(cache=True)
def _cusum_kernel(
    pos, ts, val, dt_s, min_scale, prof, prof_w, lvl, sabs, nsc, sp, sn, first_ts, last_ts,
    alarm_since, k, h, cap, out_score, out_exp, out_sigma, out_z, out_dir,
):  # type: ignore[no-untyped-def]  # fmt: skip
    bins = prof.shape[1]
    bin_ns = DAY_NS / bins
    for i in range(len(pos)):
        s = pos[i]
        t = ts[i]
        x = val[i]
        out_score[i] = np.nan
        if t <= last_ts[s]:
            continue
        if first_ts[s] == NO_TS:
            first_ts[s] = t
        u = (t % DAY_NS) / bin_ns - 0.5
        fu = np.floor(u)
        w = u - fu
        i0 = int(fu) % bins
        i1 = (i0 + 1) % bins
        have0 = prof_w[s, i0] > 0.0
        have1 = prof_w[s, i1] > 0.0
        if have0 and have1:
            exp = (1.0 - w) * prof[s, i0] + w * prof[s, i1]
        elif have0:
            exp = prof[s, i0]
        elif have1:
            exp = prof[s, i1]
        else:
            exp = np.nan
        have = not np.isnan(exp)
        base = exp + lvl[s] if have else x
        sig = 1.2533141373155 * sabs[s] if not np.isnan(sabs[s]) else 0.0
        sig = max(sig, min_scale[s], REL_SCALE * abs(base))
        e = x - base if have else 0.0
        z = e / sig if sig > 0 else 0.0
        mature = (t - first_ts[s]) >= WARMUP_DAYS * DAY_NS - dt_s[s] * 1e9
        ready = have and mature and nsc[s] * dt_s[s] >= SCALE_WARMUP_S
        score = 0.0
        if ready:
            sp[s] = max(0.0, sp[s] + z - k)
            sn[s] = max(0.0, sn[s] - z - k)
            score = min(max(sp[s], sn[s]), cap)
            out_dir[i] = 1.0 if sp[s] >= sn[s] else -1.0
            # a signal restarts the CUSUM at h/2 (fast initial response): a shift that goes on
            # signals again within a few readings, one that ended lets the score fall at once
            if sp[s] >= h:
                sp[s] = h / 2
            if sn[s] >= h:
                sn[s] = h / 2
        out_score[i] = score
        out_exp[i] = base
        out_sigma[i] = sig
        out_z[i] = z
        last_ts[s] = t
        if ready and max(sp[s], sn[s]) >= h / 2:  # a shift under way: learn nothing
            if score >= h:
                if alarm_since[s] == NO_TS:
                    alarm_since[s] = t
                elif t - alarm_since[s] >= RELEARN_H * 3600e9:
                    lvl[s] += e  # the shift is the new normal
                    sp[s] = 0.0
                    sn[s] = 0.0
                    alarm_since[s] = NO_TS
            continue
        alarm_since[s] = NO_TS
        # learn the profile: a triangle-kernel mean per bin, exponential once it holds
        # PROFILE_DAYS of weight
        xr = x - lvl[s]
        w_cap = BIN_S * PROFILE_DAYS / dt_s[s]
        for j, wj in ((i0, 1.0 - w), (i1, w)):
            if wj <= 0.0:
                continue
            wt = min(prof_w[s, j] + wj, w_cap)
            if prof_w[s, j] <= 0.0:
                prof[s, j] = xr
            else:
                prof[s, j] += wj / wt * (xr - prof[s, j])
            prof_w[s, j] = wt
        # from the second day: the level offset and the scale of the residuals
        if have and mature:
            nsc[s] += 1.0
            a_l = min(1.0, dt_s[s] / LEVEL_TAU_S)
            lvl[s] += a_l * (x - exp - lvl[s])
            a_s = max(dt_s[s] / SCALE_TAU_S, 1.0 / nsc[s])
            ae = abs(e)
            if not np.isnan(sabs[s]):
                ae = min(ae, 4.0 * sig)
                sabs[s] += a_s * (ae - sabs[s])
            else:
                sabs[s] = ae


class CusumDetector(StreamDetector):
    """Two-sided CUSUM per sensor on residuals from its learnt daily profile (module doc)."""

    name = "cusum"
    utility = ""
    warmup = "1 day of readings per sensor (288 at 5-min intervals, 1,440 at 1-min)"
    time_arrays = ("last_ts", "first_ts", "alarm_since")

    def __init__(self, sensors: SensorArrays, k: float = K, h: float = H) -> None:
        super().__init__(sensors)
        self.k, self.h = float(k), float(h)
        self.rich_from = self.h / 2
        n = self.n
        self.dt_s = sensors.interval_s.astype(float)
        self.min_scale = np.array(
            [MIN_SCALE.get(str(q), 1e-9) for q in sensors.quantity], dtype=float
        )
        self.prof = np.zeros((n, BINS))
        self.prof_w = np.zeros((n, BINS))
        self.lvl = np.zeros(n)
        self.sabs = np.full(n, np.nan)
        self.nsc = np.zeros(n)
        self.sp = np.zeros(n)
        self.sn = np.zeros(n)
        self.first_ts = np.full(n, NO_TS, np.int64)
        self.alarm_since = np.full(n, NO_TS, np.int64)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "last_ts": self.last_ts,
            "first_ts": self.first_ts,
            "alarm_since": self.alarm_since,
            "profile": self.prof,
            "profile_weight": self.prof_w,
            "level": self.lvl,
            "abs_residual": self.sabs,
            "scale_updates": self.nsc,
            "cusum_up": self.sp,
            "cusum_down": self.sn,
        }

    def _ready(self) -> np.ndarray:
        span = np.where(self.first_ts == NO_TS, 0, self.last_ts - self.first_ts)
        return (span >= WARMUP_DAYS * DAY_NS - self.dt_s * 1e9) & (
            self.nsc * self.dt_s >= SCALE_WARMUP_S
        )

    def _run(
        self, pos: np.ndarray, ts: np.ndarray, val: np.ndarray
    ) -> tuple[np.ndarray, Callable[[int], dict[str, Any]]]:
        m = len(pos)
        score, exp, sig, z, sign = (np.zeros(m) for _ in range(5))
        _cusum_kernel(
            pos, ts, val, self.dt_s, self.min_scale, self.prof, self.prof_w, self.lvl,
            self.sabs, self.nsc, self.sp, self.sn, self.first_ts, self.last_ts, self.alarm_since,
            self.k, self.h, CAP, score, exp, sig, z, sign,
        )  # fmt: skip

        def rich(i: int) -> dict[str, Any]:
            d = rich_base(self, int(pos[i]))
            d.update(
                {
                    "value": float(val[i]),
                    "expected": float(exp[i]),
                    "sigma": float(sig[i]),
                    "z": round(float(z[i]), 3),
                    "direction": "up" if sign[i] > 0 else "down",
                    "k": self.k,
                }
            )
            return d

        return score, rich


def build(city: City, sensors: pd.DataFrame) -> CusumDetector:
    """A :class:`CusumDetector` on ``sensors`` of ``city``."""
    return CusumDetector(SensorArrays.from_table(sensors, city))
