"""Platform glue: detector from model tables; locator on a net object with a valve layer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifeline.gas.town import locate_tables, main_distances, methane_detector_for
from tests.gas.conftest import LEAK_J, SENSOR_J


def _assets() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "asset_id": ["gas:pipe:0", "water:pipe:1"],
            "utility": ["gas", "water"],
            "kind": ["pipe", "pipe"],
            "geometry_wkt": ["LINESTRING (0 0, 100 0)", "LINESTRING (0 50, 100 50)"],
        }
    )


def test_main_distance_and_detector_from_tables() -> None:
    d = main_distances(np.array([[50.0, 3.0], [50.0, 45.0]]), _assets())
    np.testing.assert_allclose(d, [3.0, 45.0])
    sensors = pd.DataFrame(
        {
            "sensor_id": ["CH4-1", "CH4-2", "P1"],
            "quantity": ["methane_pct_lel", "methane_pct_lel", "pressure_bar"],
            "x_m": [50.0, 50.0, 0.0],
            "y_m": [3.0, 45.0, 0.0],
        }
    )
    det = methane_detector_for(sensors, _assets())
    assert set(det.positions) == {"CH4-1", "CH4-2"}
    assert det.main_distance_m["CH4-2"] > det.main_radius_m > det.main_distance_m["CH4-1"]


def test_locate_tables_uses_valve_layer(gas_case: dict) -> None:
    import pandapipes as pp

    net = pp.from_json(str(gas_case["net"]))
    s = pd.read_csv(gas_case["sensors"])
    sensors = pd.DataFrame(
        {
            "sensor_id": s["sensor_id"],
            "utility": "gas",
            "quantity": s["kind"],
            "asset_id": [
                f"gas:junction:{int(j)}" if k == "pressure_bar" else "gas:manhole:x"
                for j, k in zip(s["junction"], s["kind"], strict=True)
            ],
            "x_m": s["x"],
            "y_m": s["y"],
        }
    )
    r = pd.read_csv(gas_case["readings"])
    r["ts"] = pd.to_datetime(r["ts"]).dt.tz_localize("UTC")
    pipes = {
        (int(a), int(b)): int(i)
        for i, a, b in zip(
            net.pipe.index, net.pipe.from_junction, net.pipe.to_junction, strict=True
        )
    }
    valves = pd.DataFrame(
        [("GV1", pipes[(5, 6)], 6), ("GV2", pipes[(7, 11)], 7), ("GV3", pipes[(3, 7)], 7)],
        columns=["valve_id", "pipe", "junction"],
    )
    out = locate_tables(net, sensors, r, valves, cache_dir=gas_case["cache"])
    assert out["leak"] is not None and out["leak"]["junction"] in (6, LEAK_J)
    assert out["shut_off"]["valves"] and set(out["shut_off"]["valves"]) <= {"GV1", "GV2", "GV3"}
    assert out["shut_off"]["customers_cut"] >= 1
    assert len(SENSOR_J) == 4
