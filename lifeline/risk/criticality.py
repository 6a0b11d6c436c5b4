"""Criticality: the consequence of losing each water segment, gas segment and power section.

* Water: valve segments; losing one closes its boundary valves. Consequence = its own nodes,
  the segments cut off from every source (one-pass cut analysis, :mod:`lifeline.risk.graph`)
  and the junctions whose delivered demand falls below half of normal in a pressure-driven
  EPANET run of the closed network (:mod:`lifeline.risk.pdd`), fanned out over an executor.
* Gas: segments bounded by the gas valve layer; consequence = sinks cut off from the regulator
  (topological: a low-pressure gas network delivers wherever it is connected).
* Power: switchable sections (:func:`lifeline.power.topology.build_sections`); consequence =
  load (MW) and customers de-energised with the normal switch states, and what remains lost
  even if every other switch could be closed (after reconfiguration through ties).

Every table has one row per segment/section with ``customers_cut``, ``critical_cut`` (critical
sites, listed in ``critical_ids``) and the lost demand in the utility's unit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lifeline.risk.executors import Executor, InProcessExecutor, chunked
from lifeline.risk.graph import CutTree, cut_tree, segment_edges, segment_labels
from lifeline.risk.networks import ArrayNet
from lifeline.risk.pdd import PddSettings, run_chunk

_DEMAND_COL = {"m3/h": "lost_demand_m3h", "kg/s": "lost_demand_kg_s"}


@dataclass
class Criticality:
    """Result: ``segments`` (one row per segment), ``links`` (link id -> segment) and ``meta``."""

    segments: pd.DataFrame
    links: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Segmentation:
    """Segments of an :class:`ArrayNet` and their cut tree."""

    net: ArrayNet
    node_seg: np.ndarray
    link_seg: np.ndarray
    n_segments: int
    tree: CutTree

    def weights(self) -> np.ndarray:
        """(S, 3) per-segment sums of customers, critical sites and demand."""
        w = np.zeros((self.n_segments, 3))
        np.add.at(
            w,
            self.node_seg,
            np.stack([self.net.customers, self.net.critical, self.net.demand], axis=1),
        )
        return w

    def boundary_links(self, s: int) -> list[int]:
        """Links to close to take segment ``s`` out: its own links and valved links at its nodes."""
        v = self.net.valves
        own = np.flatnonzero(self.link_seg == s)
        if not len(v):
            return own.tolist()
        at = v[(self.node_seg[v[:, 1]] == s) & (self.link_seg[v[:, 0]] != s), 0]
        return sorted(set(own.tolist()) | set(at.tolist()))

    def boundary_valves(self, s: int) -> list[str]:
        """Valve ids to close to isolate segment ``s``."""
        v = self.net.valves
        if not len(v):
            return []
        m = (self.link_seg[v[:, 0]] == s) != (self.node_seg[v[:, 1]] == s)
        return [self.net.valve_ids[i] for i in np.flatnonzero(m)]


def segment(net: ArrayNet) -> Segmentation:
    """Segment ``net`` and build its cut tree (sources: the net's source nodes)."""
    node_seg, link_seg = segment_labels(len(net.node_ids), net.ends, net.valves)
    n = int(max(node_seg.max(initial=-1), link_seg.max(initial=-1)) + 1)
    tree = cut_tree(n, segment_edges(node_seg, link_seg, net.valves), node_seg[net.sources])
    return Segmentation(net, node_seg, link_seg, n, tree)


def _ids(net: ArrayNet, nodes: np.ndarray, which: dict[int, list[str]]) -> str:
    out: list[str] = []
    for i in nodes.tolist():
        out.extend(which.get(i, []))
    return ";".join(sorted(out))


def _table(
    seg: Segmentation,
    affected: dict[int, np.ndarray],
    method: str,
    pdd: dict[int, Any] | None = None,
) -> Criticality:
    net = seg.net
    pipe = net.is_pipe
    rows = []
    for s in range(seg.n_segments):
        links = np.flatnonzero(seg.link_seg == s)
        if not pipe[links].any():
            continue
        own = np.flatnonzero(seg.node_seg == s)
        aff = affected[s]
        rows.append(
            {
                "utility": net.utility,
                "segment_id": f"{net.utility}:S{s}",
                "n_pipes": int(pipe[links].sum()),
                "length_m": round(float(net.length_m[links].sum()), 1),
                "pipes": ";".join(net.link_ids[i] for i in links if pipe[i]),
                "valves_to_close": ";".join(seg.boundary_valves(s)),
                "nodes_in_segment": len(own),
                "nodes_affected": len(aff),
                "customers_cut": int(round(float(net.customers[aff].sum()))),
                "critical_cut": int(round(float(net.critical[aff].sum()))),
                "critical_ids": _ids(net, aff, net.critical_ids),
                _DEMAND_COL.get(net.demand_unit, "lost_demand"): round(
                    float(net.demand[aff].sum()), 5
                ),
                "pdd_low_nodes": (pdd or {}).get(s, {}).get("n_low", 0),
                "method": method,
            }
        )
    segs = pd.DataFrame(rows)
    links = pd.DataFrame(
        {
            "utility": net.utility,
            "link_id": net.link_ids,
            "kind": net.link_kind,
            "segment_id": [f"{net.utility}:S{s}" for s in seg.link_seg],
        }
    )
    return Criticality(segs, links, {"n_segments": len(segs), "method": method})


def topological(net: ArrayNet) -> Criticality:
    """Consequence of every segment from connectivity alone (gas, or water at city scale)."""
    t0 = time.perf_counter()
    seg = segment(net)
    affected = {
        s: np.flatnonzero(np.isin(seg.node_seg, seg.tree.cut_vertices(s)))
        for s in range(seg.n_segments)
    }
    out = _table(seg, affected, "topology: segment + segments cut off from every source")
    out.meta["seconds"] = round(time.perf_counter() - t0, 3)
    return out


def water(
    net: ArrayNet,
    inp_text: str | None,
    executor: Executor | None = None,
    settings: PddSettings | None = None,
    chunks: int | None = None,
) -> Criticality:
    """Water criticality: topology plus pressure-driven EPANET runs (one per segment).

    ``inp_text``: the EPANET INP as text (None: topology only). The runs are split into
    ``chunks`` tasks (default: 4 per worker) on ``executor`` (default in-process).
    """
    t0 = time.perf_counter()
    ex = executor or InProcessExecutor()
    settings = settings or PddSettings()
    seg = segment(net)
    pipe = net.is_pipe
    todo = [s for s in range(seg.n_segments) if pipe[seg.link_seg == s].any()]
    affected = {
        s: np.flatnonzero(np.isin(seg.node_seg, seg.tree.cut_vertices(s)))
        for s in range(seg.n_segments)
    }
    pdd: dict[int, Any] = {}
    method = "topology only"
    if inp_text is not None and todo:
        scen = [[net.link_ids[i] for i in seg.boundary_links(s)] for s in todo]
        parts = chunked(list(range(len(todo))), chunks or 4 * max(1, ex.workers))
        results = ex.map(
            run_chunk,
            [(inp_text, [scen[i] for i in p], settings) for p in parts],
            progress="PDD segment runs",
        )
        nidx = net.node_index()
        failed = 0
        for p, res in zip(parts, results, strict=True):
            jpos = [nidx[j] for j in res["junctions"]]
            for k, cut in zip(p, res["cut"], strict=True):
                s = todo[k]
                if cut is None:
                    failed += 1
                    continue
                low = np.array([jpos[i] for i, _ in cut], dtype=np.int64)
                pdd[s] = {"n_low": len(low), "unserved_m3h": res["unserved_m3h"][p.index(k)]}
                affected[s] = np.union1d(affected[s], low)
        method = (
            f"PDD (EPANET 2.2, single period at t={settings.hour_s} s, served < {settings.served_below:.0%} "
            "of normal) + topology"
        )
        if failed:
            method += f"; {failed} closure(s) did not solve, topology used for them"
    out = _table(seg, affected, method, pdd)
    out.meta.update(
        {
            "seconds": round(time.perf_counter() - t0, 3),
            "executor": ex.describe(),
            "pdd_runs": len(pdd),
        }
    )
    return out


def power(pnet: Any, customers: pd.DataFrame | None = None) -> Criticality:
    """Consequence of losing each switchable section of a pandapower network.

    ``load_lost_mw``: de-energised with the normal switch states; ``load_lost_after_ties_mw``:
    still lost if every other switch could be closed (the best reconfiguration).
    """
    from lifeline.power.topology import build_sections

    t0 = time.perf_counter()
    g = build_sections(pnet)
    n = g.n_sections
    sw = [(a, b, g.normally_closed.get(s, False)) for s, (a, b) in g.switch_ends.items() if a != b]
    e_norm = np.array([(a, b) for a, b, c in sw if c], dtype=np.int64).reshape(-1, 2)
    e_all = np.array([(a, b) for a, b, _ in sw], dtype=np.int64).reshape(-1, 2)
    src = np.array(sorted(g.sources), dtype=np.int64)
    w = np.zeros((n, 3))
    cust_ids: dict[int, list[str]] = {}
    crit_ids: dict[int, list[str]] = {}
    for ld, sec in g.load_section.items():
        w[sec, 2] += g.load_mw.get(ld, 0.0)
    if customers is not None and "power_asset_id" in customers.columns:
        for cid, aid, crit in zip(
            customers.customer_id,
            customers.power_asset_id.fillna(""),
            customers.critical.fillna(False),
            strict=True,
        ):
            ref = str(aid).removeprefix("power:load:")
            if ref.isdigit() and int(ref) in g.load_section:
                sec = g.load_section[int(ref)]
                w[sec, 0] += 1
                cust_ids.setdefault(sec, []).append(str(cid))
                if bool(crit):
                    w[sec, 1] += 1
                    crit_ids.setdefault(sec, []).append(str(cid))
    else:
        for _ld, sec in g.load_section.items():
            w[sec, 0] += 1
    t_norm, t_all = cut_tree(n, e_norm, src), cut_tree(n, e_all, src)
    c_norm, c_all = t_norm.cut_sums(w), t_all.cut_sums(w)
    rows = []
    for s in range(n):
        lines = g.section_lines.get(s, [])
        if not lines and not g.section_loads.get(s):
            continue
        lost = t_norm.cut_vertices(s) if t_norm.pre[s] >= 0 else np.array([s])
        crit = sorted(c for v in lost.tolist() for c in crit_ids.get(v, []))
        bounding = sorted(k for k, (a, b) in g.switch_ends.items() if (a == s) != (b == s))
        rows.append(
            {
                "utility": "power",
                "segment_id": f"power:S{s}",
                "n_pipes": len(lines),
                "lines": ";".join(str(x) for x in sorted(lines)),
                "switches_to_open": ";".join(map(str, bounding)),
                "buses": len(g.section_buses.get(s, [])),
                "customers_cut": int(c_norm[s, 0]),
                "critical_cut": int(c_norm[s, 1]),
                "critical_ids": ";".join(crit),
                "load_lost_mw": round(float(c_norm[s, 2]), 5),
                "load_lost_after_ties_mw": round(float(c_all[s, 2]), 5),
                "energised": bool(t_norm.pre[s] >= 0),
                "method": "topology: section + sections cut off with normal switch states",
            }
        )
    links = pd.DataFrame(
        {
            "utility": "power",
            "link_id": [str(k) for k in g.line_section],
            "kind": "line",
            "segment_id": [f"power:S{s}" for s in g.line_section.values()],
        }
    )
    return Criticality(
        pd.DataFrame(rows),
        links,
        {"n_segments": len(rows), "seconds": round(time.perf_counter() - t0, 3)},
    )
