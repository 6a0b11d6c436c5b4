"""The trend channel: slow (incipient) leaks found and located from weekly night pressures.

A leak that grows over months never makes a step the hourly detector can see, and a few m³/h
move night pressures by only a few cm, about as much as the seasons do. The trend channel
compares each week's mean night residual with the first week of the data, after removing

* the directions that consumption changes move every sensor along (a common offset and the
  pressure response to the total inflow, see :func:`balance_loc.nuisance_projector`), and
* the signatures of leaks already known or detected (with free sign: they may grow or be
  repaired),

and fits the remaining change with one more leak per candidate pipe (non-negative flow). The
best pipe's χ² gain must exceed ``gain`` and its flow must agree with the rise of leakage that
the water balance sees (at most ``flow_ratio`` times it). A leak is reported when the best pipe
stays within ``merge_m`` for ``weeks`` consecutive weeks; the reported time is the end of the
first of them. Its pipe is then a nuisance for the following weeks.

Parameters are chosen on labelled history by the score they add to the pressure detections
there; without labels, or when no setting adds anything on history, the channel stays off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lifeline.water.balance_loc import NightLoc
from lifeline.water.leaks import Detection
from lifeline.water.network import PipeGraph

DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class TrendParams:
    """Thresholds of the trend channel (gain in χ² units, flows in the SCADA flow unit)."""

    gain: float = 8.0
    weeks: int = 3
    flow_ratio: float = 2.0
    merge_m: float = 300.0
    min_days: int = 4  # valid days needed in a week
    nuisance_rank: int = 2  # directions per known leak (its neighbourhood's leading ones)
    lags: tuple[int, ...] = (4, 8, 13)  # reference weeks this many weeks before the week tested
    gains: tuple[float, ...] = ()  # χ² gain threshold per lag (default: ``gain`` for all)
    span_days: float = 120.0  # a slow leak found may still grow (or be repaired) this long


@dataclass
class WeekFit:
    """The best candidate of one week: week end, pipe, χ² gain, fitted flow, balance rise."""

    end: pd.Timestamp
    pipe: str
    gain: float
    flow: float
    rise: float
    lag: int = 0


def _orth(a: np.ndarray, nuis: np.ndarray) -> np.ndarray:
    """Projector removing the span of the rows of ``nuis`` (identity when empty)."""
    n = a.shape[1]
    if len(nuis) == 0:
        return np.eye(n)
    b = nuis.T
    return np.eye(n) - b @ np.linalg.pinv(b)


def _nuisance_dirs(
    loc: NightLoc, pipes: list[str], graph: PipeGraph, prm: TrendParams
) -> np.ndarray:
    """Directions (rows) a known leak may move the residuals along: the leading singular
    vectors of the signatures of the pipes within ``merge_m`` of it (the nominal model does
    not place a leak exactly, so its own signature alone leaves a misfit of a large leak)."""
    if not pipes:
        return np.zeros((0, loc.a.shape[1]))
    names = [p for p in loc.pipes]
    gi = np.array([graph.index(p) for p in names])
    dm = graph.distance_matrix()
    rows = []
    for p in pipes:
        near = np.flatnonzero(dm[graph.index(p)][gi] <= prm.merge_m)
        if len(near) == 0:
            continue
        _, s, vt = np.linalg.svd(loc.a[near], full_matrices=False)
        keep = max(1, min(prm.nuisance_rank, int(np.sum(s > 0.05 * s[0]))))
        rows.append(vt[:keep] * s[:keep, None])
    return np.vstack(rows) if rows else np.zeros((0, loc.a.shape[1]))


Span = tuple[str, pd.Timestamp, pd.Timestamp]  # pipe, from, until: a leak that may change


def spans_of(dets: list[Detection], days: float) -> list[Span]:
    """Nuisance spans of detections: from a week before each one's reported start to ``days``
    after it (the time a leak found there may still grow or be repaired)."""
    return [(d.pipe, d.time - 7 * DAY, d.time + days * DAY) for d in dets]


def trend_detections(
    loc: NightLoc,
    ell: pd.Series | None,
    start: pd.Timestamp,
    end: pd.Timestamp,
    spans: list[Span],
    graph: PipeGraph,
    prm: TrendParams,
    sigma: float = 0.0,
    trace: list[WeekFit] | None = None,
) -> list[Detection]:
    """Slow leaks between ``start`` and ``end`` (days of ``loc.rn``); see the module doc.

    Each week is compared with the weeks ``lags`` weeks before it (rolling references: the
    seasons move little in that time, and only the leaks that changed in between matter; a
    short lag sees a leak that grows fast, a long one a leak that grows slowly); the lag whose
    gain stands highest above its threshold wins.
    ``spans``: leaks that may change in a window (known leaks, detections of the other
    channels, labelled leaks for the null run), projected out of the weeks their span meets;
    the channel's own detections are added with :data:`TrendParams.span_days`. ``ell``: the
    rises of daily leakage seen by the water balance, as a daily series of rise sizes (flow
    unit; None: no flow check); ``sigma``: the balance's daily noise. ``trace`` (optional)
    receives the best candidate of every week.
    """
    proj = loc.proj if loc.proj is not None else np.eye(loc.w.shape[0])
    y = pd.DataFrame(loc.rn.to_numpy() @ loc.w.T @ proj.T, index=loc.rn.index)
    y = y.loc[start:end]
    out: list[Detection] = []
    streak: list[WeekFit] = []
    thresholds = prm.gains or tuple(prm.gain for _ in prm.lags)
    t = start + 7 * min(prm.lags) * DAY + 6 * DAY
    while t <= end:
        t_now, t = t, t + 7 * DAY
        week = y.loc[t_now - 6 * DAY : t_now].dropna()
        if len(week) < prm.min_days:
            streak = []
            continue
        live = spans + spans_of(out, prm.span_days)
        best: tuple[float, WeekFit] | None = None
        nuis_all: list[str] = []
        for lag_w, thr in zip(prm.lags, thresholds, strict=True):
            fit, nuis = _week_fit(loc, y, week, t_now, lag_w, live, graph, prm, ell, sigma, thr)
            nuis_all += nuis
            if fit is None:
                continue
            if trace is not None:
                trace.append(fit)
            ratio = fit.gain / max(thr, 1e-9)
            if ratio >= 1.0 and (best is None or ratio > best[0]):
                best = (ratio, fit)
        if best is None:
            streak = []
            continue
        fit = best[1]
        if any(graph.pipe_distance(fit.pipe, p) <= prm.merge_m for p in set(nuis_all)):
            streak = []  # the growth of a known or detected leak
            continue
        if streak and graph.pipe_distance(fit.pipe, streak[-1].pipe) > prm.merge_m:
            streak = []
        streak.append(fit)
        if len(streak) >= prm.weeks:
            top = max(streak, key=lambda f: f.gain)
            conf = float(np.clip(best[0] / (best[0] + 1.0), 0.0, 1.0))
            out.append(
                Detection(
                    top.pipe,
                    streak[0].end - 6 * DAY,
                    t_now + DAY,
                    conf,
                    [f.pipe for f in streak],
                    top.gain,
                    "trend",
                )
            )
            streak = []
    return out


def _week_fit(
    loc: NightLoc,
    y: pd.DataFrame,
    week: pd.DataFrame,
    t_now: pd.Timestamp,
    lag_w: int,
    live: list[Span],
    graph: PipeGraph,
    prm: TrendParams,
    ell: pd.Series | None,
    sigma: float,
    thr: float,
) -> tuple[WeekFit | None, list[str]]:
    """The best candidate pipe of the week ending ``t_now`` against the week ``lag_w`` weeks
    before it (None when no pipe passes the flow check), and the nuisance pipes used."""
    lag = 7 * lag_w * DAY
    ref_rows = y.loc[t_now - lag - 6 * DAY : t_now - lag].dropna()
    if len(ref_rows) < prm.min_days:
        return None, []
    d = week.mean().to_numpy() - ref_rows.mean().to_numpy()
    lo = t_now - lag - 6 * DAY
    nuis = list(dict.fromkeys(p for p, a, b in live if a <= t_now and b >= lo))
    q = _orth(loc.a, _nuisance_dirs(loc, nuis, graph, prm))
    dp, ap = q @ d, loc.a @ q.T
    nn = (ap * ap).sum(axis=1) + 1e-12
    c = ap @ dp
    flow = np.clip(c / nn, 0.0, None)
    gain = np.where((c > 0) & (nn > 0.05 * np.median(nn)), c * c / nn, 0.0)
    rise = float(ell.loc[lo - DAY : t_now].sum()) if ell is not None else np.nan
    ok = gain > 0
    if np.isfinite(rise) and np.isfinite(prm.flow_ratio):
        ok &= flow <= prm.flow_ratio * max(rise, 3.0 * sigma)
    if not ok.any():
        return None, nuis
    j = int(np.argmax(np.where(ok, gain, -1.0)))
    return WeekFit(t_now, loc.pipes[j], float(gain[j]), float(flow[j]), rise, lag_w), nuis


def onset_at(
    loc: NightLoc,
    det: Detection,
    spans: list[Span],
    graph: PipeGraph,
    prm: TrendParams,
    ref_end: pd.Timestamp,
) -> pd.Timestamp:
    """The day a slow leak found at ``det.pipe`` began: the night residuals are fitted day by day
    with that pipe's signature (the other changing leaks projected out) against the reference
    week ending ``ref_end``; the start is the day after the last one, before the detection, on
    which the fitted flow was within two noise σ of zero (noise: the spread of the fit over the
    three reference weeks)."""
    proj = loc.proj if loc.proj is not None else np.eye(loc.w.shape[0])
    y = pd.DataFrame(loc.rn.to_numpy() @ loc.w.T @ proj.T, index=loc.rn.index)
    ref_rows = y.loc[ref_end - 6 * DAY : ref_end].dropna()
    if len(ref_rows) < prm.min_days or det.pipe not in loc.pipes:
        return det.time
    lo = ref_end - 20 * DAY
    live = [p for p, a, b in spans if a <= det.alarm_time and b >= lo and p != det.pipe]
    q = _orth(loc.a, _nuisance_dirs(loc, list(dict.fromkeys(live)), graph, prm))
    a = q @ loc.a[loc.pipes.index(det.pipe)]
    nn = float(a @ a)
    if nn <= 0:
        return det.time
    seg = y.loc[lo : det.alarm_time].dropna()
    flow = pd.Series((seg.to_numpy() - ref_rows.mean().to_numpy()) @ q.T @ a / nn, index=seg.index)
    base = flow.loc[:ref_end]
    noise = 1.4826 * float(np.median(np.abs(base - base.median()))) if len(base) >= 7 else np.nan
    if not np.isfinite(noise) or noise <= 0:
        return det.time
    quiet = flow[(flow.index > ref_end) & (flow.index < det.time) & (flow <= 2 * noise)]
    start = (quiet.index[-1] + DAY) if len(quiet) else ref_end + DAY
    return min(start, det.time)
