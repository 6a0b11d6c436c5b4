"""Design storms for drills: a Chicago hyetograph over the rain gauges and noisy nowcasts.

* :func:`chicago` — the Keifer & Chu (1957) hyetograph of the Chongqing main-city
  storm-intensity formula q = 1132 (1 + 0.958 lg P) / (t + 5.408)^0.595 L/(s·ha) (沙坪坝
  formula, 2014 revision; i = q / 2.778 mm/h per L/(s·ha)): return period ``P`` years,
  ``duration`` minutes, peak at ``r`` of the duration, 5-min means.
* :func:`rain_field` — the storm as a cell moving across the town: each gauge sees the
  hyetograph shifted by the cell's travel time and scaled by its distance from the cell's track
  (a Gaussian of ``width_m``), so the gauges see different rain.
* :func:`nowcasts` — what a radar nowcast says, issued every 15 min from 2 h before the rain to
  its end: the true rain ahead, smoothed (peaks flattened), shifted in time and scaled, with
  errors that grow with lead time (seeded, reproducible).

Rain frames are wide (index the 5-min ends, local or UTC, one column a gauge), mm/h.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

#: L/(s·ha) per mm/h
LSHA_PER_MMH = 10_000 / 3600.0
A, C, B, N = 1132.0, 0.958, 5.408, 0.595


def intensity_mm_h(p_years: float, t_min: float) -> float:
    """Mean intensity (mm/h) of a ``t_min`` storm of return period ``p_years`` (Chongqing)."""
    q = A * (1 + C * math.log10(p_years)) / (t_min + B) ** N
    return q / LSHA_PER_MMH


def return_period_of(peak_mm_h: float, duration_min: int = 120, r: float = 0.4) -> float:
    """The return period (years) whose Chicago hyetograph peaks at ``peak_mm_h`` (5-min mean)."""
    lo, hi = 0.1, 1000.0
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if float(chicago(mid, duration_min, r).max()) < peak_mm_h:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


def chicago(
    p_years: float, duration_min: int = 120, r: float = 0.4, step_min: int = 5
) -> np.ndarray:
    """5-min mean intensities (mm/h) of the Chicago hyetograph (module doc)."""
    a = A * (1 + C * math.log10(p_years)) / LSHA_PER_MMH  # mm/h · min^n

    def cum_depth(t: float) -> float:  # mm over the t minutes around the peak
        return a * t / (t + B) ** N / 60.0

    n = duration_min // step_min
    edges = np.arange(n + 1) * step_min
    tp = r * duration_min
    depth = np.zeros(n + 1)
    for k, t in enumerate(edges):
        # the Chicago storm: the depth before the peak is r of the depth of a storm of
        # duration (tp - t) / r, after it (1 - r) of one of (t - tp) / (1 - r)
        if t <= tp:
            depth[k] = -r * cum_depth((tp - t) / r)
        else:
            depth[k] = (1 - r) * cum_depth((t - tp) / (1 - r))
    return np.maximum(np.diff(depth), 0.0) * 60.0 / step_min


def rain_field(
    hyetograph: np.ndarray,
    start: pd.Timestamp,
    gauges: Mapping[str, tuple[float, float]],
    speed_m_s: float = 8.0,
    heading_deg: float = 60.0,
    width_m: float = 3000.0,
    index: pd.DatetimeIndex | None = None,
) -> pd.DataFrame:
    """Rain (mm/h) at each gauge from a cell moving at ``speed_m_s`` towards ``heading_deg``
    (from north, clockwise) across the gauges' centre, arriving there at ``start``; 5-min
    rows on ``index`` (default: the storm's span plus 2 h)."""
    xy = np.array(list(gauges.values()), dtype=float)
    c = xy.mean(axis=0)
    h = math.radians(heading_deg)
    u = np.array([math.sin(h), math.cos(h)])
    along = (xy - c) @ u
    across = (xy - c) @ np.array([u[1], -u[0]])
    if index is None:
        index = pd.date_range(
            start - pd.Timedelta(hours=1),
            start + pd.Timedelta(minutes=5 * len(hyetograph)) + pd.Timedelta(hours=2),
            freq="5min",
        )
    out = pd.DataFrame(0.0, index=index, columns=list(gauges))
    t_end = np.asarray((index - start).total_seconds(), dtype=float)  # end of each 5-min bin
    for k, g in enumerate(gauges):
        delay = along[k] / speed_m_s
        scale = math.exp(-0.5 * (across[k] / width_m) ** 2)
        bins = np.floor((t_end - 300.0 - delay) / 300.0).astype(int)
        ok = (bins >= 0) & (bins < len(hyetograph))
        vals = np.zeros(len(index))
        vals[ok] = hyetograph[bins[ok]] * scale
        out[g] = vals
    return out


def nowcasts(
    truth: pd.DataFrame,
    seed: int = 0,
    horizon_min: int = 120,
    every_min: int = 15,
    lead_min: int = 120,
    min_mm_h: float = 0.5,
) -> dict[pd.Timestamp, pd.DataFrame]:
    """Noisy nowcasts of ``truth`` (module doc): issue time -> rows (issue, issue + horizon].

    Issued every ``every_min`` from ``lead_min`` before the first rain of at least
    ``min_mm_h`` to the last; each nowcast's timing error and intensity factor are drawn once
    per issue (random walk from issue to issue), its peaks smoothed over 15 min and its
    intensity error grows with lead time.
    """
    rng = np.random.default_rng(seed)
    wet = truth.index[(truth >= min_mm_h).any(axis=1)]
    if len(wet) == 0:
        return {}
    first = (wet[0] - pd.Timedelta(minutes=lead_min)).floor(f"{every_min}min")
    last = wet[-1].ceil(f"{every_min}min")
    issues = pd.date_range(first, last, freq=f"{every_min}min")
    smooth = truth.rolling(3, center=True, min_periods=1).mean()
    out: dict[pd.Timestamp, pd.DataFrame] = {}
    shift, bias = 0.0, 0.0
    for t in issues:
        shift = 0.7 * shift + rng.normal(0.0, 1.0)  # 5-min steps of timing error
        bias = 0.7 * bias + rng.normal(0.0, 0.12)
        idx = pd.date_range(
            t + pd.Timedelta(minutes=5), t + pd.Timedelta(minutes=horizon_min), freq="5min"
        )
        lead = np.arange(1, len(idx) + 1) * 5.0
        src = idx - pd.Timedelta(minutes=5 * int(round(shift)))
        base = smooth.reindex(src).fillna(0.0).to_numpy()
        noise = rng.normal(0.0, 1.0, size=base.shape) * (0.05 + 0.25 * lead / horizon_min)[:, None]
        vals = base * np.exp(bias - 0.2 * lead[:, None] / horizon_min + noise)
        out[t] = pd.DataFrame(np.maximum(vals, 0.0).round(2), index=idx, columns=truth.columns)
    return out
