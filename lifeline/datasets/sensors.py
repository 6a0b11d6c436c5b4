"""Manholes of other utilities, the sensor inventory and the cross-utility dependencies."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifeline.datasets.geo import point_xy
from lifeline.model.schema import conform

#: a power cable well counts as "near a gas main" within this distance (metres)
CABLE_WELL_MAX_M = 12.0
SEWER_SPACING_M = 60.0
N_SEWER_DETECTORS = 20
N_TELECOM_DETECTORS = 15
N_CABLE_WELLS = 30
N_WATER_PRESSURE = 24
N_GAS_PRESSURE = 11
FLOODING_MAX_M = 40.0


def farthest_points(xy: np.ndarray, k: int, start: int = 0) -> list[int]:
    """Indices of ``k`` well-spread points (greedy farthest-point sampling from ``start``)."""
    k = min(k, len(xy))
    chosen = [start]
    d = np.hypot(*(xy - xy[start]).T)
    while len(chosen) < k:
        i = int(np.argmax(d))
        chosen.append(i)
        d = np.minimum(d, np.hypot(*(xy - xy[i]).T))
    return chosen


def gas_main_lines(gas: Any) -> tuple[Any, list[int]]:
    """Shapely STRtree over gas main pipes and the pipe ids in tree order."""
    from shapely import LineString, STRtree

    from lifeline.datasets.gas_town import main_pipes

    gd = gas.junction_geodata
    mp = main_pipes(gas)
    geoms = [
        LineString([gd.loc[a, ["x", "y"]].tolist(), gd.loc[b, ["x", "y"]].tolist()])
        for a, b in zip(mp.from_junction, mp.to_junction, strict=True)
    ]
    return STRtree(geoms), [int(i) for i in mp.index]


def manholes(power: Any, gas: Any) -> pd.DataFrame:
    """Manholes near gas mains: power cable wells, sewer and telecom manholes.

    Columns: asset_id, utility, kind ('manhole'), ref, name, x_m, y_m, near_gas_pipe, distance_m.
    Cable wells sit at LV cable joints (LV buses joining 3+ cables) within
    :data:`CABLE_WELL_MAX_M` of a gas main; sewer manholes every ~60 m along the mains (street
    centre, 1.5 m off the gas line); telecom manholes at street corners (main junctions of degree 3+).
    """
    import networkx as nx
    from shapely import Point

    from lifeline.datasets.gas_town import main_pipes
    from lifeline.datasets.power_town import LV_OFFSET

    tree, pipe_ids = gas_main_lines(gas)
    gd = gas.junction_geodata
    rows: list[dict[str, Any]] = []

    lv_lines = power.line[power.line.index >= LV_OFFSET]
    deg = pd.concat([lv_lines.from_bus, lv_lines.to_bus]).value_counts()
    joints = deg.index[deg >= 3]
    jxy = np.array([point_xy(power.bus.at[b, "geo"]) for b in joints])
    near = []
    for b, (x, y) in zip(joints, jxy, strict=True):
        i, d = tree.query_nearest(Point(x, y), return_distance=True)
        if len(i) and d[0] <= CABLE_WELL_MAX_M:
            near.append((int(b), x, y))
    if near:
        arr = np.array([[n[1], n[2]] for n in near])
        for k, i in enumerate(sorted(farthest_points(arr, N_CABLE_WELLS))):
            b, x, y = near[i]
            rows.append(
                {
                    "asset_id": f"power:manhole:CW{k + 1}",
                    "utility": "power",
                    "ref": f"CW{k + 1}",
                    "name": f"LV cable well at bus {b}",
                    "x_m": x,
                    "y_m": y,
                }
            )
    mp = main_pipes(gas)
    g = nx.Graph()
    g.add_edges_from(zip(mp.from_junction, mp.to_junction, strict=True))
    mains = sorted(g.nodes)
    mxy = gd.loc[mains, ["x", "y"]].to_numpy()
    accepted: list[np.ndarray] = []
    for p in mxy:
        if not accepted or np.min(np.hypot(*(np.array(accepted) - p).T)) >= SEWER_SPACING_M:
            accepted.append(p)
    for k, p in enumerate(accepted):
        rows.append(
            {
                "asset_id": f"drainage:manhole:S{k + 1}",
                "utility": "drainage",
                "ref": f"S{k + 1}",
                "name": "sewer manhole",
                "x_m": p[0] + 1.5,
                "y_m": p[1] + 1.5,
            }
        )
    corners = [n for n in mains if g.degree(n) >= 3]
    for k, n in enumerate(corners):
        x, y = gd.loc[n, ["x", "y"]]
        rows.append(
            {
                "asset_id": f"telecom:manhole:T{k + 1}",
                "utility": "telecom",
                "ref": f"T{k + 1}",
                "name": "telecom manhole",
                "x_m": float(x) - 2.0,
                "y_m": float(y) + 1.0,
            }
        )
    df = pd.DataFrame(rows)
    df["kind"] = "manhole"
    near_pipe, dist = [], []
    for x, y in zip(df.x_m, df.y_m, strict=True):
        i, d = tree.query_nearest(Point(x, y), return_distance=True)
        near_pipe.append(f"gas:pipe:{pipe_ids[int(i[0])]}")
        dist.append(round(float(d[0]), 2))
    df["near_gas_pipe"] = near_pipe
    df["distance_m"] = dist
    return df


def _sensor_rows(
    asset_ids: Any,
    x: Any,
    y: Any,
    utility: str,
    quantity: str,
    unit: str,
    interval: int,
    lo: float,
    hi: float,
    prefix: str,
) -> pd.DataFrame:
    ids = list(asset_ids)
    return pd.DataFrame(
        {
            "sensor_id": [f"{prefix}:{a.split(':', 2)[-1]}" for a in ids],
            "asset_id": ids,
            "utility": utility,
            "quantity": quantity,
            "unit": unit,
            "interval_s": interval,
            "valid_min": lo,
            "valid_max": hi,
            "x_m": np.asarray(x, float),
            "y_m": np.asarray(y, float),
        }
    )


def build_sensors(
    assets: pd.DataFrame,
    wn: Any,
    gas: Any,
    power: Any,
    mh: pd.DataFrame,
    dma_of_node: pd.Series,
    feeder_heads: dict[str, int],
    trunk_pipes: list[str] | None = None,
) -> pd.DataFrame:
    """The sensor inventory (schema SENSOR); see docs/town.md for the placement rules.

    Water flow meters sit on the DMA inlets: the ``trunk_pipes`` that cross a DMA boundary (every
    boundary pipe when no trunk is given).
    """
    a = assets.set_index("asset_id")
    parts = []
    # water pressure: station outlet + well-spread junctions
    jn = wn.junction_name_list
    jxy = np.array([wn.get_node(n).coordinates for n in jn])
    pick = [jn.index("WW")] + [
        i for i in farthest_points(jxy, N_WATER_PRESSURE, jn.index("WW")) if jn[i] != "WW"
    ]
    ids = [f"water:junction:{jn[i]}" for i in pick]
    parts.append(
        _sensor_rows(
            ids,
            a.loc[ids].x_m,
            a.loc[ids].y_m,
            "water",
            "pressure_m",
            "m",
            300,
            -10.0,
            100.0,
            "water:pressure",
        )
    )
    # water flow: transmission mains out of the station, the tower's main, the pumps and the
    # DMA inlets (trunk pipes crossing a DMA boundary)
    station = {"WW", *wn.tank_name_list}
    flow_links = [
        n
        for n, lk in wn.pipes()
        if not lk.check_valve and {lk.start_node_name, lk.end_node_name} & station
    ]
    flow_links += list(wn.pump_name_list)
    for name in wn.pipe_name_list if trunk_pipes is None else trunk_pipes:
        lk = wn.get_link(name)
        if (
            name not in flow_links
            and dma_of_node[lk.start_node_name] != dma_of_node[lk.end_node_name]
        ):
            flow_links.append(name)
    ids = [f"water:{'pump' if n in wn.pump_name_list else 'pipe'}:{n}" for n in flow_links]
    parts.append(
        _sensor_rows(
            ids,
            a.loc[ids].x_m,
            a.loc[ids].y_m,
            "water",
            "flow_m3h",
            "m3/h",
            300,
            -300.0,
            300.0,
            "water:flow",
        )
    )
    # gas: regulator outlet pressure and flow, well-spread main junction pressures
    from lifeline.datasets.gas_town import main_pipes

    mp = main_pipes(gas)
    mains = sorted(set(mp.from_junction) | set(mp.to_junction))
    src = int(gas.ext_grid.junction.iloc[0])
    mxy = gas.junction_geodata.loc[mains, ["x", "y"]].to_numpy()
    pick = farthest_points(mxy, N_GAS_PRESSURE + 1, mains.index(src))
    ids = [f"gas:junction:{mains[i]}" for i in pick]
    parts.append(
        _sensor_rows(
            ids,
            a.loc[ids].x_m,
            a.loc[ids].y_m,
            "gas",
            "pressure_bar",
            "bar",
            300,
            0.0,
            2.0,
            "gas:pressure",
        )
    )
    parts.append(
        _sensor_rows(
            ["gas:regulator:R1"],
            [a.at["gas:regulator:R1", "x_m"]],
            [a.at["gas:regulator:R1", "y_m"]],
            "gas",
            "flow_m3h",
            "m3/h",
            300,
            0.0,
            3000.0,
            "gas:flow",
        )
    )
    # methane detectors: all cable wells, spread subsets of sewer and telecom manholes
    det = [mh[mh.utility == "power"]]
    for util, k in (("drainage", N_SEWER_DETECTORS), ("telecom", N_TELECOM_DETECTORS)):
        sub = mh[mh.utility == util].reset_index(drop=True)
        det.append(sub.iloc[sorted(farthest_points(sub[["x_m", "y_m"]].to_numpy(), k))])
    d = pd.concat(det)
    parts.append(
        _sensor_rows(
            d.asset_id,
            d.x_m,
            d.y_m,
            "gas",
            "methane_pct_lel",
            "%LEL",
            60,
            0.0,
            100.0,
            "gas:methane",
        )
    )
    # MV feeder heads: current and active power
    ids = [f"power:line:{h}" for h in sorted(feeder_heads.values())]
    parts.append(
        _sensor_rows(
            ids,
            a.loc[ids].x_m,
            a.loc[ids].y_m,
            "power",
            "current_a",
            "A",
            60,
            0.0,
            800.0,
            "power:current",
        )
    )
    parts.append(
        _sensor_rows(
            ids, a.loc[ids].x_m, a.loc[ids].y_m, "power", "p_mw", "MW", 60, -20.0, 20.0, "power:p"
        )
    )
    # LV substations: transformer active power and LV busbar voltage
    lv_tr = power.trafo[power.trafo.vn_hv_kv < 60]
    ids = [f"power:trafo:{t}" for t in lv_tr.index]
    parts.append(
        _sensor_rows(
            ids, a.loc[ids].x_m, a.loc[ids].y_m, "power", "p_mw", "MW", 60, -2.0, 2.0, "power:p"
        )
    )
    ids = [f"power:bus:{b}" for b in lv_tr.lv_bus]
    parts.append(
        _sensor_rows(
            ids,
            a.loc[ids].x_m,
            a.loc[ids].y_m,
            "power",
            "voltage_pu",
            "pu",
            60,
            0.0,
            1.2,
            "power:voltage",
        )
    )
    return conform("sensor", pd.concat(parts, ignore_index=True))


def build_dependencies(
    assets: pd.DataFrame, wn: Any, gas: Any, power: Any, mh: pd.DataFrame, station_bus: int
) -> pd.DataFrame:
    """Cross-utility dependencies (schema DEPENDENCY): supply, proximity and flooding."""
    from shapely import LineString, Point, STRtree

    a = assets.set_index("asset_id")
    rows = [
        {
            "asset_id": f"water:pump:{p}",
            "utility": "water",
            "depends_on_asset_id": f"power:bus:{station_bus}",
            "depends_on_utility": "power",
            "kind": "supply",
            "distance_m": 0.0,
        }
        for p in wn.pump_name_list
    ]
    # the gas regulator station's electric equipment (telemetry, gas preheater) on the nearest LV bus
    rx, ry = a.at["gas:regulator:R1", "x_m"], a.at["gas:regulator:R1", "y_m"]
    lv = a[
        (a.kind == "bus")
        & (a.utility == "power")
        & pd.to_numeric(a.ref, errors="coerce").ge(100_000)
    ]
    d = np.hypot(lv.x_m - rx, lv.y_m - ry)
    rows.append(
        {
            "asset_id": "gas:regulator:R1",
            "utility": "gas",
            "depends_on_asset_id": d.idxmin(),
            "depends_on_utility": "power",
            "kind": "supply",
            "distance_m": round(float(d.min()), 2),
        }
    )
    for r in mh.itertuples():
        rows.append(
            {
                "asset_id": r.asset_id,
                "utility": r.utility,
                "depends_on_asset_id": r.near_gas_pipe,
                "depends_on_utility": "gas",
                "kind": "proximity",
                "distance_m": r.distance_m,
            }
        )
    names = wn.pipe_name_list
    geoms = [
        LineString([wn.get_link(n).start_node.coordinates, wn.get_link(n).end_node.coordinates])
        for n in names
    ]
    tree = STRtree(geoms)
    lv_tr = power.trafo[power.trafo.vn_hv_kv < 60]
    for t in lv_tr.index:
        aid = f"power:trafo:{t}"
        i, dist = tree.query_nearest(
            Point(a.at[aid, "x_m"], a.at[aid, "y_m"]), return_distance=True
        )
        if len(i) and dist[0] <= FLOODING_MAX_M:
            rows.append(
                {
                    "asset_id": aid,
                    "utility": "power",
                    "depends_on_asset_id": f"water:pipe:{names[int(i[0])]}",
                    "depends_on_utility": "water",
                    "kind": "flooding",
                    "distance_m": round(float(dist[0]), 2),
                }
            )
    return conform("dependency", pd.DataFrame(rows))
