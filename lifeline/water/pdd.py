"""Pressure-driven (PDD) check of a closed network with the EPANET toolkit, in process.

A one-time precomputation per network (:func:`pdd_base`, cached under ``settings.cache_dir/water``
keyed by the INP's hash) writes a PDD-ready INP — single period, EPANET 2.2 pressure-driven
demand, required pressure 10 m and minimum 0 m when the network sets none — and records, per
junction, the requested demand at time 0 (WNTR ``expected_demand``, m³/s) and the demand served in
the base (nothing closed) PDD solve. A request (:func:`low_service`) then opens that INP with the
EPANET 2.2 toolkit, sets the given links' initial status to CLOSED, removes the simple controls
acting on them (a valve shut for a repair stays shut), solves one hydraulic period and reads the
node demand, which in EPANET 2.2 PDA is the delivered demand. The toolkit is the EPANET library
shipped with WNTR, called through a thin ctypes binding (:class:`Toolkit`) so that the request path
neither imports the ``wntr`` package (~1.5 s of imports) nor builds a ``WaterNetworkModel``: on
L-Town a request takes about 20 ms. The binding is lifeline's one EPANET wrapper,
:mod:`lifeline.water.epanet`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lifeline.errors import NetworkModelError
from lifeline.water.epanet import (
    EN_CONTROLCOUNT,
    EN_DEMAND,
    EN_INITSTATUS,
    EN_JUNCTION,
    EN_NODECOUNT,
    EN_PRESSURE,
    UNBALANCED,
    Toolkit,
    ToolkitError,
    describe,
)
from lifeline.water.network import cache_dir, file_hash, load_network

__all__ = ["PddBase", "Toolkit", "ToolkitError", "low_service", "pdd_base", "solve_served"]

DEFAULT_REQUIRED_PRESSURE_M = 10.0  # documented default service pressure when the INP has none
_CACHE_VERSION = "pdd5"  # bump when the per-segment result changes meaning


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

    try:
        with Toolkit(inp) as en:
            n_nodes = en.count(EN_NODECOUNT)
            jidx = [i for i in range(1, n_nodes + 1) if en.node_type(i) == EN_JUNCTION]
            names = [en.node_id(i) for i in jidx]
            factor = float(FlowUnits(en.flow_units()).factor)
    except ToolkitError as exc:
        raise NetworkModelError(
            f"EPANET cannot open the PDD model written from it ({describe(exc.code)})",
            str(network),
        ) from exc
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


def solve_served(
    base: PddBase, closed_links: list[str], dry: set[str] | frozenset[str] = frozenset()
) -> tuple[np.ndarray | None, list[str]]:
    """PDD-served demand per junction (m³/s, order of ``base.junctions``) with ``closed_links`` shut.

    ``dry``: junctions known to lose all supply (the isolated segment and the parts it cuts off,
    found topologically). They are removed from the hydraulic problem (served 0): no path joins
    them to the rest, and hundreds of disconnected demand nodes keep EPANET's PDA from converging.
    When the PDA solve fails, a demand-driven solve of the same network is tried: if it converges
    with every junction at or above the required pressure, it is also the PDD solution (every
    demand fully served) and is returned with a message. Returns ``(None, messages)`` when EPANET
    cannot solve the closed network (error ≥ 100, or no convergence).
    """
    served, msgs = _solve(base, closed_links, dry, demand_driven=False)
    if served is not None:
        return served, msgs
    dda, msgs2 = _solve(base, closed_links, dry, demand_driven=True)
    if dda is None:
        return None, msgs
    return dda, [*msgs, *msgs2]


def _solve(
    base: PddBase, closed_links: list[str], dry: set[str] | frozenset[str], demand_driven: bool
) -> tuple[np.ndarray | None, list[str]]:
    msgs: list[str] = []
    served = np.zeros(len(base.junctions))
    try:
        with Toolkit(base.inp) as en:
            en.set_duration(0)
            for n in dry & set(base.junctions):
                en.delete_node(en.node_index(n))
            closed_idx = set()
            for name in closed_links:
                li = en.link_index(name, missing_ok=True)
                if li == 0:
                    continue  # deleted with a dry node
                try:
                    en.set_link_value(li, EN_INITSTATUS, 0.0)
                    closed_idx.add(li)
                except ToolkitError as exc:  # e.g. a check-valve pipe: status cannot be set
                    msgs.append(
                        f"link {name} cannot be closed in EPANET ({describe(exc.code)}); left open"
                    )
            if closed_idx:
                for k in range(en.count(EN_CONTROLCOUNT), 0, -1):
                    if en.control_link(k) in closed_idx:
                        en.delete_control(k)
            preq = en.required_pressure()
            if demand_driven:
                en.set_demand_driven()
            en.solve_period()
            live = [k for k, n in enumerate(base.junctions) if n not in dry]
            idx = [en.node_index(base.junctions[k]) for k in live]
            served[live] = en.node_values(idx, EN_DEMAND) * base.flow_factor
            msgs += [describe(w) for w in sorted(set(en.warnings))]
            if UNBALANCED in en.warnings:
                return None, msgs
            if demand_driven:
                p = en.node_values(idx, EN_PRESSURE)
                need = base.expected_m3s[live] > 0
                if np.any(p[need] < preq - 1e-3):
                    return None, msgs
                msgs.append(
                    "PDA did not converge; the demand-driven solve has every junction at or above"
                    f" the required pressure ({preq:g} m), so it is the PDD solution"
                )
    except ToolkitError as exc:
        return None, [*msgs, f"EPANET failed: {describe(exc.code)}"]
    return served, msgs


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
    ``"solved"`` or ``"unsolved"`` (then ``low`` is empty). ``skip`` nodes are also run dry (see :func:`solve_served`). Cached per closed set and skip.
    """
    key = file_hash(
        network,
        extra=_CACHE_VERSION + "|" + "|".join(sorted(closed_links)) + "||" + "|".join(sorted(skip)),
    )
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
        served, msgs = solve_served(base, closed_links, skip)
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
