"""Generate the second city package used by the tests: tests/data/cities/ykt.

    .venv/bin/python scripts/make_test_city.py [OUT_DIR]

"YKT" is a small synthetic city placed in Chongqing (Jiangbei, about 106.53°E 29.57°N) in
WGS 84 / UTM zone 48N (EPSG:32648), timezone Asia/Shanghai. Its networks are public example
models moved into that area (coordinates only; the hydraulic and electrical data are unchanged
unless said below):

* water: EPANET example network 3 (``Net3.inp`` as shipped with WNTR), coordinates scaled by
  100 m per drawing unit;
* power: the CIGRE MV benchmark grid (``pandapower.networks.create_cigre_network_mv(
  with_der="pv_wind")``), bus positions scaled onto the same area; added for a city: load-break
  switches at both ends of every line that had none (ring main units at the secondary
  substations), a circuit breaker at the head of each feeder, and two 20/0.4 kV substations
  (hospital, Lake pumping station) with their loads;
* gas: a small medium-pressure (0.4 bar gauge) pandapipes network built here along the water
  mains of the city centre, with one house connection per gas customer.

Customers (households and critical sites), sensors, districts, crews, manholes, pipe attributes
and the grading table are generated with a fixed seed. Valves and dependencies are left out on
purpose: ``load_city`` derives them. Deterministic: running it twice writes the same files.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SEED = 32648
CRS = "EPSG:32648"
X0, Y0 = 648000.0, 3272000.0  # UTM 48N metres of the drawing origin (Jiangbei, Chongqing)
NET3_M_PER_UNIT = 100.0
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "cities" / "ykt"


def net3_xy(x: float, y: float) -> tuple[float, float]:
    """Net3 drawing units -> city metres."""
    return round(X0 + (x - 8.0) * NET3_M_PER_UNIT, 2), round(Y0 + y * NET3_M_PER_UNIT, 2)


def cigre_xy(x: float, y: float) -> tuple[float, float]:
    """CIGRE MV drawing units (x 1..10, y 3..16) -> city metres over the same area."""
    return round(X0 + 200 + (x - 1.0) * 370.0, 2), round(Y0 + 100 + (y - 3.0) * 225.0, 2)


# ---- water -------------------------------------------------------------------------------
def write_water(out: Path) -> Any:
    """Net3.inp with its coordinates moved into the city; returns the WNTR model of it."""
    import wntr

    src = Path(wntr.__file__).parent / "library" / "networks" / "Net3.inp"
    lines = src.read_text().splitlines()
    section, res = "", []
    for raw in lines:
        s = raw.strip()
        if s.startswith("["):
            section = s.upper()
            res.append(raw)
            continue
        f = s.split()
        if section in ("[COORDINATES]", "[VERTICES]") and len(f) >= 3 and not s.startswith(";"):
            x, y = net3_xy(float(f[1]), float(f[2]))
            res.append(f"{f[0]:<16}\t{x:.2f}\t{y:.2f}")
        elif section == "[LABELS]" and len(f) >= 3 and not s.startswith(";"):
            x, y = net3_xy(float(f[0]), float(f[1]))
            res.append(f"{x:.2f}\t{y:.2f}\t{' '.join(f[2:])}")
        elif section == "[BACKDROP]" and f and f[0].upper() == "DIMENSIONS":
            x0, y0 = net3_xy(float(f[1]), float(f[2]))
            x1, y1 = net3_xy(float(f[3]), float(f[4]))
            res.append(f" DIMENSIONS\t{x0:.2f}\t{y0:.2f}\t{x1:.2f}\t{y1:.2f}")
        elif section == "[TITLE]" and s.startswith("EPANET Example Network 3"):
            res.append(raw)
            res.append(
                "YKT test city: coordinates moved to EPSG:32648 (lifeline scripts/make_test_city.py)"
            )
        else:
            res.append(raw)
    (out / "water.inp").write_text("\n".join(res) + "\n")
    return wntr.network.WaterNetworkModel(str(out / "water.inp"))


# ---- power -------------------------------------------------------------------------------
def build_power() -> Any:
    """CIGRE MV with its buses in the city, switches at every line end, feeder-head breakers and
    two 20/0.4 kV substations (hospital, pumping station)."""
    import pandapower as pp
    import pandapower.networks as pn

    net = pn.create_cigre_network_mv(with_der="pv_wind")
    geo = []
    for g in net.bus.geo:
        c = json.loads(g)["coordinates"]
        x, y = cigre_xy(float(c[0]), float(c[1]))
        geo.append(json.dumps({"type": "Point", "coordinates": [x, y]}))
    net.bus["geo"] = geo
    if "geo" in net.line.columns:
        net.line["geo"] = None
    switched = {
        (int(b), int(e))
        for b, e, et in zip(net.switch.bus, net.switch.element, net.switch.et, strict=True)
        if et == "l"
    }
    heads = {
        int(li)
        for li, fb in zip(net.line.index, net.line.from_bus, strict=True)
        if int(fb) in (1, 12)
    }
    for li, fb, tb in zip(net.line.index, net.line.from_bus, net.line.to_bus, strict=True):
        for b in (int(fb), int(tb)):
            if (b, int(li)) not in switched:
                kind = "CB" if int(li) in heads and b in (1, 12) else "LBS"
                pp.create_switch(
                    net, b, int(li), et="l", closed=True, type=kind, name=f"{kind} L{li}@B{b}"
                )
    return net


def add_substation(net: Any, mv_bus: int, name: str, xy: tuple[float, float], p_mw: float) -> int:
    """A 20/0.4 kV substation at ``xy`` fed from ``mv_bus``; returns the index of its load."""
    import pandapower as pp

    geo = json.dumps({"type": "Point", "coordinates": [round(xy[0], 2), round(xy[1], 2)]})
    mv = pp.create_bus(net, 20.0, name=f"{name} 20 kV", geodata=None)
    lv = pp.create_bus(net, 0.4, name=f"{name} 0.4 kV", geodata=None)
    net.bus.loc[[mv, lv], "geo"] = [geo, geo]
    bxy = json.loads(net.bus.at[mv_bus, "geo"])["coordinates"]
    length_km = max(0.05, float(np.hypot(bxy[0] - xy[0], bxy[1] - xy[1])) / 1000)
    ln = pp.create_line(
        net, mv_bus, mv, length_km, "NA2XS2Y 1x95 RM/25 12/20 kV", name=f"{name} cable"
    )
    pp.create_switch(net, mv_bus, ln, et="l", closed=True, type="LBS", name=f"LBS {name}")
    pp.create_transformer(net, mv, lv, "0.63 MVA 20/0.4 kV", name=f"{name} transformer")
    return int(pp.create_load(net, lv, p_mw=p_mw, q_mvar=p_mw * 0.3, name=f"{name} load"))


def bus_xy(net: Any) -> pd.DataFrame:
    """x, y of every bus (city metres)."""
    return pd.DataFrame(
        [json.loads(g)["coordinates"] for g in net.bus.geo], index=net.bus.index, columns=["x", "y"]
    )


# ---- gas ---------------------------------------------------------------------------------
def gas_mains(wn: Any, root: str, n_nodes: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Water junctions and pipes of a compact area around ``root`` (breadth-first over pipes):
    the streets that get gas mains."""
    import networkx as nx

    g = nx.Graph()
    for name in wn.pipe_name_list:
        lk = wn.get_link(name)
        if (
            lk.start_node_name in wn.junction_name_list
            and lk.end_node_name in wn.junction_name_list
        ):
            g.add_edge(lk.start_node_name, lk.end_node_name)
    nodes = [n for n, _ in zip(nx.bfs_tree(g, root), range(n_nodes), strict=False)]
    sub = g.subgraph(nodes)
    return nodes, sorted((a, b) if a < b else (b, a) for a, b in sub.edges)


def build_gas(wn: Any, houses: pd.DataFrame) -> tuple[Any, dict[str, int]]:
    """Medium-pressure gas mains along the water mains of the centre, a regulator station and
    one house connection per row of ``houses`` (customer_id, x_m, y_m, main). Returns the net
    and customer_id -> house-node junction index."""
    import pandapipes as pps

    net = pps.create_empty_network(
        fluid="lgas", name="YKT gas (synthetic, lifeline make_test_city)"
    )
    nodes, edges = gas_mains(wn, "159", 34)
    jid: dict[str, int] = {}
    for n in nodes:
        x, y = wn.get_node(n).coordinates
        jid[n] = pps.create_junction(
            net,
            pn_bar=0.4,
            tfluid_k=283.15,
            geodata=(round(x + 4, 2), round(y + 4, 2)),
            name=f"GJ{n}",
        )
    gd = net.junction_geodata
    for a, b in edges:
        d = float(
            np.hypot(
                *(gd.loc[jid[a], ["x", "y"]].to_numpy() - gd.loc[jid[b], ["x", "y"]].to_numpy())
            )
        )
        pps.create_pipe_from_parameters(
            net,
            jid[a],
            jid[b],
            length_km=max(d, 5.0) / 1000,
            inner_diameter_mm=110.0,
            k_mm=0.1,
            name=f"GM{a}-{b}",
        )
    rx, ry = gd.loc[jid[nodes[0]], ["x", "y"]].to_numpy() + np.array([35.0, -20.0])
    reg = pps.create_junction(
        net,
        pn_bar=0.4,
        tfluid_k=283.15,
        geodata=(round(rx, 2), round(ry, 2)),
        name="Regulator station outlet",
    )
    pps.create_pipe_from_parameters(
        net,
        reg,
        jid[nodes[0]],
        length_km=0.04,
        inner_diameter_mm=160.0,
        k_mm=0.1,
        name="Station outlet main",
    )
    pps.create_ext_grid(net, reg, p_bar=0.4, t_k=283.15, name="YKT district regulator station")
    main_xy = gd.loc[[jid[n] for n in nodes], ["x", "y"]].to_numpy()
    house_of: dict[str, int] = {}
    for r in houses.itertuples():
        k = int(np.argmin(np.hypot(main_xy[:, 0] - r.x_m, main_xy[:, 1] - r.y_m)))
        hj = pps.create_junction(
            net,
            pn_bar=0.4,
            tfluid_k=283.15,
            geodata=(round(r.x_m, 2), round(r.y_m, 2)),
            name=f"house {r.customer_id}",
            type="house_node",
        )
        d = float(np.hypot(main_xy[k, 0] - r.x_m, main_xy[k, 1] - r.y_m))
        pps.create_pipe_from_parameters(
            net,
            jid[nodes[k]],
            hj,
            length_km=max(d, 3.0) / 1000,
            inner_diameter_mm=32.0,
            k_mm=0.1,
            name=f"service {r.customer_id}",
        )
        pps.create_sink(net, hj, mdot_kg_per_s=float(r.mdot), name=f"sink {r.customer_id}")
        house_of[r.customer_id] = int(hj)
    net.junction["type"] = net.junction.get(
        "type", pd.Series("junction", index=net.junction.index)
    ).fillna("junction")
    return net, house_of


# ---- tables ------------------------------------------------------------------------------
SITES = [  # key, category, name, water junction, power bus (or "hospital"/"pump" substation)
    (
        "HOSP",
        "hospital",
        "江北区人民医院分院 Jiangbei District Hospital (branch)",
        "161",
        "hospital",
    ),
    ("SCH", "school", "观音桥小学 Guanyinqiao Primary School", "117", 10),
    ("CARE", "care_home", "华新街养老院 Huaxinjie Care Home", "203", 9),
    ("PS-LAKE", "pumping_station", "湖泵站 Lake pumping station", "", "pump"),
    ("PS-335", "pumping_station", "335 加压泵站 Booster station 335", "", 11),
    ("IND", "industry", "五里店机械厂 Wulidian machine works", "211", 14),
    ("MALL", "commercial", "观音桥商场 Guanyinqiao mall", "147", 8),
]


def households(wn: Any, rng: np.random.Generator, n: int = 160) -> pd.DataFrame:
    """``n`` households near demand junctions (x_m, y_m, water junction)."""
    dem = [
        j
        for j in wn.junction_name_list
        if any(d.base_value > 0 for d in wn.get_node(j).demand_timeseries_list)
    ]
    pick = rng.choice(dem, size=n, replace=True)
    rows = []
    for i, j in enumerate(pick):
        x, y = wn.get_node(j).coordinates
        a, r = rng.uniform(0, 2 * np.pi), rng.uniform(15, 60)
        rows.append(
            {
                "customer_id": f"H{i + 1:04d}",
                "name": f"住户 household {i + 1}",
                "x_m": round(x + r * np.cos(a), 2),
                "y_m": round(y + r * np.sin(a), 2),
                "water_node": str(j),
            }
        )
    return pd.DataFrame(rows)


def nearest_load(net: Any, x: float, y: float, loads: pd.Index) -> int:
    """Index of the load in ``loads`` whose bus is nearest to (x, y)."""
    b = bus_xy(net)
    lb = net.load.loc[loads, "bus"]
    d = np.hypot(b.loc[lb, "x"].to_numpy() - x, b.loc[lb, "y"].to_numpy() - y)
    return int(loads[int(np.argmin(d))])


def districts_geojson(xmin: float, ymin: float, xmax: float, ymax: float) -> dict[str, Any]:
    """Three districts (fictional boundaries) splitting the area west to east."""
    names = [
        ("JB-GYQ", "Guanyinqiao (fictional boundary)", "观音桥街道"),
        ("JB-HXJ", "Huaxinjie (fictional boundary)", "华新街街道"),
        ("JB-WLD", "Wulidian (fictional boundary)", "五里店街道"),
    ]
    cuts = np.linspace(xmin, xmax, len(names) + 1)
    feats = []
    for (did, name, zh), a, b in zip(names, cuts[:-1], cuts[1:], strict=True):
        ring = [[a, ymin], [b, ymin], [b, ymax], [a, ymax], [a, ymin]]
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "district_id": did,
                    "name": name,
                    "name_zh": zh,
                    "level": "district",
                },
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[round(p, 1), round(q, 1)] for p, q in ring]],
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}


GRADING = """\
# Incident grading for the YKT test city (IV 一般 … I 特别重大). Structure as the shipped default
# (lifeline/incidents/data/grading_demo.yaml); the supply-loss numbers are scaled to a city of a
# few hundred connections so that the tests reach every grade. Replace with your city's plan.
name: ykt-test-city
version: 1
grades: [I, II, III, IV]
default: IV
names:
  I: {zh-CN: 特别重大, en: extraordinarily serious}
  II: {zh-CN: 重大, en: serious}
  III: {zh-CN: 较大, en: major}
  IV: {zh-CN: 一般, en: ordinary}
sources:
  S1: "国家大面积停电事件应急预案（国办函〔2015〕134号）附件 大面积停电事件分级标准"
  S2: "生产安全事故报告和调查处理条例（国务院令第493号）第三条"
  S3: "重庆市城市供水突发事件应急预案（结构借用；数值按测试城规模缩放）"
  S4: "重庆市燃气突发事件应急预案（结构借用；数值按测试城规模缩放）"
criteria:
  - id: deaths
    field: deaths
    utilities: [water, power, gas]
    thresholds: {I: 30, II: 10, III: 3, IV: 1}
    source: S2
  - id: power_share_of_customers_out
    field: fraction_customers_out
    utilities: [power]
    thresholds: {II: 0.9, III: 0.6, IV: 0.3}
    source: S1
    adapted: "scaled to the test city"
  - id: household_hours
    field: household_hours
    utilities: [water, power, gas]
    thresholds: {I: 5000, II: 1000, III: 200}
    source: S3
    adapted: "scaled to the test city (160 households)"
  - id: critical_sites_out
    field: critical_sites_out
    utilities: [water, power, gas]
    thresholds: {II: 3, III: 1}
    source: S3
  - id: evacuated
    field: evacuated
    utilities: [gas]
    thresholds: {I: 10000, II: 1000, III: 100}
    source: S4
routing:
  I: city
  II: city
  III: district
  IV: district
"""

LICENCE = """\
# YKT test city — sources and licences

Generated by `scripts/make_test_city.py` (run it to regenerate; deterministic). Synthetic: the
place names are real sub-districts of Jiangbei, Chongqing, but every position, boundary, customer
and sensor is invented for testing.

* `water.inp`: EPANET example network 3 (Net3), as distributed with EPANET (US EPA, public
  domain) and WNTR (Revised BSD licence); only the coordinates were moved (100 m per unit,
  EPSG:32648).
* `power.json`: CIGRE MV benchmark grid from pandapower (`create_cigre_network_mv(with_der=
  "pv_wind")`, pandapower BSD-3-Clause licence; network data after CIGRE TB 575), with bus
  positions moved into the city and switches, two 20/0.4 kV substations and their loads added.
* `gas.json`: built with pandapipes (BSD-3-Clause licence) by the script.
* everything else: generated by the script (Apache-2.0 like lifeline).
"""


def main(out: Path = OUT) -> Path:
    """Write the package to ``out`` (replacing it)."""
    import pandapipes as pps
    import pandapower as pp
    import yaml

    rng = np.random.default_rng(SEED)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    wn = write_water(out)
    net = build_power()
    hh = households(wn, rng)
    # critical sites: at their water junction (pumping stations: at the pump)
    lake_xy = wn.get_node("10").coordinates  # pump 10 leaves the Lake at junction 10
    p335_xy = wn.get_node("61").coordinates
    hosp_xy = np.array(wn.get_node("161").coordinates) + np.array([30.0, 25.0])
    sites = []
    for key, cat, name, wnode, bus in SITES:
        if key == "PS-LAKE":
            xy = np.array(lake_xy) + np.array([8.0, 6.0])
        elif key == "PS-335":
            xy = np.array(p335_xy) + np.array([8.0, 6.0])
        elif key == "HOSP":
            xy = hosp_xy
        else:
            xy = np.array(wn.get_node(wnode).coordinates) + np.array([25.0, -20.0])
        sites.append(
            {"key": key, "category": cat, "name": name, "wnode": wnode, "bus": bus, "xy": xy}
        )
    loads_mv = net.load.index[
        ~net.load.bus.isin([1, 12])
    ]  # feeder loads, not the busbar aggregates
    for s in sites:
        if s["bus"] == "hospital":
            s["load"] = add_substation(
                net, 9, "Hospital", tuple(s["xy"] + np.array([10.0, 0.0])), 0.35
            )
        elif s["bus"] == "pump":
            s["load"] = add_substation(
                net, 2, "Lake pumping station", tuple(s["xy"] + np.array([10.0, 0.0])), 0.25
            )
        else:
            s["load"] = nearest_load(
                net, float(s["xy"][0]), float(s["xy"][1]), net.load.index[net.load.bus == s["bus"]]
            )
    hh["power_load"] = [
        nearest_load(net, x, y, loads_mv) for x, y in zip(hh.x_m, hh.y_m, strict=True)
    ]
    # gas: households (and the hospital, school, care home) within 120 m of a gas main
    nodes, _ = gas_mains(wn, "159", 34)
    mxy = np.array([wn.get_node(n).coordinates for n in nodes])
    near = [
        float(np.min(np.hypot(mxy[:, 0] - x, mxy[:, 1] - y))) <= 120
        for x, y in zip(hh.x_m, hh.y_m, strict=True)
    ]
    houses = hh.loc[near, ["customer_id", "x_m", "y_m"]].assign(mdot=1.2e-4)
    site_gas = [
        {
            "customer_id": f"CRIT-{s['key']}",
            "x_m": float(s["xy"][0]),
            "y_m": float(s["xy"][1]),
            "mdot": 6e-4,
        }
        for s in sites
        if s["category"] in ("hospital", "school", "care_home")
        and float(np.min(np.hypot(mxy[:, 0] - s["xy"][0], mxy[:, 1] - s["xy"][1]))) <= 400
    ]
    gas, house_of = build_gas(wn, pd.concat([houses, pd.DataFrame(site_gas)], ignore_index=True))
    pp.runpp(net)
    pps.pipeflow(gas, mode="hydraulics")
    assert net.converged and gas.converged
    pp.to_json(net, str(out / "power.json"))
    pps.to_json(gas, str(out / "gas.json"))

    cust = pd.DataFrame(
        {
            "customer_id": [f"CRIT-{s['key']}" for s in sites] + hh.customer_id.tolist(),
            "name": [s["name"] for s in sites] + hh.name.tolist(),
            "category": [s["category"] for s in sites] + ["household"] * len(hh),
            "critical": ["true"] * len(sites) + ["false"] * len(hh),
            "x": [round(float(s["xy"][0]), 2) for s in sites] + hh.x_m.tolist(),
            "y": [round(float(s["xy"][1]), 2) for s in sites] + hh.y_m.tolist(),
            "water_node": [s["wnode"] for s in sites] + hh.water_node.tolist(),
            "power_load": [s["load"] for s in sites] + hh.power_load.tolist(),
        }
    )
    cust["gas_junction"] = [str(house_of.get(c, "")) for c in cust.customer_id]
    cust["address"] = [f"重庆市江北区测试路{i + 1}号 (fictional)" for i in range(len(cust))]
    cust.to_csv(out / "customers.csv", index=False)

    gj = sorted(set(gas.junction.index) - set(house_of.values()))
    b = bus_xy(net)
    mains = gas.pipe[~gas.pipe.name.str.startswith("service")]
    gxy = gas.junction_geodata
    manholes = []
    for k, (pi, host) in enumerate(
        zip(mains.index[[2, 9, 17]], ("power", "telecom", "power"), strict=True)
    ):
        a, c = mains.at[pi, "from_junction"], mains.at[pi, "to_junction"]
        mid = (
            gxy.loc[a, ["x", "y"]].to_numpy() + gxy.loc[c, ["x", "y"]].to_numpy()
        ) / 2 + np.array([3.0, -2.0])
        manholes.append(
            {
                "manhole_id": f"MH{k + 1}",
                "host": host,
                "x": round(mid[0], 2),
                "y": round(mid[1], 2),
                "name": f"{host} manhole {k + 1}",
            }
        )
    pd.DataFrame(manholes).to_csv(out / "manholes.csv", index=False)
    S = []  # sensor_id, utility, quantity, unit, element, x, y, interval_s, valid_min, valid_max, host

    def add(
        sid: str,
        util: str,
        q: str,
        unit: str,
        el: str,
        iv: int,
        lo: float,
        hi: float,
        x: Any = "",
        y: Any = "",
        host: str = "",
    ) -> None:
        S.append([sid, util, q, unit, el, x, y, iv, lo, hi, host])

    for j in ("15", "123", "143", "173", "203", "247"):
        add(f"WP-{j}", "water", "pressure_m", "m", f"node:{j}", 300, 0, 120)
    add("WF-PUMP10", "water", "flow_m3h", "m3/h", "link:10", 300, -50, 3000)
    add("WF-P20", "water", "flow_m3h", "m³/h", "link:20", 300, -3000, 3000)
    add("WL-T1", "water", "level_m", "m", "node:1", 300, 0, 15)
    for bb in (3, 8, 11, 14):
        # a de-energised bus reads 0 pu: a valid reading of an outage, not a sensor error
        add(
            f"PV-B{bb}",
            "power",
            "voltage_pu",
            "pu",
            f"bus:{bb}",
            60,
            0.0,
            1.5,
            *b.loc[bb].round(2).tolist(),
        )
    add("PI-L0", "power", "current_a", "A", "line:0", 60, 0, 1000)
    add("PI-L10", "power", "current_a", "A", "line:10", 60, 0, 1000)
    add("PI-T0", "power", "current_a", "A", "trafo:0", 60, 0, 1000)
    add("PP-EG0", "power", "p_mw", "MW", "ext_grid:0", 60, -100, 100)
    add("PP-T1", "power", "p_mw", "MW", "trafo:1", 60, -50, 50)
    for j in (gj[3], gj[15], gj[30]):
        add(f"GP-J{j}", "gas", "pressure_bar", "bar", f"junction:{j}", 60, 0, 1.0)
    add("GF-REG", "gas", "flow_m3h", "m3/h", "ext_grid:0", 60, 0, 500)
    for m in manholes:
        add(
            f"GM-{m['manhole_id']}",
            "gas",
            "methane_pct_lel",
            "%LEL",
            "",
            60,
            0,
            100,
            m["x"],
            m["y"],
            m["host"],
        )
    pd.DataFrame(
        S,
        columns=[
            "sensor_id",
            "utility",
            "quantity",
            "unit",
            "element",
            "x",
            "y",
            "interval_s",
            "valid_min",
            "valid_max",
            "host",
        ],
    ).to_csv(out / "sensors.csv", index=False)

    crews = [
        ("W1", "water", "供水抢修一队 Water crew 1", *net3_xy(20.0, 24.0)),
        ("W2", "water", "供水抢修二队 Water crew 2", *net3_xy(33.0, 6.0)),
        ("P1", "power", "配电抢修一队 Power crew 1", *cigre_xy(4.0, 12.0)),
        ("P2", "power", "配电抢修二队 Power crew 2", *cigre_xy(8.0, 6.0)),
        ("G1", "gas", "燃气抢险队 Gas crew", *net3_xy(24.0, 16.0)),
    ]
    pd.DataFrame(crews, columns=["crew_id", "utility", "name", "x", "y"]).to_csv(
        out / "crews.csv", index=False
    )
    pipes = sorted(wn.pipe_name_list, key=lambda s: (len(s), s))
    att = [
        {
            "asset": f"water:pipe:{p}",
            "install_year": int(1965 + (k * 7) % 55),
            "material": ("grey cast iron", "ductile iron, cement-lined", "PE 100")[k % 3],
            "design_life_y": "",
        }
        for k, p in enumerate(pipes[::4])
    ]
    pd.DataFrame(att).to_csv(out / "attributes.csv", index=False)

    allx = np.concatenate(
        [
            [wn.get_node(n).coordinates[0] for n in wn.node_name_list],
            b.x.to_numpy(),
            gxy.x.to_numpy(),
            cust.x.astype(float),
        ]
    )
    ally = np.concatenate(
        [
            [wn.get_node(n).coordinates[1] for n in wn.node_name_list],
            b.y.to_numpy(),
            gxy.y.to_numpy(),
            cust.y.astype(float),
        ]
    )
    (out / "districts.geojson").write_text(
        json.dumps(
            districts_geojson(
                allx.min() - 300, ally.min() - 300, allx.max() + 300, ally.max() + 300
            ),
            ensure_ascii=False,
            indent=1,
        )
    )
    (out / "grading.yaml").write_text(GRADING)
    cfg = {
        "name": "YKT test city",
        "name_zh": "渝江测试城",
        "crs": CRS,
        "timezone": "Asia/Shanghai",
        "networks": {"water": "water.inp", "power": "power.json", "gas": "gas.json"},
        "districts": "districts.geojson",
        "customers": "customers.csv",
        "sensors": "sensors.csv",
        "crews": "crews.csv",
    }
    (out / "city.yaml").write_text(
        "# A small synthetic city for lifeline's tests (see SOURCES.md); valves and dependencies are\n"
        "# left out on purpose so that load_city derives them.\n"
        + yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False)
    )
    (out / "SOURCES.md").write_text(LICENCE)
    return out


if __name__ == "__main__":
    print(main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT))
