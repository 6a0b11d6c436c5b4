"""Crews and the street graph: nearest available crew by distance along streets, and an ETA.

The street graph is given as edges ``(u, v, length_m)`` and node positions ``(node, x_m, y_m)``
(the demo town can pass its gas mains as streets). Points are snapped to the nearest node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lifeline.errors import InputError, NotFoundError

DEFAULT_SPEED_KMH = 30.0


@dataclass
class StreetGraph:
    """Undirected street graph with node positions in the town CRS (metres)."""

    edges: pd.DataFrame  # u, v, length_m
    nodes: pd.DataFrame  # node, x_m, y_m
    _graph: Any = field(default=None, repr=False)
    _tree: Any = field(default=None, repr=False)
    _ids: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        import networkx as nx
        from scipy.spatial import cKDTree

        for name, df, cols in (
            ("edges", self.edges, ("u", "v", "length_m")),
            ("nodes", self.nodes, ("node", "x_m", "y_m")),
        ):
            missing = set(cols) - set(df.columns)
            if missing:
                raise InputError(
                    f"street {name} lack columns {sorted(missing)}", where=f"street graph {name}"
                )
        g = nx.Graph()
        for u, v, length in zip(
            self.edges["u"], self.edges["v"], self.edges["length_m"], strict=True
        ):
            if not (isinstance(length, int | float) and length >= 0):
                raise InputError(
                    f"edge {u}-{v} has bad length {length!r}", where="street graph edges: length_m"
                )
            if g.has_edge(str(u), str(v)):
                length = min(length, g[str(u)][str(v)]["length_m"])
            g.add_edge(str(u), str(v), length_m=float(length))
        self._graph = g
        self._ids = [str(n) for n in self.nodes["node"]]
        self._tree = cKDTree(self.nodes[["x_m", "y_m"]].to_numpy(dtype=float))

    def snap(self, x_m: float, y_m: float) -> tuple[str, float]:
        """Nearest graph node to a point and the straight-line distance to it (m)."""
        d, i = self._tree.query([x_m, y_m])
        return self._ids[int(i)], float(d)

    def distances_from(
        self, x_m: float, y_m: float
    ) -> tuple[dict[str, float], dict[str, list[str]], float]:
        """Street distance (m) and path from the node nearest to (x, y) to every reachable node."""
        import networkx as nx

        src, off = self.snap(x_m, y_m)
        if src not in self._graph:
            return {src: 0.0}, {src: [src]}, off
        dist, paths = nx.single_source_dijkstra(self._graph, src, weight="length_m")
        return dist, paths, off


def nearest_crew(
    graph: StreetGraph,
    crews: pd.DataFrame,
    x_m: float,
    y_m: float,
    utility: str,
    speed_kmh: float = DEFAULT_SPEED_KMH,
) -> dict[str, Any]:
    """The available crew of ``utility`` with the shortest street distance to (x, y), and its ETA.

    ``crews``: crew_id, utility, x_m, y_m, available (bool). Returns crew_id, distance_m (street
    distance incl. the snap offsets at both ends), eta_min, path (node ids) and the candidates
    considered. Raises NotFoundError if no available crew can reach the site.
    """
    if speed_kmh <= 0:
        raise InputError(f"speed must be positive, got {speed_kmh}", where="speed_kmh")
    pool = crews[(crews["utility"] == utility) & crews.get("available", True).astype(bool)]
    if pool.empty:
        raise NotFoundError(f"no available {utility} crew")
    dist, paths, off_site = graph.distances_from(x_m, y_m)
    ranked = []
    for r in pool.to_dict("records"):
        node, off = graph.snap(float(r["x_m"]), float(r["y_m"]))
        if node not in dist:
            continue
        d = dist[node] + off + off_site
        ranked.append((d, str(r["crew_id"]), node))
    if not ranked:
        raise NotFoundError(
            f"no available {utility} crew can reach ({x_m:.0f}, {y_m:.0f}) on the street graph"
        )
    ranked.sort()
    d, crew_id, node = ranked[0]
    eta = d / 1000.0 / speed_kmh * 60.0
    return {
        "crew_id": crew_id,
        "distance_m": round(d, 1),
        "eta_min": round(eta, 1),
        "speed_kmh": speed_kmh,
        "path": list(reversed(paths.get(node, []))),
        "candidates": [{"crew_id": c, "distance_m": round(x, 1)} for x, c, _ in ranked],
    }


def euclid(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Straight-line distance between two points (m)."""
    return math.hypot(a[0] - b[0], a[1] - b[1])


def street_graph_from_pipes(
    assets: pd.DataFrame, utility: str = "gas", snap_m: float = 1.0
) -> StreetGraph:
    """A street graph from the pipe geometries of ``utility`` (end points snapped to ``snap_m``)."""
    from shapely import wkt

    pipes = assets[(assets["utility"] == utility) & (assets["kind"] == "pipe")]
    rows, nodes = [], {}
    for g, length in zip(pipes["geometry_wkt"], pipes["length_m"], strict=True):
        if not isinstance(g, str) or not g.startswith("LINESTRING"):
            continue
        line = wkt.loads(g)
        ends = []
        for x, y in (line.coords[0], line.coords[-1]):
            key = f"{round(x / snap_m)}:{round(y / snap_m)}"
            nodes[key] = (float(x), float(y))
            ends.append(key)
        ln = (
            float(length)
            if isinstance(length, int | float) and math.isfinite(length)
            else float(line.length)
        )
        rows.append((ends[0], ends[1], ln))
    edges = pd.DataFrame(rows, columns=["u", "v", "length_m"])
    node_df = pd.DataFrame(
        [(k, x, y) for k, (x, y) in nodes.items()], columns=["node", "x_m", "y_m"]
    )
    return StreetGraph(edges, node_df)


def city_street_graph(city: Any) -> StreetGraph:
    """The street graph of a city: its gas pipes when their extent holds at least half of the
    customers (mains follow streets), else its water pipes, else its power lines."""
    a = city.assets
    c = city.customers
    for util, kind in (("gas", "pipe"), ("water", "pipe"), ("power", "line")):
        sel = a[(a["utility"] == util) & (a["kind"] == kind)]
        if sel.empty:
            continue
        inside = c.x_m.between(sel.x_m.min(), sel.x_m.max()) & c.y_m.between(
            sel.y_m.min(), sel.y_m.max()
        )
        if util == "gas" and len(c) and inside.mean() < 0.5:
            continue
        if util == "power":
            sel = sel.assign(kind="pipe")
            return street_graph_from_pipes(sel, "power")
        return street_graph_from_pipes(a, util)
    raise NotFoundError("the city has no pipes or lines to use as streets", where=city.name)


def default_crews(town: Any) -> pd.DataFrame:
    """Two crews per utility at its depots: water at the pumps, power at the first substation
    transformers inside the town, gas at the regulator; a second crew at the town centre."""
    a = town.assets
    xmin, ymin, xmax, ymax = (
        float(town.customers.x_m.min()),
        float(town.customers.y_m.min()),
        float(town.customers.x_m.max()),
        float(town.customers.y_m.max()),
    )
    cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
    rows = []
    for util, kinds in (
        ("water", ("pump", "reservoir")),
        ("power", ("trafo",)),
        ("gas", ("regulator",)),
    ):
        cand = a[(a["utility"] == util) & a["kind"].isin(kinds)]
        inside = cand[
            (cand.x_m.between(xmin - 2000, xmax + 2000))
            & (cand.y_m.between(ymin - 2000, ymax + 2000))
        ]
        depot = (inside if len(inside) else cand).iloc[0] if len(cand) else None
        dx, dy = (float(depot.x_m), float(depot.y_m)) if depot is not None else (cx, cy)
        rows.append(
            {"crew_id": f"{util}-crew-1", "utility": util, "x_m": dx, "y_m": dy, "available": True}
        )
        rows.append(
            {"crew_id": f"{util}-crew-2", "utility": util, "x_m": cx, "y_m": cy, "available": True}
        )
    return pd.DataFrame(rows)
