"""Day-ahead load forecast per feeder: a seasonal profile regression learnt from history.

Model, per series (e.g. a feeder head's active power, MW):

    value(t) = level × profile[day_type(t), slot(t)]

* ``day_type``: weekday, Saturday, Sunday/holiday (``holidays`` are dates treated as Sunday);
* ``slot``: the interval of the local day (``tz``, default UTC) of length ``interval``;
* ``profile``: the mean of the history at that day type and slot (falling back to all days when
  the history has no day of that type);
* ``level``: the daily ratio of history to profile over the last ``level_days`` days, fitted
  with a straight line and extrapolated one day ahead (clipped to [0.5, 2]): it carries the
  seasonal trend into tomorrow, e.g. a summer heat wave that lifts every day's peak (Chongqing's
  summer peaks), without a temperature input.

Simple, transparent, and enough to warn one day ahead that a feeder will exceed its rating.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from lifeline.errors import InputError


def _day_type(ts: pd.DatetimeIndex, holidays: set[date]) -> np.ndarray:
    dow = ts.dayofweek.to_numpy()
    out = np.where(dow == 5, 1, np.where(dow == 6, 2, 0))
    if holidays:
        hol = np.array([d in holidays for d in ts.date])
        out = np.where(hol, 2, out)
    return out


@dataclass
class DayAheadForecaster:
    """Profile regression forecaster over long-layout series (``sensor_id, ts, value``)."""

    interval: str = "15min"
    tz: str = "UTC"
    level_days: int = 7
    holidays: set[date] = field(default_factory=set)
    profiles: dict[str, np.ndarray] = field(default_factory=dict)  # sensor -> [3, n_slots]
    levels: dict[str, float] = field(default_factory=dict)

    def _slots(self, ts: pd.DatetimeIndex) -> np.ndarray:
        step = pd.Timedelta(self.interval)
        local = ts.tz_convert(self.tz)
        since = local - local.normalize()
        return (since // step).to_numpy().astype(int)

    @property
    def n_slots(self) -> int:
        """Intervals per day."""
        return int(pd.Timedelta("1D") / pd.Timedelta(self.interval))

    def learn(self, history: pd.DataFrame) -> None:
        """Fit profile and level per sensor from ``history`` (long layout, UTC ``ts``)."""
        missing = {"sensor_id", "ts", "value"} - set(history.columns)
        if missing:
            raise InputError(f"history lacks column(s) {sorted(missing)}", "forecast history")
        h = history.dropna(subset=["value"]).copy()
        h["ts"] = pd.to_datetime(h["ts"], utc=True)
        step = pd.Timedelta(self.interval)
        for sid, s in h.groupby("sensor_id"):
            s = s.set_index("ts")["value"].sort_index()
            s = s.groupby(s.index.floor(step)).mean()
            idx = pd.DatetimeIndex(s.index)
            dt = _day_type(idx.tz_convert(self.tz), self.holidays)
            slot = self._slots(idx)
            vals = s.to_numpy(dtype=float)
            prof = np.full((3, self.n_slots), np.nan)
            overall = np.full(self.n_slots, np.nan)
            for k in range(self.n_slots):
                m = slot == k
                if m.any():
                    overall[k] = vals[m].mean()
                for d in range(3):
                    md = m & (dt == d)
                    if md.any():
                        prof[d, k] = vals[md].mean()
            overall = pd.Series(overall).interpolate(limit_direction="both").to_numpy()
            for d in range(3):
                prof[d] = np.where(np.isnan(prof[d]), overall, prof[d])
            self.profiles[str(sid)] = prof
            # daily ratio of actual to profile over the last days, extrapolated one day ahead
            local_day = idx.tz_convert(self.tz).normalize()
            days = np.array(sorted(set(local_day)))[-self.level_days :]
            expect = prof[dt, slot]
            ratios = []
            for d in days:
                m = (local_day == d) & np.isfinite(expect)
                den = float(expect[m].sum())
                if m.any() and abs(den) > 1e-12:
                    ratios.append(float(vals[m].sum()) / den)
            if len(ratios) >= 3:
                x = np.arange(len(ratios), dtype=float)
                slope, icpt = np.polyfit(x, np.array(ratios), 1)
                level = icpt + slope * len(ratios)
            else:
                level = float(np.mean(ratios)) if ratios else 1.0
            self.levels[str(sid)] = float(np.clip(level, 0.5, 2.0))

    def predict(self, start: pd.Timestamp, hours: int = 24) -> pd.DataFrame:
        """Forecast every learnt sensor from ``start`` (UTC) for ``hours``: long layout."""
        if not self.profiles:
            raise InputError(
                "the forecaster has learnt nothing: call learn() with history first", "forecast"
            )
        start = pd.Timestamp(start)
        start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
        ts = pd.date_range(
            start.floor(self.interval),
            periods=int(pd.Timedelta(hours=hours) / pd.Timedelta(self.interval)),
            freq=self.interval,
        )
        dt = _day_type(ts.tz_convert(self.tz), self.holidays)
        slot = self._slots(ts)
        frames = []
        for sid, prof in self.profiles.items():
            frames.append(
                pd.DataFrame(
                    {"sensor_id": sid, "ts": ts, "value": self.levels[sid] * prof[dt, slot]}
                )
            )
        return pd.concat(frames, ignore_index=True)
