"""Where a leak is: a mean change of the pressure residuals located on the pipes' leak
signatures, for the burst channel (:mod:`lifeline.water.leaks`) and the growth channel
(:mod:`lifeline.water.growth`).

The change is whitened, projected on every pipe's unit signature, and among the pipes that fit
within ``loc_ratio`` of the best their fit-weighted medoid is reported — for a burst moved to
the pipe within ``search_m`` of it whose own search radius covers the most fit (see
:func:`pick_pipe` and docs/water.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lifeline.water.network import PipeGraph

if TYPE_CHECKING:
    from lifeline.water.leaks import Detection, Model


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
    search: bool = True,
) -> Detection:
    """Locate a mean residual change (m per sensor): whitened with ``w``, projected on every
    pipe's unit signature (a leak lowers pressure along its signature → positive projection),
    then :func:`pick_pipe` (``search``: move the medoid within the search radius). The burst and
    growth channels both locate with it."""
    m = w @ change
    return pick_pipe(unit_signatures(model, w) @ m, m, model, graph, onset, alarm, search)


def pick_pipe(
    a: np.ndarray,
    m: np.ndarray,
    model: Model,
    graph: PipeGraph,
    onset: pd.Timestamp,
    alarm: pd.Timestamp,
    search: bool = True,
) -> Detection:
    """The pipe to report among those whose fit ``a`` (projection of the whitened change ``m``
    on each pipe's unit signature) is within ``loc_ratio`` of the best: their medoid (least
    fit-weighted pipe-path distance to the others), moved to the pipe within ``search_m`` (m
    along the pipes) of it whose own ``search_m`` radius covers the most fit. A crew finds the
    leak when it is within that radius, so the likeliest hit matters, not the least mean
    distance; staying near the medoid keeps a cluster of short pipes far away from pulling the
    report there. Where no other candidate lies within the radius (pipes longer than it, as on
    Net3) the medoid is reported; with ``search`` False, always. Returned as a
    :class:`Detection` at ``onset`` with its alarm time, confidence (best fit / |m|, 0..1) and
    the next candidates."""
    from lifeline.water.leaks import Detection  # the leak model imports this module

    prm = model.params
    best = float(np.max(a))
    cand = np.flatnonzero(a >= prm.loc_ratio * best) if best > 0 else np.array([int(np.argmax(a))])
    cand = cand[np.argsort(-a[cand])][:50]
    names = [model.pipes[i] for i in cand]
    weight = np.clip(a[cand], 1e-9, None)
    gi = np.array([graph.index(n) for n in names])
    dm = graph.distance_matrix()[np.ix_(gi, gi)]
    # from the medoid, the pipe within the search radius whose own radius covers the most fit
    near = dm @ weight
    pick = int(np.argmin(near))
    if search:
        reach = dm <= prm.search_m
        cover = np.where(reach[pick], reach.astype(float) @ weight, -1.0)
        pick = int(np.lexsort((near, -cover))[0])
    nrm = float(np.linalg.norm(m))
    conf = float(np.clip(best / nrm if nrm > 0 else 0.0, 0.0, 1.0))
    return Detection(names[pick], onset, alarm, conf, names[:10], best)
