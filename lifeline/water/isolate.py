"""Valve segments, isolation of a pipe and the impact of closing it.

A valve (CSV columns ``valve,node,link``, the WNTR valve-layer convention) sits on ``link`` next
to ``node``; closing it separates the two. Segments are the connected parts of the network when
every valve is closed. Isolating a pipe closes the valves on the boundary of its segment. The
impact is (1) the segment itself, (2) nodes cut off from every source (reservoir or tank) once
the segment is removed — found topologically — and (3) with ``simulate``, nodes whose
pressure-driven (PDD) demand falls below half of the requested demand in an EPANET run of the
closed network (:mod:`lifeline.water.pdd`, in-process toolkit solve). The precomputation (valve
layer when none is given, segment labels, the PDD-ready INP and base demands) is cached under
``settings.cache_dir/water`` keyed by a hash of the INP and valve files; once it is warm,
:func:`isolate` does not parse the network with WNTR.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lifeline.errors import InputError, NetworkModelError, NotFoundError
from lifeline.water.network import cache_dir, file_hash, load_network

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Segments:
    """Precomputed segmentation of a network."""

    nodes: list[str]
    links: list[str]
    link_ends: np.ndarray  # (n_links, 2) node indices
    link_kind: list[str]
    node_seg: np.ndarray
    link_seg: np.ndarray
    valves: list[dict[str, str]]  # records {valve, node, link}
    sources: list[int]  # node indices of reservoirs and tanks
    demand_m3h: np.ndarray  # mean demand per node (m³/h)
    elements: list[str]  # junction names


def read_valves(path: str | Path, wn: Any) -> pd.DataFrame:
    """Read a valve-layer CSV (valve,node,link); unknown nodes/links raise InputError with the line."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError("valve file not found", str(path))
    df = pd.read_csv(path, dtype=str)
    df.columns = [c.strip() for c in df.columns]
    for col in ("node", "link"):
        if col not in df.columns:
            raise InputError(f"missing column {col!r} (expected valve,node,link)", str(path))
    if "valve" not in df.columns:
        df["valve"] = [f"V{i}" for i in range(len(df))]
    nodes, links = set(wn.node_name_list), set(wn.link_name_list)
    for i, r in df.iterrows():
        line = f"{path}:{int(str(i)) + 2}"
        if r["node"] not in nodes:
            raise InputError(f"node {r['node']!r} is not in the network", line)
        if r["link"] not in links:
            raise InputError(f"link {r['link']!r} is not in the network", line)
        link = wn.get_link(r["link"])
        if r["node"] not in (link.start_node_name, link.end_node_name):
            raise InputError(f"link {r['link']!r} does not touch node {r['node']!r}", line)
    return df[["valve", "node", "link"]].astype(str)


def generate_valves(wn: Any, seed: int = 0) -> pd.DataFrame:
    """A strategic N-1 valve layer (WNTR): every node has valves on all but one of its links."""
    import wntr

    vl = wntr.network.generate_valve_layer(wn, "strategic", 1, seed=seed)
    vl = vl.reset_index(drop=True)
    vl.insert(0, "valve", [f"V{i}" for i in range(len(vl))])
    return vl[["valve", "node", "link"]].astype(str)


def _mean_demand_m3h(wn: Any, name: str) -> float:
    node = wn.get_node(name)
    total = 0.0
    for d in getattr(node, "demand_timeseries_list", []):
        pat = d.pattern
        mult = float(np.mean(pat.multipliers)) if pat is not None else 1.0
        total += d.base_value * mult
    return total * 3600.0


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected-component label of each of ``n`` vertices for the edges ``a[k]``–``b[k]``.

    A union-find in plain Python: a millisecond on L-Town, and it keeps scipy (0.3 s of imports)
    off the request path.
    """
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for u, v in zip(a.tolist(), b.tolist(), strict=True):
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[ru] = rv
    return np.array([find(x) for x in range(n)], dtype=int)


def segments(network: str | Path, valves: str | Path | None = None) -> Segments:
    """Compute (or load from cache) the valve segments of ``network``."""
    import pickle

    if not Path(network).is_file():
        raise NetworkModelError("network file not found", str(network))
    if valves is not None and not Path(valves).is_file():
        raise InputError("valve file not found", str(valves))
    key = file_hash(network, valves, extra="seg-v2")
    path = cache_dir() / f"segments_{key}.pkl"
    if path.is_file():
        with path.open("rb") as fh:
            cached: Segments = pickle.load(fh)
        return cached
    wn = load_network(network)
    vl = read_valves(valves, wn) if valves is not None else generate_valves(wn)
    nodes = list(wn.node_name_list)
    links = list(wn.link_name_list)
    nidx = {n: i for i, n in enumerate(nodes)}
    lidx = {n: i for i, n in enumerate(links)}
    ends = np.array(
        [(nidx[wn.get_link(k).start_node_name], nidx[wn.get_link(k).end_node_name]) for k in links],
        dtype=int,
    )
    valved = {(lidx[r.link], nidx[r.node]) for r in vl.itertuples()}
    nn = len(nodes)
    a, b = [], []
    for li, (u, v) in enumerate(ends):
        for x in (u, v):
            if (li, x) not in valved:
                a.append(nn + li)
                b.append(x)
    lab = _components(nn + len(links), np.array(a, dtype=int), np.array(b, dtype=int))
    jset = set(wn.junction_name_list)
    seg = Segments(
        nodes=nodes,
        links=links,
        link_ends=ends,
        link_kind=[wn.get_link(k).link_type for k in links],
        node_seg=lab[:nn],
        link_seg=lab[nn:],
        valves=[{k: str(r[k]) for k in ("valve", "node", "link")} for r in vl.to_dict("records")],
        sources=[nidx[n] for n in list(wn.reservoir_name_list) + list(wn.tank_name_list)],
        demand_m3h=np.array([_mean_demand_m3h(wn, n) if n in jset else 0.0 for n in nodes]),
        elements=list(wn.junction_name_list),
    )
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(seg, fh)
    os.replace(tmp, path)
    return seg


def precompute(network: str | Path, valves: str | Path | None = None) -> None:
    """Run (or load) the one-time precomputation: segments and the PDD base (see module doc)."""
    from lifeline.water.pdd import pdd_base

    segments(network, valves)
    pdd_base(network)


def read_customers(path: str | Path, node_names: set[str]) -> pd.DataFrame:
    """Read customers CSV (customer_id,node,category,critical); unknown nodes raise InputError."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputError("customers file not found", str(path))
    df = pd.read_csv(path, dtype=str).fillna("")
    df.columns = [c.strip() for c in df.columns]
    for col in ("customer_id", "node"):
        if col not in df.columns:
            raise InputError(
                f"missing column {col!r} (expected customer_id,node,category,critical)", str(path)
            )
    bad = ~df["node"].isin(node_names)
    if bad.any():
        i = int(np.argmax(bad.to_numpy()))
        raise InputError(f"node {df['node'].iloc[i]!r} is not in the network", f"{path}:{i + 2}")
    df["category"] = df.get("category", "")
    df["critical"] = (
        df.get("critical", "").astype(str).str.strip().str.lower().isin(("1", "true", "yes", "y"))
    )
    return df


def isolate(
    network: str | Path,
    pipe: str,
    valves: str | Path | None = None,
    customers: str | Path | None = None,
    simulate: bool = True,
) -> dict[str, Any]:
    """Isolate ``pipe``: valves to close, segment, cut-off parts, customers, lost volume (m³/h).

    Example: ``isolate("Net3.inp", "20")["valves_to_close"]``.
    """
    seg = segments(network, valves)
    try:
        li = seg.links.index(pipe)
    except ValueError:
        raise NotFoundError(f"pipe {pipe!r} is not in the network", str(network)) from None
    sid = seg.link_seg[li]
    in_nodes = np.flatnonzero(seg.node_seg == sid)
    in_links = np.flatnonzero(seg.link_seg == sid)
    nset = set(in_nodes.tolist())
    lset = set(in_links.tolist())
    lidx = {n: i for i, n in enumerate(seg.links)}
    nidx = {n: i for i, n in enumerate(seg.nodes)}
    close = [v for v in seg.valves if (lidx[v["link"]] in lset) != (nidx[v["node"]] in nset)]
    # topological cut-off: remove the segment, find nodes not connected to any source
    keep = np.array([i not in lset for i in range(len(seg.links))])
    e = seg.link_ends[keep]
    ok_e = ~(np.isin(e[:, 0], in_nodes) | np.isin(e[:, 1], in_nodes))
    e = e[ok_e]
    lab = _components(len(seg.nodes), e[:, 0], e[:, 1])
    fed = {lab[s] for s in seg.sources if s not in nset}
    cut = [i for i in range(len(seg.nodes)) if i not in nset and lab[i] not in fed]
    seg_nodes = [seg.nodes[i] for i in in_nodes]
    junctions = set(seg.elements)
    cut_nodes = [seg.nodes[i] for i in cut]
    res: dict[str, Any] = {
        "pipe": pipe,
        "valves_to_close": [dict(v) for v in close],
        "segment": {
            "pipes": [seg.links[i] for i in in_links if seg.link_kind[i] == "Pipe"],
            "links": [seg.links[i] for i in in_links],
            "junctions": [n for n in seg_nodes if n in junctions],
        },
        "cut_off_unintended": cut_nodes,
        "lost_demand_m3h": round(
            float(seg.demand_m3h[in_nodes].sum() + seg.demand_m3h[cut].sum()), 3
        )
        if len(in_nodes) + len(cut)
        else 0.0,
        "valve_layer": "given" if valves is not None else "generated (strategic N-1, seed 0)",
    }
    affected = set(seg_nodes) | set(cut_nodes)
    if simulate:
        from lifeline.water.pdd import low_service

        closed = sorted({seg.links[i] for i in in_links} | {v["link"] for v in close})
        low, status, msgs = low_service(network, closed, affected)
        res["low_service_pdd"] = low
        res["pdd_status"] = status
        res["pdd_messages"] = msgs
        affected |= {d["node"] for d in low}
        extra = sum(d["unserved_m3h"] for d in low)
        res["lost_demand_m3h"] = round(res["lost_demand_m3h"] + extra, 3)
    res["lost_volume_m3_per_h"] = res["lost_demand_m3h"]
    if customers is not None:
        cust = read_customers(customers, set(seg.nodes))
        hit = cust[cust["node"].isin(affected)]
        res["customers_losing_water"] = hit[["customer_id", "node", "category"]].to_dict("records")
        res["critical_sites"] = hit[hit["critical"]][["customer_id", "node", "category"]].to_dict(
            "records"
        )
    else:
        dem = {seg.nodes[i] for i in np.flatnonzero(seg.demand_m3h > 0)}
        res["customers_losing_water"] = [
            {"customer_id": f"node:{n}", "node": n, "category": "demand node"}
            for n in sorted(affected & dem)
        ]
        res["critical_sites"] = []
    return res


def summary(res: dict[str, Any]) -> str:
    """A readable multi-line summary of an :func:`isolate` result."""
    seg = res["segment"]
    lines = [
        f"Isolate pipe {res['pipe']}  (valve layer: {res['valve_layer']})",
        f"  close {len(res['valves_to_close'])} valve(s): "
        + ", ".join(f"{v['valve']} ({v['link']}@{v['node']})" for v in res["valves_to_close"]),
        f"  segment: {len(seg['pipes'])} pipe(s) {', '.join(seg['pipes'][:20])}; {len(seg['junctions'])} junction(s)",
        f"  cut off unintentionally: {len(res['cut_off_unintended'])} node(s) {', '.join(res['cut_off_unintended'][:20])}",
    ]
    if "low_service_pdd" in res:
        if res.get("pdd_status", "solved") == "solved":
            low = res["low_service_pdd"]
            lines.append(
                f"  low service after closing (PDD < 50 %): {len(low)} node(s) "
                + ", ".join(d["node"] for d in low[:20])
            )
        else:
            lines.append("  low service after closing: EPANET could not solve the closed network")
    lines.append(
        f"  customers losing water: {len(res['customers_losing_water'])}; critical sites: {len(res['critical_sites'])} "
        + ", ".join(c["customer_id"] for c in res["critical_sites"])
    )
    lines.append(f"  water not delivered: {res['lost_volume_m3_per_h']:.2f} m³/h")
    return "\n".join(lines)
