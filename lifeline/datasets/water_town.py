"""Water: a SYNTHETIC distribution network for Schutterwald, laid on the town's streets.

No public water network exists for the town. Construction (documented in docs/town.md):

* **streets**: the water mains follow the LV street cables of ``lv_schutterwald`` (cables from
  OpenStreetMap street geometry; house-connection cables excluded); cable ends closer than
  :data:`MERGE_M` are one street node. Junctions ``J<bus>`` (the LV bus the node stands for),
  pipes ``P<line>`` (the LV cable whose street the main follows);
* **households** tap the junction their house-connection cable reaches; critical sites the
  junction nearest to them; demands are persons x 125 l/d with a residential diurnal pattern
  (sites: their own daytime-weighted demand);
* **elevations**: the gas model's junction heights, smoothed (mean within 80 m);
* **two feeds and storage**: the waterworks (clear-water tank ``R1``, pumps ``PU1``/``PU2``, a
  bypass ``PB1`` with a non-return valve) feeds the town through two transmission mains ``PT1`` and
  ``PT2`` entering the looped street network at two points at least :data:`SECOND_FEED_MIN_M`
  apart; an elevated tank (water tower ``T1``, ``PT3``) floats on the network at its far side;
* **trunk ring**: the shortest street routes from each feed to the tower (the second avoiding the
  first) form a looped trunk main, sized for the whole design flow (DN >= :data:`TRUNK_DN_MIN`);
* **distribution mains** sized by flow on the shortest-path tree from the trunk: design flow =
  2.5 x downstream average demand + fire flow 13.3 l/s (48 m3/h, DVGW W 405), smallest DN with
  velocity <= 2 m/s, DN 100 minimum (DN 80 on short terminal branches serving <= 5 households);
  mains closing a loop DN 100;
* Hazen-Williams roughness by material and age (grey cast iron C=100 before 1970, ductile iron
  cement-lined C=130 to 1995, PE 100 C=140 after), install years spatially clustered;
* isolation valves by rule (:func:`water_valve_layer`).
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

SYNTHETIC_NOTE = "SYNTHETIC water network (lifeline demo town): not real utility data"
#: street-cable ends closer than this (metres) are one street node
MERGE_M = 6.0
DN_MM = (80, 100, 125, 150, 200, 250, 300)
TRUNK_DN_MIN = 150
FIRE_FLOW_M3S = 48.0 / 3600.0
PEAK_FACTOR = 2.5
V_MAX = 2.0
#: the second transmission main enters the network this far (along the streets) from the first
SECOND_FEED_MIN_M = 400.0
#: the pumps deliver this multiple of the average demand at their design head (max-day demand;
#: the tower covers the hourly peaks)
PUMP_FACTOR = 1.5
#: water tower: bottom of the tank above ground, usable depth (m), storage in hours of average
#: demand, initial level (share of the usable depth)
TOWER_BOTTOM_M = 28.0
TOWER_DEPTH_M = 6.0
TOWER_HOURS = 4.0
TOWER_INIT = 0.5
#: hourly multipliers of residential water use (mean 1.0), typical German small-town shape
RESIDENTIAL_PATTERN = (
    0.45,
    0.35,
    0.30,
    0.30,
    0.35,
    0.60,
    1.20,
    1.65,
    1.55,
    1.30,
    1.15,
    1.10,
    1.20,
    1.15,
    1.00,
    0.95,
    1.00,
    1.15,
    1.35,
    1.45,
    1.40,
    1.20,
    0.90,
    0.55,
)
#: hourly multipliers of institutional use (hospital, school, care home): daytime weighted
DAYTIME_PATTERN = (
    0.35,
    0.30,
    0.30,
    0.30,
    0.35,
    0.50,
    0.90,
    1.50,
    1.80,
    1.80,
    1.70,
    1.65,
    1.60,
    1.55,
    1.50,
    1.40,
    1.20,
    1.00,
    0.85,
    0.70,
    0.60,
    0.50,
    0.45,
    0.40,
)
MATERIALS = (  # (up to year, material, Hazen-Williams C)
    (1969, "grey cast iron", 100.0),
    (1995, "ductile iron, cement-lined", 130.0),
    (9999, "PE 100", 140.0),
)
SEED = 25832
#: valve rule: a branch leg shorter than this gets no own valve (merged with its neighbour);
#: line valves whenever an unvalved run would exceed the spacing (trunk, distribution)
MIN_RUN_M = 40.0
TRUNK_VALVE_SPACING_M = 300.0
MAIN_VALVE_SPACING_M = 200.0


def _material(year: int) -> tuple[str, float]:
    for last, mat, c in MATERIALS:
        if year <= last:
            return mat, c
    return MATERIALS[-1][1], MATERIALS[-1][2]


def _smooth_heights(
    xy: np.ndarray, src_xy: np.ndarray, src_h: np.ndarray, radius: float = 80.0
) -> np.ndarray:
    """Ground height (m) at each of ``xy``: mean of the source heights within ``radius`` m."""
    from scipy.spatial import cKDTree

    tree = cKDTree(src_xy)
    near = tree.query(xy)[1]
    return np.array(
        [
            src_h[idx].mean() if idx else src_h[near[i]]
            for i, idx in enumerate(tree.query_ball_point(xy, radius))
        ]
    )


def street_graph(power: Any) -> tuple[nx.Graph, dict[int, int]]:
    """The town's streets from the LV street cables of ``power`` (house connections excluded).

    A house connection is a cable with an end bus that carries a load and joins no other cable.
    Cable ends within :data:`MERGE_M` m are one node (the lowest bus id; position their mean).
    Returns the graph (nodes: bus ids with ``xy``; edges: ``name`` P<line>, ``length`` m; of
    parallel cables the shortest) and ``rep``: every LV cable bus -> its street node.
    """
    from scipy.spatial import cKDTree

    from lifeline.datasets.geo import point_xy
    from lifeline.datasets.power_town import LV_OFFSET

    lv = power.line[power.line.index >= LV_OFFSET]
    ends = pd.concat([lv.from_bus, lv.to_bus])
    deg = ends.value_counts()
    load_buses = set(power.load.bus)
    leaf = {int(b) for b, n in deg.items() if n == 1 and b in load_buses}
    street = lv[~(lv.from_bus.isin(leaf) | lv.to_bus.isin(leaf))]
    buses = sorted({int(b) for b in pd.concat([street.from_bus, street.to_bus])})
    xy = np.array([point_xy(power.bus.at[b, "geo"]) for b in buses])
    u = nx.Graph()
    u.add_nodes_from(range(len(buses)))
    u.add_edges_from(cKDTree(xy).query_pairs(MERGE_M))
    rep: dict[int, int] = {}
    pos: dict[int, tuple[float, float]] = {}
    for comp in nx.connected_components(u):
        r = buses[min(comp)]
        c = xy[sorted(comp)].mean(axis=0)
        pos[r] = (float(c[0]), float(c[1]))
        for i in comp:
            rep[buses[i]] = r
    g = nx.Graph()
    for idx, r in street.sort_values("length_km").iterrows():
        a, b = rep[int(r.from_bus)], rep[int(r.to_bus)]
        if a == b or g.has_edge(a, b):
            continue
        g.add_edge(a, b, name=f"P{idx}", length=max(float(r.length_km) * 1000.0, 1.0))
    main = max(nx.connected_components(g), key=len)
    g = g.subgraph(main).copy()
    nx.set_node_attributes(g, {n: pos[n] for n in g.nodes}, "xy")
    for leaf_bus in leaf:  # a house cable's bus maps to the street node its cable reaches
        other = lv[(lv.from_bus == leaf_bus) | (lv.to_bus == leaf_bus)].iloc[0]
        far = int(other.to_bus) if int(other.from_bus) == leaf_bus else int(other.from_bus)
        if far in rep:
            rep[leaf_bus] = rep[far]
    return g, rep


def _nearest_node(g: nx.Graph, nodes: list[int], target: np.ndarray) -> int:
    xy = np.array([g.nodes[n]["xy"] for n in nodes])
    return int(nodes[int(np.argmin(np.hypot(*(xy - target).T)))])


def _layout(
    g: nx.Graph, anchor: np.ndarray
) -> tuple[int, int, int, np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Feeds, tower and trunk on the street graph ``g``.

    Returns (entry 1, entry 2, tower node, waterworks xy, tower xy, trunk edges). Entry 1 is the
    looped-core node nearest the waterworks' anchor, entry 2 the core node nearest the waterworks
    that lies at least :data:`SECOND_FEED_MIN_M` from entry 1 along the streets, the tower node
    the core node farthest from the waterworks; the trunk is the shortest route entry 1 -> tower
    and the shortest route entry 2 -> tower that avoids the first (its pipes count 10 x).
    """
    core_g = g.copy()
    core_g.remove_edges_from(list(nx.bridges(g)))
    comps: list[set[int]] = list(nx.connected_components(core_g))
    core = sorted(comps[int(np.argmax([len(c) for c in comps]))])
    xy = np.array([g.nodes[n]["xy"] for n in core])
    centre = np.array([g.nodes[n]["xy"] for n in g.nodes]).mean(axis=0)
    e1 = _nearest_node(g, core, anchor)
    out = np.asarray(g.nodes[e1]["xy"]) - centre
    out = out / (np.linalg.norm(out) or 1.0)
    ws_xy = np.asarray(g.nodes[e1]["xy"]) + 150.0 * out
    dist = nx.single_source_dijkstra_path_length(g, e1, weight="length")
    d_ws = np.hypot(*(xy - ws_xy).T)
    far_enough = np.array([dist.get(n, 0.0) >= SECOND_FEED_MIN_M for n in core])
    e2 = int(core[int(np.argmin(np.where(far_enough, d_ws, np.inf)))])
    tn = int(core[int(np.argmax(d_ws))])
    t_out = np.asarray(g.nodes[tn]["xy"]) - centre
    t_xy = np.asarray(g.nodes[tn]["xy"]) + 30.0 * t_out / (np.linalg.norm(t_out) or 1.0)
    a = nx.dijkstra_path(g, e1, tn, weight="length")
    on_a = {frozenset(p) for p in zip(a[:-1], a[1:], strict=True)}

    def w(u: int, v: int, d: dict[str, Any]) -> float:
        return float(d["length"]) * (10.0 if frozenset((u, v)) in on_a else 1.0)

    b = nx.dijkstra_path(g, e2, tn, weight=w)
    trunk = [*zip(a[:-1], a[1:], strict=True), *zip(b[:-1], b[1:], strict=True)]
    return e1, e2, tn, ws_xy, t_xy, trunk


def _size(q_avg: float, terminal_small: bool) -> int:
    """Smallest DN (mm) carrying 2.5 x ``q_avg`` (m3/s) + fire flow at <= 2 m/s."""
    if terminal_small:
        return DN_MM[0]
    q = PEAK_FACTOR * q_avg + FIRE_FLOW_M3S
    for dn in DN_MM[1:]:
        if q / (np.pi * (dn / 1000.0) ** 2 / 4.0) <= V_MAX:
            return dn
    return DN_MM[-1]


def build_water(
    power: Any,
    gas: Any,
    households: pd.DataFrame,
    sites: pd.DataFrame,
    station_anchor_xy: tuple[float, float],
) -> tuple[Any, dict[str, Any]]:
    """Build the synthetic WNTR model on the streets of ``power``'s LV cables.

    ``households``: columns ``bus`` (LV load bus), ``x``, ``y`` (m), ``q`` (average m3/s);
    ``sites``: ``category``, ``x``, ``y``, ``water_m3s`` (the pumping station gets no demand);
    ``gas`` gives the ground heights. The waterworks goes ~150 m outward of the street node
    nearest ``station_anchor_xy``. Returns ``(wn, info)``: ``info`` has ``station_junction``,
    ``entry_junctions``, ``tank``, ``trunk_pipes``, ``household_junction`` and ``site_junction``
    (junction name per row of ``households``/``sites``), ``pipe_meta`` and demand totals.
    """
    import wntr
    from sklearn.cluster import KMeans

    from lifeline.datasets.gas_town import main_pipes

    rng = np.random.default_rng(SEED)
    g, rep = street_graph(power)
    nodes = sorted(g.nodes)
    xy = np.array([g.nodes[n]["xy"] for n in nodes])
    hh_node = []
    for bus, x, y in zip(households.bus, households.x, households.y, strict=True):
        n = rep.get(int(bus))
        hh_node.append(n if n in g else _nearest_node(g, nodes, np.array([x, y])))
    site_node = [
        _nearest_node(g, nodes, np.array([x, y])) for x, y in zip(sites.x, sites.y, strict=True)
    ]
    base = pd.Series(households.q.to_numpy(), index=hh_node).groupby(level=0).sum().to_dict()
    hh_count = pd.Series(hh_node).value_counts().to_dict()
    extra: dict[int, float] = {}
    for n, q in zip(site_node, sites.water_m3s, strict=True):
        if q > 0:
            extra[n] = extra.get(n, 0.0) + float(q)
    total = {n: base.get(n, 0.0) + extra.get(n, 0.0) for n in nodes}
    total_q = sum(total.values())

    mp = main_pipes(gas)
    gnodes = sorted(set(mp.from_junction) | set(mp.to_junction))
    elev = _smooth_heights(
        xy,
        gas.junction_geodata.loc[gnodes, ["x", "y"]].to_numpy(),
        gas.junction.loc[gnodes, "height_m"].to_numpy(),
    )
    height = dict(zip(nodes, elev, strict=True))
    e1, e2, tn, ws_xy, t_xy, trunk_edges = _layout(g, np.asarray(station_anchor_xy))
    trunk = {frozenset(e) for e in trunk_edges}
    trunk_nodes = {n for e in trunk_edges for n in e}

    # distribution sizing on the shortest-path tree from the trunk
    paths = nx.multi_source_dijkstra_path(g, trunk_nodes, weight="length")
    parent = {n: p[-2] for n, p in paths.items() if len(p) > 1}
    down_q = dict.fromkeys(nodes, 0.0)
    down_hh = dict.fromkeys(nodes, 0)
    for n in sorted(paths, key=lambda k: -len(paths[k])):
        down_q[n] += total[n]
        down_hh[n] += int(hh_count.get(n, 0))
        if n in parent:
            down_q[parent[n]] += down_q[n]
            down_hh[parent[n]] += down_hh[n]
    dn_trunk = max(TRUNK_DN_MIN, _size(total_q, False))

    km = KMeans(n_clusters=12, n_init=4, random_state=SEED).fit(xy)
    cluster_year = rng.integers(1955, 2016, size=12)
    node_cluster = {n: int(c) for n, c in zip(nodes, km.labels_, strict=True)}

    wn = wntr.network.WaterNetworkModel()
    wn.name = SYNTHETIC_NOTE
    wn.title = [
        SYNTHETIC_NOTE,
        "Schutterwald demo town: mains on the LV street-cable layout, see docs/town.md",
    ]
    wn.add_pattern("residential", list(RESIDENTIAL_PATTERN))
    wn.add_pattern("daytime", list(DAYTIME_PATTERN))
    for n in nodes:
        wn.add_junction(
            f"J{n}",
            base_demand=base.get(n, 0.0),
            demand_pattern="residential",
            elevation=round(float(height[n]), 2),
            coordinates=g.nodes[n]["xy"],
            demand_category="household",
        )
    for n, q, cat in zip(site_node, sites.water_m3s, sites.category, strict=True):
        if q > 0:
            wn.get_node(f"J{n}").add_demand(float(q), "daytime", category=str(cat))
    pipe_meta: dict[str, dict[str, Any]] = {}
    trunk_pipes: list[str] = []
    for a, b, d in g.edges(data=True):
        if frozenset((a, b)) in trunk:
            dn = dn_trunk
            year = int(rng.integers(1975, 2016))
            trunk_pipes.append(d["name"])
        else:
            child = b if parent.get(b) == a else a if parent.get(a) == b else None
            if child is None:  # closes a loop: carries little, sized for fire flow between meshes
                dn = DN_MM[1]
            else:
                dn = _size(down_q[child], g.degree(child) == 1 and down_hh[child] <= 5)
            year = int(np.clip(cluster_year[node_cluster[a]] + rng.integers(-3, 4), 1950, 2024))
        mat, c = _material(year)
        wn.add_pipe(
            d["name"],
            f"J{a}",
            f"J{b}",
            length=round(d["length"], 2),
            diameter=dn / 1000.0,
            roughness=c,
        )
        pipe_meta[d["name"]] = {"install_year": year, "material": mat}

    # waterworks: clear-water tank, two pumps, bypass, two transmission mains
    h_ww = float(height[e1])
    r1_head = round(h_ww - 3.0, 2)
    wn.add_reservoir("R1", base_head=r1_head, coordinates=(float(ws_xy[0]), float(ws_xy[1])))
    wn.add_junction(
        "WW",
        base_demand=0.0,
        elevation=round(h_ww, 2),
        coordinates=(float(ws_xy[0]) + 8.0, float(ws_xy[1])),
    )
    # water tower on the far side: usable volume TOWER_HOURS of average demand
    h_t = float(height[tn])
    vol = TOWER_HOURS * 3600.0 * total_q
    diam = float(np.sqrt(4.0 * vol / (np.pi * TOWER_DEPTH_M)))
    wn.add_tank(
        "T1",
        elevation=round(h_t + TOWER_BOTTOM_M, 2),
        init_level=round(0.5 + TOWER_INIT * TOWER_DEPTH_M, 2),
        min_level=0.5,
        max_level=0.5 + TOWER_DEPTH_M,
        diameter=round(diam, 2),
        coordinates=(float(t_xy[0]), float(t_xy[1])),
    )
    q_pump = PUMP_FACTOR * total_q / 2.0  # per pump, two in parallel
    h_design = round(h_t + TOWER_BOTTOM_M + 0.5 + TOWER_DEPTH_M / 2.0 - r1_head + 3.0, 1)
    wn.add_curve(
        "PC1", "HEAD", [(0.0, 1.25 * h_design), (q_pump, h_design), (2 * q_pump, 0.5 * h_design)]
    )
    wn.add_pump("PU1", "R1", "WW", pump_type="HEAD", pump_parameter="PC1")
    wn.add_pump("PU2", "R1", "WW", pump_type="HEAD", pump_parameter="PC1")
    # bypass with a non-return valve: keeps the model solvable (depressurised, not singular)
    # when both pumps are off and the tower has run dry
    wn.add_pipe("PB1", "R1", "WW", length=10.0, diameter=0.2, roughness=130.0, check_valve=True)
    q_t = PEAK_FACTOR * total_q + FIRE_FLOW_M3S
    dn_t = next((dn for dn in DN_MM if q_t / (np.pi * (dn / 1000.0) ** 2 / 4.0) <= 1.5), DN_MM[-1])
    for name, entry in (("PT1", e1), ("PT2", e2)):
        length = 1.2 * float(np.hypot(*(np.asarray(g.nodes[entry]["xy"]) - ws_xy)))
        wn.add_pipe(
            name,
            "WW",
            f"J{entry}",
            length=round(max(length, 20.0), 1),
            diameter=dn_t / 1000.0,
            roughness=130.0,
        )
    t_len = float(np.hypot(*(np.asarray(g.nodes[tn]["xy"]) - t_xy)))
    wn.add_pipe(
        "PT3", f"J{tn}", "T1", length=round(t_len, 1), diameter=dn_t / 1000.0, roughness=130.0
    )
    for name in ("PB1", "PT1", "PT2", "PT3"):
        pipe_meta[name] = {"install_year": 2005, "material": "ductile iron, cement-lined"}

    o = wn.options
    o.time.duration = 24 * 3600
    o.time.hydraulic_timestep = 300
    o.time.pattern_timestep = 3600
    o.time.report_timestep = 300
    o.hydraulic.headloss = "H-W"
    o.hydraulic.demand_model = "PDD"
    o.hydraulic.minimum_pressure = 0.0
    o.hydraulic.required_pressure = 15.0
    o.hydraulic.pressure_exponent = 0.5
    # a depressurised network (pumps off, tower empty) stays computable: EPANET continues
    o.hydraulic.unbalanced = "CONTINUE"
    o.hydraulic.unbalanced_value = 10
    info = {
        "station_junction": "WW",
        "entry_junction": f"J{e1}",
        "entry_junctions": [f"J{e1}", f"J{e2}"],
        "tank": "T1",
        "tank_volume_m3": round(vol, 1),
        "trunk_pipes": sorted(trunk_pipes),
        "household_junction": [f"J{n}" for n in hh_node],
        "site_junction": [f"J{n}" for n in site_node],
        "loops": len(nx.cycle_basis(g)),
        "pipe_meta": pipe_meta,
        "total_demand_m3s": total_q,
    }
    return wn, info


def _runs(g: nx.Graph, ends: set[Any]) -> list[list[tuple[str, Any, Any, float]]]:
    """Chains of pipes between ``ends`` through nodes of degree 2: [(pipe, from, to, length)]."""
    seen: set[str] = set()
    runs = []
    for u in sorted(ends, key=str):
        for v in sorted(g.neighbors(u), key=str):
            d = g.edges[u, v]
            if d["name"] in seen:
                continue
            run, a, b = [], u, v
            while True:
                e = g.edges[a, b]
                seen.add(e["name"])
                run.append((e["name"], a, b, float(e["length"])))
                if b in ends:
                    break
                nxt = [c for c in g.neighbors(b) if c != a]
                if not nxt:
                    break
                a, b = b, nxt[0]
            runs.append(run)
    return runs


def water_valve_layer(wn: Any, trunk_pipes: list[str] | None = None) -> pd.DataFrame:
    """Isolation valves by rule (columns ``valve, node, link``; ids ``WV<n>``), see docs/town.md.

    On the pipe graph (pipes with a non-return valve excluded) a *run* is a chain of pipes through
    junctions that join exactly two pipes; its ends are branch points (3+ pipes), dead ends,
    sources (reservoirs, tanks) and junctions next to a pump. After DVGW W 400-1 practice (every
    street section can be shut without cutting the trunk):

    1. trunk and transmission runs (``trunk_pipes``, pipes touching a source or pump junction):
       a valve at each end that is a branch point, source or pump junction;
    2. distribution runs of :data:`MIN_RUN_M` or more: a valve at each branch-point end; a shorter
       run between two branch points gets one valve, a shorter dead-end stub none;
    3. a line valve whenever the unvalved length along a run would exceed
       :data:`TRUNK_VALVE_SPACING_M` (trunk) or :data:`MAIN_VALVE_SPACING_M` (distribution).
    """
    trunk = set(trunk_pipes or [])
    g = nx.Graph()
    for name, p in wn.pipes():
        if not p.check_valve:
            g.add_edge(p.start_node_name, p.end_node_name, name=name, length=p.length)
    special = {n for n in (*wn.reservoir_name_list, *wn.tank_name_list) if n in g}
    for _, pump in wn.pumps():
        special |= {n for n in (pump.start_node_name, pump.end_node_name) if n in g}
    ends = {n for n in g.nodes if g.degree(n) != 2} | special
    valves: list[tuple[str, str]] = []
    for run in _runs(g, ends):
        u, w = run[0][1], run[-1][2]
        length = sum(r[3] for r in run)
        main = any(r[0] in trunk or {r[1], r[2]} & special for r in run)
        hub_u = u in special or g.degree(u) >= 3
        hub_w = w in special or g.degree(w) >= 3
        if main or length >= MIN_RUN_M:
            at_u, at_w = hub_u, hub_w
        else:
            at_u, at_w = hub_u and hub_w, False
        if at_u:
            valves.append((str(u), run[0][0]))
        if at_w and (w != u or len(run) > 1):
            valves.append((str(w), run[-1][0]))
        spacing = TRUNK_VALVE_SPACING_M if main else MAIN_VALVE_SPACING_M
        acc = 0.0
        for pipe, a, _b, ln in run:
            if acc > 0 and acc + ln > spacing:
                valves.append((str(a), pipe))
                acc = 0.0
            acc += ln
    df = pd.DataFrame(valves, columns=["node", "link"]).drop_duplicates().reset_index(drop=True)
    df.insert(0, "valve", [f"WV{i + 1}" for i in range(len(df))])
    return df[["valve", "node", "link"]]


def run_water(wn: Any, duration_s: int | None = None) -> Any:
    """Run EPANET (WNTR EpanetSimulator, pressure-driven demand); return WNTR results.

    Raises NetworkModelError if EPANET fails. ``duration_s`` overrides the model duration.
    """
    import tempfile

    import wntr

    from lifeline.errors import NetworkModelError

    if duration_s is not None:
        wn.options.time.duration = duration_s
    with tempfile.TemporaryDirectory() as tmp:
        try:
            return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=f"{tmp}/town")
        except Exception as exc:
            raise NetworkModelError(f"EPANET failed: {exc}", where="town water") from exc
