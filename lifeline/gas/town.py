"""Glue for the platform: build the methane detector and run the locator from model tables.

The demo town (``lifeline.datasets.town.Town``) and the store hold sensors and assets as tables
(``lifeline.model.schema``); these helpers turn them into the inputs of
:class:`~lifeline.gas.detector.MethaneAlarmDetector` and :func:`~lifeline.gas.service.analyse`.
Gas pressure sensors sit on assets ``gas:junction:<index>``; methane sensors have ``x_m, y_m``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifeline.detect.readings import location
from lifeline.gas.detector import MethaneAlarmDetector
from lifeline.gas.methane import AlarmConfig


def main_distances(points: np.ndarray, assets: pd.DataFrame) -> np.ndarray:
    """Distance (m) from each (x, y) in ``points`` to the nearest gas pipe asset (``geometry_wkt``)."""
    from shapely import STRtree, from_wkt
    from shapely import points as mk_points

    pipes = assets[(assets["utility"] == "gas") & (assets["kind"] == "pipe")]
    geoms = [
        g for g in from_wkt(pipes["geometry_wkt"].dropna().astype(str).tolist()) if g is not None
    ]
    if not geoms or len(points) == 0:
        return np.full(len(points), np.inf)
    tree = STRtree(geoms)
    pts = mk_points(points)
    idx = tree.nearest(pts)
    return np.array([pts[i].distance(geoms[int(k)]) for i, k in enumerate(idx)], dtype=float)


def methane_detector_for(
    sensors: pd.DataFrame, assets: pd.DataFrame, config: AlarmConfig | None = None
) -> MethaneAlarmDetector:
    """A :class:`MethaneAlarmDetector` for the methane sensors of a SENSOR table.

    Positions come from ``x_m, y_m``; the distance to the nearest gas main from the gas pipe
    assets' geometry; the location candidate of each sensor is its manhole asset (``asset_id``)
    with the asset's zone.
    """
    from lifeline.detect.readings import SensorArrays

    m = sensors[sensors["quantity"] == "methane_pct_lel"]
    pts = m[["x_m", "y_m"]].to_numpy(float)
    dist = main_distances(pts, assets)
    ids = m["sensor_id"].astype(str).tolist()
    zone = dict(zip(assets["asset_id"].astype(str), assets.get("zone_id", ""), strict=False))
    arr = SensorArrays.from_table(m)
    locations = {
        s: [
            location(
                str(a or s),
                x,
                y,
                0.9,
                str(zone.get(str(a), "") or "") if str(zone.get(str(a), "")) != "nan" else "",
            )
        ]
        for s, a, x, y in zip(arr.ids, arr.asset_id, arr.x_m, arr.y_m, strict=True)
    }
    det = MethaneAlarmDetector(
        positions={s: (float(x), float(y)) for s, (x, y) in zip(ids, pts, strict=True)},
        main_distance_m={s: float(d) for s, d in zip(ids, dist, strict=True)},
        config=config or AlarmConfig(),
        locations=locations,
    )
    if len(arr):  # the ring holds buffer_hours at the fastest sensor's interval
        det.max_readings = int(
            min(det.max_readings, det.buffer_hours * 3600 / arr.interval_s.min() + 2)
        )
    return det


def locate_tables(
    gas_net: Any,
    sensors: pd.DataFrame,
    readings: pd.DataFrame,
    valves: pd.DataFrame | None = None,
    cache_dir: Path | None = None,
) -> dict:
    """Run the gas locator on a pandapipes net object and SENSOR/READING tables.

    ``readings``: ``sensor_id, ts (UTC), value``; ``valves``: ``valve_id,pipe,junction`` (e.g. the
    town's ``gas_valves``). Returns the same dict as ``lifeline gas locate`` (times in UTC).
    """
    from lifeline.gas.network import load_network
    from lifeline.gas.service import analyse

    s = sensors[sensors["utility"] == "gas"] if "utility" in sensors else sensors
    p = s[s["quantity"] == "pressure_bar"]
    m = s[s["quantity"] == "methane_pct_lel"]
    rows = [
        (
            str(r.sensor_id),
            "pressure_bar",
            int(float(str(r.asset_id).rsplit(":", 1)[-1])),
            r.x_m,
            r.y_m,
        )
        for r in p.itertuples(index=False)
    ] + [
        (str(r.sensor_id), "methane_pct_lel", None, r.x_m, r.y_m) for r in m.itertuples(index=False)
    ]
    sens = pd.DataFrame(rows, columns=["sensor_id", "kind", "junction", "x", "y"])
    sens["junction"] = sens["junction"].astype("Int64")
    net = load_network(
        network_file(gas_net),
        sens.loc[sens["kind"] == "pressure_bar", "junction"].to_numpy(int),
        cache_dir,
    )
    r = readings[["ts", "sensor_id", "value"]].copy()
    r["ts"] = pd.to_datetime(r["ts"], utc=True).dt.tz_localize(None)
    r = r[r["sensor_id"].isin(set(sens["sensor_id"]))].sort_values(["ts", "sensor_id"])
    return analyse(net, sens, r.reset_index(drop=True), valves)


def network_file(gas_net: Any) -> Path:
    """A pandapipes JSON file holding ``gas_net`` (for the sensitivity cache, which is keyed by
    the file's content): written once per content under the system temp directory."""
    import hashlib
    import tempfile

    import pandapipes as pp

    text = pp.to_json(gas_net)
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"lifeline_gas_{key}.json"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return path
