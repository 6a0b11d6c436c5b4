"""Thresholds learnt from history: every alarm threshold is a property of the data.

The principle: a detection costs 500 € when it is wrong (BattLeDIM), so each channel gets an
explicit budget of false alarms per year (:data:`FALSE_ALARMS_PER_YEAR`). On the labelled
history, the channel is run with a range of thresholds and its *unexplained* alarms are counted
(an alarm is explained when a labelled leak began shortly before it or was still growing); the
threshold is where that count, extrapolated along the exponential tail of the counts (extreme
values of CUSUM statistics have exponential tails), meets the budget. Without labels every alarm
on history counts as unexplained, which gives a conservative threshold.

A detection is then reported only when its expected value beats its expected cost:
``P(TP)·V > (1 − P(TP))·500 €``, with ``V`` the water it would save (0.80 €/m³ × flow × the time
left) and ``P(TP)`` the share of the channel's history detections that were within 300 m.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from lifeline.water.scada import Leak

#: false alarms per year allowed to each detection channel (policy, not fitted)
FALSE_ALARMS_PER_YEAR = 0.5
FP_COST_EUR = 500.0
PRICE_EUR_M3 = 0.8
H_GRID = tuple(float(x) for x in np.geomspace(4.0, 400.0, 21))
K_GRID = (1.0,)  # CUSUM allowance in noise σ: tuned to shifts of 2 σ and more (design)


@dataclass
class Learnt:
    """A learnt threshold and how it was obtained (for the report)."""

    value: float
    counts: dict[float, int]
    target: float
    how: str

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for reports."""
        return {
            "value": round(self.value, 3),
            "target_false_alarms": round(self.target, 3),
            "how": self.how,
            "unexplained_alarms_by_threshold": {f"{k:.3g}": v for k, v in self.counts.items()},
        }


def explained(t: pd.Timestamp, truth: list[Leak], new_days: float = 7.0) -> bool:
    """True when a labelled leak began at most ``new_days`` before ``t`` (or 2 h after: onsets are
    estimated) or was still growing towards its peak: the alarm was caused by a leak."""
    for k in truth:
        if not (k.start - pd.Timedelta(hours=2) <= t <= k.end + pd.Timedelta(hours=2)):
            continue
        grow_end = (k.peak or k.start) if k.kind == "incipient" else k.start
        if t <= max(k.start, grow_end) + pd.Timedelta(days=new_days):
            return True
    return False


def tail_threshold(counts: dict[float, int], target: float) -> tuple[float, str]:
    """Threshold where the count of unexplained alarms meets ``target``.

    ``counts``: threshold → unexplained alarms on history (non-increasing). Where the counts
    reach the target on the grid, the first such threshold is taken; below one alarm the
    exponential tail fitted to the points with at least one alarm is extrapolated.
    """
    hs = np.array(sorted(counts))
    cs = np.array([counts[h] for h in hs], dtype=float)
    if target >= 1.0:
        ok = np.flatnonzero(cs <= target)
        if len(ok):
            return float(hs[ok[0]]), "first grid threshold within the budget"
    pos = cs >= 1
    if pos.sum() >= 2:
        slope, icpt = np.polyfit(hs[pos], np.log(cs[pos]), 1)
        if slope < 0:
            h = (np.log(target) - icpt) / slope
            return float(max(h, hs[pos].max())), "exponential tail of unexplained alarms"
    if pos.any():  # one point: the next grid value with no alarm
        above = hs[hs > hs[pos].max()]
        return (float(above[0]) if len(above) else float(hs[-1])), "first grid threshold with none"
    return float(hs[0]), "no unexplained alarm at any threshold"


def null_hours(idx: pd.DatetimeIndex, truth: list[Leak], days: float = 7.0) -> np.ndarray:
    """True for hours away from labelled leak events: not within ``days`` after a leak began,
    while an incipient leak grows (until ``days`` after its peak), nor within ``days`` after a
    repair. Hours while an older leak runs steadily are kept: the background of any year."""
    ok = np.ones(len(idx), dtype=bool)
    span = pd.Timedelta(days=days)
    for k in truth:
        top = max(k.start, k.peak) if k.kind == "incipient" and k.peak is not None else k.start
        ok &= ~((idx >= k.start - pd.Timedelta(hours=2)) & (idx <= top + span))
        ok &= ~((idx >= k.end - pd.Timedelta(hours=2)) & (idx <= k.end + span))
    return ok


def cusum_false_alarms(
    proj: np.ndarray,
    ok: np.ndarray,
    k: float,
    hs: np.ndarray,
    years: float = 20.0,
    holdoff: int = 24,
    seed: int = 0,
) -> np.ndarray:
    """False alarms per year of the per-pipe CUSUM (allowance ``k``) at each threshold in ``hs``.

    The null is a block bootstrap of the history: whole days (24 hourly rows of the whitened
    projections ``proj``) drawn at random among the days that no labelled leak explains
    (``ok`` marks usable hours), ``years`` years of them; every threshold runs on the same draw.
    """
    n_days = len(proj) // 24
    good = [d for d in range(n_days) if ok[d * 24 : d * 24 + 24].all()]
    if len(good) < 14:
        return np.full(len(hs), np.nan)
    rng = np.random.default_rng(seed)
    days = rng.choice(good, size=int(years * 365), replace=True)
    c = np.zeros((len(hs), proj.shape[1]))
    hold = np.zeros(len(hs), dtype=int)
    counts = np.zeros(len(hs))
    t = 0
    for d in days:
        block = proj[d * 24 : d * 24 + 24]
        for row in block:
            c = np.maximum(0.0, c + row - k)
            fire = (c.max(axis=1) > hs) & (t >= hold)
            if fire.any():
                counts += fire
                c[fire] = 0.0
                hold[fire] = t + holdoff
            t += 1
    return counts / years


def threshold_for_rate(hs: np.ndarray, rate: np.ndarray, target: float) -> tuple[float, str]:
    """Smallest threshold whose false-alarm rate is at most ``target`` per year, interpolated
    on the log rate (exponential tail), extrapolated beyond the grid from its last two points."""
    with np.errstate(divide="ignore"):
        lr = np.log(np.maximum(rate, 1e-9))
    ok = np.isfinite(rate)
    hs, lr, rate = hs[ok], lr[ok], rate[ok]
    if not len(hs):
        return float("inf"), "no usable history"
    below = np.flatnonzero(rate <= target)
    if len(below) and below[0] == 0:
        return float(hs[0]), "lowest threshold already within the budget"
    pos = np.flatnonzero(rate > 0)
    if len(below) and rate[below[0]] > 0:
        i = below[0]
        f = (np.log(target) - lr[i - 1]) / (lr[i] - lr[i - 1])
        return float(hs[i - 1] + f * (hs[i] - hs[i - 1])), "interpolated on the log rate"
    if len(pos) >= 2:
        a, b = pos[-2], pos[-1]
        slope = (lr[b] - lr[a]) / (hs[b] - hs[a])
        if slope < 0:
            return float(hs[b] + (np.log(target) - lr[b]) / slope), "exponential tail"
    return float(hs[pos[-1] + 1] if len(pos) and pos[-1] + 1 < len(hs) else hs[-1]), "grid"


def budget_count(expected: float, level: float = 0.9) -> int:
    """The most false alarms a history may show and still be within a budget of ``expected``
    over its length: the ``level`` quantile of a Poisson count with that mean. False alarms
    come at random, so a channel within a budget of 0.5 a year shows one on a year of history
    about once in three (P(N ≥ 1) = 0.39); calling one too many would raise its threshold on
    such years for nothing, and deafen it to the bursts it is there for (P(N ≥ 2) = 0.09)."""
    n, term = 0, float(np.exp(-expected))
    cdf = term
    while cdf < level:
        n += 1
        term *= expected / n
        cdf += term
    return n


def learn_fast(
    pre: Any,
    model: Any,
    graph: Any,
    truth: list[Leak],
    known: list[str],
    burst_test: Any,
) -> tuple[Any, float, dict[str, Any]]:
    """CUSUM threshold ``h`` of the hourly channel and the raw-data step gate, learnt on history.

    1. A bootstrap of the history's days away from labelled leak events, after the baseline's
       first week (:func:`cusum_false_alarms`), gives the lowest threshold worth running: at
       most one alarm a month before the burst test.
    2. At that threshold, the history's alarms give the step gate (:func:`step_gate`).
    3. ``h`` is then the lowest threshold at which the reported bursts on the history include
       no more unexplained ones than :data:`FALSE_ALARMS_PER_YEAR` allows over its length
       (:func:`budget_count`).

    ``burst_test(z_thr)`` returns the test :func:`lifeline.water.leaks.detect_prepared` takes;
    ``burst_test(None)`` one that records the raw-data steps of every alarm in
    ``burst_test.steps`` and reports nothing.
    """
    from lifeline.water import leaks as lk

    base = model.params
    k = K_GRID[0]
    years = max(len(pre.idx) / (24 * 365.25), 1 / 12)
    allowed = budget_count(FALSE_ALARMS_PER_YEAR * years)
    # the week after the baseline starts rests on the series' first days (a start-up or a
    # holiday there shifts it all week): not a sample of the channel at work
    settled = np.arange(len(pre.idx)) >= 2 * 24 * base.baseline_days
    ok = null_hours(pre.idx, truth) & pre.seen & settled
    hs = np.array(H_GRID)
    rate = cusum_false_alarms(pre.proj, ok, k, hs)
    h_floor, how = threshold_for_rate(hs, rate, 12.0)
    if not np.isfinite(h_floor):
        h_floor = max(float(hs[0]), float(base.h))
        how = "too few days away from leaks for the bootstrap: the default threshold"
    model.params = replace(base, k=k, h=h_floor, h_burst=float("inf"))
    recorder = burst_test(None)
    lk.detect_prepared(pre, model, graph, known=known, burst=recorder)
    z_thr, gate = step_gate(recorder.steps, truth)
    night, gate["night"] = night_gate(recorder.steps, truth, z_thr)
    base = replace(base, night_z=night)  # the runs below set model.params from it
    test = burst_test(z_thr)
    h_k, unexplained, dets = h_floor, 0, []
    for h in [h_floor] + [x for x in hs if x > h_floor]:
        model.params = replace(base, k=k, h=float(h), h_burst=float("inf"))
        dets = lk.detect_prepared(pre, model, graph, known=known, burst=test)
        unexplained = sum(not explained(d.alarm_time, truth) for d in dets)
        h_k = float(h)
        if unexplained <= allowed:
            break
    model.params = replace(base, k=k, h=h_k, h_burst=float("inf"))
    info = {
        "false_alarms_per_year": FALSE_ALARMS_PER_YEAR,
        "k": k,
        "h": round(h_k, 2),
        "h_floor": round(h_floor, 2),
        "h_floor_how": how,
        "bootstrap_alarms_per_year_by_h": {
            f"{h:.3g}": round(float(r), 3) for h, r in zip(hs, rate, strict=True)
        },
        "step_gate": gate,
        "history_bursts": {"reported": len(dets), "unexplained": unexplained},
    }
    return model.params, z_thr, info


def onset_margin(dets: list[Any], truth: list[Leak], margin_h: float) -> tuple[float, list[float]]:
    """Hours to add to a change point so that the reported time is not before the leak began.

    On history, each detection whose change point lies within 12 h of a labelled leak's start
    gives the lag ``start - change point``; the margin is the largest lag rounded up to the hour
    (at least 1 h, at most 6 h). A report before the start names a leak that is not yet active:
    BattLeDIM counts it as a false positive.
    """
    lags = []
    for d in dets:
        cp = d.time - pd.Timedelta(hours=margin_h)
        near = [k for k in truth if abs((k.start - cp).total_seconds()) <= 12 * 3600]
        if near:
            k = min(near, key=lambda x: abs((x.start - cp).total_seconds()))
            lags.append((k.start - cp).total_seconds() / 3600.0)
    if not lags:
        return margin_h, lags
    return float(np.clip(np.ceil(max(lags)), 1.0, 6.0)), lags


def step_gate(steps: list[tuple[pd.Timestamp, Any]], truth: list[Leak]) -> tuple[float, dict]:
    """Smallest raw-data pressure step (noise σ) an hourly alarm needs to be reported as a burst.

    On history, alarms within 6 h of a labelled abrupt leak's start are bursts; every other
    alarm (growth of an incipient leak, a repair, a demand anomaly) is not. The gate is the 90 %
    quantile of the steps of the others (at least 3 σ). A burst must also raise the net supply
    (a repair lowers it); growing leaks are left to the slow channel.
    """
    burst: list[float] = []
    other: list[float] = []
    for t, st in steps:
        (burst if _at_burst_start(t, truth) else other).append(st.z)
    thr = max(3.0, float(np.quantile(other, 0.9))) if other else 3.0
    info = {
        "value": round(thr, 2),
        "burst_steps": sorted(round(z, 1) for z in burst),
        "other_steps": sorted(round(z, 1) for z in other),
    }
    return thr, info


def _at_burst_start(t: pd.Timestamp, truth: list[Leak]) -> bool:
    """Whether ``t`` lies within 6 h of a labelled abrupt leak's start (the history's bursts)."""
    return any(k.kind == "abrupt" and abs((t - k.start).total_seconds()) <= 6 * 3600 for k in truth)


def night_gate(
    steps: list[tuple[pd.Timestamp, Any]], truth: list[Leak], z_thr: float
) -> tuple[float, dict]:
    """Smallest rise of the night supply (robust σ, :func:`lifeline.water.rawstep.night_excess`)
    that confirms a burst whose supply step the day's demand swings hid.

    Like :func:`step_gate`: among the history's alarms that pass the pressure gate ``z_thr``
    with a supply step that is a rise (those the night test can decide) and are not within 6 h
    of a labelled abrupt leak's start, the 90 % quantile of their night rises (at least 3 σ).
    With fewer than five such alarms the night test stays off.
    """
    other = [
        float(st.night_z)
        for t, st in steps
        if st.z >= z_thr
        and st.supply_z > 0
        and np.isfinite(st.night_z)
        and not _at_burst_start(t, truth)
    ]
    thr = max(3.0, float(np.quantile(other, 0.9))) if len(other) >= 5 else float("inf")
    return thr, {"value": round(thr, 2) if np.isfinite(thr) else None, "others": len(other)}


SUPPLY_SIGMAS = 1.5  # a burst's supply step against the same clock time of the days before (σ)


def is_burst(
    st: Any, z_thr: float, night_thr: float = float("inf"), supply_sigmas: float | None = None
) -> bool:
    """A reported burst: a pressure step above the gate ``z_thr`` and a rise of the net supply
    ``supply_sigmas`` robust σ above the change at that clock time on the days before (a burst
    adds its whole flow at once; a repair or a demand swing does not) — or, when that step is
    lost in the day's demand swings (but still a rise), a night supply after it ``night_thr``
    robust σ above the nights before (the burst's outflow goes on through the night; see
    :func:`night_gate`)."""
    if st.z < z_thr:
        return False
    if not np.isfinite(st.supply_z):
        return bool(not np.isfinite(st.supply) or st.supply >= 0)
    sigmas = SUPPLY_SIGMAS if supply_sigmas is None else supply_sigmas
    # the night confirms only a step that did not lower the supply: a burst never does
    return bool(st.supply_z >= sigmas or (st.supply_z > 0 and st.night_z >= night_thr))


def merge_days(truth: list[Leak], default: float = 30.0) -> float:
    """Days a reported burst stays open: the 90 % quantile of the labelled abrupt leaks' durations
    on history (an alarm near it in that time is the same leak again)."""
    d = [(k.end - k.start).total_seconds() / 86400 for k in truth if k.kind == "abrupt"]
    return float(np.quantile(d, 0.9)) if len(d) >= 3 else default
