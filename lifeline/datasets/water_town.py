"""Water: a SYNTHETIC distribution network for Schutterwald, laid on the gas street layout.

No public water network exists for the town. Construction (documented in docs/town.md):

* junctions ``J<k>`` at every gas main junction ``k`` (same coordinates), pipes ``P<i>`` along
  every gas main pipe ``i``; dead ends within :data:`LOOP_MAX_M` of a junction that is at least
  :data:`LOOP_MIN_HOPS` pipes away are closed into loops (pipes ``PL<n>``), as water mains are
  meshed for supply security;
* elevations: the gas model's junction heights, smoothed (mean within 80 m);
* demands: each household's water use (persons x 125 l/d) at the junction its gas house
  connection taps, with a residential diurnal pattern; critical sites add their own demands;
* a waterworks (reservoir ``R1`` = clear-water tank, two parallel pumps ``PU1``/``PU2`` and a
  bypass ``PB1`` with a non-return valve) outside the village, joined by the transmission main
  ``PT1``;
* diameters sized by flow: design flow = 2.5 x downstream average demand + fire flow 13.3 l/s
  (48 m3/h, DVGW W 405 residential), smallest DN with velocity <= 2 m/s, DN 100 minimum on mains
  (DN 80 on short terminal branches serving <= 5 households);
* Hazen-Williams roughness by material and age (grey cast iron C=100 before 1970, ductile iron
  cement-lined C=130 to 1995, PE 100 C=140 after), install years spatially clustered.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from lifeline.datasets.gas_town import main_pipes

SYNTHETIC_NOTE = "SYNTHETIC water network (lifeline demo town): not real utility data"
LOOP_MAX_M = 90.0
LOOP_MIN_HOPS = 12
DN_MM = (80, 100, 125, 150, 200, 250, 300)
FIRE_FLOW_M3S = 48.0 / 3600.0
PEAK_FACTOR = 2.5
V_MAX = 2.0
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


def _material(year: int) -> tuple[str, float]:
    for last, mat, c in MATERIALS:
        if year <= last:
            return mat, c
    return MATERIALS[-1][1], MATERIALS[-1][2]


def _smooth_heights(xy: np.ndarray, h: np.ndarray, radius: float = 80.0) -> np.ndarray:
    from scipy.spatial import cKDTree

    tree = cKDTree(xy)
    return np.array([h[idx].mean() for idx in tree.query_ball_point(xy, radius)])


def build_water(
    gas: Any,
    household_demand_m3s: pd.Series,
    households_per_junction: pd.Series,
    extra_demands: list[tuple[int, float, str]],
    station_anchor_xy: tuple[float, float],
) -> tuple[Any, dict[str, Any]]:
    """Build the synthetic WNTR model on the gas mains of ``gas``.

    ``household_demand_m3s``/``households_per_junction`` are indexed by gas main junction;
    ``extra_demands`` lists (gas main junction, base demand m3/s, name) of non-household sites;
    the waterworks goes ~150 m outward of the main junction nearest ``station_anchor_xy``.
    Returns ``(wn, info)`` with ``info['station_junction']`` (the pumping-station node name).
    """
    import wntr
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(SEED)
    mp = main_pipes(gas)
    nodes = sorted(set(mp.from_junction) | set(mp.to_junction))
    xy = gas.junction_geodata.loc[nodes, ["x", "y"]].to_numpy()
    elev = _smooth_heights(xy, gas.junction.loc[nodes, "height_m"].to_numpy())
    pos = {int(n): (float(x), float(y)) for n, (x, y) in zip(nodes, xy, strict=True)}

    g = nx.Graph()
    for idx, r in mp.iterrows():
        a, b = int(r.from_junction), int(r.to_junction)
        g.add_edge(a, b, name=f"P{idx}", length=max(float(r.length_km) * 1000.0, 1.0))
    # loop closures from dead ends
    tree = cKDTree(xy)
    n_loops = 0
    for n in [n for n in g.nodes if g.degree(n) == 1]:
        cands = tree.query_ball_point(pos[n], LOOP_MAX_M)
        best = None
        for i in cands:
            m = int(nodes[i])
            if m == n or g.has_edge(n, m):
                continue
            try:
                hops = nx.shortest_path_length(g, n, m)
            except nx.NetworkXNoPath:
                hops = 10**6
            if hops >= LOOP_MIN_HOPS:
                d = float(np.hypot(pos[n][0] - pos[m][0], pos[n][1] - pos[m][1]))
                if best is None or d < best[1]:
                    best = (m, d)
        if best is not None:
            n_loops += 1
            g.add_edge(n, best[0], name=f"PL{n_loops}", length=max(best[1], 1.0))

    # waterworks position: outward of the junction nearest the anchor
    anchor = np.asarray(station_anchor_xy)
    entry = int(nodes[int(tree.query(anchor)[1])])
    centre = xy.mean(axis=0)
    out = np.asarray(pos[entry]) - centre
    out = out / (np.linalg.norm(out) or 1.0)
    ws_xy = np.asarray(pos[entry]) + 150.0 * out

    base = {int(k): float(v) for k, v in household_demand_m3s.items()}
    extra: dict[int, float] = {}
    for j, q, _ in extra_demands:
        extra[int(j)] = extra.get(int(j), 0.0) + q
    total = {n: base.get(n, 0.0) + extra.get(n, 0.0) for n in g.nodes}
    hh = {int(k): int(v) for k, v in households_per_junction.items()}

    # sizing on the shortest-path tree from the entry
    paths = nx.single_source_dijkstra_path(g, entry, weight="length")
    down_q = dict.fromkeys(g.nodes, 0.0)
    down_hh = dict.fromkeys(g.nodes, 0)
    parent = {n: p[-2] for n, p in paths.items() if len(p) > 1}
    for n in sorted(paths, key=lambda k: -len(paths[k])):
        down_q[n] += total[n]
        down_hh[n] += hh.get(n, 0)
        if n in parent:
            down_q[parent[n]] += down_q[n]
            down_hh[parent[n]] += down_hh[n]
    total_q = sum(total.values())

    def size(q_avg: float, terminal_small: bool) -> int:
        if terminal_small:
            return DN_MM[0]
        q = PEAK_FACTOR * q_avg + FIRE_FLOW_M3S
        for dn in DN_MM[1:]:
            if q / (np.pi * (dn / 1000.0) ** 2 / 4.0) <= V_MAX:
                return dn
        return DN_MM[-1]

    # spatially clustered install years
    from sklearn.cluster import KMeans

    k = KMeans(n_clusters=12, n_init=4, random_state=SEED).fit(xy)
    cluster_year = rng.integers(1955, 2016, size=12)
    node_cluster = {int(n): int(c) for n, c in zip(nodes, k.labels_, strict=True)}

    wn = wntr.network.WaterNetworkModel()
    wn.name = SYNTHETIC_NOTE
    wn.title = [
        SYNTHETIC_NOTE,
        "Schutterwald demo town: junctions on the gas main layout, see docs/town.md",
    ]
    wn.add_pattern("residential", list(RESIDENTIAL_PATTERN))
    wn.add_pattern("daytime", list(DAYTIME_PATTERN))
    for n, h in zip(nodes, elev, strict=True):
        n = int(n)
        wn.add_junction(
            f"J{n}",
            base_demand=base.get(n, 0.0),
            demand_pattern="residential",
            elevation=round(float(h), 2),
            coordinates=pos[n],
            demand_category="household",
        )
    for j, q, name in extra_demands:
        wn.get_node(f"J{j}").add_demand(q, "daytime", category=name)
    pipe_meta: dict[str, dict[str, Any]] = {}
    for a, b, d in g.edges(data=True):
        child = b if parent.get(b) == a else a if parent.get(a) == b else None
        if child is None:  # loop pipe: carries little, size for fire flow between meshes
            dn = DN_MM[1]
        else:
            small = g.degree(child) == 1 and down_hh[child] <= 5
            dn = size(down_q[child], small)
        year = int(np.clip(cluster_year[node_cluster[a]] + rng.integers(-3, 4), 1950, 2024))
        if d["name"].startswith("PL"):
            year = int(rng.integers(1996, 2021))
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

    # waterworks
    h_entry = float(wn.get_node(f"J{entry}").elevation)
    wn.add_reservoir(
        "R1", base_head=round(h_entry - 3.0, 2), coordinates=(float(ws_xy[0]), float(ws_xy[1]))
    )
    wn.add_junction(
        "WW",
        base_demand=0.0,
        elevation=round(h_entry, 2),
        coordinates=(float(ws_xy[0]) + 8.0, float(ws_xy[1])),
    )
    q_design = PEAK_FACTOR * total_q / 2.0  # per pump, two in parallel
    h_design = 45.0
    wn.add_curve(
        "PC1",
        "HEAD",
        [(0.0, 1.25 * h_design), (q_design, h_design), (2 * q_design, 0.5 * h_design)],
    )
    wn.add_pump("PU1", "R1", "WW", pump_type="HEAD", pump_parameter="PC1")
    wn.add_pump("PU2", "R1", "WW", pump_type="HEAD", pump_parameter="PC1")
    # bypass with a non-return valve: keeps the model solvable (depressurised, not singular)
    # when both pumps are off, e.g. when the station loses power
    wn.add_pipe("PB1", "R1", "WW", length=10.0, diameter=0.2, roughness=130.0, check_valve=True)
    pipe_meta["PB1"] = {"install_year": 2005, "material": "ductile iron, cement-lined"}
    q_t = PEAK_FACTOR * total_q + FIRE_FLOW_M3S
    dn_t = next((dn for dn in DN_MM if q_t / (np.pi * (dn / 1000.0) ** 2 / 4.0) <= 1.5), DN_MM[-1])
    wn.add_pipe("PT1", "WW", f"J{entry}", length=150.0, diameter=dn_t / 1000.0, roughness=130.0)
    pipe_meta["PT1"] = {"install_year": 2005, "material": "ductile iron, cement-lined"}

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
    # a depressurised network (pumps off) stays computable: EPANET continues after 10 more trials
    o.hydraulic.unbalanced = "CONTINUE"
    o.hydraulic.unbalanced_value = 10
    info = {
        "station_junction": "WW",
        "entry_junction": f"J{entry}",
        "loops_added": n_loops,
        "pipe_meta": pipe_meta,
        "total_demand_m3s": total_q,
    }
    return wn, info


def water_valve_layer(wn: Any) -> pd.DataFrame:
    """WNTR strategic N-2 valve layer (columns ``valve, node, link``; valve ids ``WV<n>``)."""
    from lifeline.water.valves import generate_valves

    return generate_valves(wn, SEED)


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
