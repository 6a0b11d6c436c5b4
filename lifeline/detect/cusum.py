"""Two-sided CUSUM on residuals from an online per-sensor baseline.

Baseline, learnt from the stream reading by reading (no history needed):

* a **time-of-day profile**: 48 half-hour bins (UTC), linearly interpolated between bin centres;
  a bin starts at its first reading and then follows the readings with the weight
  ``interval_s / (1800 s · PROFILE_DAYS)`` per reading (a memory of about three days);
* a **level offset** ``L``: the exponentially weighted mean of the residual from the profile
  (time constant 6 h), which follows slow drifts (a weekday, a season);
* a **robust scale**: ``σ = 1.2533 · E|e|`` (the mean absolute residual, winsorised at 4σ, time
  constant 6 h; ``1.2533 = √(π/2)`` makes it the standard deviation for Gaussian noise), never
  below the quantity's resolution (``readings.RESOLUTION``) or 0.1 % of the expected value;
* the scale **by time of day**: the same 48-bin profile of the mean absolute residual, used
  where it is larger than the whole day's (the morning peak of a water network varies more from
  day to day than the night does: one scale for the whole day is too tight at 6 am; a bin's
  scale rests on few residuals, so it never lowers the day's);
* the residuals' **lag-1 autocorrelation** ``ρ`` (same time constant, clipped to [0, 0.95]): a
  1-minute methane or voltage reading wanders, and a CUSUM of autocorrelated residuals drifts
  to false alarms, so ``z`` uses the long-run sigma of an AR(1),
  ``σ · √((1 + ρ) / (1 − ρ))`` (the variance-inflation remedy for autocorrelated data, e.g.
  Timmer, Pignatiello & Longnecker 1998; Lu & Reynolds 2001);
* the **long-run variance from hourly batch means**, ``m · mean(e over m readings)²`` averaged
  over 2 days (Schmeiser 1982; Runger & Willemain 1995's batch means for autocorrelated
  processes): a voltage or a pressure that differs from yesterday by a fraction of a sigma for
  an hour is normal day-to-day variation, not a shift. The larger inflation of the two
  multiplies the time-of-day scale into ``σ_LR``.

With ``z = (x − profile − L) / σ_LR`` the two CUSUMs are ``S⁺ = max(0, S⁺ + z − k)`` and
``S⁻ = max(0, S⁻ − z − k)``; the score is ``max(S⁺, S⁻)`` in sigmas (capped at ``4 h``). A
signal (``S ≥ h``) restarts that CUSUM at ``h / 2`` — the fast initial response of Lucas &
Crosier (1982): a shift that goes on signals again within a few readings (a 1σ shift within 10),
one that has ended lets the score fall under ``h`` at once, and the default policy closes the
episode after 12 readings without a signal. From a signal until its CUSUM falls back under
``h / 2`` nothing is learnt (an anomaly must not become normal); before the first signal the
baseline keeps learning, so a slow wander is absorbed rather than frozen into an alarm. A shift
that goes on for ``RELEARN_H`` hours is accepted as the new normal (the level offset jumps to
it, the CUSUMs restart at 0).

Defaults ``k = 0.5`` and ``h = 5`` (a shift of one sigma): Montgomery, *Introduction to
Statistical Quality Control* (7th ed., §9.1.3) recommends ``h = 4`` or ``5`` with ``k = 0.5``;
with ``h = 5`` the in-control average run length is about 465 readings and a 1σ shift is found
after about 10 (Hawkins & Olwell, *Cumulative Sum Charts and Charting for Quality
Improvement*, 1998, Table 3.1).

Warm-up: two days per sensor — the first fills the profile (every bin seen), the second gives
the residuals' scale and 24 hourly batch means — e.g. 576 readings at 5-min intervals.
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
WARMUP_BATCHES = 24  # a day of hourly batch means after the profile's day
MIN_SCALE = RESOLUTION  # the smallest sigma per quantity (its resolution)
REL_SCALE = 1e-3
RHO_MAX = 0.95
BATCH_S = 3600.0
BATCH_TAU_S = 2 * 86_400.0


@njit(cache=True)
def _cusum_kernel(
    pos, ts, val, dt_s, min_scale, prof, prof_w, pabs, pabs_w, lvl, sabs, c0, c1, e_prev,
    bsum, bn, vb, nb,
    nsc, sp, sn, first_ts, last_ts, alarm_since, k, h, cap, out_score, out_exp, out_sigma, out_z,
    out_dir,
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
        floor = max(min_scale[s], REL_SCALE * abs(base))
        sig = max(1.2533141373155 * sabs[s] if not np.isnan(sabs[s]) else 0.0, floor)
        # the scale at this time of day where it is larger (demand peaks vary more from day to
        # day); never smaller than the whole day's, which rests on far more residuals
        sig_t = sig
        if pabs_w[s, i0] > 0.0 and pabs_w[s, i1] > 0.0:
            sig_t = max(1.2533141373155 * ((1.0 - w) * pabs[s, i0] + w * pabs[s, i1]), sig)
        e = x - base if have else 0.0
        # residuals that wander (1-min readings) are autocorrelated: the long-run variance of
        # an AR(1), sigma^2 (1 + rho) / (1 - rho), or of hourly batch means if larger
        rho = 0.0
        if c0[s] > 0.0:
            rho = min(max(c1[s] / c0[s], 0.0), RHO_MAX)
        inflate = (1.0 + rho) / (1.0 - rho)
        if nb[s] > 0.0:
            inflate = max(inflate, vb[s] / (sig * sig))
        sig_lr = sig_t * np.sqrt(inflate)
        z = e / sig_lr if sig_lr > 0 else 0.0
        mature = (t - first_ts[s]) >= WARMUP_DAYS * DAY_NS - dt_s[s] * 1e9
        ready = have and nb[s] >= WARMUP_BATCHES
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
        out_sigma[i] = sig_lr
        out_z[i] = z
        last_ts[s] = t
        if ready and score >= h and alarm_since[s] == NO_TS:
            alarm_since[s] = t  # a shift signalled
        if alarm_since[s] != NO_TS and max(sp[s], sn[s]) < h / 2:
            alarm_since[s] = NO_TS  # it is over
        if alarm_since[s] != NO_TS:  # a shift under way: learn nothing from it
            if t - alarm_since[s] >= RELEARN_H * 3600e9:
                lvl[s] += e  # the shift is the new normal
                sp[s] = 0.0
                sn[s] = 0.0
                alarm_since[s] = NO_TS
            continue
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
            at = min(abs(e), 4.0 * sig_t)
            for j, wj in ((i0, 1.0 - w), (i1, w)):
                if wj <= 0.0:
                    continue
                wt = min(pabs_w[s, j] + wj, w_cap)
                if pabs_w[s, j] <= 0.0:
                    pabs[s, j] = at
                else:
                    pabs[s, j] += wj / wt * (at - pabs[s, j])
                pabs_w[s, j] = wt
            ew = min(max(e, -4.0 * sig), 4.0 * sig)
            c0[s] += a_s * (ew * ew - c0[s])
            c1[s] += a_s * (ew * e_prev[s] - c1[s])
            e_prev[s] = ew
            m = max(1.0, np.floor(BATCH_S / dt_s[s] + 0.5))
            bsum[s] += min(max(e, -4.0 * sig_lr), 4.0 * sig_lr)
            bn[s] += 1.0
            if bn[s] >= m:
                lr = bsum[s] * bsum[s] / m  # m * (batch mean)^2: the long-run variance
                nb[s] += 1.0
                a_b = max(m * dt_s[s] / BATCH_TAU_S, 1.0 / nb[s])
                vb[s] += a_b * (lr - vb[s])
                bsum[s] = 0.0
                bn[s] = 0.0


class CusumDetector(StreamDetector):
    """Two-sided CUSUM per sensor on residuals from its learnt daily profile (module doc)."""

    name = "cusum"
    utility = ""
    warmup = "2 days of readings per sensor (576 at 5-min intervals, 2,880 at 1-min)"
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
        self.pabs = np.zeros((n, BINS))
        self.pabs_w = np.zeros((n, BINS))
        self.lvl = np.zeros(n)
        self.sabs = np.full(n, np.nan)
        self.c0 = np.zeros(n)
        self.c1 = np.zeros(n)
        self.e_prev = np.zeros(n)
        self.bsum = np.zeros(n)
        self.bn = np.zeros(n)
        self.vb = np.zeros(n)
        self.nb = np.zeros(n)
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
            "abs_residual_profile": self.pabs,
            "abs_residual_profile_weight": self.pabs_w,
            "level": self.lvl,
            "abs_residual": self.sabs,
            "residual_var": self.c0,
            "residual_lag1": self.c1,
            "last_residual": self.e_prev,
            "batch_sum": self.bsum,
            "batch_n": self.bn,
            "batch_var": self.vb,
            "batches": self.nb,
            "scale_updates": self.nsc,
            "cusum_up": self.sp,
            "cusum_down": self.sn,
        }

    def _ready(self) -> np.ndarray:
        return self.nb >= WARMUP_BATCHES

    def _run(
        self, pos: np.ndarray, ts: np.ndarray, val: np.ndarray
    ) -> tuple[np.ndarray, Callable[[int], dict[str, Any]]]:
        m = len(pos)
        score, exp, sig, z, sign = (np.zeros(m) for _ in range(5))
        _cusum_kernel(
            pos, ts, val, self.dt_s, self.min_scale, self.prof, self.prof_w, self.pabs,
            self.pabs_w, self.lvl,
            self.sabs, self.c0, self.c1, self.e_prev, self.bsum, self.bn, self.vb, self.nb,
            self.nsc, self.sp, self.sn, self.first_ts,
            self.last_ts, self.alarm_since, self.k, self.h, CAP, score, exp, sig, z, sign,
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
