"""Online methane alarm detector for streamed manhole readings (implements ``Detector``).

``score`` returns ``value / level1`` per reading (so ``ThresholdPolicy(threshold=1.0,
severity_steps=(1.0, level2 / level1, 100 / level1))`` raises level-1 alarms at 25 %LEL and
level-2 at 50 %LEL) with a ``detail`` dict per row: ``level`` (0/1/2), ``trend``, ``cause``
(``gas_leak``, ``other`` or ``sensor_fault``) and ``neighbours`` (rising manholes nearby).

The cause uses the sensor's own recent history (kept in a rolling buffer: stuck runs, spikes),
neighbouring manholes rising at the same time (gas from a main reaches several manholes; biogas
is local), the distance to the nearest gas main, and optionally a pressure-drop flag set by the
caller from the gas network's pressure sensors (:meth:`set_pressure_drop`).

Example::

    det = MethaneAlarmDetector(positions={"CH4-1": (0.0, 0.0)}, main_distance_m={"CH4-1": 3.0})
    det.learn(history)               # long layout: sensor_id, ts (UTC), value (%LEL)
    scores = det.score(new_batch)    # sensor_id, ts, score, detail
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lifeline.gas.methane import AlarmConfig, sensor_features, trend_label


@dataclass
class MethaneAlarmDetector:
    """Grades and classifies methane readings (%LEL) from manholes, batch by batch."""

    positions: dict[str, tuple[float, float]] = field(default_factory=dict)  # sensor -> (x, y) m
    main_distance_m: dict[str, float] = field(default_factory=dict)  # sensor -> nearest gas main, m
    config: AlarmConfig = field(default_factory=AlarmConfig)
    neighbour_radius_m: float = 120.0
    main_radius_m: float = 30.0  # farther from any gas main than this: a network leak is unlikely
    buffer_hours: float = 12.0
    name: str = "methane"
    utility: str = "gas"
    _hist: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    _pressure_drop: bool = field(default=False, repr=False)

    def learn(self, batch: pd.DataFrame) -> None:
        """Keep the recent history per sensor (baseline and noise come from it)."""
        self._append(batch)

    def set_pressure_drop(self, dropping: bool) -> None:
        """Tell the detector whether the gas network's pressures currently show a leak-like drop."""
        self._pressure_drop = bool(dropping)

    def _append(self, batch: pd.DataFrame) -> None:
        if batch.empty:
            return
        b = batch[["sensor_id", "ts", "value"]].copy()
        b["ts"] = pd.to_datetime(b["ts"], utc=True)
        for sid, g in b.groupby("sensor_id", sort=False):
            old = self._hist.get(str(sid))
            h = pd.concat([old, g]) if old is not None else g
            h = h.drop_duplicates("ts", keep="last").sort_values("ts")
            cut = h["ts"].max() - pd.Timedelta(hours=self.buffer_hours)
            self._hist[str(sid)] = h[h["ts"] >= cut]

    def _features(self, sid: str):  # type: ignore[no-untyped-def]
        h = self._hist.get(sid)
        if h is None or len(h) < 2:
            return None
        ts = h["ts"].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
        return sensor_features(sid, ts, h["value"].to_numpy(float), self.config)

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Score a batch: one row per reading with ``score = value / level1`` and a ``detail``."""
        if batch.empty:
            return pd.DataFrame(
                {"sensor_id": [], "ts": pd.to_datetime([], utc=True), "score": [], "detail": []}
            )
        self._append(batch)
        feats = {sid: self._features(sid) for sid in batch["sensor_id"].astype(str).unique()}
        # rising neighbours (any sensor in the buffer with a sustained rise)
        rising = {}
        for sid in self._hist:
            f = feats.get(sid) or self._features(sid)
            if (
                f is not None
                and not f.fault
                and f.onset_ts is not None
                and f.rise >= self.config.rise_min
            ):
                rising[sid] = f
        rows = []
        for r in batch.itertuples(index=False):
            sid = str(r.sensor_id)
            v = float(r.value)
            level = 2 if v >= self.config.level2 else (1 if v >= self.config.level1 else 0)
            f = feats.get(sid)
            detail: dict = {"level": level}
            if level and f is not None:
                detail["trend"] = trend_label(f.trend_pct_per_h)
                detail["cause"], detail["neighbours"] = self._cause(sid, f, rising)
            rows.append(
                {
                    "sensor_id": sid,
                    "ts": pd.Timestamp(r.ts),
                    "score": v / self.config.level1,
                    "detail": detail,
                }
            )
        out = pd.DataFrame(rows)
        out["ts"] = pd.to_datetime(out["ts"], utc=True)
        return out

    def _cause(self, sid: str, f, rising: dict) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
        if f.fault:
            return "sensor_fault", []
        near: list[str] = []
        if sid in self.positions and f.onset_ts is not None:
            x, y = self.positions[sid]
            for o, g in rising.items():
                if o == sid or o not in self.positions or g.onset_ts is None:
                    continue
                d = float(np.hypot(self.positions[o][0] - x, self.positions[o][1] - y))
                if (
                    d <= self.neighbour_radius_m
                    and abs((g.onset_ts - f.onset_ts) / pd.Timedelta(minutes=1)) <= 90
                ):
                    near.append(o)
        near_main = self.main_distance_m.get(sid, 0.0) <= self.main_radius_m
        persistent = f.persistence >= 0.7 or f.onset_ts is None
        if near_main and persistent and (near or self._pressure_drop):
            return "gas_leak", sorted(near)
        return "other", sorted(near)
