"""Level sensors against the analysis run: baseline, depth ratio, rain factor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lifeline.drainage.assimilate import LevelAssimilator
from lifeline.drainage.io import Sensor
from lifeline.drainage.model import load_network

from .conftest import storm_rain


def test_offset_removed_and_ratio_turned_into_a_rain_factor(make_day) -> None:
    paths = make_day(storm_rain(30.0))
    model = load_network(paths["network"])
    idx = pd.date_range("2025-07-01 10:00", periods=48, freq="5min")
    sim = np.where(np.arange(48) < 24, 0.0, 0.4)  # dry, then wet at 0.4 m
    simulated = pd.DataFrame({"J2": sim}, index=idx)
    # the sensor reads 3 cm of offset + dry-weather flow, and 1.5x the simulated depth when wet
    obs = 0.03 + 1.5 * sim
    obs[30] = np.nan  # a dropout
    levels = pd.DataFrame({"LV1": obs}, index=idx)
    sensors = [Sensor("LV1", "J2", "level_m"), Sensor("DP1", "SAG", "depth_m")]
    a = LevelAssimilator(model, sensors, bounds=(0.5, 3.0), exponent=0.6)
    r = a.ratios(levels, simulated)
    assert set(r) == {"LV1"} and np.isclose(r["LV1"], 1.5)
    assert np.isclose(a.rain_factor(levels, simulated), 1.5 ** (1 / 0.6))
    # too few wet samples: no verdict, factor 1
    assert a.rain_factor(levels.iloc[:26], simulated.iloc[:26]) == 1.0
    assert a.rain_factor(pd.DataFrame(), simulated) == 1.0


def test_factor_is_clipped(tmp_path: Path, make_day) -> None:
    paths = make_day(storm_rain(30.0))
    model = load_network(paths["network"])
    idx = pd.date_range("2025-07-01 10:00", periods=40, freq="5min")
    simulated = pd.DataFrame({"J2": np.r_[np.zeros(10), np.full(30, 0.2)]}, index=idx)
    levels = pd.DataFrame({"LV1": np.r_[np.zeros(10), np.full(30, 1.0)]}, index=idx)
    a = LevelAssimilator(model, [Sensor("LV1", "J2", "level_m")], bounds=(0.7, 1.8))
    assert a.rain_factor(levels, simulated) == 1.8
