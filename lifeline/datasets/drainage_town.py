"""The demo town's storm sewer (SYNTHETIC): an EPA SWMM 5 model designed on its streets.

Nothing here is a real sewer: Schutterwald's drainage is not public. The model is designed the
way an engineer lays out a separate storm sewer, on the town's own streets and ground:

* **streets and ground**: the water network's pipes are the streets and its junction
  elevations the ground (lifeline/datasets/water_town.py). Manholes are the street junctions
  nearest the centres of a 110 m grid; two manholes are joined when a street runs between them
  without passing another.
* **layout**: outfalls at the lowest manholes on the edge of the town (to the ditches of the
  Rhine plain); every manhole drains to the nearest outfall along the streets, going downhill
  where it can (a tree of gravity sewers).
* **sizing** (rational method, Q = ψ q A): the Chongqing main-city storm-intensity formula
  q = 1132 (1 + 0.958 lg P) / (t + 5.408)^0.595 L/(s·ha) (重庆市暴雨强度修订公式 2014, 沙坪坝;
  the formula of the drainage dev set, so drills on this town and on the dev set rain alike),
  P = 2 years on branches and 3 years on trunks (over 20 ha), t = 10 min inlet time + travel
  time at 1 m/s, ψ = 0.6; circular pipes 0.3-1.8 m with full-flow Manning capacity n = 0.013
  at the larger of the ground slope and the self-cleansing minimum; inverts 1.5 m below ground,
  crowns matched at every manhole.
* **the underpass** (下穿通道) ``UP1``: a road sag 5.5 m below street grade next to the
  distribution substation in the lowest part of the town, drained by its own pump station (sump
  ``UPW1``, pumps ``PU1A``/``PU1B``) sized for a 3-year storm — an older underpass, below the
  20-30 years GB 50014-2021 now asks for — so a heavy storm floods it and the substation beside
  it is at risk (a ``flooding`` dependency).
* **waterlogging points**: the underpass (closed at 0.27 m) and the three deepest street sags
  (0.15 m on a lane, GB 51222-2017).
* **sensors**: three rain gauges, manhole level sensors on the trunks and in the pump sump,
  a depth gauge at every waterlogging point, the pumps' run status and the flow at the largest
  outfall.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

GRID_M = 110.0
COVER_M = 1.5
INLET_MIN = 10.0
RUNOFF = 0.6
SIZES_M = (0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.2, 1.5, 1.8)
MANNING_N = 0.013
UNDERPASS_DEPTH_M = 5.5
DESIGN_P_BRANCH, DESIGN_P_TRUNK, DESIGN_P_UNDERPASS = 2.0, 3.0, 2.0
TRUNK_HA = 20.0
LANE_M, UNDERPASS_M = 0.15, 0.27


def storm_intensity(p_years: float, t_min: float) -> float:
    """Chongqing main-city design storm intensity q (L/(s·ha)) for return period ``p_years``
    and duration ``t_min`` (沙坪坝 formula, 2014 revision)."""
    return 1132.0 * (1 + 0.958 * math.log10(p_years)) / (t_min + 5.408) ** 0.595


def full_capacity_m3s(d_m: float, slope: float) -> float:
    """Full-flow capacity (m³/s) of a circular pipe (Manning, n = 0.013)."""
    a = math.pi * d_m**2 / 4
    return a / MANNING_N * (d_m / 4) ** (2 / 3) * math.sqrt(slope)


def min_slope(d_m: float) -> float:
    """Self-cleansing minimum slope of a pipe of diameter ``d_m`` (≈ 1/D in mm, ≥ 0.1 %)."""
    return max(0.001, 1.0 / (d_m * 1000))


@dataclass
class Sewer:
    """The designed sewer: manholes (id -> x, y, ground, invert), pipes (id -> from, to,
    length, diameter), outfalls, subcatchments and the special elements."""

    nodes: pd.DataFrame
    pipes: pd.DataFrame
    outfalls: pd.DataFrame
    underpass: dict[str, Any]
    points: pd.DataFrame


def _manhole_graph(wn: Any) -> tuple[pd.DataFrame, list[tuple[str, str, float]]]:
    import networkx as nx

    g = nx.Graph()
    for p in wn.pipe_name_list:
        pipe = wn.get_link(p)
        g.add_edge(pipe.start_node_name, pipe.end_node_name, length=float(pipe.length))
    js = [j for j in wn.junction_name_list if j in g]
    xy = np.array([wn.get_node(j).coordinates for j in js], dtype=float)
    elev = np.array([wn.get_node(j).elevation for j in js], dtype=float)
    cell = np.floor((xy - xy.min(0)) / GRID_M).astype(int)
    centre = (cell + 0.5) * GRID_M + xy.min(0)
    d = np.hypot(*(xy - centre).T)
    pick: dict[tuple[int, int], int] = {}
    for i, c in enumerate(map(tuple, cell)):
        if c not in pick or d[i] < d[pick[c]]:
            pick[c] = i
    chosen = sorted(pick.values(), key=lambda i: js[i])
    names = {js[i]: f"M{k + 1:03d}" for k, i in enumerate(chosen)}
    nodes = pd.DataFrame(
        {
            "node": [names[js[i]] for i in chosen],
            "junction": [js[i] for i in chosen],
            "x": xy[chosen, 0],
            "y": xy[chosen, 1],
            "ground": elev[chosen],
        }
    )
    edges: list[tuple[str, str, float]] = []
    for src in names:
        dist = {src: 0.0}
        frontier = [(0.0, src)]
        import heapq

        while frontier:
            dd, u = heapq.heappop(frontier)
            if dd > dist.get(u, np.inf) or dd > 3 * GRID_M:
                continue
            if u != src and u in names:
                if src < u:
                    edges.append((names[src], names[u], dd))
                continue
            for v in g.neighbors(u):
                nd = dd + g[u][v]["length"]
                if nd < dist.get(v, np.inf):
                    dist[v] = nd
                    heapq.heappush(frontier, (nd, v))
    return nodes, edges


def design_sewer(wn: Any, substations: pd.DataFrame) -> Sewer:
    """Lay out and size the storm sewer on the water network's streets (module doc).

    ``substations``: distribution transformers (``asset_id``, ``x_m``, ``y_m``) — the underpass
    goes next to the one on the lowest ground."""
    import networkx as nx

    nodes, edges = _manhole_graph(wn)
    g = nx.Graph()
    for a, b, length in edges:
        g.add_edge(a, b, length=max(length, 10.0))
    main = max(nx.connected_components(g), key=len)
    nodes = nodes[nodes.node.isin(main)].reset_index(drop=True)
    pos = nodes.set_index("node")
    hull_d = np.minimum.reduce(
        [
            pos.x - pos.x.min(),
            pos.x.max() - pos.x,
            pos.y - pos.y.min(),
            pos.y.max() - pos.y,
        ]
    )
    edge_nodes = pos[hull_d < 1.5 * GRID_M].sort_values("ground")
    outfalls: list[str] = []
    for n in edge_nodes.index:
        if all(math.hypot(pos.x[n] - pos.x[o], pos.y[n] - pos.y[o]) > 900 for o in outfalls):
            outfalls.append(n)
        if len(outfalls) == 3:
            break
    # downhill-preferring shortest paths to the nearest outfall
    dg = nx.DiGraph()
    for a, b, d in g.edges(data=True):
        for u, v in ((a, b), (b, a)):
            rise = max(pos.ground[u] - pos.ground[v], 0.0)  # v uphill of u costs when flowing v->u
            dg.add_edge(v, u, w=d["length"] + 50.0 * rise)
    parent: dict[str, str] = {}
    dist, paths = nx.multi_source_dijkstra(dg.reverse(copy=False), outfalls, weight="w")
    for n, path in paths.items():
        if len(path) > 1:
            parent[n] = path[-2]
    order = sorted(parent, key=lambda n: -dist[n])  # leaves first
    area = {n: GRID_M * GRID_M / 10_000 * 0.85 for n in pos.index}
    acc = dict(area)
    tc = dict.fromkeys(pos.index, INLET_MIN)
    for n in order:
        p = parent[n]
        length = g[n][p]["length"]
        acc[p] += acc[n]
        tc[p] = max(tc[p], tc[n] + length / 60.0)  # 1 m/s
    rows = []
    for n in order:
        p = parent[n]
        length = g[n][p]["length"]
        big = acc[n] > TRUNK_HA
        q = (
            RUNOFF
            * storm_intensity(DESIGN_P_TRUNK if big else DESIGN_P_BRANCH, tc[n])
            * acc[n]
            / 1000
        )
        ground_s = max((pos.ground[n] - pos.ground[p]) / length, 0.0)
        for d in SIZES_M:
            s = max(ground_s, min_slope(d))
            if full_capacity_m3s(d, s) >= q:
                break
        rows.append({"from": n, "to": p, "length": length, "d": d, "slope": s, "q_design": q})
    pipes = pd.DataFrame(rows)
    d_out = dict(zip(pipes["from"], pipes.d, strict=True))
    invert: dict[str, float] = {}
    for n in order:  # leaves first: every upstream pipe is placed before its node
        ins = pipes[pipes.to == n]
        inv = pos.ground[n] - COVER_M - d_out[n]
        for r in ins.itertuples(index=False):
            inv = min(inv, invert[r[0]] - r.slope * r.length + r.d - d_out[n])
        invert[n] = inv
    for o in outfalls:
        ins = pipes[pipes.to == o]
        invert[o] = min(
            [pos.ground[o] - COVER_M - 0.3]
            + [invert[r[0]] - r.slope * r.length for r in ins.itertuples(index=False)]
        )
    pipes["out_offset"] = [
        max(invert[r[0]] - r.slope * r.length - invert[r.to], 0.0)
        for r in pipes.itertuples(index=False)
    ]
    nodes["invert"] = nodes.node.map(invert)
    nodes = nodes.dropna(subset=["invert"]).reset_index(drop=True)
    nodes["area_ha"] = nodes.node.map(area)
    nodes["outfall"] = nodes.node.isin(outfalls)
    # the underpass next to the substation on the lowest ground
    sub = substations.copy()
    jn = nodes[~nodes.outfall]
    near = [
        int(np.argmin(np.hypot(jn.x - x, jn.y - y))) for x, y in zip(sub.x_m, sub.y_m, strict=True)
    ]
    sub["node"] = [jn.node.iloc[i] for i in near]
    sub["ground"] = [jn.ground.iloc[i] for i in near]
    sub["gap"] = [
        math.hypot(jn.x.iloc[i] - x, jn.y.iloc[i] - y)
        for i, x, y in zip(near, sub.x_m, sub.y_m, strict=True)
    ]
    sub = sub[sub.gap < 150].sort_values(["ground", "asset_id"])
    s0 = sub.iloc[0]
    street = nodes.set_index("node").loc[s0.node]
    ux, uy = float(s0.x_m) + 25.0, float(s0.y_m)
    up_ground = float(street.ground) - UNDERPASS_DEPTH_M
    up_area = 3.0  # the ramps and the street sections draining down them
    q_up = 0.85 * storm_intensity(DESIGN_P_UNDERPASS, INLET_MIN) * up_area / 1000
    underpass = {
        "node": "UP1",
        "sump": "UPW1",
        "outfall": "OFP1",
        "street_node": str(s0.node),
        "substation": str(s0.asset_id),
        "x": ux,
        "y": uy,
        "ground": up_ground,
        "area_ha": up_area,
        "pump_m3s": round(q_up / 2, 3),  # two pumps share the design flow
        "substation_xy": (float(s0.x_m), float(s0.y_m)),
    }
    return Sewer(nodes, pipes, nodes[nodes.outfall], underpass, _points([]))


def _points(streets: list[str]) -> pd.DataFrame:
    pts = [
        {
            "point_id": "WP-UP1",
            "node": "UP1",
            "threshold_m": UNDERPASS_M,
            "name": "Underpass by the substation",
            "name_zh": "变电站旁下穿通道",
        }
    ] + [
        {
            "point_id": f"WP-{n}",
            "node": n,
            "threshold_m": LANE_M,
            "name": f"Low street at manhole {n}",
            "name_zh": f"{n}号检查井低洼路段",
        }
        for n in streets
    ]
    return pd.DataFrame(pts)


def low_streets(path: Path, sewer: Sewer, p_years: float = 30.0, k: int = 3) -> list[str]:
    """The ``k`` street manholes that pond deepest in a ``p_years`` 2-hour Chicago storm
    (SWMM run of the designed sewer): the town's low streets."""
    from lifeline.drainage.model import SwmmRunner, load_network, write_run_copy
    from lifeline.drainage.storm import chicago, rain_field

    model = load_network(path)
    inp = write_run_copy(model, path.parent / "design-run", {"THREADS": "1"})
    g = gauge_positions(path)
    t0 = pd.Timestamp("2026-01-01 02:00")
    rain = rain_field(chicago(p_years, 120, 0.4), t0, g)
    res = SwmmRunner(inp, list(g), []).run(
        t0 - pd.Timedelta(hours=1),
        t0 + pd.Timedelta(hours=5),
        rain,
        record_s=300,
        all_nodes=sorted(model.max_depth_m),
    )
    streets = set(sewer.nodes.node[~sewer.nodes.outfall])
    pond = {n: float(model.ponding_m(n, d)) for n, d in res.all_max.items() if n in streets}
    return sorted(pond, key=lambda n: (-pond[n], n))[:k]


def _gauges(nodes: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Three rain gauges spread over the town (west, centre, east of the manholes)."""
    xs = np.sort(nodes.x.to_numpy())
    y = float(nodes.y.median())
    return {
        f"G{k + 1}": (float(np.quantile(xs, q)), y + dy)
        for k, (q, dy) in enumerate(((0.15, 150.0), (0.5, -100.0), (0.85, 120.0)))
    }


def write_inp(sewer: Sewer, path: Path) -> Path:
    """Write the sewer as an EPA SWMM 5.2 INP (SI units; rain set through the API at run time,
    so the gauges' time series hold one zero)."""
    n, pp, up = sewer.nodes, sewer.pipes, sewer.underpass
    gauges = _gauges(n)
    gxy = np.array(list(gauges.values()))
    L: list[str] = [
        "[TITLE]",
        ";;Schutterwald demo town storm sewer (SYNTHETIC, lifeline/datasets/drainage_town.py)",
        "",
        "[OPTIONS]",
        "FLOW_UNITS           CMS",
        "INFILTRATION         HORTON",
        "FLOW_ROUTING         DYNWAVE",
        "LINK_OFFSETS         DEPTH",
        "ALLOW_PONDING        YES",
        "START_DATE           01/01/2026",
        "START_TIME           00:00:00",
        "REPORT_START_DATE    01/01/2026",
        "REPORT_START_TIME    00:00:00",
        "END_DATE             01/02/2026",
        "END_TIME             00:00:00",
        "REPORT_STEP          00:05:00",
        "WET_STEP             00:01:00",
        "DRY_STEP             00:05:00",
        "ROUTING_STEP         0:00:10",
        "VARIABLE_STEP        0.75",
        "MINIMUM_STEP         0.5",
        "THREADS              1",
        "",
        "[RAINGAGES]",
        ";;Name Format Interval SCF Source",
    ]
    L += [f"{g}  INTENSITY 0:05 1.0 TIMESERIES RAIN_{g}" for g in gauges]
    L += ["", "[SUBCATCHMENTS]", ";;Name Gage Outlet Area %Imperv Width %Slope CurbLen"]
    sub_rows = []
    cx, cy = float(n.x.mean()), float(n.y.mean())
    for r in n[~n.outfall].itertuples(index=False):
        g = list(gauges)[int(np.argmin(np.hypot(gxy[:, 0] - r.x, gxy[:, 1] - r.y)))]
        central = math.hypot(r.x - cx, r.y - cy) < 500
        sub_rows.append((f"S{r.node[1:]}", g, r.node, r.area_ha, 65 if central else 45))
    g_up = list(gauges)[int(np.argmin(np.hypot(gxy[:, 0] - up["x"], gxy[:, 1] - up["y"])))]
    sub_rows.append(("SUP1", g_up, up["node"], up["area_ha"], 95))
    for name, g, out, a, imp in sub_rows:
        width = math.sqrt(a * 10_000) * 1.5
        L.append(f"{name}  {g}  {out}  {a:.3f}  {imp}  {width:.1f}  1.0  0")
    L += ["", "[SUBAREAS]", ";;Subcatch N-Imperv N-Perv S-Imperv S-Perv PctZero RouteTo"]
    L += [f"{r[0]}  0.015  0.15  1.5  5.0  25  OUTLET" for r in sub_rows]
    L += ["", "[INFILTRATION]", ";;Subcatch MaxRate MinRate Decay DryTime MaxInfil"]
    L += [f"{r[0]}  76.2  6.6  4.14  7  0" for r in sub_rows]
    L += ["", "[JUNCTIONS]", ";;Name Elev MaxDepth InitDepth SurDepth Aponded"]
    sag = set(sewer.points.node)
    for r in n.itertuples(index=False):  # an outfall manhole too: its pipe leads to the ditch
        L.append(
            f"{r.node}  {r.invert:.3f}  {r.ground - r.invert:.3f}  0  0  {600 if r.node in sag else 400}"
        )
    up_inv = up["ground"] - 1.0
    L.append(f"{up['node']}  {up_inv:.3f}  1.000  0  0  800")
    street = n.set_index("node").loc[up["street_node"]]
    L.append(f"UPO1  {street.ground - 1.5:.3f}  1.500  0  0  0")
    L += ["", "[OUTFALLS]", ";;Name Elev Type Stage Gated"]
    L += [
        f"OF{r.node[1:]}  {r.invert - 0.1:.3f}  FREE  NO"
        for r in sewer.outfalls.itertuples(index=False)
    ]
    L.append(f"{up['outfall']}  {street.ground - 1.6:.3f}  FREE  NO")
    sump_inv = up_inv - 3.0
    L += ["", "[STORAGE]", ";;Name Elev MaxDepth InitDepth Shape A B C SurDepth Fevap"]
    L.append(f"{up['sump']}  {sump_inv:.3f}  4.0  0  FUNCTIONAL  0  0  60  0  0")
    L += ["", "[CONDUITS]", ";;Name From To Length Roughness InOffset OutOffset InitFlow MaxFlow"]
    for k, r in enumerate(pp.itertuples(index=False), start=1):
        L.append(
            f"C{k:03d}  {r[0]}  {r.to}  {r.length:.1f}  {MANNING_N}  0  {r.out_offset:.3f}  0  0"
        )
    L.append(f"CUP1  {up['node']}  {up['sump']}  30.0  {MANNING_N}  0  2.0  0  0")
    for r in sewer.outfalls.itertuples(index=False):
        L.append(f"CO{r.node[1:]}  {r.node}  OF{r.node[1:]}  20.0  {MANNING_N}  0  0  0  0")
    L.append(f"CPO1  UPO1  {up['outfall']}  20.0  {MANNING_N}  0  0  0  0")
    L += ["", "[PUMPS]", ";;Name From To Curve Status Startup Shutoff"]
    L.append(f"PU1A  {up['sump']}  UPO1  PUMP_UP1  ON  0.8  0.3")
    L.append(f"PU1B  {up['sump']}  UPO1  PUMP_UP1  ON  1.6  0.6")
    L += ["", "[XSECTIONS]", ";;Link Shape Geom1 Geom2 Geom3 Geom4 Barrels"]
    for k, r in enumerate(pp.itertuples(index=False), start=1):
        L.append(f"C{k:03d}  CIRCULAR  {r.d}  0  0  0  1")
    L.append("CUP1  CIRCULAR  0.6  0  0  0  1")
    for r in sewer.outfalls.itertuples(index=False):
        d_in = pp.loc[pp.to == r.node, "d"]
        L.append(
            f"CO{r.node[1:]}  CIRCULAR  {max(d_in.max() if len(d_in) else 0.5, 0.5) * 1.25:.2f}  0  0  0  1"
        )
    L.append("CPO1  CIRCULAR  0.8  0  0  0  1")
    L += ["", "[CURVES]", ";;Name Type X Y", f"PUMP_UP1  Pump2  10.0  {up['pump_m3s']}"]
    L += ["", "[TIMESERIES]", ";;Name Date Time Value"]
    L += [f"RAIN_{g}  01/01/2026 00:00 0.0" for g in gauges]
    L += ["", "[REPORT]", "NODES ALL", "LINKS ALL", "", "[COORDINATES]", ";;Node X Y"]
    L += [f"{r.node}  {r.x:.2f}  {r.y:.2f}" for r in n.itertuples(index=False)]
    L.append(f"{up['node']}  {up['x']:.2f}  {up['y']:.2f}")
    L.append(f"{up['sump']}  {up['x'] + 15:.2f}  {up['y'] + 10:.2f}")
    L.append(f"UPO1  {up['x'] + 40:.2f}  {up['y'] + 30:.2f}")
    L.append(f"{up['outfall']}  {up['x'] + 60:.2f}  {up['y'] + 40:.2f}")
    for r in sewer.outfalls.itertuples(index=False):
        L.append(f"OF{r.node[1:]}  {r.x + 15:.2f}  {r.y + 15:.2f}")
    L += ["", "[SYMBOLS]", ";;Gage X Y"]
    L += [f"{g}  {x:.2f}  {y:.2f}" for g, (x, y) in gauges.items()]
    path.write_text("\n".join(L) + "\n", encoding="utf-8")
    return path


def gauge_positions(path: Path) -> dict[str, tuple[float, float]]:
    """Rain gauge positions from an INP's [SYMBOLS] section (m)."""
    from lifeline.drainage.model import _sections

    sec = _sections(path.read_text(encoding="utf-8"))
    return {r[0]: (float(r[1]), float(r[2])) for r in sec.get("SYMBOLS", []) if len(r) >= 3}


def drainage_sensors(sewer: Sewer, path: Path) -> pd.DataFrame:
    """The demo sewer's sensors (schema SENSOR rows; module doc)."""
    from lifeline.model.schema import conform

    n, pp, up = sewer.nodes, sewer.pipes, sewer.underpass
    rows: list[dict[str, Any]] = []

    def add(
        sid: str, q: str, unit: str, element: str, asset: str, xy: tuple[float, float], hi: float
    ) -> None:
        rows.append(
            {
                "sensor_id": sid,
                "asset_id": asset,
                "utility": "drainage",
                "quantity": q,
                "unit": unit,
                "interval_s": 300,
                "valid_min": 0.0,
                "valid_max": hi,
                "x_m": xy[0],
                "y_m": xy[1],
                "element": element,
            }
        )

    for g, xy in gauge_positions(path).items():
        add(f"DR-RAIN-{g}", "rain_mm_h", "mm/h", f"gauge:{g}", f"drainage:raingauge:{g}", xy, 300.0)
    pos = n.set_index("node")
    # level sensors: the manhole just downstream of each street point, the trunk heads at the
    # outfalls, and the pump sump
    watch: list[str] = []
    nxt = dict(zip(pp["from"], pp.to, strict=True))
    for p in sewer.points.node:
        if p in nxt:
            watch += [p, nxt[p]]
    acc = pp.sort_values("q_design", ascending=False)
    watch += [r[0] for r in acc.head(6).itertuples(index=False)]
    for m in dict.fromkeys(watch):
        if m in pos.index and not pos.outfall[m]:
            add(
                f"DR-LV-{m}",
                "level_m",
                "m",
                f"node:{m}",
                f"drainage:node:{m}",
                (pos.x[m], pos.y[m]),
                20.0,
            )
    add(
        f"DR-LV-{up['sump']}",
        "level_m",
        "m",
        f"node:{up['sump']}",
        f"drainage:node:{up['sump']}",
        (up["x"] + 15, up["y"] + 10),
        10.0,
    )
    for p in sewer.points.itertuples(index=False):
        xy = (up["x"], up["y"]) if p.node == up["node"] else (pos.x[p.node], pos.y[p.node])
        add(f"DR-DP-{p.node}", "depth_m", "m", f"node:{p.node}", f"drainage:node:{p.node}", xy, 5.0)
    for pump in ("PU1A", "PU1B"):
        add(
            f"DR-PS-{pump}",
            "pump_on",
            "1",
            f"link:{pump}",
            f"drainage:conduit:{pump}",
            (up["x"] + 15, up["y"] + 10),
            1.0,
        )
    top = acc.iloc[0]
    k = int(np.flatnonzero((pp["from"] == top["from"]).to_numpy())[0]) + 1
    add(
        f"DR-FL-C{k:03d}",
        "flow_m3s",
        "m3/s",
        f"link:C{k:03d}",
        f"drainage:conduit:C{k:03d}",
        (pos.x[top["from"]], pos.y[top["from"]]),
        50.0,
    )
    return conform("sensor", pd.DataFrame(rows))


def flooding_dependencies(
    sewer: Sewer, assets: pd.DataFrame, radius_m: float = 60.0
) -> pd.DataFrame:
    """``flooding`` dependencies: power and telecom assets (transformers, cable wells) within
    ``radius_m`` of a waterlogging point depend on it staying dry; always the underpass's
    substation."""
    from lifeline.model.schema import conform

    up = sewer.underpass
    pos = sewer.nodes.set_index("node")
    xy = {
        p.node: ((up["x"], up["y"]) if p.node == up["node"] else (pos.x[p.node], pos.y[p.node]))
        for p in sewer.points.itertuples(index=False)
    }
    a = assets[assets.utility.isin(["power", "telecom"]) & assets.kind.isin(["trafo", "manhole"])]
    rows = []
    for node, (x, y) in xy.items():
        d = np.hypot(a.x_m.to_numpy(float) - x, a.y_m.to_numpy(float) - y)
        for aid, util, dist in zip(a.asset_id, a.utility, d, strict=True):
            if dist <= radius_m or aid == up["substation"] and node == up["node"]:
                rows.append(
                    {
                        "asset_id": aid,
                        "utility": util,
                        "depends_on_asset_id": f"drainage:node:{node}",
                        "depends_on_utility": "drainage",
                        "kind": "flooding",
                        "distance_m": round(float(dist), 1),
                    }
                )
    return conform(
        "dependency", pd.DataFrame(rows).drop_duplicates(["asset_id", "depends_on_asset_id"])
    )


def build_drainage(wn: Any, assets: pd.DataFrame, out_dir: Path) -> dict[str, Any]:
    """Design the demo sewer, write ``out_dir/drainage.inp``; returns the INP path, sensors,
    waterlogging points and flooding dependencies."""
    a = assets
    subs = a[(a.utility == "power") & (a.kind == "trafo")][["asset_id", "x_m", "y_m"]]
    sewer = design_sewer(wn, subs)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = write_inp(sewer, out_dir / "drainage.inp")
    sewer.points = _points(low_streets(path, sewer))
    path = write_inp(sewer, out_dir / "drainage.inp")
    return {
        "inp": path,
        "sensors": drainage_sensors(sewer, path),
        "points": sewer.points,
        "dependencies": flooding_dependencies(sewer, a),
        "underpass": sewer.underpass,
        "manholes": int((~sewer.nodes.outfall).sum()),
        "pipes_km": round(float(sewer.pipes.length.sum()) / 1000, 2),
    }
