"""Gas: pandapipes' ``schutterwald_gas`` reprojected to town metres, and its valve layer.

The source network has 1053 main junctions, 1506 house nodes (one per household, each the end of
a house-connection pipe) and one external grid (the district regulator station outlet, 1 bar
gauge). It has no valves; :func:`gas_valve_layer` generates a realistic layer by rule.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from lifeline.datasets.geo import GK3, TOWN_CRS, transform

#: extra line valve on a main run once the unvalved main length since the last valve exceeds this
MAIN_VALVE_SPACING_M = 250.0
#: branches whose whole downstream main is shorter than this get no branch valve
MIN_BRANCH_M = 60.0


def build_gas() -> Any:
    """Load ``schutterwald_gas`` and reproject its junction geodata from EPSG:31467 to EPSG:25832."""
    import pandapipes.networks as ppn

    net = ppn.schutterwald_gas()
    gd = net.junction_geodata
    x, y = transform(gd.x.values, gd.y.values, GK3, TOWN_CRS)
    net.junction_geodata = pd.DataFrame({"x": np.round(x, 3), "y": np.round(y, 3)}, index=gd.index)
    net.name = "Schutterwald gas (pandapipes schutterwald_gas, EPSG:25832)"
    return net


def house_nodes(net: Any) -> pd.Index:
    """Junction indices of the house nodes (the end points of house connections)."""
    return net.junction.index[net.junction["type"] == "house_node"]


def main_pipes(net: Any) -> pd.DataFrame:
    """Pipes between main junctions (house-connection pipes excluded)."""
    hn = set(house_nodes(net))
    p = net.pipe
    return p[~(p.from_junction.isin(hn) | p.to_junction.isin(hn))]


def service_main_junction(net: Any) -> pd.Series:
    """For each house node, the main junction its house-connection pipe starts from."""
    hn = set(house_nodes(net))
    out: dict[int, int] = {}
    for _, r in net.pipe.iterrows():
        a, b = int(r.from_junction), int(r.to_junction)
        if b in hn and a not in hn:
            out[b] = a
        elif a in hn and b not in hn:
            out[a] = b
    return pd.Series(out, name="main_junction")


def _graph(net: Any) -> nx.Graph:
    g = nx.Graph()
    mp = main_pipes(net)
    for idx, r in mp.iterrows():
        g.add_edge(
            int(r.from_junction),
            int(r.to_junction),
            pipe=int(idx),
            length_m=float(r.length_km) * 1000,
        )
    return g


def gas_valve_layer(net: Any) -> pd.DataFrame:
    """Generate the gas main valve layer by rule (see docs/town.md).

    Walking the mains outward from the regulator station (breadth-first tree over main pipes):

    1. a station outlet valve on every main leaving the external-grid junction;
    2. at every branch point (a main junction with 3+ mains), a valve on each outgoing branch whose
       downstream main length is at least :data:`MIN_BRANCH_M`;
    3. a line valve on a main run whenever the unvalved length since the last valve would exceed
       :data:`MAIN_VALVE_SPACING_M`;
    4. on mains closing a loop (not in the tree), a valve at both ends.

    House connections have their own house-entry shut-off (HAE) and are not listed.
    Returns columns ``valve_id, pipe, junction`` (a valve on ``pipe`` next to ``junction``).
    """
    g = _graph(net)
    src = int(net.ext_grid.junction.iloc[0])
    tree = nx.bfs_tree(g, src)
    down_len: dict[int, float] = {}
    for n in reversed(list(nx.topological_sort(tree))):
        down_len[n] = sum(down_len[c] + g.edges[n, c]["length_m"] for c in tree.successors(n))
    valves: list[tuple[int, int]] = []
    since: dict[int, float] = {src: 0.0}
    for n in nx.topological_sort(tree):
        children = list(tree.successors(n))
        degree = g.degree(n)
        for c in children:
            e = g.edges[n, c]
            length = e["length_m"]
            branch = degree >= 3 and down_len[c] + length >= MIN_BRANCH_M
            if n == src or branch or since[n] + length > MAIN_VALVE_SPACING_M:
                valves.append((e["pipe"], n))
                since[c] = length
            else:
                since[c] = since[n] + length
    tree_edges = {frozenset(e) for e in tree.to_undirected().edges}
    for a, b, d in g.edges(data=True):
        if frozenset((a, b)) not in tree_edges:
            valves += [(d["pipe"], a), (d["pipe"], b)]
    df = pd.DataFrame(valves, columns=["pipe", "junction"]).drop_duplicates().reset_index(drop=True)
    df.insert(0, "valve_id", [f"GV{i + 1}" for i in range(len(df))])
    return df


def solve_gas(net: Any) -> None:
    """Run a steady pandapipes pipeflow; raise NetworkModelError if it does not converge."""
    import pandapipes as pps

    from lifeline.errors import NetworkModelError

    try:
        pps.pipeflow(net, mode="hydraulics")
    except Exception as exc:
        raise NetworkModelError(f"gas pipeflow did not converge: {exc}", where="town gas") from exc
    if not bool(net.converged):
        raise NetworkModelError("gas pipeflow did not converge", where="town gas")
