"""Large, realistic SYNTHETIC water networks for the city-scale benchmarks (>= 100,000 pipes).

Construction (seeded, deterministic):

* a street grid of ``nx x ny`` blocks (block side ~``block_m``, junctions jittered so streets
  are not straight), with ~``drop_fraction`` of street pipes removed at random — dead ends and
  irregular blocks — while keeping the grid connected (a spanning tree is never cut);
* hierarchy: every ``arterial_every``-th street is a trunk main (DN 300–500 by distance from
  the nearest source), other streets are distribution mains (DN 100–200);
* elevations: a smooth field (sum of a regional slope and a few Gaussian hills), metres;
* demands: households per junction (Poisson, mean 8) x 150 l/person/day x 2.3 persons,
  plus ~1 % critical sites (hospitals, schools) on random junctions;
* sources: reservoirs on the city edge, joined to trunk-main junctions;
* valves: a WNTR-style *strategic N-1* layer at a share ``valve_node_share`` (60 %) of the
  junctions — there, valves on all but one of its pipes (chosen at random), as
  :func:`wntr.network.generate_valve_layer` does; segments then hold a few pipes each;
* install years clustered by neighbourhood (see :func:`lifeline.risk.ageing.synthetic_ages`).

The result is an :class:`~lifeline.risk.networks.ArrayNet`, never a WNTR model: 100,000 pipes
build in seconds and a few tens of MB.
"""

from __future__ import annotations

import numpy as np

from lifeline.risk.graph import components
from lifeline.risk.networks import ArrayNet


def city(
    n_pipes: int = 100_000,
    seed: int = 1,
    block_m: float = 90.0,
    drop_fraction: float = 0.08,
    arterial_every: int = 8,
    n_sources: int = 6,
    valve_node_share: float = 0.6,
) -> ArrayNet:
    """Generate a synthetic city water network with about ``n_pipes`` pipes (see module doc)."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_pipes / (2.0 * (1 - drop_fraction)))))
    nx_, ny_ = side + 1, side + 1
    n = nx_ * ny_
    mx, my = np.meshgrid(np.arange(nx_), np.arange(ny_), indexing="ij")
    gx, gy = mx.ravel(), my.ravel()
    xy = np.stack([gx * block_m, gy * block_m], axis=1) + rng.normal(0, block_m * 0.12, size=(n, 2))
    node = np.arange(n).reshape(nx_, ny_)
    h = np.stack([node[:-1, :].ravel(), node[1:, :].ravel()], axis=1)  # streets along x
    v = np.stack([node[:, :-1].ravel(), node[:, 1:].ravel()], axis=1)  # streets along y
    edges = np.concatenate([h, v])
    art = np.concatenate([(gy[h[:, 0]] % arterial_every) == 0, (gx[v[:, 0]] % arterial_every) == 0])
    # random spanning tree (random weights + scipy MST) protects connectivity while dropping streets
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree

    w = rng.random(len(edges)) + 0.01
    mst = minimum_spanning_tree(coo_matrix((w, (edges[:, 0], edges[:, 1])), shape=(n, n))).tocoo()
    in_tree = set(
        zip(
            np.minimum(mst.row, mst.col).tolist(),
            np.maximum(mst.row, mst.col).tolist(),
            strict=True,
        )
    )
    key = list(
        zip(
            np.minimum(edges[:, 0], edges[:, 1]).tolist(),
            np.maximum(edges[:, 0], edges[:, 1]).tolist(),
            strict=True,
        )
    )
    tree_mask = np.array([k in in_tree for k in key])
    drop = (~tree_mask) & (~art) & (rng.random(len(edges)) < drop_fraction * 2.2)
    edges, art = edges[~drop], art[~drop]
    # sources on the edge: reservoirs joined to the nearest trunk junction
    border = np.flatnonzero((gx == 0) | (gy == 0) | (gx == nx_ - 1) | (gy == ny_ - 1))
    on_art = border[(gx[border] % arterial_every == 0) | (gy[border] % arterial_every == 0)]
    src_j = rng.choice(on_art, size=min(n_sources, len(on_art)), replace=False)
    res = np.arange(n, n + len(src_j))
    res_xy = xy[src_j] + rng.normal(0, 30.0, size=(len(src_j), 2))
    xy = np.concatenate([xy, res_xy])
    edges = np.concatenate([edges, np.stack([res, src_j], axis=1)])
    art = np.concatenate([art, np.ones(len(src_j), dtype=bool)])
    nn = n + len(src_j)
    length = np.maximum(np.hypot(*(xy[edges[:, 0]] - xy[edges[:, 1]]).T), 1.0)
    # diameters by hierarchy and distance from the nearest source
    dist = np.min(
        np.hypot(xy[:n, None, 0] - res_xy[None, :, 0], xy[:n, None, 1] - res_xy[None, :, 1]), axis=1
    )
    dist = np.concatenate([dist, np.zeros(len(src_j))])
    dmid = (dist[edges[:, 0]] + dist[edges[:, 1]]) / 2
    far = dmid / max(float(dmid.max()), 1.0)
    diameter = np.where(
        art,
        np.select([far < 0.3, far < 0.6], [0.5, 0.4], 0.3),
        rng.choice([0.1, 0.15, 0.2], size=len(edges), p=[0.55, 0.3, 0.15]),
    )
    # elevation: regional slope + hills
    elev = 20 + 0.002 * xy[:, 0] + 0.001 * xy[:, 1]
    ext = float(xy.max()) or 1.0
    for _ in range(6):
        c = rng.random(2) * ext
        elev += rng.uniform(5, 25) * np.exp(
            -((xy[:, 0] - c[0]) ** 2 + (xy[:, 1] - c[1]) ** 2) / (2 * (ext / 8) ** 2)
        )
    households = np.concatenate(
        [rng.poisson(8, size=n), np.zeros(len(src_j), dtype=np.int64)]
    ).astype(float)
    demand = households * 2.3 * 0.150 / 24.0  # m³/h
    critical = np.zeros(nn)
    critical[rng.choice(n, size=max(1, n // 100), replace=False)] = 1.0
    # strategic N-1 valve layer: at every junction valves on all but one incident pipe
    no_valves = np.flatnonzero(rng.random(nn) >= valve_node_share)
    valves = _strategic_n1(nn, edges, rng, skip=set(res.tolist()) | set(no_valves.tolist()))
    lab = components(nn, edges[:, 0], edges[:, 1])
    assert len(np.unique(lab)) == 1, "generator produced a disconnected network"
    kind = ["Pipe"] * len(edges)
    return ArrayNet(
        utility="water",
        node_ids=[f"J{i}" for i in range(n)] + [f"R{i}" for i in range(len(src_j))],
        link_ids=[f"P{i}" for i in range(len(edges))],
        ends=edges.astype(np.int64),
        link_kind=kind,
        length_m=length,
        diameter_m=diameter,
        valves=valves,
        valve_ids=[f"V{i}" for i in range(len(valves))],
        sources=res.astype(np.int64),
        demand=demand,
        customers=households,
        critical=critical,
        xy=xy,
        demand_unit="m3/h",
        elevation_m=elev,
    )


def _strategic_n1(
    n: int, edges: np.ndarray, rng: np.random.Generator, skip: set[int]
) -> np.ndarray:
    """Valves ``(link, node)``: at each node (not in ``skip``) on all incident links but one random one."""
    li = np.concatenate([np.arange(len(edges)), np.arange(len(edges))])
    ni = np.concatenate([edges[:, 0], edges[:, 1]])
    order = np.lexsort((rng.random(len(li)), ni))
    li, ni = li[order], ni[order]
    first = np.ones(len(ni), dtype=bool)
    first[1:] = ni[1:] != ni[:-1]
    keep = ~first & ~np.isin(ni, list(skip))
    return np.stack([li[keep], ni[keep]], axis=1).astype(np.int64)


def change_demand(
    net: ArrayNet, node: int, delta_customers: float, delta_demand_m3h: float
) -> None:
    """Apply a local change in place (e.g. a new development connected to one pipe's junction)."""
    net.customers[node] += delta_customers
    net.demand[node] += delta_demand_m3h
