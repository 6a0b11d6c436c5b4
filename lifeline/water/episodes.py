"""Slow leaks as episodes of the water balance, located where the night pressures changed.

A rise of daily leakage that no burst explains opens an *episode* anchored at the day the rise
began. Every week after that, the night residuals of the last week are compared with the week
before the episode began (a reference close in time, so the seasons have moved little and only
the leaks that changed since then matter; those are projected out: leaks known from the
history while they grow, bursts and slow leaks found so far). The change is fitted with one
more leak per candidate pipe, whose flow must agree with the balance: the fitted flow is the
leakage rise since the anchor times a factor ``α`` between ``1/ratio`` and ``ratio`` (the spread
of real to modelled signature sizes seen on the history's labelled leaks). The best pipe is
reported when its χ² gain exceeds the threshold learnt on the history (the gains the same fit
reaches there when every labelled leak is known), at the end of the first day of the located
pipe's flow (:func:`onset_day`; a leak that began that day was running by then, and a report
before its start names no active leak): the pipe and the start are what the results file asks
for. An incipient leak grows for weeks before its pattern stands out; the episode waits for it
(up to ``max_days``) with its anchor fixed, and the leak it finds may have begun after the
anchor (a burst the hourly channel missed, while an unrelated rise opened the episode).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lifeline.water.balance import Event
from lifeline.water.balance_loc import NightLoc
from lifeline.water.leaks import Detection
from lifeline.water.network import PipeGraph
from lifeline.water.trend_loc import Span, TrendParams, _nuisance_dirs, _orth, spans_of

DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class EpisodeParams:
    """Thresholds (χ² gain, flow ratio) and windows (days) of the episode channel."""

    gain: float = float("inf")
    ratio: float = 2.0
    max_days: int = 120
    span_days: float = 120.0  # a slow leak found may still grow (or be repaired) this long
    merge_m: float = 300.0


@dataclass
class Fit:
    """The best pipe of one evaluation: day, pipe, χ² gain, α (flow factor), leakage rise and
    the pipe's daily flow (flow unit) from the week before the anchor to ``day``."""

    day: pd.Timestamp
    pipe: str
    gain: float
    alpha: float
    rise: float
    flow: pd.Series  # dated from it when reported (:func:`onset_day`)


def fit_episode(
    loc: NightLoc,
    y: pd.DataFrame,
    ell: pd.Series,
    anchor: pd.Timestamp,
    day: pd.Timestamp,
    spans: list[Span],
    graph: PipeGraph,
    prm: EpisodeParams,
    explained: float = 0.0,
) -> Fit | None:
    """Fit the change from the week before ``anchor`` to the week ending ``day`` with one more
    leak (see the module doc). ``explained``: leakage rise (flow unit) since the anchor that
    other detections account for (bursts found in between)."""
    ref = y.loc[anchor - 7 * DAY : anchor - DAY].dropna()
    post = y.loc[day - 6 * DAY : day].dropna()
    if len(ref) < 4 or len(post) < 4:
        return None
    rise = float(
        ell.loc[day - 6 * DAY : day].mean() - ell.loc[anchor - 7 * DAY : anchor - DAY].mean()
    )
    rise -= explained
    if not np.isfinite(rise) or rise <= 0:
        return None
    d = post.mean().to_numpy() - ref.mean().to_numpy()
    nuis = list(dict.fromkeys(p for p, a, b in spans if a <= day and b >= anchor - 7 * DAY))
    q = _orth(loc.a, _nuisance_dirs(loc, nuis, graph, TrendParams(merge_m=prm.merge_m)))
    dp, ap = q @ d, loc.a @ q.T
    nn = (ap * ap).sum(axis=1)
    c = ap @ dp
    alpha = np.clip(c / np.maximum(nn * rise, 1e-12), 1.0 / prm.ratio, prm.ratio)
    x = alpha * rise  # the fitted flow, tied to the balance
    gain = np.where(nn > 0.05 * np.median(nn), 2 * x * c - x * x * nn, -np.inf)
    dm = graph.distance_matrix()
    gi = np.array([graph.index(p) for p in loc.pipes])
    for p in nuis:  # the growth of a leak already known or found is not a new leak
        gain[dm[graph.index(p)][gi] <= prm.merge_m] = -np.inf
    j = int(np.argmax(gain))
    if not np.isfinite(gain[j]):
        return None
    # the located pipe's flow (flow unit) on every day from the reference week to ``day``
    days = y.loc[anchor - 7 * DAY : day].dropna()
    flow = (days.to_numpy() - ref.mean().to_numpy()) @ q.T @ ap[j] / nn[j]
    return Fit(
        day, loc.pipes[j], float(gain[j]), float(alpha[j]), rise, pd.Series(flow, days.index)
    )


def onset_day(flow: pd.Series, anchor: pd.Timestamp) -> pd.Timestamp:
    """The day (from ``anchor`` on) a leak's daily flow ``flow`` (any unit, zero before the
    leak) began: the start of the step-and-ramp (flow b + g·days since the start, zero before)
    that fits it best by least squares. A rise of the balance anchors an episode, but the leak
    the episode finds weeks later may have begun after it (a burst the hourly channel missed)."""
    t = ((flow.index - anchor) / DAY).to_numpy(dtype=float)
    v = flow.to_numpy(dtype=float)
    best, start = np.inf, anchor
    for t0 in t[t >= 0]:
        x = np.column_stack([(t >= t0).astype(float), np.clip(t - t0, 0.0, None)])
        coef, *_ = np.linalg.lstsq(x, v, rcond=None)
        sse = float(np.sum((v - x @ coef) ** 2))
        if sse < best - 1e-12:
            best, start = sse, anchor + t0 * DAY
    return start


def episode_leaks(
    loc: NightLoc,
    ell: pd.Series,
    rises: list[Event],
    start: pd.Timestamp,
    end: pd.Timestamp,
    spans: list[Span],
    bursts: list[tuple[Detection, float]],
    graph: PipeGraph,
    prm: EpisodeParams,
    trace: list[Fit] | None = None,
) -> list[Detection]:
    """Slow leaks from the balance ``rises`` that begin between ``start`` and ``end``.

    ``bursts``: detections of the burst channel with their supply steps (flow unit): a rise
    within two days of one is that burst, and later episodes subtract its flow. ``spans``: leaks
    that may change (see :func:`trend_detections`). ``trace`` receives every weekly fit.
    """
    proj = loc.proj if loc.proj is not None else np.eye(loc.w.shape[0])
    y = pd.DataFrame(loc.rn.to_numpy() @ loc.w.T @ proj.T, index=loc.rn.index)
    out: list[Detection] = []
    opened: list[tuple[pd.Timestamp, pd.Timestamp]] = []  # (anchor, alarm) of each in ``out``
    for ev in sorted(rises, key=lambda e: e.z):
        anchor = ev.z + DAY
        if not start <= anchor <= end:
            continue
        if any(abs(anchor - b.time) <= 2 * DAY for b, _ in bursts):
            continue
        if any(a <= anchor <= b + 7 * DAY for a, b in opened):
            continue  # a rise while a slow leak just found still grows
        day = ev.d + 6 * DAY
        while day <= min(end, anchor + prm.max_days * DAY):
            live = spans + spans_of(out, prm.span_days)
            explained = sum(
                max(s, 0.0) for b, s in bursts if anchor < b.time <= day and np.isfinite(s)
            )
            fit = fit_episode(loc, y, ell, anchor, day, live, graph, prm, explained)
            if fit is not None and trace is not None:
                trace.append(fit)
            if fit is not None and fit.gain >= prm.gain:
                conf = float(np.clip(fit.gain / (fit.gain + prm.gain), 0.0, 1.0))
                # reported at the end of the located leak's first day (:func:`onset_day`): a
                # leak that began that day was running by then (a report before its start
                # names no active leak)
                first = onset_day(fit.flow, anchor)
                out.append(
                    Detection(
                        fit.pipe, first + DAY, day + DAY, conf, [fit.pipe], fit.gain, "episode"
                    )
                )
                opened.append((anchor, day + DAY))
                break
            day += 7 * DAY
    return out
