"""Pressure-driven (PDD) check of a closed network with the EPANET toolkit, in process.

A one-time precomputation per network (:func:`pdd_base`, cached under ``settings.cache_dir/water``
keyed by the INP's hash) writes a PDD-ready INP — single period, EPANET 2.2 pressure-driven
demand, required pressure 10 m and minimum 0 m when the network sets none — and records, per
junction, the requested demand at time 0 (WNTR ``expected_demand``, m³/s) and the demand served in
the base (nothing closed) PDD solve. A request (:func:`low_service`) then opens that INP with the
EPANET toolkit (``wntr.epanet.toolkit.ENepanet``), sets the given links' initial status to
CLOSED, removes the simple controls acting on them (a valve shut for a repair stays shut), solves
one hydraulic period and reads the node demand, which in EPANET 2.2 PDA is the delivered demand.
No ``WaterNetworkModel`` is built on this path: on L-Town a request takes tens of milliseconds.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lifeline.water.network import cache_dir, file_hash, load_network

DEFAULT_REQUIRED_PRESSURE_M = 10.0  # documented default service pressure when the INP has none
_EN_NODECOUNT, _EN_JUNCTION = 0, 0  # ENgetcount code, node type code
_EN_DEMAND = 9  # node value: (delivered) demand, flow units of the INP
_EN_INITSTATUS = 4  # link value: initial status, 0 = closed
_EN_CONTROLCOUNT = 5  # ENgetcount code
_EN_DURATION = 0  # time parameter


@dataclass
class PddBase:
    """Cached PDD precomputation of one network."""

    inp: Path  # the PDD-ready single-period INP
    junctions: list[str]
    junction_index: list[int]  # EPANET node index (1-based) of each junction
    flow_factor: float  # m³/s per flow unit of the INP
    expected_m3s: np.ndarray  # requested demand at time 0 per junction (m³/s)
    served_m3s: np.ndarray | None  # base PDD-served demand (m³/s); None if the base did not solve
    warnings: list[str]


@contextmanager
def _quiet_toolkit() -> Iterator[None]:
    """Silence the toolkit logger: warnings are collected from ``errcodelist`` instead."""
    log = logging.getLogger("wntr.epanet.toolkit")
    old = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(old)


def _write_pdd_inp(network: str | Path, out: Path) -> np.ndarray:
    """Write the PDD-ready INP of ``network`` to ``out``; return the expected demand at t=0 (m³/s)."""
    import warnings

    import wntr

    wn = load_network(network)
    wn.options.time.duration = 0
    wn.options.hydraulic.demand_model = "PDD"
    if (wn.options.hydraulic.required_pressure or 0.0) < 0.1:
        wn.options.hydraulic.required_pressure = DEFAULT_REQUIRED_PRESSURE_M
        wn.options.hydraulic.minimum_pressure = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wntr.network.io.write_inpfile(wn, str(out), units=wn.options.hydraulic.inpfile_units)
        expected = wntr.metrics.expected_demand(wn).iloc[0]
    return np.array([float(expected.get(n, 0.0)) for n in wn.junction_name_list])


def pdd_base(network: str | Path) -> PddBase:
    """The one-time PDD precomputation of ``network`` (computed once, then read from the cache)."""
    key = file_hash(network, extra="pddbase-v1")
    inp = cache_dir() / f"pddbase_{key}.inp"
    meta = inp.with_suffix(".json")
    if meta.is_file() and inp.is_file():
        d = json.loads(meta.read_text())
        return PddBase(
            inp=inp,
            junctions=d["junctions"],
            junction_index=d["junction_index"],
            flow_factor=d["flow_factor"],
            expected_m3s=np.array(d["expected_m3s"], dtype=float),
            served_m3s=None if d["served_m3s"] is None else np.array(d["served_m3s"], dtype=float),
            warnings=d["warnings"],
        )
    tmp_inp = inp.with_suffix(f".{os.getpid()}.tmp")
    expected_wntr = _write_pdd_inp(network, tmp_inp)
    os.replace(tmp_inp, inp)
    from wntr.epanet.util import FlowUnits

    with _toolkit(inp) as en:
        n_nodes = en.ENgetcount(_EN_NODECOUNT)
        jidx = [i for i in range(1, n_nodes + 1) if en.ENgetnodetype(i) == _EN_JUNCTION]
        names = [en.ENgetnodeid(i) for i in jidx]
        factor = float(FlowUnits(en.ENgetflowunits()).factor)
    base = PddBase(inp, names, jidx, factor, expected_wntr, None, [])
    served, warns = solve_served(base, [])
    base.served_m3s, base.warnings = served, warns
    d = {
        "junctions": names,
        "junction_index": jidx,
        "flow_factor": factor,
        "expected_m3s": expected_wntr.tolist(),
        "served_m3s": None if served is None else served.tolist(),
        "warnings": warns,
    }
    tmp = meta.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(d))
    os.replace(tmp, meta)
    return base


@contextmanager
def _toolkit(inp: Path) -> Iterator[Any]:
    """An open EPANET toolkit project on ``inp`` (report and output files in a temp folder)."""
    from wntr.epanet.toolkit import ENepanet

    with tempfile.TemporaryDirectory() as tmp, _quiet_toolkit():
        en = ENepanet()
        en.ENopen(str(inp), os.path.join(tmp, "r.rpt"), os.path.join(tmp, "r.bin"))
        try:
            yield en
        finally:
            en.ENclose()


def solve_served(base: PddBase, closed_links: list[str]) -> tuple[np.ndarray | None, list[str]]:
    """PDD-served demand per junction (m³/s, order of ``base.junctions``) with ``closed_links`` shut.

    Returns ``(None, messages)`` when EPANET cannot solve the closed network (error ≥ 100).
    Warnings (e.g. disconnected nodes, negative pressures) are returned as messages.
    """
    from wntr.epanet.exceptions import EpanetException

    msgs: list[str] = []
    try:
        with _toolkit(base.inp) as en:
            en.ENsettimeparam(_EN_DURATION, 0)
            closed_idx = set()
            for name in closed_links:
                li = en.ENgetlinkindex(name)
                try:
                    en.ENsetlinkvalue(li, _EN_INITSTATUS, 0.0)
                    closed_idx.add(li)
                except EpanetException as exc:  # e.g. a check-valve pipe: status cannot be set
                    msgs.append(f"link {name} cannot be closed in EPANET ({exc}); left open")
            if closed_idx:
                for ci in range(en.ENgetcount(_EN_CONTROLCOUNT), 0, -1):
                    if en.ENgetcontrol(ci)["linkindex"] in closed_idx:
                        en.ENdeletecontrol(ci)
            en.ENopenH()
            en.ENinitH(0)
            en.ENrunH()
            d = np.array([en.ENgetnodevalue(i, _EN_DEMAND) for i in base.junction_index])
            msgs += [str(w) for w in en.errcodelist]
            en.ENcloseH()
    except EpanetException as exc:
        return None, [*msgs, f"EPANET failed: {exc}"]
    return d * base.flow_factor, msgs


def low_service(
    network: str | Path,
    closed_links: list[str],
    skip: set[str],
    served_below: float = 0.5,
    use_cache: bool = True,
) -> tuple[list[dict[str, Any]], str, list[str]]:
    """Junctions outside ``skip`` served below ``served_below`` of their demand once links close.

    Only junctions served at least ``served_below`` of their request before closing count (a node
    already under-served is not blamed on the closure). Returns ``(low, status, messages)``:
    ``low`` is a list of ``{"node", "served_fraction", "unserved_m3h"}`` (m³/h), ``status`` is
    ``"solved"`` or ``"unsolved"`` (then ``low`` is empty). The result is cached per closed set.
    """
    key = file_hash(network, extra="pdd3|" + "|".join(sorted(closed_links)))
    path = cache_dir() / f"pdd_{key}.json"
    if use_cache and path.is_file():
        c = json.loads(path.read_text())
        low_c: list[dict[str, Any]] = [d for d in c["low"] if d["node"] not in skip]
        return low_c, c["status"], c["messages"]
    base = pdd_base(network)
    low: list[dict[str, Any]] = []
    status = "unsolved"
    if base.served_m3s is None:
        msgs = ["the base network does not solve", *base.warnings]
    else:
        served, msgs = solve_served(base, closed_links)
        if served is not None:
            status = "solved"
            exp, got0 = base.expected_m3s, base.served_m3s
            for k in np.flatnonzero((exp > 0) & (got0 >= served_below * exp)):
                if served[k] < served_below * exp[k]:
                    low.append(
                        {
                            "node": base.junctions[k],
                            "served_fraction": round(float(served[k] / exp[k]), 3),
                            "unserved_m3h": round(float(exp[k] - served[k]) * 3600, 4),
                        }
                    )
    if use_cache:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"low": low, "status": status, "messages": msgs}))
        os.replace(tmp, path)
    return [d for d in low if d["node"] not in skip], status, msgs
