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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lifeline.water.scada import Leak

MIN_DAY_HOURS = 20  # a day needs this many hourly values to count


@dataclass
class Balance:
    """A fitted consumption model for the daily water balance."""

    sources: list[str]  # flow sensors on links from reservoirs
    tanks: list[tuple[str, float]]  # (level sensor = tank id, cross-section m²)
    has_amr: bool
    theta: np.ndarray
    sigma: float  # robust σ of the daily leakage estimate (flow unit)


@dataclass
class Event:
    """A rise of leakage: last quiet day ``z``, alarm day ``d``, rise ``dl`` (flow unit)."""

    z: pd.Timestamp
    d: pd.Timestamp
    dl: float


def daily_frame(
    h: pd.DataFrame, amr: pd.Series | None, sources: list[str], tanks: list[tuple[str, float]]
) -> pd.DataFrame:
    """Daily net inflow ``net`` (flow unit) and mean AMR demand ``amr`` from hourly ``h``.

    ``h`` has the ``F:``/``L:`` columns of :func:`lifeline.water.leaks.hourly`; ``amr`` is the
    hourly summed meter demand (any unit; scaled by the fit). Days with fewer than
    ``MIN_DAY_HOURS`` complete hours are NaN.
    """
    q = h[[f"F:{s}" for s in sources]].sum(axis=1, min_count=len(sources))
    storage = pd.Series(0.0, index=h.index)
    for tank, area in tanks:
        lv = h[f"L:{tank}"]
        storage = storage + lv.diff().fillna(0.0) * area  # m³ per hour step
    # hourly-mean levels: the diff approximates the storage change between hour means
    day = h.index.floor("D")
    ok = q.notna()
    df = pd.DataFrame({"q": q, "st": storage, "ok": ok.astype(float)}, index=h.index)
    g = df.groupby(day)
    out = pd.DataFrame({"net": g["q"].mean() - g["st"].sum() / 24.0, "n": g["ok"].sum()})
    if amr is not None:
        out["amr"] = amr.groupby(amr.index.floor("D")).mean().reindex(out.index)
    out.loc[out["n"] < MIN_DAY_HOURS, "net"] = np.nan
    return out


def _design(df: pd.DataFrame, has_amr: bool) -> np.ndarray:
    idx = pd.DatetimeIndex(df.index)
    cols = [np.ones(len(df))]
    if has_amr:
        cols.append(df["amr"].to_numpy())
    cols += [(idx.dayofweek == k).astype(float) for k in range(1, 7)]
    return np.column_stack(cols)


def fit_balance(
    wn: Any,
    h: pd.DataFrame,
    amr: pd.Series | None,
    outflow: pd.DataFrame | None = None,
) -> Balance | None:
    """Fit the consumption model on hourly history ``h`` (None when the channel cannot run).

    ``outflow``: labelled leak outflow (flow unit) per leak column on the history; subtracted
    from the net inflow before fitting. Needs at least three weeks of complete days.
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
    tanks = []
    for c in h.columns:
        if c.startswith("L:") and c[2:] in wn.tank_name_list:
            tanks.append((c[2:], float(np.pi * wn.get_node(c[2:]).diameter ** 2 / 4)))
    has_amr = amr is not None and bool(amr.notna().any())
    df = daily_frame(h, amr if has_amr else None, sources, tanks)
    y = df["net"].to_numpy().copy()
    if outflow is not None and not outflow.empty:
        lk = outflow.sum(axis=1)
        lk = lk.groupby(lk.index.floor("D")).mean().reindex(df.index).fillna(0.0)
        y = y - lk.to_numpy()
    x = _design(df, has_amr)
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
    if ok.sum() < 21:
        return None
    keep = ok.copy()
    theta = np.zeros(x.shape[1])
    for _ in range(3):  # robust: drop days far off the fit (unlabelled leaks, data faults)
        theta, *_ = np.linalg.lstsq(x[keep], y[keep], rcond=None)
        e = y - x @ theta
        s = 1.4826 * float(np.median(np.abs(e[keep] - np.median(e[keep]))))
        keep = ok & (np.abs(e - np.median(e[ok])) <= 4 * max(s, 1e-6))
    e = (y - x @ theta)[keep]
    sigma = max(1.4826 * float(np.median(np.abs(e - np.median(e)))), 1e-6)
    return Balance(sources, tanks, has_amr, theta, sigma)


def leakage(bal: Balance, h: pd.DataFrame, amr: pd.Series | None) -> pd.Series:
    """Daily leakage estimate ``ℓ`` (flow unit): net inflow minus modelled consumption."""
    df = daily_frame(h, amr if bal.has_amr else None, bal.sources, bal.tanks)
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
