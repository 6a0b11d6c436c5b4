"""Water and gas networks as arrays for segment analysis, with customers attached to nodes.

:class:`ArrayNet` is the common form: node and link ids, link ends, valves ``(link, node)``,
source nodes, per-node demand, customer and critical-site counts, and coordinates. Builders:
:func:`from_wntr` (EPANET/WNTR, valves in the WNTR valve-layer convention ``valve,node,link``),
:func:`from_pandapipes` (valves ``valve_id,pipe,junction``) and the synthetic generator in
:mod:`lifeline.risk.synth`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lifeline.errors import InputError


@dataclass
class ArrayNet:
    """A valved network as arrays. Units: demand in ``demand_unit`` (m3/h water, kg/s gas), m."""

    utility: str
    node_ids: list[str]
    link_ids: list[str]
    ends: np.ndarray  # (L, 2) node indices
    link_kind: list[str]  # Pipe, Pump, Valve, …
    length_m: np.ndarray  # (L,)
    diameter_m: np.ndarray  # (L,)
    valves: np.ndarray  # (V, 2) (link index, node index)
    valve_ids: list[str]
    sources: np.ndarray  # node indices
    demand: np.ndarray  # (N,) per node
    customers: np.ndarray  # (N,) customers served at each node
    critical: np.ndarray  # (N,) critical sites at each node
    xy: np.ndarray  # (N, 2) network coordinates
    demand_unit: str = "m3/h"
    customer_ids: dict[int, list[str]] = field(default_factory=dict)  # node -> customer ids
    critical_ids: dict[int, list[str]] = field(
        default_factory=dict
    )  # node -> critical customer ids
    elevation_m: np.ndarray | None = None  # (N,) where known

    @property
    def is_pipe(self) -> np.ndarray:
        """Boolean mask of links that are pipes."""
        return np.array([k == "Pipe" for k in self.link_kind], dtype=bool)

    def link_index(self) -> dict[str, int]:
        """Link id -> position."""
        return {k: i for i, k in enumerate(self.link_ids)}

    def node_index(self) -> dict[str, int]:
        """Node id -> position."""
        return {k: i for i, k in enumerate(self.node_ids)}


def attach_customers(
    net: ArrayNet, customers: pd.DataFrame | None, column: str, prefix: str
) -> None:
    """Count customers per node from a customer table (``customer_id``, ``critical``, ``column``).

    ``column`` holds asset ids such as ``water:junction:J12``; ``prefix`` (``water:junction:``) is
    stripped to get the node id. Without customers, every node with demand counts as one customer
    (stated in the output as ``customers = demand nodes``).
    """
    n = len(net.node_ids)
    net.customers = np.zeros(n)
    net.critical = np.zeros(n)
    net.customer_ids, net.critical_ids = {}, {}
    if customers is None or column not in customers.columns or not len(customers):
        net.customers = (net.demand > 0).astype(float)
        return
    idx = net.node_index()
    ids = customers[column].fillna("").astype(str).str.removeprefix(prefix)
    crit = (
        customers["critical"].fillna(False).astype(bool).to_numpy()
        if "critical" in customers
        else np.zeros(len(customers), bool)
    )
    for cid, node, c in zip(customers["customer_id"].astype(str), ids, crit, strict=True):
        i = idx.get(node)
        if i is None:
            continue
        net.customers[i] += 1
        net.customer_ids.setdefault(i, []).append(cid)
        if c:
            net.critical[i] += 1
            net.critical_ids.setdefault(i, []).append(cid)


def mean_demand_m3h(wn: Any) -> np.ndarray:
    """Mean base demand x mean pattern multiplier per node of a WNTR model, m³/h (0 for non-junctions)."""
    out = np.zeros(len(wn.node_name_list))
    default = wn.options.hydraulic.pattern
    for i, name in enumerate(wn.node_name_list):
        node = wn.get_node(name)
        total = 0.0
        for d in getattr(node, "demand_timeseries_list", []):
            pat = (
                d.pattern
                if d.pattern is not None
                else (wn.get_pattern(default) if default in wn.pattern_name_list else None)
            )
            mult = float(np.mean(pat.multipliers)) if pat is not None else 1.0
            total += d.base_value * mult
        out[i] = total * 3600.0 * float(wn.options.hydraulic.demand_multiplier or 1.0)
    return out


def from_wntr(
    wn: Any, valves: pd.DataFrame | None, customers: pd.DataFrame | None = None
) -> ArrayNet:
    """Arrays of a WNTR model. ``valves`` has columns valve,node,link (None: no valves).

    Pumps and control valves are links like pipes (a pump station is one segment with its
    suction and discharge mains unless valves say otherwise). Sources: reservoirs and tanks.
    """
    nodes = list(wn.node_name_list)
    links = list(wn.link_name_list)
    nidx = {n: i for i, n in enumerate(nodes)}
    lidx = {k: i for i, k in enumerate(links)}
    objs = [wn.get_link(k) for k in links]
    ends = np.array(
        [(nidx[o.start_node_name], nidx[o.end_node_name]) for o in objs], dtype=np.int64
    ).reshape(-1, 2)
    vl = np.zeros((0, 2), dtype=np.int64)
    vids: list[str] = []
    if valves is not None and len(valves):
        for col in ("node", "link"):
            if col not in valves.columns:
                raise InputError(
                    f"valve table lacks column {col!r} (expected valve,node,link)", "valves"
                )
        rows = []
        for k, r in enumerate(valves.itertuples(index=False)):
            node, link = str(r.node), str(r.link)
            if node not in nidx or link not in lidx:
                raise InputError(
                    f"valve on link {link!r} at node {node!r} is not in the network",
                    f"valves row {k + 1}",
                )
            rows.append((lidx[link], nidx[node]))
            vids.append(str(getattr(r, "valve", f"V{k}")))
        vl = np.array(rows, dtype=np.int64)
    xy = np.array(
        [wn.get_node(n).coordinates or (np.nan, np.nan) for n in nodes], dtype=float
    ).reshape(-1, 2)
    net = ArrayNet(
        utility="water",
        node_ids=nodes,
        link_ids=links,
        ends=ends,
        link_kind=[o.link_type for o in objs],
        length_m=np.array([float(getattr(o, "length", 0.0) or 0.0) for o in objs]),
        diameter_m=np.array([float(getattr(o, "diameter", 0.0) or 0.0) for o in objs]),
        valves=vl,
        valve_ids=vids,
        sources=np.array(
            [nidx[n] for n in list(wn.reservoir_name_list) + list(wn.tank_name_list)],
            dtype=np.int64,
        ),
        demand=mean_demand_m3h(wn),
        customers=np.zeros(len(nodes)),
        critical=np.zeros(len(nodes)),
        xy=xy,
    )
    attach_customers(net, customers, "water_asset_id", "water:junction:")
    return net


def from_pandapipes(
    net: Any, valves: pd.DataFrame | None, customers: pd.DataFrame | None = None
) -> ArrayNet:
    """Arrays of a pandapipes gas network; ``valves`` has columns valve_id,pipe,junction.

    Links are in-service pipes and pandapipes ``valve`` elements (open ones; a closed valve
    element is left out). Sources: ext_grid and source junctions. Demand: sink mass flow, kg/s.
    Customers are linked to junctions (``gas:junction:<index>``, or the older ``gas:sink:<index>``,
    in the customer table), else one per sink.
    """
    j = net.junction
    nodes = [str(i) for i in j.index]
    nidx = {int(i): k for k, i in enumerate(j.index)}
    links, kinds, ends, length, diam = [], [], [], [], []
    p = net.pipe[net.pipe.in_service.astype(bool)]
    pd_m = (
        p["inner_diameter_mm"] / 1000.0
        if "inner_diameter_mm" in p
        else p.get("diameter_m", pd.Series(0.0, index=p.index))
    )
    for i, a, b, lk, d in zip(
        p.index, p.from_junction, p.to_junction, p.length_km, pd_m, strict=True
    ):
        links.append(str(i))
        kinds.append("Pipe")
        ends.append((nidx[int(a)], nidx[int(b)]))
        length.append(float(lk) * 1000.0)
        diam.append(float(d))
    n_pipes = len(links)
    if "valve" in net and len(net.valve):
        v = net.valve[net.valve.opened.astype(bool)]
        vd = v["diameter_m"] if "diameter_m" in v else pd.Series(0.0, index=v.index)
        for i, a, b, d in zip(v.index, v.from_junction, v.to_junction, vd, strict=True):
            links.append(f"valve:{i}")
            kinds.append("Valve")
            ends.append((nidx[int(a)], nidx[int(b)]))
            length.append(0.0)
            diam.append(float(d))
    lidx = {k: i for i, k in enumerate(links)}
    vrows, vids = [], []
    if valves is not None and len(valves):
        for k, r in enumerate(valves.itertuples(index=False)):
            pipe, jn = str(int(r.pipe)), int(r.junction)
            if pipe not in lidx or jn not in nidx:
                raise InputError(
                    f"gas valve on pipe {pipe} at junction {jn} is not in the network",
                    f"gas valves row {k + 1}",
                )
            vrows.append((lidx[pipe], nidx[jn]))
            vids.append(str(r.valve_id))
    # pandapipes valve elements are boundaries on both sides
    for li in range(n_pipes, len(links)):
        vrows += [(li, ends[li][0]), (li, ends[li][1])]
        vids += [links[li] + ":a", links[li] + ":b"]
    src = [nidx[int(x)] for x in net.ext_grid.junction[net.ext_grid.in_service.astype(bool)]]
    if "source" in net and len(net.source):
        src += [nidx[int(x)] for x in net.source.junction]
    demand = np.zeros(len(nodes))
    if len(net.sink):
        s = net.sink[net.sink.in_service.astype(bool)]
        np.add.at(
            demand,
            [nidx[int(x)] for x in s.junction],
            (s.mdot_kg_per_s * s.scaling).to_numpy(dtype=float),
        )
    gd = net.junction_geodata if "junction_geodata" in net and len(net.junction_geodata) else None
    xy = (
        gd.reindex(j.index)[["x", "y"]].to_numpy(dtype=float)
        if gd is not None
        else np.full((len(nodes), 2), np.nan)
    )
    out = ArrayNet(
        utility="gas",
        node_ids=nodes,
        link_ids=links,
        ends=np.array(ends, dtype=np.int64).reshape(-1, 2),
        link_kind=kinds,
        length_m=np.array(length),
        diameter_m=np.array(diam),
        valves=np.array(vrows, dtype=np.int64).reshape(-1, 2),
        valve_ids=vids,
        sources=np.array(src, dtype=np.int64),
        demand=demand,
        customers=np.zeros(len(nodes)),
        critical=np.zeros(len(nodes)),
        xy=xy,
        demand_unit="kg/s",
    )
    if customers is not None and "gas_asset_id" in customers.columns:
        # customers are linked to their gas junction (gas:junction:<j>; older: gas:sink:<i>)
        node_of = {f"gas:junction:{int(j)}": str(int(j)) for j in j.index}
        node_of.update(
            {
                f"gas:sink:{i}": str(int(jn))
                for i, jn in zip(net.sink.index, net.sink.junction, strict=True)
            }
        )
        c = customers.copy()
        c["_node"] = c["gas_asset_id"].fillna("").astype(str).map(node_of).fillna("")
        attach_customers(out, c, "_node", "")
    else:
        cnt = np.zeros(len(nodes))
        if len(net.sink):
            np.add.at(cnt, [nidx[int(x)] for x in net.sink.junction], 1.0)
        out.customers = cnt
    return out
