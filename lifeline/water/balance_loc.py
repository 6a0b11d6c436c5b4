"""Locating a rise of leakage found by the water-balance channel, from night pressures.

For a rise ``Δℓ`` between a week before the change and ``post_days`` after the alarm, the change
of the daily night-mean pressure residuals ``Δr`` (m) is explained as ``Σ_k S_k x_k`` over the
candidate pipe and the pipes of leaks already known or detected (nuisance: they may still grow),
with non-negative flows ``x`` tied softly to ``Σ x = Δℓ``. ``S_k`` is the EPANET sensitivity (m per flow
unit) at the pipe's ends minus what the residual model attributes to the extra inflow. Residuals
are whitened with the covariance of day-to-day changes on history. The candidate with the least
misfit wins if it carries at least half of the rise and improves the fit over the nuisance-only
explanation by ``min_gain`` (χ² units).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import nnls

from lifeline.water.balance import Event
from lifeline.water.leaks import Detection, Model
from lifeline.water.network import PipeGraph, Sensitivity


@dataclass
class NightLoc:
    """Daily night residuals and whitened per-flow signatures of one data set."""

    rn: pd.DataFrame  # daily mean residual at night hours (m), sensors as columns
    w: np.ndarray  # whitener of daily residual changes
    a: np.ndarray  # (pipes, sensors) whitened, projected signature per flow unit
    pipes: list[str]
    proj: np.ndarray | None = None  # projector removing the nuisance directions (whitened)


def night_hours(h: pd.DataFrame, sources: list[str], n: int = 4) -> list[int]:
    """The ``n`` hours of the day with the lowest mean source inflow (1–4 h without flows)."""
    if not sources:
        return [1, 2, 3, 4]
    q = h[[f"F:{s}" for s in sources]].sum(axis=1)
    prof = q.groupby(pd.DatetimeIndex(h.index).hour).mean()
    return sorted(int(x) for x in prof.nsmallest(n).index)


def prepare_night(
    model: Model,
    h: pd.DataFrame,
    hist_end: pd.Timestamp,
    sens: Sensitivity,
    graph: PipeGraph,
) -> NightLoc | None:
    """Night residuals of hourly ``h`` and signatures; history is the part before ``hist_end``."""
    hours = night_hours(h, model.source_flows)
    r = pd.DataFrame(model.residuals(h), index=h.index)
    rn = r[pd.DatetimeIndex(r.index).hour.isin(hours)]
    rn = rn.groupby(pd.DatetimeIndex(rn.index).floor("D")).mean()
    hist = rn[rn.index < hist_end].dropna()
    if len(hist) < 21:
        return None
    dd = hist.diff().dropna().to_numpy() / np.sqrt(2.0)
    c = np.atleast_2d(np.cov(dd.T))
    c = 0.9 * c + 0.1 * np.diag(np.diag(c)) + np.eye(len(c)) * 1e-10
    w = np.linalg.inv(np.linalg.cholesky(c))
    jidx = {j: i for i, j in enumerate(sens.junctions)}
    smat = sens.matrix[[sens.sensors.index(s) for s in model.sensors]]
    g = np.zeros(len(model.sensors))
    if model.source_flows:
        qn = h[[f"F:{s}" for s in model.source_flows]].sum(axis=1)
        qbar = float(qn[pd.DatetimeIndex(h.index).hour.isin(hours)].mean())
        g = model.theta[1] + 2 * model.theta[2] * qbar
    pipes, sigs = [], []
    for i, name in enumerate(graph.pipes):
        cols = [jidx[graph.node_names[n]] for n in graph.ends[i] if graph.node_names[n] in jidx]
        if cols:
            pipes.append(name)
            sigs.append(smat[:, cols].mean(axis=1) - g)
    proj = nuisance_projector(w, g)
    return NightLoc(rn, w, np.array(sigs) @ w.T @ proj.T, pipes, proj)


def nuisance_projector(w: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Projector (whitened space) that removes a common offset of all sensors and the pressure
    response to the total inflow ``g`` (m per flow unit).

    Slow changes of consumption (the seasons) and a mis-scaled inflow term move every sensor
    along these two directions by as much as a small leak does; a leak is told apart by the rest
    of its pattern.
    """
    n = w.shape[0]
    dirs = [np.ones(n)] + ([g] if np.linalg.norm(g) > 0 else [])
    b = np.array(dirs) @ w.T
    return np.eye(n) - b.T @ np.linalg.pinv(b @ b.T) @ b


def locate(
    loc: NightLoc,
    ev: Event,
    nuisance: list[str],
    post: tuple[pd.Timestamp, pd.Timestamp],
    dl: float,
    lam: float = 3.0,
) -> tuple[int, float, float] | None:
    """Best pipe index for the rise ``dl`` of event ``ev`` seen in the days ``post`` (inclusive),
    its share of the rise and the χ² gain over the nuisance-only fit (None: no data)."""
    day = pd.Timedelta(days=1)
    pre = loc.rn.loc[ev.z - 7 * day : ev.z - day].dropna()
    after = loc.rn.loc[post[0] : post[1]].dropna()
    if len(pre) < 3 or len(after) < 2 or dl <= 0:
        return None
    wr = loc.w @ (after.mean().to_numpy() - pre.mean().to_numpy())
    if loc.proj is not None:
        wr = loc.proj @ wr
    pix = {p: i for i, p in enumerate(loc.pipes)}
    nz = [loc.a[pix[p]] for p in dict.fromkeys(nuisance) if p in pix]
    n_mat = np.array(nz) if nz else np.zeros((0, len(wr)))
    y = np.concatenate([wr, [lam * dl]])

    def fit(rows: np.ndarray) -> tuple[float, np.ndarray]:
        if len(rows) == 0:
            return float(y @ y), np.zeros(0)
        m = np.vstack([rows.T, lam * np.ones((1, len(rows)))])
        x, _ = nnls(m, y)  # leak flows are not negative
        e = y - m @ x
        return float(e @ e), x

    base, _ = fit(n_mat)
    errs = np.empty(len(loc.pipes))
    shares = np.empty(len(loc.pipes))
    for j in range(len(loc.pipes)):
        err, x = fit(np.vstack([loc.a[j][None, :], n_mat]))
        errs[j] = err
        shares[j] = x[0] / dl
    j = int(np.argmin(errs))
    return j, float(shares[j]), base - float(errs[j])


def balance_detections(
    evs: list[Event],
    loc: NightLoc,
    existing: list[Detection],
    known: list[str],
    graph: PipeGraph,
    post_days: int = 7,
    min_gain: float = 9.0,
    merge_m: float = 600.0,
    same_days: float = 3.0,
    ell: pd.Series | None = None,
    max_weeks: int = 8,
    min_share: float = 0.3,
) -> list[Detection]:
    """New detections from balance events not explained by ``existing`` or ``known`` leaks.

    An event within ``same_days`` of an existing detection's change point is that detection.
    A located rise within ``merge_m`` of a known or detected leak is its growth, not a new leak.
    A rise that cannot be located yet (a leak still small) is tried again on wider windows
    for up to ``max_weeks`` windows of ``post_days``. The reported time is the end of the first
    day of the rise.
    """
    if ell is None:
        raise ValueError("ell (daily leakage) is required")
    out: list[Detection] = []
    day = pd.Timedelta(days=1)
    busy_until = pd.Timestamp.min
    for ev in evs:
        dets = existing + out
        lo, hi = ev.z - pd.Timedelta(days=same_days), ev.d + day
        if ev.d <= busy_until or any(lo <= d.time <= hi for d in dets):
            continue  # the same event as a detection, or the growth of a pending rise
        for week in range(1, max_weeks + 1):  # a growing leak: widen the window week by week
            end = ev.d + week * post_days * day
            if end > loc.rn.index[-1]:
                break
            post = (end - (post_days - 1) * day, end)
            pre_l = ell.loc[ev.z - 7 * day : ev.z - day].mean()
            dl = float(ell.loc[post[0] : post[1]].mean() - pre_l)
            prior = [d.pipe for d in dets if d.time <= end]
            res = locate(loc, ev, known + prior, post, dl)
            busy_until = end
            if res is None:
                break
            j, share, gain = res
            pipe = loc.pipes[j]
            if dl < 0.5 * ev.dl:
                break  # the rise went away (a repair, or noise)
            if share < min_share or gain < min_gain:
                continue
            if not any(graph.pipe_distance(pipe, p) <= merge_m for p in known + prior):
                conf = float(np.clip(gain / (gain + 9.0), 0.0, 1.0))
                out.append(
                    Detection(pipe, ev.z + 2 * day, end + day, conf, [pipe], gain, "balance")
                )
            break
    return out
