"""The YKT test city's networks (scripts/make_test_city.py): EPANET Net3 and the CIGRE MV grid
moved into the city (coordinates only), and a small pandapipes gas network built along the
water mains. Coordinates are metres in WGS 84 / UTM zone 48N (EPSG:32648)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CRS = "EPSG:32648"
X0, Y0 = 648000.0, 3272000.0  # UTM 48N metres of the drawing origin (Jiangbei, Chongqing)
NET3_M_PER_UNIT = 100.0


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


def nearest_load(net: Any, x: float, y: float, loads: pd.Index) -> int:
    """Index of the load in ``loads`` whose bus is nearest to (x, y)."""
    b = bus_xy(net)
    lb = net.load.loc[loads, "bus"]
    d = np.hypot(b.loc[lb, "x"].to_numpy() - x, b.loc[lb, "y"].to_numpy() - y)
    return int(loads[int(np.argmin(d))])
