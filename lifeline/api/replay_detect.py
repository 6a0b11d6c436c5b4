"""Generic detectors the replay falls back on when no utility pipeline provides alarms.

They implement :class:`lifeline.detect.base.Detector` and turn scores into alarms with
:class:`lifeline.detect.base.ThresholdPolicy`; nothing is fitted to a network:

* :class:`StepDetector` — an abrupt change between consecutive readings of a sensor (burst main:
  pressure drop and flow rise; feeder trip: current and power fall), scored against the
  sensor's own noise, ``|Δ| / (k · 1.4826 · MAD(Δ))`` over its history (robust, scale-free).
* :class:`LevelDetector` — a fixed band from a standard: methane at or above 20 %LEL (the usual
  first alarm level of gas detectors), voltage outside ±10 % of nominal (EN 50160).

Each alarm's location is the sensor's asset (confidence 0.5), so the correlator can group
alarms by zone and distance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lifeline.detect.base import ThresholdPolicy

STEP_QUANTITIES = ("pressure_m", "pressure_bar", "flow_m3h", "current_a", "p_mw")


def _locations(
    sensors: pd.DataFrame, assets: pd.DataFrame | None
) -> dict[str, list[dict[str, Any]]]:
    zone = {}
    if assets is not None and len(assets):
        zone = dict(zip(assets["asset_id"].astype(str), assets["zone_id"], strict=True))
    out = {}
    for r in sensors.to_dict("records"):
        z = zone.get(str(r.get("asset_id")))
        out[str(r["sensor_id"])] = [
            {
                "asset_id": str(r.get("asset_id")),
                "x_m": float(r["x_m"]),
                "y_m": float(r["y_m"]),
                "confidence": 0.5,
                **({"zone_id": str(z)} if isinstance(z, str) and z else {}),
            }
        ]
    return out


@dataclass
class StepDetector:
    """Abrupt steps between consecutive readings, relative to the sensor's own noise."""

    name: str = "step_change"
    utility: str = ""
    k: float = 6.0
    rel_floor: dict[str, float] = field(
        default_factory=lambda: {"p_mw": 0.05, "current_a": 0.05, "flow_m3h": 0.05}
    )
    min_scale: dict[str, float] = field(
        default_factory=lambda: {"pressure_bar": 0.002, "pressure_m": 0.2, "flow_m3h": 1.0}
    )
    _scale: dict[str, float] = field(default_factory=dict)

    def learn(self, batch: pd.DataFrame) -> None:
        """Noise scale per sensor: 1.4826 · MAD of first differences (sensor units)."""
        for sid, g in batch.sort_values("ts").groupby("sensor_id", observed=True):
            d = np.diff(pd.to_numeric(g["value"], errors="coerce").to_numpy(float))
            d = d[np.isfinite(d)]
            if len(d) >= 4:
                lvl = float(np.nanmedian(np.abs(pd.to_numeric(g["value"], errors="coerce"))))
                mad = float(1.4826 * np.median(np.abs(d - np.median(d))))
                q = str(g["quantity"].iloc[0]) if "quantity" in g.columns else ""
                # a sensor that barely moves (MAD ≈ 0) still varies with its level: loads and
                # currents by 5 % between readings, pressures and flows by 1 %
                self._scale[str(sid)] = max(mad, self.rel_floor.get(q, 0.01) * lvl)

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """``|Δ| / (k · scale)`` per reading (0 for a sensor's first reading)."""
        b = batch.sort_values(["sensor_id", "ts"])
        v = pd.to_numeric(b["value"], errors="coerce")
        d = v.groupby(b["sensor_id"], observed=True).diff().abs()
        q = b["quantity"] if "quantity" in b.columns else pd.Series("", index=b.index)
        floor = q.map(self.min_scale).fillna(0.0).to_numpy(float)
        scale = b["sensor_id"].astype(str).map(self._scale).to_numpy(float)
        scale = np.where(np.isfinite(scale), scale, np.nan)
        scale = np.maximum(
            np.nan_to_num(scale, nan=np.inf), np.maximum(floor, 1e-3 * v.abs().to_numpy(float))
        )
        s = d.to_numpy(float) / (self.k * scale)
        return pd.DataFrame(
            {
                "sensor_id": b["sensor_id"].to_numpy(),
                "ts": b["ts"].to_numpy(),
                "score": np.nan_to_num(s),
            }
        )


@dataclass
class LevelDetector:
    """A standard band: score = distance outside it in units of the band's half width."""

    name: str
    utility: str
    low: float
    high: float

    def learn(self, batch: pd.DataFrame) -> None:
        """Nothing to learn: the band is a standard."""

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """1 at the band's edge, more outside, 0 inside (``high`` side for one-sided bands)."""
        v = pd.to_numeric(batch["value"], errors="coerce").to_numpy(float)
        if np.isfinite(self.low):
            mid, half = (self.low + self.high) / 2, (self.high - self.low) / 2
            s = np.abs(v - mid) / half
        else:
            s = v / self.high
        return pd.DataFrame(
            {
                "sensor_id": batch["sensor_id"].to_numpy(),
                "ts": batch["ts"].to_numpy(),
                "score": np.nan_to_num(s),
            }
        )


@dataclass
class FallbackDetection:
    """Runs the generic detectors on a replay step with the history before it."""

    sensors: pd.DataFrame
    assets: pd.DataFrame | None = None
    learned: bool = False
    _loc: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _meta: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __post_init__(self) -> None:
        self._loc = _locations(self.sensors, self.assets)
        self._meta = (
            self.sensors[["sensor_id", "utility", "quantity"]].astype(str).set_index("sensor_id")
        )
        self.step = {u: StepDetector(utility=u) for u in ("water", "power", "gas")}
        self.levels = [
            (
                LevelDetector("methane_lel", "gas", -np.inf, 20.0),
                "methane_pct_lel",
                ThresholdPolicy(1.0, 2),
            ),
            (
                LevelDetector("voltage_band", "power", 0.9, 1.1),
                "voltage_pu",
                ThresholdPolicy(1.0, 1),
            ),
        ]
        self.step_policy = ThresholdPolicy(1.0, 1)

    def __call__(
        self, town: Any, readings: pd.DataFrame, history: pd.DataFrame, t_end: pd.Timestamp
    ) -> pd.DataFrame:
        """Alarms (ALARM columns) first raised inside ``readings``' time span."""
        from lifeline.model.schema import empty_frame

        if len(readings) == 0:
            return empty_frame("alarm")
        t0 = readings["ts"].min()
        hist = history[history["ts"] >= t0 - pd.Timedelta(hours=6)]
        if len(hist):  # noise scales from the last 6 h (robust: one step does not move the MAD)
            for u, det in self.step.items():
                det.learn(self._with_meta(hist, u, STEP_QUANTITIES))
            self.learned = True
        both = pd.concat([hist, readings], ignore_index=True)
        frames = []
        for u, det in self.step.items():
            b = self._with_meta(both, u, STEP_QUANTITIES)
            if len(b) and self.learned:
                frames.append(self._alarms(self.step_policy, det.score(b), det.name, u, t0))
        for lvl, qty, pol in self.levels:
            b = self._with_meta(both, lvl.utility, (qty,))
            if len(b):
                frames.append(self._alarms(pol, lvl.score(b), lvl.name, lvl.utility, t0))
        frames = [f for f in frames if len(f)]
        return pd.concat(frames, ignore_index=True) if frames else empty_frame("alarm")

    def _with_meta(
        self, df: pd.DataFrame, utility: str, quantities: tuple[str, ...]
    ) -> pd.DataFrame:
        m = self._meta.reindex(df["sensor_id"].astype(str))
        keep = (m["utility"].to_numpy() == utility) & np.isin(m["quantity"].to_numpy(), quantities)
        out = df.loc[keep].copy()
        out["quantity"] = m["quantity"].to_numpy()[keep]
        return out

    def _alarms(
        self,
        policy: ThresholdPolicy,
        scores: pd.DataFrame,
        name: str,
        utility: str,
        t0: pd.Timestamp,
    ) -> pd.DataFrame:
        scores = scores.assign(
            detail=[{"location": self._loc.get(str(s), [])} for s in scores["sensor_id"]]
        )
        al = policy.alarms(scores, name, utility)
        al = al[al["ts"] >= t0]
        if len(al):
            al = al.assign(
                alarm_id=[
                    f"{name}:{json.loads(s)[0]}@{pd.Timestamp(t):%Y%m%dT%H%M}"
                    for s, t in zip(al["sensors"], al["ts"], strict=True)
                ]
            )
        return al
