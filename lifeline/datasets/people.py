"""Customers: households matched across utilities, and the (fictional) critical sites.

Households: each LV household load of ``lv_schutterwald`` is matched one-to-one to a gas house
node of ``schutterwald_gas`` (optimal assignment on distance; nearly all lie ~0.9 m apart); the
water build (``water_town.build_water``) puts it on the water junction its house-connection
cable reaches.

Critical sites are fictional placements on real elements of the models (docs/town.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lifeline.datasets.gas_town import house_nodes, main_pipes, service_main_junction
from lifeline.datasets.geo import point_xy
from lifeline.datasets.power_town import LV_OFFSET

LITRES_PER_PERSON_DAY = 125.0
#: critical LV sites go on buses at most this far (km of cable) from their substation busbar
STRONG_LV_KM = 0.15


@dataclass(frozen=True)
class Site:
    """A critical site: where it goes (offset from the village centre, m) and what it draws."""

    key: str
    name: str
    category: str
    dx_m: float
    dy_m: float
    p_mw: float
    water_m3s: float
    gas_kg_s: float
    level: str  # "mv" (own MV connection), "lv" (on an LV bus), "station" (pumping station)


SITES: tuple[Site, ...] = (
    Site(
        "H1",
        "Klinik Schutterwald (fictional hospital)",
        "hospital",
        -350.0,
        250.0,
        0.45,
        0.0012,
        0.004,
        "mv",
    ),
    Site(
        "S1",
        "Grundschule Schutterwald (school)",
        "school",
        100.0,
        50.0,
        0.035,
        0.0004,
        0.0015,
        "lv",
    ),
    Site(
        "S2", "Realschule Schutterwald (school)", "school", 450.0, -350.0, 0.05, 0.0005, 0.002, "lv"
    ),
    Site(
        "C1",
        "Pflegeheim St. Anna (care home)",
        "care_home",
        300.0,
        400.0,
        0.06,
        0.0006,
        0.0012,
        "lv",
    ),
    Site(
        "W1",
        "Wasserwerk Schutterwald pumping station",
        "pumping_station",
        0.0,
        0.0,
        0.03,
        0.0,
        0.0,
        "station",
    ),
)


def bus_xy(net: Any) -> pd.DataFrame:
    """Bus positions (town metres) of a pandapower net as columns x, y."""
    xy = np.array([point_xy(g) for g in net.bus["geo"]])
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]}, index=net.bus.index)


def match_households(power: Any, gas: Any) -> pd.DataFrame:
    """Match each LV household load to one gas house node (and its sink and main junction).

    Returns one row per household: load, bus, x, y, persons, sink, house_node, main_junction,
    gap_m (distance load bus to house node, metres).
    """
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    bxy = bus_xy(power)
    loads = power.load[power.load.index >= LV_OFFSET]
    lxy = bxy.loc[loads.bus].to_numpy()
    hn = house_nodes(gas)
    sinks = gas.sink[gas.sink.junction.isin(hn)]
    hxy = gas.junction_geodata.loc[sinks.junction, ["x", "y"]].to_numpy()
    cost = cdist(lxy, hxy)
    r, c = linear_sum_assignment(cost)
    smj = service_main_junction(gas)
    p_kw = loads.p_mw.to_numpy()[r] * 1000.0
    out = pd.DataFrame(
        {
            "load": loads.index.to_numpy()[r],
            "name": loads.name.to_numpy()[r],
            "bus": loads.bus.to_numpy()[r],
            "x": lxy[r, 0],
            "y": lxy[r, 1],
            "persons": np.clip(np.round(p_kw), 1, 5).astype(int),
            "sink": sinks.index.to_numpy()[c],
            "house_node": sinks.junction.to_numpy()[c],
            "gap_m": cost[r, c],
        }
    )
    out["main_junction"] = out.house_node.map(smj).astype(int)
    return out.sort_values("load").reset_index(drop=True)


def _nearest(index: pd.Index, xy: np.ndarray, target: np.ndarray) -> int:
    d = np.hypot(xy[:, 0] - target[0], xy[:, 1] - target[1])
    return int(index[int(np.argmin(d))])


def _strong_lv_buses(power: Any, max_km: float = STRONG_LV_KM) -> pd.Index:
    """LV buses within ``max_km`` of cable from their substation busbar (stiff enough for a site)."""
    import networkx as nx
    import pandapower.topology as top

    g = top.create_nxgraph(power, respect_switches=True)
    lv_tr = power.trafo[power.trafo.vn_hv_kv < 60]
    lv_nodes = [b for b in g.nodes if b >= LV_OFFSET and power.bus.at[b, "vn_kv"] < 1.0]
    sub = g.subgraph(lv_nodes)
    dist = nx.multi_source_dijkstra_path_length(
        sub, set(lv_tr.lv_bus), cutoff=max_km, weight="weight"
    )
    return pd.Index(sorted(dist))


def place_sites(
    power: Any, gas: Any, households: pd.DataFrame, station_lv_bus: int
) -> pd.DataFrame:
    """Add the critical sites' loads (power) and sinks (gas); return one row per site.

    Columns: key, name, category, bus, load, sink, gas_junction, main_junction, x, y, water_m3s.
    The pumping station is put on ``station_lv_bus``; its water node is set by the water build.
    """
    import pandapipes as pps
    import pandapower as pp

    centre = households[["x", "y"]].mean().to_numpy()
    bxy = bus_xy(power)
    mp = main_pipes(gas)
    mains = pd.Index(sorted(set(mp.from_junction) | set(mp.to_junction)))
    mxy = gas.junction_geodata.loc[mains, ["x", "y"]].to_numpy()
    lv_buses = _strong_lv_buses(power)
    mv_buses = power.bus.index[power.bus.vn_kv > 1.0]
    inside = (np.abs(bxy.loc[mv_buses, "x"] - centre[0]) < 1200) & (
        np.abs(bxy.loc[mv_buses, "y"] - centre[1]) < 1200
    )
    mv_town = mv_buses[inside.to_numpy()]
    rows = []
    for s in SITES:
        target = centre + np.array([s.dx_m, s.dy_m])
        if s.level == "station":
            bus = station_lv_bus
        elif s.level == "mv":
            bus = _nearest(mv_town, bxy.loc[mv_town].to_numpy(), target)
        else:
            bus = _nearest(lv_buses, bxy.loc[lv_buses].to_numpy(), target)
        x, y = bxy.loc[bus, ["x", "y"]].to_numpy()
        load = pp.create_load(power, bus, p_mw=s.p_mw, q_mvar=s.p_mw * 0.33, name=s.name)
        mj = _nearest(mains, mxy, np.array([x, y]))
        sink = -1
        if s.gas_kg_s > 0:
            sink = pps.create_sink(gas, mj, mdot_kg_per_s=s.gas_kg_s, name=s.name)
        rows.append(
            {
                "key": s.key,
                "name": s.name,
                "category": s.category,
                "bus": bus,
                "load": load,
                "sink": sink,
                "gas_junction": mj if sink >= 0 else -1,
                "main_junction": mj,
                "x": float(x),
                "y": float(y),
                "water_m3s": s.water_m3s,
            }
        )
    return pd.DataFrame(rows)
