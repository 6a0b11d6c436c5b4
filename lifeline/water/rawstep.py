"""The raw-data burst test of the hourly leak channel: the pressure step along the located
pipe's signature and the net supply step at the same time, on the raw (e.g. 5-minute) readings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from lifeline.water.leaks import Detection, Model, _whitener


@dataclass
class Step:
    """The raw-data step at a detection: size in noise σ of the pressure residual projected on
    the located pipe's signature, and the change of the net supply (source inflow minus tank
    filling; flow unit) over the hour after the step against the hour before it."""

    z: float
    supply: float
    supply_z: float = float("nan")  # the supply change against the same clock time of the
    # previous 7 days, in robust σ of those days' changes
    night_z: float = float("nan")  # the net supply of the first night after the step against
    # the same hours of the 7 nights before it, in robust σ of those nights (see night_excess)
    night_end: pd.Timestamp | None = None  # end of that night (when the night test can tell)


def refine_onset(
    det: Detection,
    raw: pd.DataFrame,
    model: Model,
    tanks: list[tuple[str, float]] | None = None,
    window_h: float = 3.0,
    margin_min: int = 5,
) -> tuple[Detection, Step]:
    """Sharpen the start of an abrupt leak to the time step of the raw data.

    The raw (e.g. 5-minute) pressure residuals are whitened with the history covariance and
    projected on the located pipe's signature; the most likely single step between
    ``window_h`` before the hourly change point and the alarm is the start, reported
    ``margin_min`` later. The hourly estimate is kept when the raw data cannot tell (gaps, no
    step of 3 noise σ). Also returns the :class:`Step`: a burst is a step of pressure *and* of
    supply; a growing leak makes no step, a repair makes the supply fall.
    """
    cp = det.time - pd.Timedelta(hours=model.params.onset_margin_h)
    lo = cp - pd.Timedelta(hours=window_h)
    hi = max(det.alarm_time, cp) + pd.Timedelta(hours=1)
    seg = raw.loc[lo:hi]
    none = Step(float("nan"), float("nan"))  # the raw data cannot tell (too coarse or gaps)
    if len(seg) < 8 or det.pipe not in model.pipes or model.cov is None:
        return det, none
    r = model.residuals(seg)
    # a sensor with a gap in the window is left out rather than every reading of the gap's time
    keep = np.isfinite(r).mean(axis=0) >= 0.9
    r = r[:, keep]
    ok = np.isfinite(r).all(axis=1)
    if ok.sum() < 8 or not keep.any():
        return det, none
    w = _whitener(model.cov[np.ix_(keep, keep)])
    u = model.unit_sig[model.pipes.index(det.pipe)][keep] @ w.T
    size = float(np.linalg.norm(u))
    if not size > 0:  # the pipe moves none of the sensors left
        return det, none
    s = (r[ok] @ w.T) @ (u / size)
    n = len(s)
    noise = 1.4826 * float(np.median(np.abs(np.diff(s) - np.median(np.diff(s))))) / np.sqrt(2)
    stat = np.array(
        [np.sqrt(t * (n - t) / n) * (s[t:].mean() - s[:t].mean()) for t in range(2, n - 1)]
    ) / max(noise, 1e-9)
    if not len(stat):
        return det, none
    z = float(stat.max())
    step = seg.index[ok][int(np.argmax(stat)) + 2]
    supply, supply_z = _supply_excess(raw, model, tanks or [], step)
    if z < 3.0:  # no step standing 3 noise σ out: keep the hourly estimate
        return det, Step(z, supply, supply_z)
    night, end = night_excess(raw, model, tanks or [], step)
    return replace(det, time=step + pd.Timedelta(minutes=margin_min)), Step(
        z, supply, supply_z, night, end
    )


def night_excess(
    raw: pd.DataFrame,
    model: Model,
    tanks: list[tuple[str, float]],
    t: pd.Timestamp,
    hours: int = 3,
    days: int = 7,
) -> tuple[float, pd.Timestamp | None]:
    """How far the net supply of the first night after ``t`` stands above the nights before,
    in robust σ of those nights, and the end of that night (NaN and None when the data cannot
    tell: no source flows, too few nights, or the night after ``t`` not in the data yet).

    The night is the ``hours`` consecutive clock hours of least source inflow over the ``days``
    days before ``t``; its net supply (inflow minus tank filling) is compared. A burst adds its
    whole outflow to every night until it is repaired, when consumption is lowest and
    steadiest; a demand swing or a valve operation in the day does not reach the night. Used
    when the supply step at the burst's time is lost in the day's demand swings.
    """
    nan: tuple[float, pd.Timestamp | None] = (float("nan"), None)
    if not model.source_flows:
        return nan
    day = pd.Timedelta(days=1)
    before = raw.loc[t - days * day : t - pd.Timedelta(seconds=1)]
    if len(before) < 2:
        return nan
    q = before[[f"F:{c}" for c in model.source_flows]].sum(axis=1, min_count=1)
    prof = q.groupby(q.index.hour).mean()
    if len(prof) < 24:
        return nan
    circ = np.array([prof.reindex([(h + k) % 24 for k in range(hours)]).sum() for h in range(24)])
    h0 = int(np.nanargmin(circ))
    first = t.normalize() + pd.Timedelta(hours=h0)
    while first < t:
        first += day
    span = pd.Timedelta(hours=hours)
    if raw.index[-1] < first + span - pd.Timedelta(seconds=1):
        return nan
    now = _net_supply(raw, model, tanks, first, first + span)
    prev = np.array(
        [
            _net_supply(raw, model, tanks, first - k * day, first - k * day + span)
            for k in range(1, days + 1)
        ]
    )
    prev = prev[np.isfinite(prev)]
    if not np.isfinite(now) or len(prev) < 3:
        return nan
    med = float(np.median(prev))
    sd = max(1.4826 * float(np.median(np.abs(prev - med))), 1e-6)
    return (now - med) / sd, first + span


def _supply_excess(
    raw: pd.DataFrame, model: Model, tanks: list[tuple[str, float]], t: pd.Timestamp
) -> tuple[float, float]:
    """The net supply step at ``t`` (flow unit) minus the median step at the same clock time of
    the previous 7 days, and that excess in robust σ of those days' steps (NaN when unknown)."""
    now = _supply_step(raw, model, tanks, t)
    prev = np.array(
        [_supply_step(raw, model, tanks, t - pd.Timedelta(days=k)) for k in range(1, 8)]
    )
    prev = prev[np.isfinite(prev)]
    if not np.isfinite(now) or len(prev) < 3:
        return now, float("nan")
    med = float(np.median(prev))
    sd = max(1.4826 * float(np.median(np.abs(prev - med))), 1e-6)
    return now - med, (now - med) / sd


def _supply_step(
    raw: pd.DataFrame, model: Model, tanks: list[tuple[str, float]], t: pd.Timestamp
) -> float:
    """Net supply (source inflow minus tank filling) in the hour after ``t`` minus the hour
    before (flow unit; NaN without source flows)."""
    if not model.source_flows:
        return float("nan")
    hour = pd.Timedelta(hours=1)
    return _net_supply(raw, model, tanks, t, t + hour) - _net_supply(raw, model, tanks, t - hour, t)


def _net_supply(
    raw: pd.DataFrame,
    model: Model,
    tanks: list[tuple[str, float]],
    a: pd.Timestamp,
    b: pd.Timestamp,
) -> float:
    """Mean net supply (source inflow minus tank filling; flow unit of the readings) over
    [``a``, ``b``); ``tanks``: (tank id, storage factor) of :func:`network.tank_areas`."""
    seg = raw.loc[a : b - pd.Timedelta(seconds=1)]
    q = seg[[f"F:{c}" for c in model.source_flows]].sum(axis=1, min_count=1).mean()
    fill = 0.0
    for tank, area in tanks:
        lv = seg[f"L:{tank}"].dropna()
        if len(lv) >= 2:
            span_h = (lv.index[-1] - lv.index[0]).total_seconds() / 3600
            fill += (lv.iloc[-1] - lv.iloc[0]) * area / max(span_h, 1e-9)
    return float(q) - fill
