"""Tiny purpose-made pandapower networks and event writers for the power tests."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MV_CABLE = "NA2XS2Y 1x240 RM/25 12/20 kV"
MV_THIN = "NA2XS2Y 1x70 RM/25 12/20 kV"


def mv_two_feeders(
    load_a_mw: float = 1.0, load_b_mw: float = 1.0, thin_b: bool = False, tie_c: bool = False
) -> Any:
    """110/20 kV substation, feeder A (4 switched cable sections a1..a4), feeder B (b1, b2),
    a normally open tie a4-b2, optionally a feeder C (c1) with a second open tie a3-c1.

    Every line has a switch at each end (a circuit breaker at the busbar, load-break switches
    elsewhere), as in mv_oberrhein. Returns the net; names identify the elements.
    """
    import pandapower as pp

    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110, name="hv")
    bb = pp.create_bus(net, 20, name="busbar")
    pp.create_ext_grid(net, hv)
    pp.create_transformer(net, hv, bb, "25 MVA 110/20 kV", name="T1")

    def feeder(prefix: str, n: int, mw: float, std: str) -> list[int]:
        buses = [pp.create_bus(net, 20, name=f"{prefix}{i + 1}") for i in range(n)]
        prev = bb
        for i, b in enumerate(buses):
            ln = pp.create_line(net, prev, b, 2.0, std, name=f"L{prefix}{i}")
            pp.create_switch(
                net,
                prev,
                ln,
                "l",
                closed=True,
                type="CB" if prev == bb else "LBS",
                name=f"S{prefix}{i}up",
            )
            pp.create_switch(net, b, ln, "l", closed=True, type="LBS", name=f"S{prefix}{i}dn")
            pp.create_load(net, b, p_mw=mw, q_mvar=0.2 * mw, name=f"load_{prefix}{i + 1}")
            prev = b
        return buses

    a = feeder("a", 4, load_a_mw, MV_CABLE)
    b = feeder("b", 2, load_b_mw, MV_THIN if thin_b else MV_CABLE)
    tie = pp.create_line(net, a[3], b[1], 1.0, MV_CABLE, name="tie_ab")
    pp.create_switch(net, a[3], tie, "l", closed=False, type="LBS", name="tie_ab_sw")
    pp.create_switch(net, b[1], tie, "l", closed=True, type="LBS", name="tie_ab_far")
    if tie_c:
        c = feeder("c", 1, load_b_mw, MV_THIN if thin_b else MV_CABLE)
        tie2 = pp.create_line(net, a[2], c[0], 1.0, MV_CABLE, name="tie_ac")
        pp.create_switch(net, a[2], tie2, "l", closed=False, type="LBS", name="tie_ac_sw")
        pp.create_switch(net, c[0], tie2, "l", closed=True, type="LBS", name="tie_ac_far")
    return net


def lv_radial() -> Any:
    """20/0.4 kV LV network: three fused feeders of 5 buses with 2 customers each; feeder 1 has
    a fused branch at its 3rd bus; feeder 2's 2nd line has fuses at both ends (series devices
    cutting the same customers)."""
    import pandapower as pp

    net = pp.create_empty_network()
    mv = pp.create_bus(net, 20, name="mv")
    lv = pp.create_bus(net, 0.4, name="lv_busbar")
    pp.create_ext_grid(net, mv)
    pp.create_transformer(net, mv, lv, "0.63 MVA 20/0.4 kV")
    for f in range(3):
        prev = lv
        for i in range(5):
            b = pp.create_bus(net, 0.4, name=f"f{f}b{i}")
            ln = pp.create_line(net, prev, b, 0.05, "NAYY 4x150 SE", name=f"f{f}l{i}")
            if i == 0:
                pp.create_switch(net, prev, ln, "l", closed=True, type="CB", name=f"fuse_f{f}")
            if f == 2 and i == 1:
                pp.create_switch(net, prev, ln, "l", closed=True, type="CB", name="series_up")
                pp.create_switch(net, b, ln, "l", closed=True, type="CB", name="series_dn")
            for k in range(2):
                pp.create_load(net, b, p_mw=0.003, q_mvar=0.001, name=f"hh_f{f}b{i}_{k}")
            prev = b
            if f == 0 and i == 2:
                br_prev = b
                for j in range(3):
                    bb = pp.create_bus(net, 0.4, name=f"f0br{j}")
                    ln2 = pp.create_line(net, br_prev, bb, 0.04, "NAYY 4x50 SE", name=f"f0brl{j}")
                    if j == 0:
                        pp.create_switch(
                            net, br_prev, ln2, "l", closed=True, type="CB", name="fuse_branch"
                        )
                    for k in range(2):
                        pp.create_load(net, bb, p_mw=0.003, q_mvar=0.001, name=f"hh_br{j}_{k}")
                    br_prev = bb
    return net


def by_name(table: Any, name: str) -> int:
    """Index of the element called ``name`` in a pandapower table."""
    idx = table.index[table.name == name]
    assert len(idx) == 1, name
    return int(idx[0])


def write_events(path: Path, rows: list[tuple[float, str, int]]) -> Path:
    """Write EVENTS.csv from (seconds after t0, kind, ref) rows."""
    t0 = datetime(2024, 5, 1, 11, 0, tzinfo=UTC)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ts", "kind", "ref"])
        for dt, kind, ref in sorted(rows):
            w.writerow(
                [
                    (t0 + timedelta(seconds=dt))
                    .isoformat(timespec="milliseconds")
                    .replace("+00:00", ""),
                    kind,
                    ref,
                ]
            )
    return path


def write_fpi(path: Path, switches: list[int]) -> Path:
    """Write FPI.csv (column ``switch``)."""
    path.write_text("switch\n" + "".join(f"{s}\n" for s in sorted(switches)))
    return path


def independent_check(
    net: Any, plan: dict[str, list[int]], fault_line: int | None
) -> dict[str, Any]:
    """Apply ``plan`` to a copy of ``net`` (normal states, opens then closes, fault line out of
    service) and run pandapower's power flow; report supply, voltages and loadings."""
    import copy

    import numpy as np
    import pandapower as pp
    import pandapower.topology as top

    n = copy.deepcopy(net)
    for s in plan["open"]:
        n.switch.at[s, "closed"] = False
    for s in plan["close"]:
        n.switch.at[s, "closed"] = True
    fed = False
    if fault_line is not None:
        g = top.create_nxgraph(n, respect_switches=True)
        live: set[int] = set()
        for comp in top.connected_components(g):
            if comp & set(n.ext_grid.bus):
                live |= comp
        sw = n.switch[(n.switch.et == "l") & (n.switch.element == fault_line)]
        for b in (int(n.line.at[fault_line, "from_bus"]), int(n.line.at[fault_line, "to_bus"])):
            if b in live and sw[(sw.bus == b) & (~sw.closed)].empty:
                fed = True
        n.line.at[fault_line, "in_service"] = False
    gr = top.create_nxgraph(n, respect_switches=True)
    import networkx as nx

    radial = gr.number_of_edges() - gr.number_of_nodes() + nx.number_connected_components(gr) == 0
    pp.runpp(n, numba=False)
    supplied = {int(i) for i, b in n.load.bus.items() if not np.isnan(n.res_bus.at[b, "vm_pu"])}
    return {
        "fault_fed": fed,
        "radial": radial,
        "min_vm_pu": float(np.nanmin(n.res_bus.vm_pu)),
        "max_line": float(np.nanmax(n.res_line.loading_percent)),
        "max_trafo": float(np.nanmax(n.res_trafo.loading_percent)),
        "supplied": supplied,
    }
