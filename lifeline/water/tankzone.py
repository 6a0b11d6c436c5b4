"""Zones behind a metered tank: where a leak's water comes from, and when a tank is too low for
the residual model.

A pressure zone that one tank feeds, with a flow meter on that tank's inlet or outlet (L-Town's
zone behind its pumped tank T1), takes a leak's outflow from the tank: the reservoirs' inflow,
which the residual model regresses the pressures on, does not change, so the model takes nothing
out of the leak's pressure drop and the other zones stay still (:func:`tank_zones`; the shares
come from the sensitivity solve, :func:`lifeline.water.network.sensitivity`). Tanks that float
on the mains without a meter of their own (ky4's) are not such zones: their drawdown is met
through the same mains.

When such a tank runs low (emptied, and refilling), it no longer sets its zone's pressure as the
residual model, linear in the level, has it: the zone's sensors are left out of those hours and
the other sensors fill them (:meth:`TankZones.mask`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lifeline.water.network import Sensitivity

# a zone fed from one tank: that tank supplies at least this share of a leak there, the
# reservoirs under half
ONE_TANK = 0.9
# a tank is low in the lowest quarter of its range: a choice made on development worlds, where
# an emptied tank refilling to 0.85 of 4 m still left its zone's residuals off by 0.5 m and the
# tank stays above 2.3 m in normal operation
LOW_TANK = 0.25


@dataclass
class TankZones:
    """The nodes behind each metered tank, the tank whose low level leaves each pressure sensor
    out (None: none, or a tank that works low; see :func:`tank_zones`) and each such tank's
    (lowest, highest) level (m)."""

    node_tank: dict[str, str]
    sensor_tank: list[str | None]
    bounds: dict[str, tuple[float, float]]

    def behind(self, node: str) -> bool:
        """Whether ``node`` lies in a zone behind a metered tank."""
        return node in self.node_tank

    def off_regime(self, h: pd.DataFrame) -> np.ndarray:
        """(hours × sensors) True where a sensor's zone tank is low: its hourly mean level
        (``L:`` + tank id in ``h``) in the lowest ``LOW_TANK`` of its range."""
        out = np.zeros((len(h), len(self.sensor_tank)), dtype=bool)
        for tank in {t for t in self.sensor_tank if t is not None}:
            col = f"L:{tank}"
            if col not in h.columns:
                continue
            lo, hi = self.bounds[tank]
            lv = h[col].to_numpy(dtype=float)
            low = np.isfinite(lv) & (lv <= lo + LOW_TANK * (hi - lo))
            out[np.ix_(low, np.array([t == tank for t in self.sensor_tank]))] = True
        return out

    def mask(self, h: pd.DataFrame, d: np.ndarray) -> np.ndarray:
        """``d`` (hours × sensors, aligned with ``h``) without the values of the sensors whose
        zone tank is low (:meth:`off_regime`)."""
        off = self.off_regime(h)
        return np.where(off, np.nan, d) if off.any() else d


def tank_zones(
    wn: Any, sens: Sensitivity, sensors: list[str], flows: list[str], hist: pd.DataFrame
) -> TankZones:
    """The zones of network ``wn`` behind a tank with a flow meter (``flows``: the metered
    links) on one of its links: each junction whose leak that tank supplies at least
    ``ONE_TANK`` of, the reservoirs under half (``sens``); their sensors among ``sensors``.
    A tank that the hourly history ``hist`` has low in more than half of its hours works there
    normally: its zone's sensors are never left out (the other rules stay)."""
    metered = {t for t in wn.tank_name_list if set(wn.get_links_for_node(t)) & set(flows)}
    node_tank: dict[str, str] = {}
    if metered:
        for k, node in enumerate(sens.junctions):
            if sens.source_share[k] >= 0.5:
                continue
            j = int(np.argmax(sens.tank_share[k]))
            if sens.tank_share[k, j] >= ONE_TANK and sens.tanks[j] in metered:
                node_tank[node] = sens.tanks[j]
    bounds = {}
    for t in set(node_tank.values()):
        tank = wn.get_node(t)
        bounds[t] = (float(tank.min_level), float(tank.max_level))
    zones = TankZones(node_tank, [node_tank.get(s) for s in sensors], bounds)
    off = zones.off_regime(hist)
    usual = {t for t, on in zip(zones.sensor_tank, off.mean(axis=0) > 0.5, strict=True) if on}
    zones.sensor_tank = [None if t in usual else t for t in zones.sensor_tank]
    return zones
