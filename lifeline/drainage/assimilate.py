"""Level sensors against the model: how much wetter (or drier) the real catchment runs.

The published model is nominal; the real sewer differs (roughness, silt, imperviousness,
dry-weather inflow, pump wear). The manhole level sensors (``level_m``: water depth above the
invert) tell by how much: :class:`LevelAssimilator` compares each sensor with the analysis run
(the model driven by the observed rain) and turns the comparison into one rain factor for the
forecast runs.

* Each sensor's *baseline* (its offset plus the unmetered dry-weather flow) is the median of
  observed minus simulated level while the model is dry (simulated depth < 2 cm).
* While the model is wet at the sensor (simulated depth above 5 cm), the excess of the observed
  level above the baseline is compared with the simulated depth: the ratio observed/simulated
  (median over the wet samples of the last ``window_min`` minutes).
* Depth in a part-full pipe grows roughly like flow^0.6, and flow like rain, so a depth ratio r
  means a rain factor r^(1/0.6); the factor is the median over the sensors, clipped to
  ``bounds``, and shrunk towards 1 while few wet samples were seen.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from lifeline.drainage.io import Sensor
from lifeline.drainage.model import NetworkModel

DRY_M = 0.02
WET_M = 0.05


class LevelAssimilator:
    """Rain factor from ``level_m`` sensors against the analysis run (see module doc)."""

    def __init__(
        self,
        model: NetworkModel,
        sensors: Sequence[Sensor],
        window_min: int = 120,
        bounds: tuple[float, float] = (0.7, 1.8),
        exponent: float = 0.6,
        min_samples: int = 6,
    ) -> None:
        self.model = model
        self.sensors = [
            s for s in sensors if s.quantity == "level_m" and s.node in model.max_depth_m
        ]
        self.window = pd.Timedelta(minutes=window_min)
        self.bounds = bounds
        self.exponent = exponent
        self.min_samples = min_samples

    def ratios(self, levels: pd.DataFrame, simulated: pd.DataFrame) -> dict[str, float]:
        """Per sensor: observed/simulated depth ratio over the recent wet samples (module doc).

        ``levels``: observed values (wide by sensor id, ts <= t); ``simulated``: analysis-run
        node depths (wide by node, m). Sensors with too few wet samples are left out.
        """
        out: dict[str, float] = {}
        if levels.empty or simulated.empty:
            return out
        t = simulated.index.max()
        for s in self.sensors:
            if s.sensor_id not in levels.columns or s.node not in simulated.columns:
                continue
            both = pd.concat(
                [levels[s.sensor_id].rename("obs"), simulated[s.node].rename("sim")], axis=1
            ).dropna()
            if both.empty:
                continue
            dry = both[both["sim"] < DRY_M]
            if len(dry) < 3:
                continue
            base = float((dry["obs"] - dry["sim"]).median())
            wet = both[(both["sim"] > WET_M) & (both.index > t - self.window)]
            if len(wet) < self.min_samples:
                continue
            r = float(((wet["obs"] - base).clip(lower=0) / wet["sim"]).median())
            if np.isfinite(r) and r > 0:
                out[s.sensor_id] = r
        return out

    def rain_factor(self, levels: pd.DataFrame, simulated: pd.DataFrame) -> float:
        """One rain factor for the forecast runs from the sensors' depth ratios (module doc)."""
        r = self.ratios(levels, simulated)
        if not r:
            return 1.0
        depth_ratio = float(np.median(list(r.values())))
        factor = depth_ratio ** (1.0 / self.exponent)
        return float(np.clip(factor, *self.bounds))
