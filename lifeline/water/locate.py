"""Where a leak is: a mean change of the pressure residuals located on the pipes' leak
signatures, for the burst channel (:mod:`lifeline.water.leaks`: :func:`locate_burst`, and
:func:`refine_burst` with the network model) and the growth channel
(:mod:`lifeline.water.growth`).

The change is whitened and projected on every pipe's unit signature. For a burst the best
fitting pipes are weighted by how likely the step makes each (:func:`posterior`) and their
weighted medoid is moved to the pipe within ``search_m`` of it whose own search radius covers
the most weight; a growing leak's weekly change is placed the same way (see :func:`pick_pipe`
and docs/water.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lifeline.water.network import PipeGraph

if TYPE_CHECKING:
    from lifeline.water.leaks import Detection, Model, Prepared
    from lifeline.water.refine import Refiner

#: residuals (m, hours × sensors), their same-hour baseline and the hours
Residuals = tuple[np.ndarray, np.ndarray, pd.DatetimeIndex]


def unit_signatures(model: Model, w: np.ndarray) -> np.ndarray:
    """Every pipe's leak signature whitened with ``w``, scaled to unit length (pipes × sensors)."""
    u = model.unit_sig @ w.T
    return u / np.linalg.norm(u, axis=1, keepdims=True)


def frozen_change(
    r: np.ndarray, b: np.ndarray, idx: pd.DatetimeIndex, t0: int, lo: int, hi: int
) -> np.ndarray:
    """The residuals (m) of hours ``lo`` to ``hi`` (exclusive) minus the same-hour baseline
    frozen on the day from hour ``t0``; complete hours only."""
    hours = np.asarray(idx.hour)
    ref = np.full((24, r.shape[1]), np.nan)
    ref[hours[t0 : t0 + 24]] = b[t0 : t0 + 24]
    diff = r[lo:hi] - ref[hours[lo:hi]]
    return diff[np.isfinite(diff).all(axis=1)]


def locate_change(
    change: np.ndarray,
    w: np.ndarray,
    model: Model,
    graph: PipeGraph,
    onset: pd.Timestamp,
    alarm: pd.Timestamp,
) -> Detection:
    """Locate a mean residual change (m per sensor): whitened with ``w``, projected on every
    pipe's unit signature (a leak lowers pressure along its signature → positive projection),
    then :func:`pick_pipe`. The burst and growth channels both locate with it."""
    m = w @ change
    return pick_pipe(unit_signatures(model, w) @ m, m, model, graph, onset, alarm)


def posterior(a: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Relative likelihood (best pipe 1) of a leak on each pipe given the whitened change ``m``
    and the pipes' fits ``a`` (projections of ``m`` on their unit signatures):
    exp(−(misfit − best misfit) / 2σ²), the misfit |m|² − a² of a least-squares fit with free
    leak size, σ² the noise variance the best fit's misfit shows over the other sensors. A
    strong, clean step leaves the weight on a few pipes; a weak or poorly explained one spreads
    it (a fixed share of the best fit, as ``loc_ratio``, keeps dozens of pipes either way)."""
    best = float(np.max(a))
    s2 = max(float(m @ m) - best**2, 1e-12) / max(len(m) - 1, 1)
    return np.exp(-(best**2 - np.clip(a, 0.0, None) ** 2) / (2 * s2))


def pick_pipe(
    a: np.ndarray,
    m: np.ndarray,
    model: Model,
    graph: PipeGraph,
    onset: pd.Timestamp,
    alarm: pd.Timestamp,
) -> Detection:
    """The pipe to report among the 50 best fits ``a`` (projection of the whitened change ``m``
    on each pipe's unit signature), each weighted by how likely the change makes it
    (:func:`posterior`): their medoid (least weighted pipe-path distance to the others), moved to
    the pipe within ``search_m`` (m along the pipes) of it whose own ``search_m`` radius covers
    the most weight. A crew finds the leak when it is within that radius, so the likeliest hit
    matters, not the least mean distance; staying near the medoid keeps a cluster of short pipes
    far away from pulling the report there. Where no other candidate lies within the radius
    (pipes longer than it, as on Net3) the medoid is reported. Returned as a
    :class:`Detection` at ``onset`` with its alarm time, confidence (best fit / |m|, 0..1) and
    the next candidates."""
    from lifeline.water.leaks import Detection  # the leak model imports this module

    prm = model.params
    best = float(np.max(a))
    cand = np.argsort(-a)[:50]
    weight = posterior(a, m)[cand]
    names = [model.pipes[i] for i in cand]
    gi = np.array([graph.index(n) for n in names])
    dm = graph.distance_matrix()[np.ix_(gi, gi)]
    # from the medoid, the pipe within the search radius whose own radius covers the most weight
    near = dm @ weight
    pick = int(np.argmin(near))
    reach = dm <= prm.search_m
    cover = np.where(reach[pick], reach.astype(float) @ weight, -1.0)
    pick = int(np.lexsort((near, -cover))[0])
    nrm = float(np.linalg.norm(m))
    conf = float(np.clip(best / nrm if nrm > 0 else 0.0, 0.0, 1.0))
    return Detection(names[pick], onset, alarm, conf, names[:10], best)


def burst_change(res: Residuals, t0: int, ta: int, model: Model) -> tuple[np.ndarray | None, int]:
    """The mean residual change (m per sensor) a burst is located from: from the change point
    ``t0`` to ``loc_hours`` after the alarm ``ta`` against the baseline frozen at ``t0`` (None
    without complete hours), and the end of that window (hour index, exclusive)."""
    r, b, idx = res
    t1 = min(len(r), ta + model.params.loc_hours)
    diff = frozen_change(r, b, idx, t0, t0, t1)
    return (diff.mean(axis=0) if len(diff) else None), t1


def locate_burst(
    res: Residuals, t0: int, ta: int, model: Model, graph: PipeGraph, w: np.ndarray
) -> Detection:
    """The hourly channel's alarm at hour ``ta`` (change point ``t0``) located from its
    :func:`burst_change` (``w``: that day's whitener), reported at the change point plus the
    onset margin."""
    change, _ = burst_change(res, t0, ta, model)
    idx = res[2]
    onset = idx[t0] + pd.Timedelta(hours=model.params.onset_margin_h)
    if change is None:
        change = np.zeros(res[0].shape[1])
    return locate_change(change, w, model, graph, onset, idx[ta])


def refine_burst(
    det: Detection,
    res: Residuals,
    t0: int,
    ta: int,
    model: Model,
    graph: PipeGraph,
    w: np.ndarray,
    refiner: Refiner,
) -> Detection:
    """``det`` placed again from the change :func:`locate_burst` located, with the fits of
    ``refiner`` (:mod:`lifeline.water.refine`) at the pattern hour in the middle of the
    change's hours; time, alarm time and strength kept."""
    change, t1 = burst_change(res, t0, ta, model)
    if change is None:
        return det
    m = w @ change
    hour = int(res[2][(t0 + t1 - 1) // 2].hour)
    a = refiner.fits(change, w, unit_signatures(model, w) @ m, model.pipes, hour)
    d = pick_pipe(a, m, model, graph, det.time, det.alarm_time)
    return replace(det, pipe=d.pipe, confidence=d.confidence, candidates=d.candidates)


def burst_placer(
    pre: Prepared, t0: int, ta: int, model: Model, graph: PipeGraph, refiner: Refiner
) -> Callable[[Detection], Detection]:
    """How the burst channel places a report with the network model: :func:`refine_burst` on
    the prepared hours ``pre`` for the alarm at hour ``ta`` (index into ``pre``) whose change
    point is ``t0``, with that day's whitener (the batch loop and the online detector)."""
    return partial(
        refine_burst,
        res=(pre.r, pre.b, pre.idx),
        t0=t0,
        ta=ta,
        model=model,
        graph=graph,
        w=pre.ws[ta // 24],
        refiner=refiner,
    )
