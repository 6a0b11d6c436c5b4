"""FLISR: isolate the fault region and restore the rest, verified by a pandapower power flow.

Starting from the network file's normal switch states (the plan is a list of operations from
there): open every closed switch on the boundary of the fault region, re-close each operated
device unless it bounds the region (upstream customers come back), then search restoration of
the sections left dark behind the region through normally-open tie switches:

* close up to ``max_ties`` ties (several ties when one would overload), each joining a dark
  part to a supplied part; a tie that would close a loop (mesh two feeders) is refused, so the
  result stays radial;
* optionally open up to ``max_extra_open`` closed switches inside the dark area (shed or
  sectionalise a part a tie cannot carry);
* the region stays disconnected from every source, and no customer who still had supply loses
  it (extra opens only inside the dark area).

Candidates are ranked by restored MW (p_mw x scaling), then fewest operations, from topology
alone; power flows (``pandapower.runpp``) run best-first until one is within the limits (bus
voltage >= ``min_vm_pu``, line and transformer loading <= ``max_loading_percent``), so the first
feasible candidate is the best one of the searched space. Configurations that light the same
sections in the same groups through the same ties are evaluated once. A screen (``_Screen``)
skips power flows whose failure is predictable from the failures seen so far; at most
``max_power_flows`` power flows are run (a deterministic budget).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any

from lifeline.power.topology import SUPER, SectionGraph, _UnionFind


@dataclass
class Limits:
    """Operating limits a plan must meet (per unit and percent)."""

    min_vm_pu: float = 0.93
    max_vm_pu: float = 1.10
    max_loading_percent: float = 100.0


@dataclass
class SearchParams:
    """Size of the restoration search and its power-flow budget."""

    max_ties: int = 2
    max_extra_open: int = 1
    max_power_flows: int = 40
    time_budget_s: float = 20.0  #: wall-clock safety stop; the power-flow count is the real budget
    margin_pu: float = 1e-4  #: safety margin on the voltage limit (pu)
    margin_percent: float = 0.01  #: safety margin on the loading limit (%)
    screen: bool = True  #: skip power flows predicted to fail (False: exhaustive best-first)


@dataclass
class PlanResult:
    """A verified switching plan and its power-flow checks."""

    open: list[int]
    close: list[int]
    restored_loads: list[int]
    unserved_loads: list[int]
    min_vm_pu: float
    max_loading_percent: float
    feasible: bool
    restored_mw: float
    n_candidates: int = 0
    n_power_flows: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


def power_flow_checks(
    net: Any,
    closed: dict[int, bool],
    limits: Limits,
    margin_pu: float = 0.0,
    margin_percent: float = 0.0,
) -> tuple[bool, float, float, Any]:
    """Run ``pandapower.runpp`` on ``net`` with switch states ``closed``.

    Returns (within limits, min bus voltage pu, max line/trafo loading %, net). Buses without
    supply (NaN results) are ignored. A non-converging flow is infeasible (NaN figures).
    """
    import numpy as np
    import pandapower as pp

    cur = net.switch["closed"].to_numpy(dtype=bool).copy()
    pos = net.switch.index.get_indexer(list(closed))
    ok_pos = pos >= 0
    cur[pos[ok_pos]] = np.fromiter(closed.values(), dtype=bool, count=len(closed))[ok_pos]
    net.switch["closed"] = cur
    try:
        pp.runpp(net, numba=False, calculate_voltage_angles=False)
    except Exception:  # pandapower raises LoadflowNotConverged and others on failure
        return False, math.nan, math.nan, net
    vm = net.res_bus.vm_pu.to_numpy(dtype=float)
    vm = vm[~np.isnan(vm)]
    loads = [net.res_line.loading_percent.to_numpy(dtype=float)]
    if len(net.trafo):
        loads.append(net.res_trafo.loading_percent.to_numpy(dtype=float))
    if "trafo3w" in net and len(net.trafo3w):
        loads.append(net.res_trafo3w.loading_percent.to_numpy(dtype=float))
    allload = np.concatenate(loads) if loads else np.array([0.0])
    allload = allload[~np.isnan(allload)]
    vmin = float(vm.min()) if len(vm) else math.nan
    vmax = float(vm.max()) if len(vm) else math.nan
    lmax = float(allload.max()) if len(allload) else 0.0
    ok = (
        len(vm) > 0
        and vmin >= limits.min_vm_pu + margin_pu
        and vmax <= limits.max_vm_pu - margin_pu
        and lmax <= limits.max_loading_percent - margin_percent
    )
    return ok, vmin, lmax, net


def _energized(g: SectionGraph, closed: dict[int, bool]) -> set[int]:
    return g.energized(closed)


class _Screen:
    """Skip power flows whose failure is predictable from earlier failed ones.

    For a candidate, ``flows`` gives each energised section's parent switch and the restored
    MW that passes through it (its subtree's added load). An element (line, transformer) that
    overloaded is modelled as loading = piecewise-linear in the added MW through its section,
    fed from the same side, through the base point and the failures seen; a bus that fell
    below the voltage limit as a drop proportional to the largest ratio of added MW along the
    same supply path. A candidate is skipped only when the prediction exceeds the limit by more
    than a tolerance (1 % loading, 0.002 pu), so the best-first order stays nearly exact.
    """

    def __init__(self, g: SectionGraph, limits: Limits, params: SearchParams) -> None:
        self.g = g
        self.limits = limits
        self.params = params
        self.tol_load = 1.0
        self.tol_vm = 0.002
        self.base_loading: dict[tuple[str, int], float] = {}
        self.base_vm: dict[int, float] = {}
        # (kind, idx) -> {parent_switch: [(added_mw, loading)]}
        self.load_pts: dict[tuple[str, int], dict[int | None, list[tuple[float, float]]]] = {}
        # bus -> list of (path [(section, parent_switch)], added per section, drop)
        self.volt: list[tuple[int, list[tuple[int, int | None]], dict[int, float], float]] = []

    def set_base(self, net: Any) -> None:
        for i, v in net.res_line.loading_percent.items():
            self.base_loading[("line", int(i))] = float(v)
        if len(net.trafo):
            for i, v in net.res_trafo.loading_percent.items():
                self.base_loading[("trafo", int(i))] = float(v)
        for i, v in net.res_bus.vm_pu.items():
            self.base_vm[int(i)] = float(v)

    def flows(
        self, state: dict[int, bool], lit: frozenset[int]
    ) -> tuple[dict[int, int | None], dict[int, int], dict[int, float]]:
        g = self.g
        parent_sw: dict[int, int | None] = {s: None for s in g.sources}
        parent: dict[int, int] = {s: -1 for s in g.sources}
        order = list(g.sources)
        i = 0
        while i < len(order):
            u = order[i]
            i += 1
            for sw, v in g.adj.get(u, ()):
                if v not in parent and state.get(sw, False):
                    parent[v] = u
                    parent_sw[v] = sw
                    order.append(v)
        added = {s: (g.mw_of(g.section_loads.get(s, ())) if s in lit else 0.0) for s in order}
        for v in reversed(order):
            u = parent[v]
            if u >= 0:
                added[u] += added[v]
        return parent_sw, parent, added

    def _section(self, kind: str, idx: int) -> int | None:
        return self.g.line_section.get(idx) if kind == "line" else self.g.trafo_section.get(idx)

    def predicts_failure(
        self, flows: tuple[dict[int, int | None], dict[int, int], dict[int, float]]
    ) -> bool:
        parent_sw, parent, added = flows
        lim = self.limits.max_loading_percent + self.tol_load
        for (kind, idx), by_dir in self.load_pts.items():
            sec = self._section(kind, idx)
            if sec is None or sec not in added:
                continue
            pts = by_dir.get(parent_sw.get(sec))
            if not pts:
                continue
            a = added[sec]
            xs = [(0.0, self.base_loading.get((kind, idx), 0.0)), *sorted(pts)]
            pred = _interp(xs, a)
            if pred > lim:
                return True
        for bus, path, a_f, drop in self.volt:
            sec = self.g.bus_section.get(bus)
            if sec is None or sec not in added:
                continue
            cur: list[tuple[int, int | None]] = []
            s = sec
            while s >= 0:
                cur.append((s, parent_sw.get(s)))
                s = parent.get(s, -1)
            if cur != path:
                continue
            rho = 0.0
            for s, _ in path:
                if added[s] > 1e-9:
                    if a_f.get(s, 0.0) <= 1e-9:
                        rho = math.inf
                        break
                    rho = max(rho, added[s] / a_f[s])
            if (
                math.isfinite(rho)
                and self.base_vm.get(bus, 1.0) - rho * drop < self.limits.min_vm_pu - self.tol_vm
            ):
                return True
        return False

    def record_failure(
        self, net: Any, flows: tuple[dict[int, int | None], dict[int, int], dict[int, float]]
    ) -> None:
        parent_sw, parent, added = flows
        limit = self.limits.max_loading_percent
        over: list[tuple[float, str, int]] = []
        for i, v in net.res_line.loading_percent.items():
            if v == v and v > limit:
                over.append((float(v), "line", int(i)))
        if len(net.trafo):
            for i, v in net.res_trafo.loading_percent.items():
                if v == v and v > limit:
                    over.append((float(v), "trafo", int(i)))
        for v, kind, idx in sorted(over, reverse=True)[:8]:
            sec = self._section(kind, idx)
            if sec is None or sec not in added or added[sec] <= 1e-9:
                continue
            self.load_pts.setdefault((kind, idx), {}).setdefault(parent_sw.get(sec), []).append(
                (added[sec], v)
            )
        vm = net.res_bus.vm_pu
        if len(vm.dropna()):
            bus = int(vm.idxmin())
            if float(vm[bus]) < self.limits.min_vm_pu:
                sec = self.g.bus_section.get(bus)
                if sec is not None and sec in added:
                    path: list[tuple[int, int | None]] = []
                    s = sec
                    while s >= 0:
                        path.append((s, parent_sw.get(s)))
                        s = parent.get(s, -1)
                    drop = self.base_vm.get(bus, float(vm[bus])) - float(vm[bus])
                    if bus not in self.base_vm or self.base_vm[bus] != self.base_vm[bus]:
                        return  # bus was dark in the base case: no reference voltage
                    self.volt.append((bus, path, {s: added[s] for s, _ in path}, drop))


def _interp(pts: list[tuple[float, float]], a: float) -> float:
    """Piecewise-linear interpolation through ``pts`` (sorted by x), extrapolating the ends."""
    pts = sorted(pts)
    if len(pts) == 1:
        return pts[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        if a <= x1 or (x1, y1) == pts[-1]:
            if x1 - x0 <= 1e-12:
                return max(y0, y1)
            return y0 + (y1 - y0) * (a - x0) / (x1 - x0)
    return pts[-1][1]


def plan_restoration(
    net: Any,
    g: SectionGraph,
    outage_area: set[int],
    region: set[int],
    devices: list[int],
    limits: Limits | None = None,
    params: SearchParams | None = None,
) -> PlanResult:
    """Isolate ``region`` (sections) and restore the rest of ``outage_area`` (sections cut by the
    operated ``devices``). ``net`` is modified (switch states, results): pass a copy."""
    limits = limits or Limits()
    params = params or SearchParams()
    t0 = time.perf_counter()
    normal = dict(g.normally_closed)
    iso_open = sorted(
        s
        for s, (a, b) in g.switch_ends.items()
        if normal[s] and a != b and ((a in region) != (b in region))
    )
    reclose = sorted(d for d in devices if d not in iso_open and d in normal)
    state0 = dict(normal)
    for s in iso_open:
        state0[s] = False
    for d in reclose:
        state0[d] = True
    e0 = _energized(g, state0)
    dark = {s for s in outage_area if s not in region and s not in e0}
    out_loads = g.loads_of(outage_area)
    ties = sorted(
        s
        for s, (a, b) in g.switch_ends.items()
        if not normal[s]
        and a != b
        and a not in region
        and b not in region
        and (a in dark or b in dark)
    )
    extras = sorted(
        s for s, (a, b) in g.switch_ends.items() if state0[s] and a != b and a in dark and b in dark
    )
    # topology-only evaluation of every candidate
    seen: dict[
        tuple[tuple[int, ...], frozenset[frozenset[int]]],
        tuple[int, tuple[int, ...], tuple[int, ...], frozenset[int]],
    ] = {}
    cands: list[tuple[float, int, tuple[int, ...], tuple[int, ...], frozenset[int]]] = []
    base_closed = [(s, a, b) for s, (a, b) in g.switch_ends.items() if state0[s] and a != b]
    n_eval = 0
    base_uf = _UnionFind(g.n_sections)
    for _s, a, b in base_closed:
        base_uf.union(a, b)
    uf_cache: dict[tuple[int, ...], _UnionFind] = {}

    def _root_wo(cache: dict[tuple[int, ...], _UnionFind], xset: tuple[int, ...], sec: int) -> int:
        """Component of ``sec`` among closed switches without the extra opens ``xset``."""
        uf_x = cache.get(xset)
        if uf_x is None:
            uf_x = _UnionFind(g.n_sections)
            for s2, a2, b2 in base_closed:
                if s2 not in xset:
                    uf_x.union(a2, b2)
            cache[xset] = uf_x
        return uf_x.find(sec)

    tie_sets: list[tuple[int, ...]] = [()]
    for k in range(1, params.max_ties + 1):
        tie_sets.extend(itertools.combinations(ties, k))
    extra_sets: list[tuple[int, ...]] = [()]
    for k in range(1, params.max_extra_open + 1):
        extra_sets.extend(itertools.combinations(extras, k))
    sup = g.n_sections
    with_sources: dict[tuple[int, ...], list[int]] = {}

    def _closed_uf(xset: tuple[int, ...]) -> list[int]:
        """Parent list of the union-find over closed switches minus ``xset`` plus sources."""
        par = with_sources.get(xset)
        if par is None:
            xs0 = set(xset)
            u0 = _UnionFind(g.n_sections + 1)
            for src in g.sources:
                u0.union(sup, src)
            for s0, a0, b0 in base_closed:
                if s0 not in xs0:
                    u0.union(a0, b0)
            par = with_sources[xset] = u0.parent
        return par

    for tset in tie_sets:
        for xset in extra_sets if tset else [()]:
            n_eval += 1
            xs = set(xset)
            uf = _UnionFind(0)
            uf.parent = list(_closed_uf(xset))
            radial = True
            for t in tset:
                a, b = g.switch_ends[t]
                ra, rb = uf.find(a), uf.find(b)
                if ra == rb:
                    radial = False
                    break
                uf.union(ra, rb)
            if not radial:
                continue
            rs = uf.find(sup)
            lit = frozenset(s for s in dark if uf.find(s) == rs)
            if tset and not lit:
                continue
            # every tie must matter: it must touch a lit dark section
            if any(not ({*g.switch_ends[t]} & lit) for t in tset):
                continue
            # configurations that light the same sections in the same groups (same ties, same
            # split of the dark area) carry the same flows: keep the one with fewest operations
            groups: dict[int, set[int]] = {}
            for sec in lit:
                groups.setdefault(
                    base_uf.find(sec) if not xs else _root_wo(uf_cache, xset, sec), set()
                ).add(sec)
            key = (tset, frozenset(frozenset(v) for v in groups.values()))
            nops = len(tset) + len(xset)
            prev = seen.get(key)
            if prev is not None and prev[0] <= nops:
                continue
            seen[key] = (nops, tset, xset, lit)
    for nops, tset, xset, lit in seen.values():
        mw = g.mw_of(g.loads_of(lit))
        cands.append((mw, nops, tset, xset, lit))
    cands.sort(key=lambda c: (-c[0], c[1], c[2], c[3]))
    screen = _Screen(g, limits, params)
    n_pf = 0
    chosen = None
    checks = (math.nan, math.nan)
    ok, vmin, lmax, _ = power_flow_checks(
        net, state0, limits, params.margin_pu, params.margin_percent
    )
    n_pf += 1
    Chosen = tuple[float, tuple[int, ...], tuple[int, ...], frozenset[int], dict[int, bool], bool]
    base: Chosen = (0.0, (), (), frozenset(), dict(state0), ok)
    base_checks = (vmin, lmax)
    if ok:
        screen.set_base(net)
        for mw, _nops, tset, xset, lit in cands:
            if not tset:
                break
            if n_pf >= params.max_power_flows or time.perf_counter() - t0 > params.time_budget_s:
                break
            state = dict(state0)
            for s in xset:
                state[s] = False
            for s in tset:
                state[s] = True
            flows = screen.flows(state, lit)
            if params.screen and screen.predicts_failure(flows):
                continue
            ok_c, vmin, lmax, _ = power_flow_checks(
                net, state, limits, params.margin_pu, params.margin_percent
            )
            n_pf += 1
            if ok_c:
                chosen = (mw, tset, xset, lit, state, True)
                checks = (vmin, lmax)
                break
            screen.record_failure(net, flows)
    if chosen is None:
        chosen, checks = base, base_checks
    mw, tset, xset, lit, state, ok = chosen
    restored_secs = e0 | set(lit)
    restored = sorted(i for i in out_loads if g.load_section[i] in restored_secs)
    unserved = sorted(set(out_loads) - set(restored))
    # operations actually needed: every normally closed switch between the supplied part and
    # the dark part (this cuts the region from every source), plus the region's boundary towards
    # neighbouring line sections (conventional isolation on both sides of a faulted section);
    # switches inside a dark area or towards line-less dark busbars need no operation
    e_final = g.energized(state)
    opens = {
        s
        for s, (a, b) in g.switch_ends.items()
        if normal[s] and a != b and ((a in e_final) != (b in e_final))
    }
    opens |= set(xset)  # a sectionalising open may split two parts fed by different ties
    for s in iso_open:
        a, b = g.switch_ends[s]
        other = b if a in region else a
        if g.section_lines.get(other):
            opens.add(s)
    return PlanResult(
        open=sorted(opens),
        close=sorted(set(reclose) | set(tset)),
        restored_loads=restored,
        unserved_loads=unserved,
        min_vm_pu=checks[0],
        max_loading_percent=checks[1],
        feasible=bool(ok),
        restored_mw=g.mw_of(restored),
        n_candidates=len(cands),
        n_power_flows=n_pf,
        detail={
            "ties": list(tset),
            "extra_open": list(xset),
            "reclosed": reclose,
            "isolation": iso_open,
            "search_s": time.perf_counter() - t0,
        },
    )


__all__ = ["SUPER", "Limits", "PlanResult", "SearchParams", "plan_restoration", "power_flow_checks"]
