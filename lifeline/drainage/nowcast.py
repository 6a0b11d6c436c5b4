"""Rain for the model: gap-filled observed rain and bias-corrected nowcasts.

All rain frames are wide (index ts, one column per gauge), mm/h, the mean over the 5 min ending
at ts. Every function here sees only what is passed to it: the caller hands in the observations
up to the issue time and the nowcasts issued up to it.

* :func:`fill_observed` fills missing gauge values (faults, outages) from the other gauges
  (scaled by how much this gauge caught relative to them so far), else from the latest nowcast
  that covered the time, else with 0.
* :class:`NowcastVerifier` keeps the nowcasts issued so far and measures their bias against the
  rain that has since been observed: the ratio observed / forecast over the recent past, at the
  lead times it was forecast. A growing storm is under-forecast (ratio > 1), a decaying one
  over-forecast (< 1); the ratio is shrunk towards 1 when little rain was seen or forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lifeline.drainage.io import STEP, Forecast


def grid(start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """The 5-min rain grid from ``start`` to ``end`` inclusive (both on the grid)."""
    return pd.date_range(start, end, freq=STEP)


def fill_observed(
    rain: pd.DataFrame,
    gauges: Sequence[str],
    start: pd.Timestamp,
    end: pd.Timestamp,
    forecasts: Sequence[Forecast] = (),
) -> pd.DataFrame:
    """Observed rain on the 5-min grid (start, end] for ``gauges`` with every gap filled (mm/h).

    A missing value (empty cell, missing row, unknown gauge) takes the mean of the gauges that
    reported at that time times this gauge's catch ratio (its total / the others' mean total
    over the rows where both reported, clipped to 0.5–2; 1 until the others caught 5 mm); when no gauge reported, the
    value of the latest nowcast issued before that time; else 0.
    """
    idx = grid(start + STEP, end) if end > start else pd.DatetimeIndex([])
    obs = rain.reindex(index=idx, columns=list(gauges)).astype(float)
    if obs.empty:
        return obs.fillna(0.0)
    hist = rain.reindex(columns=list(gauges))
    hist = hist[hist.index <= end]
    ratio = {}
    for g in gauges:
        others = hist.drop(columns=[g]).mean(axis=1, skipna=True)
        both = hist[g].notna() & others.notna()
        tot_g = float(hist.loc[both, g].sum())
        tot_o = float(others[both].sum())
        ratio[g] = float(np.clip(tot_g / tot_o, 0.5, 2.0)) if tot_o * 5 / 60 > 5 else 1.0
    missing = obs.isna()
    if missing.any().any():
        avail_mean = obs.mean(axis=1, skipna=True)
        for g in gauges:
            m = missing[g]
            if m.any():
                obs.loc[m, g] = avail_mean[m] * ratio[g]
        still = obs.isna()
        if still.any().any() and forecasts:
            for ts in obs.index[still.any(axis=1)]:
                fc = [f for f in forecasts if f.issued_at < ts and ts in f.rain.index]
                if fc:
                    row = fc[-1].rain.loc[ts]
                    for g in gauges:
                        if pd.isna(obs.at[ts, g]) and g in row.index and np.isfinite(row[g]):
                            obs.at[ts, g] = float(row[g])
    return obs.fillna(0.0).clip(lower=0.0)


@dataclass(frozen=True)
class Bias:
    """Observed / forecast rain ratio over the recent past (``ratio``), with the rain amounts (mm)
    it rests on: ``observed_mm`` and ``forecast_mm`` (gauge means), and the number of nowcasts."""

    ratio: float
    observed_mm: float
    forecast_mm: float
    n_forecasts: int


class NowcastVerifier:
    """Measures the recent bias of the nowcasts against the observed rain (see module doc).

    ``window``: how far back (min) the comparison reaches; ``prior_mm``: pseudo-amount (mm) of
    rain at ratio 1 added to both sides, which shrinks the ratio towards 1 on small amounts;
    ``bounds``: the ratio is clipped to these.
    """

    def __init__(
        self,
        window_min: int = 45,
        prior_mm: float = 3.0,
        bounds: tuple[float, float] = (0.3, 3.0),
    ) -> None:
        self.window = pd.Timedelta(minutes=window_min)
        self.prior_mm = prior_mm
        self.bounds = bounds

    def bias(self, t: pd.Timestamp, observed: pd.DataFrame, forecasts: Sequence[Forecast]) -> Bias:
        """The bias at ``t``: compare the rain observed in (t - window, t] with what each nowcast
        issued before that rain fell said about it (only nowcasts issued at or before t - 15
        min and rows at or before t are used)."""
        lo = t - self.window
        obs_sum = 0.0
        fc_sum = 0.0
        n = 0
        for f in forecasts:
            if f.issued_at > t - pd.Timedelta(minutes=15) or f.issued_at < lo - self.window:
                continue
            rows = f.rain[(f.rain.index > max(lo, f.issued_at)) & (f.rain.index <= t)]
            if rows.empty:
                continue
            cols = [c for c in rows.columns if c in observed.columns]
            if not cols:
                continue
            o = observed.reindex(index=rows.index, columns=cols)
            ok = o.notna().all(axis=1)
            if not ok.any():
                continue
            obs_sum += float(o[ok].mean(axis=1).sum()) * STEP.total_seconds() / 3600
            fc_sum += float(rows[ok][cols].mean(axis=1).sum()) * STEP.total_seconds() / 3600
            n += 1
        if n == 0:
            return Bias(1.0, 0.0, 0.0, 0)
        obs_mm, fc_mm = obs_sum / n, fc_sum / n
        ratio = (obs_mm + self.prior_mm) / (fc_mm + self.prior_mm)
        return Bias(float(np.clip(ratio, *self.bounds)), obs_mm, fc_mm, n)


def _on_grid(forecast: Forecast, gauges: Sequence[str], idx: pd.DatetimeIndex) -> pd.DataFrame:
    """One nowcast on ``idx``: NaN where it does not reach; a missing gauge value inside it
    takes the mean of the other gauges at that time."""
    fc = forecast.rain.reindex(index=idx, columns=list(gauges)).astype(float)
    covered = forecast.rain.reindex(index=idx).notna().any(axis=1)
    mean = fc.mean(axis=1, skipna=True)
    for g in gauges:
        m = fc[g].isna() & covered
        fc.loc[m, g] = mean[m]
    fc.loc[~covered, :] = np.nan
    return fc


def forecast_rain(
    forecasts: Forecast | Sequence[Forecast] | None,
    gauges: Sequence[str],
    t: pd.Timestamp,
    horizon_min: int,
    scale: float = 1.0,
    lagged: int = 1,
) -> pd.DataFrame:
    """The rain forecast on the 5-min grid (t, t + horizon] for ``gauges`` (mm/h), x ``scale``.

    With ``lagged`` > 1 it is a time-lagged ensemble mean: each time takes the mean of the
    latest ``lagged`` nowcasts (issued at or before t, at most ``lagged`` x 15 min old) that
    cover it, which damps the jumps of single nowcasts. Times no nowcast covers are 0.
    """
    idx = grid(t + STEP, t + pd.Timedelta(minutes=horizon_min))
    if forecasts is None:
        forecasts = []
    elif isinstance(forecasts, Forecast):
        forecasts = [forecasts]
    usable = [f for f in forecasts if f.issued_at <= t and not f.rain.empty]
    usable = usable[-max(1, lagged) :]
    if lagged > 1:
        oldest = t - pd.Timedelta(minutes=15 * lagged)
        usable = [f for f in usable if f.issued_at > oldest] or usable[-1:]
    if not usable:
        return pd.DataFrame(0.0, index=idx, columns=list(gauges))
    stack = np.stack([_on_grid(f, gauges, idx).to_numpy() for f in usable])
    count = np.sum(~np.isnan(stack), axis=0)
    total = np.nansum(stack, axis=0)
    mean = np.where(count > 0, total / np.maximum(count, 1), 0.0)
    out = pd.DataFrame(mean, index=idx, columns=list(gauges))
    return (out.fillna(0.0) * scale).clip(lower=0.0)
