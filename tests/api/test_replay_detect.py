"""The replay's generic detectors: steps against the sensor's own noise, standard bands."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from lifeline.api.replay_detect import FallbackDetection
from tests.api.conftest import tiny_town

T0 = pd.Timestamp("2026-07-15T00:00:00Z")


def _series(sensor: str, values: np.ndarray, every: str = "15min") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sensor_id": sensor,
            "ts": pd.date_range(T0, periods=len(values), freq=every),
            "value": values,
        }
    )


def _run(det: FallbackDetection, r: pd.DataFrame, step: str = "15min") -> pd.DataFrame:
    hist, out = r.iloc[0:0], []
    for a in pd.date_range(T0, r["ts"].max(), freq=step):
        w = r[(r["ts"] >= a) & (r["ts"] < a + pd.Timedelta(step))]
        out.append(det(None, w, hist, a + pd.Timedelta(step)))
        hist = pd.concat([hist, w])
    return pd.concat(out, ignore_index=True)


def test_a_pressure_step_alarms_once_but_a_slow_daily_swing_does_not() -> None:
    t = tiny_town()
    rng = np.random.default_rng(1)
    n = 96
    daily = 45 - 6 * np.sin(np.linspace(0, 2 * np.pi, n)) + rng.normal(0, 0.1, n)  # slow swing
    burst = daily.copy()
    burst[60:] -= 12.0  # a burst main at step 60
    r = pd.concat([_series("water:p:J1", burst), _series("water:p:J2", daily)], ignore_index=True)
    al = _run(FallbackDetection(t["sensor"], t["asset"]), r)
    assert len(al) == 1
    a = al.iloc[0]
    assert json.loads(a["sensors"]) == ["water:p:J1"] and a["ts"] == T0 + pd.Timedelta(
        minutes=15 * 60
    )
    loc = json.loads(a["location"])[0]
    assert loc["asset_id"] == "water:junction:J1" and loc["zone_id"] == "DMA1"


def test_methane_band_needs_two_readings_at_or_above_20_percent_lel() -> None:
    t = tiny_town()
    v = np.r_[np.full(30, 1.0), [25.0], np.full(10, 1.0), np.full(20, 30.0)]
    al = _run(
        FallbackDetection(t["sensor"], t["asset"]), _series("gas:ch4:M2", v, "1min"), step="10min"
    )
    assert list(al["detector"]) == ["methane_lel"]
    assert al["ts"].iloc[0] == T0 + pd.Timedelta(minutes=42)  # second reading of the lasting rise


def test_voltage_outside_ten_percent() -> None:
    t = tiny_town()
    v = np.r_[np.full(20, 1.0), np.full(4, 0.0), np.full(8, 1.0)]
    al = _run(FallbackDetection(t["sensor"], t["asset"]), _series("power:v:B2", v))
    assert list(al["detector"]) == ["voltage_band"] and int(al["severity"].iloc[0]) >= 2
