"""The water-balance channel of the leak detector: daily leakage from inflow minus metered use.

Leak water leaves the network without passing a customer meter. Per day, the net inflow (source
flows minus the change of tank storage) is consumption plus leakage. Consumption is modelled as a
linear function of the summed smart-meter (AMR) demands and the day of the week (industrial users
follow a weekly rhythm of their own), fitted on history: on labelled history the known leak
outflow is subtracted first, otherwise a robust fit is used. The daily residual is the leakage
estimate ``ℓ(d)`` (flow unit of the SCADA flows, e.g. m³/h); a new leak is a rise of ``ℓ``.

Change detection is a CUSUM on ``ℓ`` against the current leakage level ``μ``; after every alarm
(or a fall of leakage: a repair) ``μ`` is reset to the new level. Each rise is then located
with the pressures (:mod:`lifeline.water.balance_loc`).

Without source flows the channel is off; without AMR demands it uses the day of the week only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lifeline.water.network import tank_areas
from lifeline.water.scada import Leak

MIN_DAY_HOURS = 20  # a day needs this many hourly values to count


@dataclass
class Balance:
    """A fitted consumption model for the daily water balance."""

    sources: list[str]  # flow sensors on links from reservoirs
    tanks: list[tuple[str, float]]  # (level sensor = tank id, storage factor: network.tank_areas)
    has_amr: bool
    theta: np.ndarray
    sigma: float  # robust σ of the daily leakage estimate (flow unit)
    groups: list[list[str]] = field(default_factory=list)  # AMR meters per consumption type


@dataclass
class Event:
    """A rise of leakage: last quiet day ``z``, alarm day ``d``, rise ``dl`` (flow unit)."""

    z: pd.Timestamp
    d: pd.Timestamp
    dl: float


def _as_frame(amr: pd.Series | pd.DataFrame | None) -> pd.DataFrame | None:
    if amr is None:
        return None
    df = amr.to_frame("amr") if isinstance(amr, pd.Series) else amr
    return df if df.shape[1] and bool(df.notna().any().any()) else None


def daily_frame(
    h: pd.DataFrame,
    amr: pd.Series | pd.DataFrame | None,
    sources: list[str],
    tanks: list[tuple[str, float]],
    groups: list[list[str]] | None = None,
    breaks: Sequence[pd.Timestamp] = (),
) -> pd.DataFrame:
    """Daily net inflow ``net`` (flow unit) and daily mean AMR demand per meter group from hourly
    ``h`` (columns ``amr0``, ``amr1``, …).

    ``h`` has the ``F:``/``L:`` columns of :func:`lifeline.water.leaks.hourly`; ``amr`` is the
    hourly demand per meter (any unit; scaled by the fit) or their sum. A group's daily value is
    the mean of its meters' daily means times the group size (a missing meter counts as the
    mean of the others). Days with fewer than ``MIN_DAY_HOURS`` complete hours are NaN.
    ``breaks``: hours where a new record begins (the data after the history): a tank level there
    is not compared with the hour before, since two records need not join (a year simulated or
    logged on its own starts from its own tank levels).
    """
    q = h[[f"F:{s}" for s in sources]].sum(axis=1, min_count=len(sources))
    storage = pd.Series(0.0, index=h.index)
    joins = h.index.isin(pd.DatetimeIndex(list(breaks)))
    for tank, area in tanks:
        lv = h[f"L:{tank}"]
        step = lv.diff().where(~joins)
        storage = storage + step.fillna(0.0) * area  # flow unit × h per hour step
    # hourly-mean levels: the diff approximates the storage change between hour means
    day = h.index.floor("D")
    ok = q.notna()
    df = pd.DataFrame({"q": q, "st": storage, "ok": ok.astype(float)}, index=h.index)
    g = df.groupby(day)
    out = pd.DataFrame({"net": g["q"].mean() - g["st"].sum() / 24.0, "n": g["ok"].sum()})
    a = _as_frame(amr)
    if a is not None:
        daily = a.groupby(a.index.floor("D")).mean().reindex(out.index)
        for i, grp in enumerate(groups or [list(a.columns)]):
            cols = [c for c in grp if c in daily.columns]
            out[f"amr{i}"] = daily[cols].mean(axis=1) * len(grp) if cols else np.nan
    out.loc[out["n"] < MIN_DAY_HOURS, "net"] = np.nan
    return out


def _design(df: pd.DataFrame, has_amr: bool) -> np.ndarray:
    idx = pd.DatetimeIndex(df.index)
    cols = [np.ones(len(df))]
    if has_amr:
        cols += [df[c].to_numpy() for c in df.columns if c.startswith("amr")]
    cols += [(idx.dayofweek == k).astype(float) for k in range(1, 7)]
    return np.column_stack(cols)


def meter_groups(amr: pd.DataFrame, k: int, seed: int = 0) -> list[list[str]]:
    """Meters grouped into ``k`` consumption types by the shape of their mean week (k-means on
    the hour-of-week profile divided by its mean; industrial users, shops and homes differ)."""
    if k <= 1 or amr.shape[1] < 2 * k:
        return [list(amr.columns)]
    prof = amr.groupby([amr.index.dayofweek, amr.index.hour]).mean()
    x = (prof / prof.mean()).T.fillna(1.0).to_numpy()
    rng = np.random.default_rng(seed)
    best: tuple[float, np.ndarray] | None = None
    for _ in range(8):
        c = x[rng.choice(len(x), k, replace=False)]
        lab = np.zeros(len(x), dtype=int)
        for _ in range(50):
            lab = np.argmin(((x[:, None] - c[None]) ** 2).sum(axis=2), axis=1)
            c = np.array([x[lab == i].mean(axis=0) if (lab == i).any() else c[i] for i in range(k)])
        sse = float(((x - c[lab]) ** 2).sum())
        if best is None or sse < best[0]:
            best = (sse, lab)
    assert best is not None
    cols = list(amr.columns)
    return [
        [cols[j] for j in np.flatnonzero(best[1] == i)] for i in range(k) if (best[1] == i).any()
    ]


def _robust_fit(x: np.ndarray, y: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least squares that drops days far off the fit (unlabelled leaks, data faults)."""
    keep = ok.copy()
    theta = np.zeros(x.shape[1])
    for _ in range(3):
        theta, *_ = np.linalg.lstsq(x[keep], y[keep], rcond=None)
        e = y - x @ theta
        s = 1.4826 * float(np.median(np.abs(e[keep] - np.median(e[keep]))))
        keep = ok & (np.abs(e - np.median(e[ok])) <= 4 * max(s, 1e-6))
    return theta, keep


def _mad(e: np.ndarray) -> float:
    e = e[np.isfinite(e)]
    return max(1.4826 * float(np.median(np.abs(e - np.median(e)))), 1e-6) if len(e) else np.inf


def fit_balance(
    wn: Any,
    h: pd.DataFrame,
    amr: pd.Series | pd.DataFrame | None,
    outflow: pd.DataFrame | None = None,
) -> Balance | None:
    """Fit the consumption model on hourly history ``h`` (None when the channel cannot run).

    ``amr``: hourly demand per AMR meter (or their sum). The meters are grouped into 1–3
    consumption types (:func:`meter_groups`); the number of groups is the one with the smallest
    error in a month-blocked cross-validation on the history. ``outflow``: labelled leak outflow
    (flow unit) per leak column on the history; subtracted from the net inflow before fitting.
    Needs at least three weeks of complete days.
    """
    reservoirs = set(wn.reservoir_name_list)
    sources = []
    for c in h.columns:
        if c.startswith("F:"):
            link = wn.get_link(c[2:])
            if {link.start_node_name, link.end_node_name} & reservoirs:
                sources.append(c[2:])
    if not sources:
        return None
    tanks = tank_areas(wn, list(h.columns))
    a = _as_frame(amr)
    has_amr = a is not None
    best: tuple[float, list[list[str]]] | None = None
    for k in (1, 2, 3) if has_amr else (1,):
        groups = meter_groups(a, k) if a is not None else []
        if k > 1 and len(groups) < k:
            continue
        df = daily_frame(h, a, sources, tanks, groups)
        y = _net_minus_leaks(df, outflow)
        x = _design(df, has_amr)
        ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
        if ok.sum() < 21:
            return None
        err = _blocked_cv(x, y, ok, pd.DatetimeIndex(df.index))
        if best is None or err < 0.95 * best[0]:
            best = (err, groups)
    assert best is not None
    groups = best[1]
    df = daily_frame(h, a, sources, tanks, groups)
    y = _net_minus_leaks(df, outflow)
    x = _design(df, has_amr)
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
    theta, keep = _robust_fit(x, y, ok)
    sigma = _mad((y - x @ theta)[keep])
    return Balance(sources, tanks, has_amr, theta, sigma, groups)


def _net_minus_leaks(df: pd.DataFrame, outflow: pd.DataFrame | None) -> np.ndarray:
    y = df["net"].to_numpy().copy()
    if outflow is not None and not outflow.empty:
        lk = outflow.sum(axis=1)
        lk = lk.groupby(lk.index.floor("D")).mean().reindex(df.index).fillna(0.0)
        y = y - lk.to_numpy()
    return y


def _blocked_cv(x: np.ndarray, y: np.ndarray, ok: np.ndarray, idx: pd.DatetimeIndex) -> float:
    """Robust σ of out-of-block errors, blocks of about a month (the whole fit if too short)."""
    block = (idx - idx[0]).days // 30
    if block.max() < 2:
        theta, keep = _robust_fit(x, y, ok)
        return _mad((y - x @ theta)[keep])
    e = np.full(len(y), np.nan)
    for b in np.unique(block):
        test = block == b
        train = ok & ~test
        if train.sum() <= x.shape[1] + 5:
            continue
        theta, _ = _robust_fit(x, y, train)
        e[test] = (y - x @ theta)[test]
    return _mad(e[ok])


def leakage(
    bal: Balance,
    h: pd.DataFrame,
    amr: pd.Series | pd.DataFrame | None,
    breaks: Sequence[pd.Timestamp] = (),
) -> pd.Series:
    """Daily leakage estimate ``ℓ`` (flow unit): net inflow minus modelled consumption;
    ``breaks``: where a new record begins (:func:`daily_frame`)."""
    df = daily_frame(h, amr if bal.has_amr else None, bal.sources, bal.tanks, bal.groups, breaks)
    return pd.Series(df["net"].to_numpy() - _design(df, bal.has_amr) @ bal.theta, index=df.index)


def events(
    ell: pd.Series, sigma: float, k: float = 1.0, h: float = 8.0, start: pd.Timestamp | None = None
) -> list[Event]:
    """Rises of leakage (CUSUM, allowance ``k`` σ/day, threshold ``h`` σ·day) from ``start`` on.

    The level ``μ`` starts at the median of the week before ``start`` and is reset after every
    rise and every fall (a repair) to the mean of the days after the estimated step.
    """
    vals = ell.to_numpy()
    idx = pd.DatetimeIndex(ell.index)
    first = int(np.searchsorted(idx, start)) if start is not None else 7
    first = max(first, 1)
    pre = vals[max(0, first - 7) : first]
    mu = float(np.nanmedian(pre)) if np.isfinite(pre).any() else float("nan")
    c = cn = 0.0
    zero = zero_n = first - 1
    out: list[Event] = []
    for i in range(first, len(vals)):
        x = vals[i]
        if not np.isfinite(x):
            continue
        if not np.isfinite(mu):
            mu = x
            zero = zero_n = i
            continue
        dev = (x - mu) / sigma
        c = max(0.0, c + dev - k)
        cn = max(0.0, cn - dev - k)
        if c == 0.0:
            zero = i
        if cn == 0.0:
            zero_n = i
        if c > h or cn > h:
            last = _step_day(vals, zero if c > h else zero_n, i)
            after = vals[last + 1 : i + 1]  # the level after the change: days after the step
            new = float(np.nanmean(after)) if np.isfinite(after).any() else float(x)
            if c > h:
                out.append(Event(idx[last], idx[i], new - mu))
            mu, c, cn, zero, zero_n = new, 0.0, 0.0, i, i
    return out


def _step_day(vals: np.ndarray, z: int, d: int) -> int:
    """Last day before the most likely single step of ``vals`` within ``[z, d]`` (z if unclear).

    Works for rises and falls (the absolute step statistic).
    """
    seg = vals[z : d + 1]
    if len(seg) < 3 or not np.isfinite(seg).all():
        return z
    best, arg = -np.inf, 0
    n = len(seg)
    for t in range(1, n):
        stat = np.sqrt(t * (n - t) / n) * abs(seg[t:].mean() - seg[:t].mean())
        if stat > best:
            best, arg = stat, t
    return z + arg - 1


def known_active(truth: list[Leak], end: pd.Timestamp) -> list[str]:
    """Pipes of labelled leaks still active at the end of the history (``end``)."""
    return [k.pipe for k in truth if k.end >= end - pd.Timedelta(hours=1)]
