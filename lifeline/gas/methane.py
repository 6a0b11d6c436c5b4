"""Methane-in-manhole readings: alarm grading, trend, sensor faults and rise features.

Everything here uses one sensor's own history; the spatial and network evidence (neighbouring
manholes, gas mains, pressures) is combined in :mod:`lifeline.gas.locate`.

Values are methane concentrations in %LEL (0–100). Grades follow GB/T 50493-2019-style set
points: level 1 at ``>= level1`` (default 25 %LEL), level 2 at ``>= level2`` (default 50 %LEL).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lifeline.errors import InputError


@dataclass(frozen=True)
class AlarmConfig:
    """Alarm set points and fault rules (concentrations in %LEL, times in minutes)."""

    level1: float = 25.0
    level2: float = 50.0
    stuck_min_readings: int = 6  # identical consecutive readings that make a "stuck" run
    stuck_min_minutes: float = 25.0
    spike_max_minutes: float = (
        15.0  # an alarm episode this short, from and back to baseline, is a spike
    )
    rise_min: float = 8.0  # a sustained rise of at least this much above baseline is "elevated"
    trend_window_min: float = 30.0

    def __post_init__(self) -> None:
        if not (0 < self.level1 < self.level2 <= 100):
            raise InputError(
                f"alarm levels must satisfy 0 < level1 < level2 <= 100 %LEL, got {self.level1}, {self.level2}",
                where="alarm config",
            )


@dataclass
class SensorFeatures:
    """What one methane sensor's history says (times are naive local datetimes)."""

    sensor_id: str
    n: int
    baseline: float  # %LEL
    noise: float  # %LEL
    max_value: float
    alarm: bool  # reached level 1
    first_ts: pd.Timestamp | None
    level: int  # 0, 1 or 2
    level2_ts: pd.Timestamp | None
    trend_pct_per_h: float  # slope of the 30 min before the first alarm (%LEL per hour)
    fault: str  # "", "stuck" or "spike"
    onset_ts: pd.Timestamp | None  # start of a sustained rise (spikes and stuck runs removed)
    rise: float  # sustained rise above baseline, %LEL (95th percentile after onset)
    persistence: float  # median of the last hour / peak of the sustained rise (0..1)
    end_level: float  # median of the last hour minus baseline, %LEL


def _runs(equal: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) index pairs (inclusive) of runs where ``equal[i]`` says v[i] == v[i-1]."""
    e = np.asarray(equal, bool).astype(np.int8)
    d = np.diff(np.r_[0, e, 0])
    starts = np.flatnonzero(d == 1) - 1  # the run begins at the reading before the first equal
    ends = np.flatnonzero(d == -1) - 1
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def _all_short_jumps(above: np.ndarray, v: np.ndarray, tmin: np.ndarray, cfg: AlarmConfig) -> bool:
    """True if every alarm episode is short, starts with a jump from below half the level-1 set
    point and ends (before the window's end) back below it."""
    idx = np.flatnonzero(above)
    low = cfg.level1 / 2
    start = idx[0]
    prev = idx[0]
    episodes = []
    for i in idx[1:]:
        if i != prev + 1:
            episodes.append((start, prev))
            start = i
        prev = i
    episodes.append((start, prev))
    for a, b in episodes:
        if b + 1 >= len(v) or a == 0:
            return False
        if tmin[b] - tmin[a] > cfg.spike_max_minutes:
            return False
        if v[a - 1] >= low or v[b + 1] >= low:
            return False
    return True


def sensor_features(sid: str, ts: np.ndarray, v: np.ndarray, cfg: AlarmConfig) -> SensorFeatures:
    """Features of one sensor's series (``ts`` datetime64 sorted, ``v`` in %LEL)."""
    n = len(v)
    tmin = (ts - ts[0]) / np.timedelta64(1, "m")
    # stuck runs: identical consecutive readings, away from 0 and from saturation
    stuck = np.zeros(n, bool)
    eq = np.r_[False, np.diff(v) == 0]
    for a, b in _runs(eq):
        if (
            b - a + 1 >= cfg.stuck_min_readings
            and tmin[b] - tmin[a] >= cfg.stuck_min_minutes
            and 1.0 <= v[a] < 99.9
        ):
            stuck[a : b + 1] = True
    # spikes: a reading far above both neighbours (removed by a 3-point running median)
    med3 = v.copy()
    if n >= 3:
        med3[1:-1] = np.median(np.vstack([v[:-2], v[1:-1], v[2:]]), axis=0)
    clean = np.where(stuck, np.nan, med3)
    head = clean[: max(5, n // 5)]
    baseline = float(np.nanmedian(head)) if np.isfinite(head).any() else 0.0
    noise = (
        float(np.nanmedian(np.abs(head - baseline)) * 1.4826) if np.isfinite(head).any() else 1.0
    )
    noise = max(noise, 0.5)
    above = v >= cfg.level1
    alarm = bool(above.any())
    first_ts = pd.Timestamp(ts[np.argmax(above)]) if alarm else None
    above2 = v >= cfg.level2
    level = 2 if above2.any() else (1 if alarm else 0)
    level2_ts = pd.Timestamp(ts[np.argmax(above2)]) if above2.any() else None
    trend = 0.0
    if alarm:
        i1 = int(np.argmax(above))
        w = (tmin >= tmin[i1] - cfg.trend_window_min) & (tmin <= tmin[i1])
        if w.sum() >= 2 and np.ptp(tmin[w]) > 0:
            trend = float(np.polyfit(tmin[w], v[w], 1)[0] * 60.0)
    # sustained rise
    thr = baseline + max(4.0 * noise, 3.0)
    ok = np.isfinite(clean)
    hi = ok & (clean > thr)
    onset_ts, rise, persistence, end_level = None, 0.0, 0.0, 0.0
    if hi.sum() >= 3:
        # first index from which at least 3 of the next 4 clean readings are high
        idx = np.flatnonzero(hi)
        for i in idx:
            nxt = clean[i : i + 4]
            if np.sum(nxt[np.isfinite(nxt)] > thr) >= 3:
                onset_ts = pd.Timestamp(ts[i])
                after = clean[i:][np.isfinite(clean[i:])]
                peak = float(np.percentile(after, 95))
                rise = peak - baseline
                last = clean[tmin >= tmin[-1] - 60.0]
                last = last[np.isfinite(last)]
                end = float(np.median(last)) if len(last) else baseline
                end_level = end - baseline
                persistence = float(np.clip(end_level / rise, 0.0, 1.0)) if rise > 0 else 0.0
                break
    fault = ""
    if alarm:
        alarm_idx = np.flatnonzero(above)
        if stuck[alarm_idx].mean() >= 0.8:
            fault = "stuck"
        else:
            clean_alarm = np.nan_to_num(clean, nan=0.0) >= cfg.level1
            if not clean_alarm.any():
                # every alarm reading is an isolated excursion the running median removes
                fault = "spike"
            else:
                # short alarm episodes that jump from and fall back to baseline are spikes
                fault = "spike" if _all_short_jumps(above, v, tmin, cfg) else ""
    return SensorFeatures(
        sensor_id=sid, n=n, baseline=baseline, noise=noise, max_value=float(v.max()),
        alarm=alarm, first_ts=first_ts, level=level, level2_ts=level2_ts,
        trend_pct_per_h=trend, fault=fault, onset_ts=onset_ts, rise=rise,
        persistence=persistence, end_level=end_level,
    )  # fmt: skip


def methane_features(
    readings: pd.DataFrame, sensor_ids: list[str], cfg: AlarmConfig
) -> list[SensorFeatures]:
    """Features for every methane sensor in ``sensor_ids`` that has readings."""
    r = readings[readings["sensor_id"].isin(set(sensor_ids))]
    out = []
    for sid, g in r.groupby("sensor_id", sort=True):
        g = g.sort_values("ts")
        if len(g) < 2:
            continue
        out.append(
            sensor_features(
                str(sid), g["ts"].to_numpy("datetime64[ns]"), g["value"].to_numpy(float), cfg
            )
        )
    return out


def trend_label(slope_pct_per_h: float) -> str:
    """'rising', 'steady' or 'falling' from a slope in %LEL per hour."""
    if slope_pct_per_h > 5.0:
        return "rising"
    if slope_pct_per_h < -5.0:
        return "falling"
    return "steady"
