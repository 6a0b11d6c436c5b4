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
The networks are built in ``scripts/ykt_networks.py``, the tables in ``scripts/ykt_tables.py``;
this script puts them together and writes the package.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from ykt_networks import (
    CRS,
    add_substation,
    build_gas,
    build_power,
    bus_xy,
    cigre_xy,
    gas_mains,
    nearest_load,
    net3_xy,
    write_water,
)
from ykt_tables import GRADING, LICENCE, SITES, districts_geojson, households

SEED = 32648
OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "cities" / "ykt"


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
