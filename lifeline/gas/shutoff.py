"""Shut-off: the valves that isolate a leaking pipe, the pipes isolated and the customers cut.

Valves come from a valve layer (``valve_id,pipe,junction``: a valve on ``pipe`` next to
``junction``) and from pandapipes ``valve`` elements. The segment around the leak is grown over
pipes until valves bound it; customers cut are the sinks no longer connected to any supply once
the segment is closed. Without any valve bounding the segment, the recommendation is a
squeeze-off of the leaking pipe on both sides (PE mains) — ``method = "squeeze_off"`` — and the
customers cut are those that lose supply when that pipe is taken out; the network's supply
(``supply_junctions``) is the last resort.
"""

from __future__ import annotations

from collections import defaultdict, deque

import numpy as np
import pandas as pd

from lifeline.gas.network import GasNetwork


def _connected_customers(
    net: GasNetwork, removed_pipes: set[int], removed_junctions: set[int]
) -> int:
    """Number of sinks still connected to a supply junction (closed pandapipes valves cut)."""
    adj: dict[int, list[int]] = defaultdict(list)
    shut = {int(p) for p, op in zip(net.pvalve_pipe, net.pvalve_opened, strict=True) if not op}
    for p, a, b, ok in zip(net.pipe, net.pipe_from, net.pipe_to, net.pipe_in_service, strict=True):
        if ok and int(p) not in removed_pipes and int(p) not in shut:
            adj[int(a)].append(int(b))
            adj[int(b)].append(int(a))
    for a, b, op in zip(net.valve_from, net.valve_to, net.valve_opened, strict=True):
        if op:
            adj[int(a)].append(int(b))
            adj[int(b)].append(int(a))
    seen = {int(s) for s in net.supply_junction if int(s) not in removed_junctions}
    q = deque(seen)
    while q:
        u = q.popleft()
        for v in adj[u]:
            if v not in seen and v not in removed_junctions:
                seen.add(v)
                q.append(v)
    return int(sum(1 for j in net.sink_junction if int(j) in seen))


def shut_off(
    net: GasNetwork, leak_junction: int, leak_pipe: int | None, valves: pd.DataFrame | None = None
) -> dict:
    """Shut-off plan for a leak at ``leak_junction`` on ``leak_pipe`` (pandapipes indices)."""
    valves = (
        valves if valves is not None else pd.DataFrame(columns=["valve_id", "pipe", "junction"])
    )
    vmap: dict[int, list[tuple[str, int]]] = defaultdict(list)  # pipe -> [(valve_id, junction)]
    for r in valves.itertuples(index=False):
        vmap[int(r.pipe)].append((str(r.valve_id), int(r.junction)))
    pre_closed: set[str] = set()
    for v, p, j, op in zip(
        net.pvalve, net.pvalve_pipe, net.pvalve_junction, net.pvalve_opened, strict=True
    ):
        vmap[int(p)].append((f"valve:{int(v)}", int(j)))
        if not op:
            pre_closed.add(f"valve:{int(v)}")
    pipes_at: dict[int, list[tuple[int, int]]] = defaultdict(list)  # junction -> [(pipe, other)]
    for p, a, b, ok in zip(net.pipe, net.pipe_from, net.pipe_to, net.pipe_in_service, strict=True):
        if ok:
            pipes_at[int(a)].append((int(p), int(b)))
            pipes_at[int(b)].append((int(p), int(a)))
    vv_at: dict[int, list[tuple[int, int]]] = defaultdict(list)  # pandapipes valves
    for v, a, b, op in zip(net.valve, net.valve_from, net.valve_to, net.valve_opened, strict=True):
        if op:
            vv_at[int(a)].append((int(v), int(b)))
            vv_at[int(b)].append((int(v), int(a)))
    close: set[str] = set()
    seg_j: set[int] = set()
    seg_p: set[int] = set()
    start: list[int] = [leak_junction]
    if leak_pipe is not None:
        seg_p.add(leak_pipe)
        i = int(np.flatnonzero(net.pipe == leak_pipe)[0])
        ends = [int(net.pipe_from[i]), int(net.pipe_to[i])]
        for vid, vj in vmap.get(leak_pipe, []):
            close.add(vid)
            ends = [e for e in ends if e != vj]
        start = ends
    q = deque(start)
    seg_j.update(start)
    while q:
        u = q.popleft()
        for p, v in pipes_at[u]:
            if p in seg_p:
                continue
            vs = vmap.get(p, [])
            at_u = [vid for vid, vj in vs if vj == u]
            if at_u:
                close.add(at_u[0])
                continue
            seg_p.add(p)
            at_v = [vid for vid, vj in vs if vj == v]
            if at_v:
                close.add(at_v[0])
                continue
            if v not in seg_j:
                seg_j.add(v)
                q.append(v)
        for vid_pp, _v in vv_at[u]:
            close.add(f"valve:{vid_pp}")
    close -= pre_closed
    total = len(net.sink_junction)
    supply_in_segment = any(int(s) in seg_j for s in net.supply_junction)
    if close and not supply_in_segment:
        connected = _connected_customers(net, seg_p, seg_j)
        return {
            "valves": sorted(close),
            "pipes_isolated": sorted(seg_p),
            "customers_cut": total - connected,
            "method": "valves",
        }
    # no valve isolates the leak: squeeze off the leaking pipe on both sides
    target = {leak_pipe} if leak_pipe is not None else set()
    connected = _connected_customers(net, target, set())
    return {
        "valves": [],
        "pipes_isolated": sorted(int(p) for p in target),
        "customers_cut": total - connected,
        "method": "squeeze_off",
        "supply_junctions": [int(s) for s in net.supply_junction],
    }


def leak_pipe_for(
    net: GasNetwork, junction: int, toward: tuple[float, float] | None = None
) -> int | None:
    """An in-service main pipe at ``junction`` (the one pointing most toward ``toward``, if given)."""
    pos = {int(j): i for i, j in enumerate(net.junction)}
    best, best_d = None, np.inf
    for p, a, b, ok in zip(net.pipe, net.pipe_from, net.pipe_to, net.pipe_in_service, strict=True):
        if not ok or junction not in (int(a), int(b)):
            continue
        other = int(b) if int(a) == junction else int(a)
        o = pos[other]
        main = bool(net.candidate[o])
        d = 0.0 if toward is None else float(np.hypot(net.jx[o] - toward[0], net.jy[o] - toward[1]))
        d += 0.0 if main else 1e9  # prefer mains over house connections
        if d < best_d:
            best, best_d = int(p), d
    return best
