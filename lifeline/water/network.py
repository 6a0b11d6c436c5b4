"""Network helpers: load an INP, pipe-path distances, and leak sensitivities from EPANET.

Sensitivities are computed with the EPANET toolkit (exact hydraulics, pumps, PRVs and tanks
included): for every junction, an emitter is opened at that node in a single-period solve and the
pressure change at each sensor per m³/h (network flow unit) of leak outflow is recorded.
Results are cached under ``settings.cache_dir`` keyed by a hash of the INP and the sensor list.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lifeline.errors import NetworkModelError, NotFoundError


def file_hash(*paths: str | Path | None, extra: str = "") -> str:
    """SHA-256 (first 16 hex digits) over the bytes of the given files and ``extra``."""
    h = hashlib.sha256()
    for p in paths:
        if p is not None:
            h.update(Path(p).read_bytes())
    h.update(extra.encode())
    return h.hexdigest()[:16]


def cache_dir() -> Path:
    """lifeline's cache folder for water precomputations (created if needed)."""
    from lifeline.config import get_settings

    d = Path(get_settings().cache_dir) / "water"
    d.mkdir(parents=True, exist_ok=True)
    return d


#: (path, size, mtime) of files whose warnings were already logged in this process
_WARNED: set[tuple[str, int, float]] = set()


def load_network(inp: str | Path) -> Any:
    """Load an EPANET INP file with WNTR — the one way lifeline reads an INP.

    The text is checked first (:mod:`lifeline.water.inpcheck`): a missing, empty, binary,
    truncated or inconsistent file raises NetworkModelError naming the line and section;
    warnings (nodes without coordinates, no ``[END]``) are logged once per file on the
    ``lifeline`` logger (the CLI prints them as ``warning: …``).
    """
    import logging

    import wntr

    from lifeline.water.inpcheck import check_inp

    path = Path(inp)
    if not path.is_file():
        raise NetworkModelError("network file not found", str(path))
    check = check_inp(path)
    if check.errors:
        first = check.errors[0]
        where = f"{path}:{first.line}" if first.line else str(path)
        raise NetworkModelError(f"invalid EPANET model: {check.summary()}", where)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime)
    if check.warnings and key not in _WARNED:
        _WARNED.add(key)
        for w in check.warnings:
            logging.getLogger("lifeline.water").warning("%s: %s", path, w)
    try:
        return wntr.network.WaterNetworkModel(str(path))
    except Exception as exc:  # WNTR raises many exception types for bad INP files
        raise NetworkModelError(f"cannot read EPANET model: {exc}", str(path)) from exc


@dataclass
class PipeGraph:
    """Pipes of a network with pipe-path distances between pipe midpoints (m)."""

    pipes: list[str]
    node_names: list[str]
    ends: np.ndarray  # (n_pipes, 2) node indices
    lengths_m: np.ndarray
    node_dist_m: np.ndarray  # (n_nodes, n_nodes) shortest path along links
    _dm: np.ndarray | None = None

    def pipe_distance(self, a: str, b: str) -> float:
        """Distance (m) along links between the midpoints of pipes ``a`` and ``b`` (0 if equal)."""
        if a == b:
            return 0.0
        ia, ib = self.index(a), self.index(b)
        if self._dm is not None:
            return float(self._dm[ia, ib])
        return float(self.pipe_distances(ia)[ib])

    def index(self, pipe: str) -> int:
        """Position of ``pipe`` in :attr:`pipes`; NotFoundError if absent."""
        try:
            return self._idx[pipe]
        except KeyError:
            raise NotFoundError(f"pipe {pipe!r} is not in the network") from None

    def pipe_distances(self, ia: int) -> np.ndarray:
        """Distances (m) from pipe ``ia``'s midpoint to every pipe's midpoint."""
        ea = self.ends[ia]
        la = self.lengths_m[ia] / 2
        d = np.full(len(self.pipes), np.inf)
        for u in ea:
            for k in (0, 1):
                d = np.minimum(d, la + self.node_dist_m[u, self.ends[:, k]] + self.lengths_m / 2)
        d[ia] = 0.0
        return d

    def distance_matrix(self) -> np.ndarray:
        """All pipe-midpoint distances (m), computed once and kept."""
        if self._dm is None:
            self._dm = np.array([self.pipe_distances(i) for i in range(len(self.pipes))])
        return self._dm

    def __post_init__(self) -> None:
        self._idx = {p: i for i, p in enumerate(self.pipes)}


def m3h_per_flow_unit(wn: Any) -> float:
    """m³/h in one flow unit of the network's INP (1 for CMH, 3.6 for LPS; a model built in
    code without units is in GPM, WNTR's default)."""
    from lifeline.water.epanet import FLOW_UNIT_CODES, UNITS

    name = str(wn.options.hydraulic.inpfile_units or "GPM").upper()
    return UNITS[FLOW_UNIT_CODES.get(name, 8)][0]


def tank_areas(
    wn: Any, columns: list[str], m3h_per_unit: float | None = None
) -> list[tuple[str, float]]:
    """(tank id, storage factor) for the level sensors among ``columns`` (``L:`` + tank id):
    the factor turns a level change in m per hour into a flow in the flow unit of the readings,
    i.e. the tank's cross-section (m²) divided by ``m3h_per_unit`` (m³/h per flow unit; the
    INP's unit by default, as the BattLeDIM layout reads flows, 1 for readings in m³/h)."""
    per = m3h_per_flow_unit(wn) if m3h_per_unit is None else m3h_per_unit
    return [
        (c[2:], float(np.pi * wn.get_node(c[2:]).diameter ** 2 / 4) / per)
        for c in columns
        if c.startswith("L:") and c[2:] in wn.tank_name_list
    ]


def pipe_graph(wn: Any) -> PipeGraph:
    """Build a :class:`PipeGraph` (all-pairs shortest paths over pipes, valves and pumps)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import shortest_path

    nodes = list(wn.node_name_list)
    nidx = {n: i for i, n in enumerate(nodes)}
    rows, cols, w = [], [], []
    pipes, ends, lengths = [], [], []
    for name, link in wn.links():
        a, b = nidx[link.start_node_name], nidx[link.end_node_name]
        length = float(getattr(link, "length", 0.0) or 0.0) if link.link_type == "Pipe" else 0.0
        rows += [a, b]
        cols += [b, a]
        w += [max(length, 1e-3)] * 2
        if link.link_type == "Pipe":
            pipes.append(name)
            ends.append((a, b))
            lengths.append(length)
    g = coo_matrix((w, (rows, cols)), shape=(len(nodes), len(nodes))).tocsr()
    dist = shortest_path(g, directed=False)
    return PipeGraph(
        pipes, nodes, np.array(ends, dtype=int).reshape(-1, 2), np.array(lengths), dist
    )


@dataclass
class Sensitivity:
    """Pressure change (m) at each sensor per unit leak outflow at each junction (flow unit of the INP)."""

    sensors: list[str]
    junctions: list[str]
    matrix: np.ndarray  # (n_sensors, n_junctions), negative: a leak lowers pressure
    # (n_junctions,) share of a leak's outflow there that the reservoirs supply (0-1); the rest
    # comes from the tanks, which a single-period solve holds at their level
    source_share: np.ndarray
    tanks: list[str]
    tank_share: np.ndarray  # (n_junctions, n_tanks): the share each tank supplies


def sensitivity(inp: str | Path, sensors: list[str], leak_fraction: float = 0.05) -> Sensitivity:
    """Compute (or load from cache) the leak sensitivity matrix with the EPANET toolkit, and
    the share of each junction's test leak that the reservoirs and each tank supply.

    ``leak_fraction``: the test leak is sized to about this fraction of the total demand at the
    start time of the model (single-period solve at time 0).
    """
    key = file_hash(inp, extra="|".join(sensors) + f"|{leak_fraction}|v3")
    path = cache_dir() / f"sens_{key}.npz"
    if path.is_file():
        z = np.load(path, allow_pickle=False)
        return Sensitivity(
            list(z["sensors"]),
            list(z["junctions"]),
            z["matrix"],
            z["share"],
            list(z["tanks"]),
            z["tank_share"],
        )
    sens = _compute_sensitivity(inp, sensors, leak_fraction)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        sensors=np.array(sens.sensors),
        junctions=np.array(sens.junctions),
        matrix=sens.matrix,
        share=sens.source_share,
        tanks=np.array(sens.tanks, dtype=str),
        tank_share=sens.tank_share,
    )
    os.replace(tmp, path)
    return sens


def _compute_sensitivity(inp: str | Path, sensors: list[str], leak_fraction: float) -> Sensitivity:
    from lifeline.progress import track
    from lifeline.water.epanet import (
        EN_DEMAND,
        EN_DURATION,
        EN_EMITTER,
        EN_JUNCTION,
        EN_NODECOUNT,
        EN_PRESSURE,
        EN_RESERVOIR,
        EN_TANK,
        Toolkit,
        ToolkitError,
        describe,
    )

    try:
        en = Toolkit(inp)
    except ToolkitError as exc:
        raise NetworkModelError(
            f"EPANET cannot open the model: {describe(exc.code)}", str(inp)
        ) from exc
    with en:
        en.set_time(EN_DURATION, 0)  # single period
        n_nodes = en.count(EN_NODECOUNT)
        junc_idx = [i for i in range(1, n_nodes + 1) if en.node_type(i) == EN_JUNCTION]
        junctions = [en.node_id(i) for i in junc_idx]
        res_idx = [i for i in range(1, n_nodes + 1) if en.node_type(i) == EN_RESERVOIR]
        tank_idx = [i for i in range(1, n_nodes + 1) if en.node_type(i) == EN_TANK]
        tank_names = [en.node_id(i) for i in tank_idx]
        s_idx = []
        for s in sensors:
            try:
                s_idx.append(en.node_index(s))
            except ToolkitError as exc:
                raise NotFoundError(f"sensor node {s!r} is not in the network", str(inp)) from exc
        en.open_hydraulics()

        def solve() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            en.init_hydraulics(0)
            en.run_hydraulics()
            # a reservoir's or tank's demand is its net inflow from the network
            fixed = en.node_values(res_idx + tank_idx, EN_DEMAND)
            return en.node_values(s_idx, EN_PRESSURE), en.node_values(junc_idx, EN_DEMAND), fixed

        p0, d0, f0 = solve()
        n_res = len(res_idx)
        total = float(np.sum(np.clip(d0, 0, None))) or 1.0
        q_target = leak_fraction * total
        p_nodes = en.node_values(junc_idx, EN_PRESSURE)
        mat = np.zeros((len(sensors), len(junc_idx)))
        share = np.ones(len(junc_idx))
        tank_share = np.zeros((len(junc_idx), len(tank_idx)))
        for k in track(range(len(junc_idx)), "leak sensitivities"):
            i = junc_idx[k]
            c = q_target / np.sqrt(max(p_nodes[k], 1.0))
            en.set_node_value(i, EN_EMITTER, c)
            p1, d1, f1 = solve()
            en.set_node_value(i, EN_EMITTER, 0.0)
            dq = float(d1[k] - d0[k])
            mat[:, k] = (p1 - p0) / dq if dq > 1e-9 else 0.0
            if dq > 1e-9:
                supplied = np.clip(-(f1 - f0) / dq, 0.0, 1.0)
                share[k] = float(supplied[:n_res].sum()) if n_res else 1.0
                tank_share[k] = supplied[n_res:]
        en.close_hydraulics()
    return Sensitivity(list(sensors), junctions, mat, share, tank_names, tank_share)
