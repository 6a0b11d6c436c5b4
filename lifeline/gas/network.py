"""The gas network as arrays, and its pressure sensitivities (cached per network file).

A leak is an extra sink. For the linearised network (the Jacobian of the pipe-flow equations at
the operating point) the pressure response is reciprocal: the pressure drop at sensor junction
``k`` caused by a sink at junction ``j`` equals the drop at ``j`` caused by the same sink at ``k``.
So one pipeflow per *pressure sensor* (not per candidate junction) gives the full sensitivity
matrix ``S[k, j]`` (bar per kg/s) for every junction of the network. We compute it at a few
demand levels (the sensitivity grows with the flow through the shared path) and cache the
result under ``settings.cache_dir/gas`` keyed by the network file's hash and the sensor junctions,
together with the topology, so a warm run never imports pandapipes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from lifeline.errors import InputError, NetworkModelError

CACHE_VERSION = 5
#: demand scaling factors at which sensitivities are computed (1.0 = the network's sinks as saved)
DEMAND_LEVELS = (0.5, 1.5)
#: reference leak used for the sensitivity pipeflows, as a fraction of the total base demand
REF_LEAK_FRACTION = 0.1


@dataclass
class GasNetwork:
    """A pandapipes gas network reduced to arrays (indices are pandapipes junction/pipe indices).

    Pressures in bar gauge, mass flows in kg/s, lengths and coordinates in metres.
    """

    junction: np.ndarray  # (J,) junction indices
    jx: np.ndarray  # (J,) x, m
    jy: np.ndarray  # (J,) y, m
    candidate: np.ndarray  # (J,) bool: main junctions where a leak may sit (not house ends)
    pipe: np.ndarray  # (P,) pipe indices
    pipe_from: np.ndarray  # (P,) from junction index
    pipe_to: np.ndarray  # (P,) to junction index
    pipe_length_m: np.ndarray  # (P,)
    pipe_in_service: np.ndarray  # (P,) bool
    valve: np.ndarray  # (V,) pandapipes valves between two junctions: indices
    valve_from: np.ndarray
    valve_to: np.ndarray
    valve_opened: np.ndarray  # (V,) bool
    pvalve: np.ndarray  # pandapipes valves between a junction and a pipe (et = "pi"): indices
    pvalve_pipe: np.ndarray
    pvalve_junction: np.ndarray
    pvalve_opened: np.ndarray
    sink_junction: np.ndarray  # (C,) junction of each sink (customer)
    sink_mdot: np.ndarray  # (C,) base demand, kg/s
    supply_junction: np.ndarray  # ext_grid / source junctions
    supply_p_bar: float  # ext_grid pressure, bar gauge
    sensor_junction: np.ndarray  # (K,) pressure sensor junctions, in the order used for S
    demand_levels: np.ndarray  # (L,) demand scaling of each sensitivity matrix
    demand_drop: np.ndarray  # (L, K) pressure drop at sensors vs. no demand, bar
    sens: np.ndarray  # (L, K, J) drop at sensor k per kg/s of leak at junction j, bar/(kg/s)
    p_level: np.ndarray  # (L, J) junction pressure at each demand level, bar
    network_hash: str

    def pos(self, junctions: np.ndarray) -> np.ndarray:
        """Positions in the junction arrays of the given junction indices."""
        lookup = {int(j): i for i, j in enumerate(self.junction)}
        return np.array([lookup[int(j)] for j in junctions], dtype=int)


def network_hash(path: str | Path) -> str:
    """SHA-256 of the network file's bytes (hex, first 16 characters)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def _cache_path(cache_dir: Path, nhash: str, sensor_junctions: np.ndarray) -> Path:
    key = hashlib.sha256(
        json.dumps(
            [CACHE_VERSION, nhash, [int(j) for j in sensor_junctions], DEMAND_LEVELS]
        ).encode()
    ).hexdigest()[:16]
    return cache_dir / "gas" / f"sens_{nhash}_{key}.npz"


def load_pandapipes(path: str | Path) -> Any:
    """Load a pandapipes network saved with ``pandapipes.to_json`` (raises NetworkModelError)."""
    import pandapipes as pp

    path = Path(path)
    if not path.exists():
        raise InputError("network file not found", where=str(path))
    try:
        net = pp.from_json(str(path))
    except Exception as exc:  # pandapipes raises many kinds of errors on bad JSON
        raise NetworkModelError(f"not a pandapipes network JSON: {exc}", where=str(path)) from exc
    if not hasattr(net, "junction") or len(net.junction) == 0:
        raise NetworkModelError("network has no junctions", where=str(path))
    if len(net.ext_grid) == 0 and ("source" not in net or len(net.source) == 0):
        raise NetworkModelError("network has no ext_grid (supply)", where=str(path))
    return net


def _junction_xy(net: Any) -> tuple[np.ndarray, np.ndarray]:
    idx = net.junction.index
    if "junction_geodata" in net and len(net.junction_geodata) > 0:
        g = net.junction_geodata.reindex(idx)
        return g["x"].to_numpy(float), g["y"].to_numpy(float)
    if "geo" in net.junction.columns:
        xs, ys = [], []
        for v in net.junction["geo"]:
            try:
                c = json.loads(v)["coordinates"] if isinstance(v, str) else v["coordinates"]
                xs.append(float(c[0]))
                ys.append(float(c[1]))
            except (TypeError, KeyError, ValueError):
                xs.append(np.nan)
                ys.append(np.nan)
        return np.array(xs), np.array(ys)
    raise NetworkModelError("network junctions have no coordinates (junction_geodata or geo)")


def _valves(net: Any) -> tuple[np.ndarray, ...]:
    """pandapipes valves split into junction-junction and junction-pipe ones (index, ends, opened)."""
    z = np.zeros(0, int)
    if "valve" not in net or len(net.valve) == 0:
        return z, z, z, np.zeros(0, bool), z, z, z, np.zeros(0, bool)
    v = net.valve
    opened = v["opened"].to_numpy(bool) if "opened" in v else np.ones(len(v), bool)
    if "from_junction" in v.columns:  # older pandapipes: always between two junctions
        ju = np.ones(len(v), bool)
        a, b = v["from_junction"].to_numpy(int), v["to_junction"].to_numpy(int)
    else:
        et = v["et"].astype(str).to_numpy() if "et" in v else np.full(len(v), "ju")
        ju = et != "pi"
        a, b = v["junction"].to_numpy(int), v["element"].to_numpy(int)
    idx = v.index.to_numpy(int)
    return idx[ju], a[ju], b[ju], opened[ju], idx[~ju], b[~ju], a[~ju], opened[~ju]


def _pipeflow(net: Any) -> np.ndarray:
    import pandapipes as pp

    try:
        # without numba: its JIT compilation costs more than the ~25 pipeflows we run
        pp.pipeflow(net, use_numba=False)
    except Exception as exc:
        raise NetworkModelError(f"pandapipes pipeflow did not converge: {exc}") from exc
    return net.res_junction["p_bar"].reindex(net.junction.index).to_numpy(float)


def build_network(path: str | Path, sensor_junctions: np.ndarray) -> GasNetwork:
    """Load the network, run the sensitivity pipeflows and return a :class:`GasNetwork`.

    ``1 + len(DEMAND_LEVELS) * (1 + K)`` pipeflows for K pressure sensors (23 for K = 10).
    """
    net = load_pandapipes(path)
    jidx = net.junction.index.to_numpy(int)
    pos = {int(j): i for i, j in enumerate(jidx)}
    for j in sensor_junctions:
        if int(j) not in pos:
            raise InputError(
                f"pressure sensor junction {int(j)} is not in the network", where=str(path)
            )
    jx, jy = _junction_xy(net)
    pipes = net.pipe
    p_from = pipes["from_junction"].to_numpy(int)
    p_to = pipes["to_junction"].to_numpy(int)
    in_service = (
        pipes["in_service"].to_numpy(bool) if "in_service" in pipes else np.ones(len(pipes), bool)
    )
    length_m = pipes["length_km"].to_numpy(float) * 1000.0
    sinks = net.sink
    sink_j = sinks["junction"].to_numpy(int)
    sink_md = (sinks["mdot_kg_per_s"] * sinks.get("scaling", 1.0)).to_numpy(float)
    # candidate leak junctions: not a house end (degree-1 junction carrying a sink)
    degree = np.zeros(len(jidx), int)
    for a, b in zip(p_from, p_to, strict=True):
        degree[pos[int(a)]] += 1
        degree[pos[int(b)]] += 1
    has_sink = np.zeros(len(jidx), bool)
    for j in sink_j:
        has_sink[pos[int(j)]] = True
    candidate = ~(has_sink & (degree <= 1)) & (degree > 0)
    valve, v_from, v_to, v_open, pv, pv_pipe, pv_junction, pv_open = _valves(net)
    supply = net.ext_grid["junction"].to_numpy(int) if len(net.ext_grid) else np.zeros(0, int)
    supply_p = float(net.ext_grid["p_bar"].max()) if len(net.ext_grid) else float("nan")

    import pandapipes as pp

    base_scaling = net.sink["scaling"].to_numpy(float).copy()
    total = float(sink_md.sum())
    q_ref = max(REF_LEAK_FRACTION * total, 1e-4)
    net.sink["scaling"] = 0.0
    p_zero = _pipeflow(net)
    k_pos = np.array([pos[int(j)] for j in sensor_junctions], dtype=int)
    L, K, J = len(DEMAND_LEVELS), len(k_pos), len(jidx)
    sens = np.zeros((L, K, J))
    demand_drop = np.zeros((L, K))
    p_level = np.zeros((L, J))
    from lifeline.progress import track

    steps = [(li, ki) for li in range(L) for ki in range(-1, K)]
    p0 = p_zero
    for li, ki in track(steps, "gas sensitivities (pipeflows)"):
        if ki < 0:  # the operating point at this demand level
            net.sink["scaling"] = base_scaling * DEMAND_LEVELS[li]
            p0 = _pipeflow(net)
            p_level[li] = p0
            demand_drop[li] = (p_zero - p0)[k_pos]
            continue
        s = pp.create_sink(
            net, junction=int(sensor_junctions[ki]), mdot_kg_per_s=q_ref, name="_lifeline_probe"
        )
        try:
            sens[li, ki] = (p0 - _pipeflow(net)) / q_ref
        finally:
            net.sink = net.sink.drop(s)
    net.sink["scaling"] = base_scaling
    return GasNetwork(
        junction=jidx,
        jx=jx,
        jy=jy,
        candidate=candidate,
        pipe=pipes.index.to_numpy(int),
        pipe_from=p_from,
        pipe_to=p_to,
        pipe_length_m=length_m,
        pipe_in_service=in_service,
        valve=valve,
        valve_from=v_from,
        valve_to=v_to,
        valve_opened=v_open,
        pvalve=pv,
        pvalve_pipe=pv_pipe,
        pvalve_junction=pv_junction,
        pvalve_opened=pv_open,
        sink_junction=sink_j,
        sink_mdot=sink_md,
        supply_junction=supply,
        supply_p_bar=supply_p,
        sensor_junction=np.asarray(sensor_junctions, dtype=int),
        demand_levels=np.array(DEMAND_LEVELS, float),
        demand_drop=demand_drop,
        sens=sens,
        p_level=p_level,
        network_hash=network_hash(path),
    )


def load_network(
    path: str | Path, sensor_junctions: np.ndarray, cache_dir: Path | None = None
) -> GasNetwork:
    """Return the :class:`GasNetwork` for ``path``, from the cache when possible.

    ``cache_dir`` defaults to ``settings.cache_dir``; the cache file is
    ``<cache_dir>/gas/sens_<network hash>_<key>.npz``.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("network file not found", where=str(path))
    if cache_dir is None:
        from lifeline.config import get_settings

        cache_dir = get_settings().cache_dir
    nhash = network_hash(path)
    cpath = _cache_path(cache_dir, nhash, np.asarray(sensor_junctions))
    if cpath.exists():
        try:
            with np.load(cpath, allow_pickle=False) as z:
                kw: dict[str, Any] = {}
                for f in fields(GasNetwork):
                    v = z[f.name]
                    kw[f.name] = v.item() if v.ndim == 0 else v
                kw["network_hash"] = str(kw["network_hash"])
                kw["supply_p_bar"] = float(kw["supply_p_bar"])
                return GasNetwork(**kw)
        except (OSError, KeyError, ValueError):
            pass  # stale or corrupt cache: rebuild
    gn = build_network(path, np.asarray(sensor_junctions))
    try:
        cpath.parent.mkdir(parents=True, exist_ok=True)
        tmp = cpath.with_suffix(".tmp.npz")
        np.savez(tmp, **{f.name: getattr(gn, f.name) for f in fields(GasNetwork)})
        tmp.replace(cpath)
    except OSError:
        pass  # a read-only cache is not an error
    return gn
