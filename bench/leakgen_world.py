"""Worlds for bench/leakgen.py: a nominal network, its hidden "real" twin, sensors and demands.

A world is fixed by (network, seed): the real network's roughness, diameters and base demands,
the parts of town (12 clusters of junctions by position), the real weekly consumption profile
of every category in every part of town, industrial users' shifts, a few consumers the nominal
model does not know, the sensor set and each pressure sensor's noise. The consumption of one
*year* (seasons, holidays, daily and 5-minute randomness, a slow growth between years) comes
from :meth:`World.patterns`. Nothing here imports ``lifeline``.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "battledim"
TOW = 7 * 288  # 5-minute steps in a week
LTOWN_DEMAND_M3H = 176.6  # mean base demand of L-TOWN.inp, for scaling leak sizes
GROUPS = 12


def network_source(network: str) -> Path:
    """Nominal INP of a named network: L-Town from the shared data, the others from WNTR."""
    if network == "ltown":
        return SHARED / "L-TOWN.inp"
    import wntr

    names = {"ky4": "ky4", "ky10": "ky10", "net3": "Net3"}
    if network not in names:
        raise SystemExit(f"unknown network {network!r} (ltown, ky4, ky10, net3)")
    return Path(wntr.__file__).parent / "library" / "networks" / f"{names[network]}.inp"


@dataclass
class World:
    """A generated world (see the module doc); ``spec`` holds everything drawn at random."""

    network: str
    seed: int
    folder: Path
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def nominal_inp(self) -> Path:
        """The utility's model (flows in m³/h)."""
        return self.folder / "nominal.inp"

    @property
    def real_inp(self) -> Path:
        """The hidden real network (no leaks; demand patterns are placeholders)."""
        return self.folder / "real.inp"

    def __getattr__(self, name: str) -> Any:
        spec = self.__dict__.get("spec", {})
        if name in spec:
            return spec[name]
        raise AttributeError(name)

    def patterns(self, k: int, index: pd.DatetimeIndex) -> dict[str, np.ndarray]:
        """Year-long 5-minute multipliers of every demand pattern of the real network, year ``k``."""
        rng = np.random.default_rng([self.seed, k, 5])
        n = len(index)
        tow = (index.dayofweek * 288 + (index.hour * 60 + index.minute) // 5).to_numpy()
        day = (index.normalize() - index[0].normalize()).days.to_numpy()
        n_days = int(day[-1]) + 1
        days = pd.date_range(index[0].normalize(), periods=n_days, freq="D")
        hol = _holidays(days, rng)
        sunday_tow = 6 * 288 + (index.hour * 60 + index.minute).to_numpy() // 5
        tow_h = np.where(hol[day], sunday_tow, tow)
        doy = index.dayofyear.to_numpy()
        peak = rng.uniform(195, 235)
        a_res = rng.uniform(0.07, 0.12)
        growth = 1.0 + k * rng.uniform(0.0, 0.02)
        season = {
            "res": 1 + a_res * np.cos(2 * np.pi * (doy - peak) / 365.25),
            "com": 1 + 0.5 * a_res * np.cos(2 * np.pi * (doy - peak) / 365.25),
            "ind": 1 + 0.25 * a_res * np.cos(2 * np.pi * (doy - peak) / 365.25),
        }
        common_day = _ar1(rng, n_days, 0.7, 0.025)[day]
        common_5 = 0.05 * rng.standard_normal(n)
        vac = np.ones(n_days)
        v0 = int(rng.integers(200, 215)) - int(days[0].dayofyear) + 1
        vac[max(v0, 0) : max(v0 + int(rng.integers(14, 22)), 0)] = 0.9
        out: dict[str, np.ndarray] = {}
        for name, prof in self.spec["profiles"].items():
            cat = name.split("_")[0]
            p = np.asarray(prof)[tow_h] if cat != "unk" else np.asarray(prof)[tow]
            s = season.get(cat, season["res"])
            g_day = _ar1(rng, n_days, 0.7, 0.003)[day]  # parts of town move together (sim2018)
            mult = p * s * growth * (1 + common_day + g_day) * (1 + common_5)
            mult *= 1 + 0.03 * rng.standard_normal(n)
            if cat == "ind":
                mult *= vac[day]
            out[name] = np.clip(mult, 0.0, None)
        return out


def _ar1(rng: np.random.Generator, n: int, phi: float, sigma: float) -> np.ndarray:
    """AR(1) series of length ``n`` with stationary standard deviation ``sigma``."""
    e = rng.standard_normal(n) * sigma * np.sqrt(1 - phi * phi)
    x = np.zeros(n)
    for i in range(1, n):
        x[i] = phi * x[i - 1] + e[i]
    return x


def _holidays(days: pd.DatetimeIndex, rng: np.random.Generator) -> np.ndarray:
    """Public holidays (fixed dates, Easter, plus two random local ones): Sunday consumption."""
    from dateutil.easter import easter

    out = np.zeros(len(days), dtype=bool)
    years = sorted(set(days.year))
    dates: set[pd.Timestamp] = set()
    for y in years:
        e = pd.Timestamp(easter(y))
        dates |= {e - pd.Timedelta(days=2), e + pd.Timedelta(days=1), e + pd.Timedelta(days=50)}
        for md in ("01-01", "05-01", "10-01", "12-24", "12-25", "12-26", "12-31"):
            dates.add(pd.Timestamp(f"{y}-{md}"))
        for _ in range(2):
            dates.add(pd.Timestamp(f"{y}-01-01") + pd.Timedelta(days=int(rng.integers(30, 330))))
    for i, d in enumerate(days):
        out[i] = d in dates
    return out


def _weekly(mult: list[float], step_s: int) -> np.ndarray:
    """A nominal pattern as a week of 5-minute values (a daily pattern is repeated)."""
    m = np.asarray(mult, dtype=float)
    if len(m) == 0:
        return np.ones(TOW)
    t = np.arange(TOW) * 300
    return m[(t // max(step_s, 1)) % len(m)]


def _smooth_mod(rng: np.random.Generator, amp: float) -> np.ndarray:
    """A random smooth daily modulation (3 harmonics), as a week of 5-minute values."""
    x = np.arange(TOW) / 288.0
    out = np.zeros(TOW)
    for h in (1, 2, 3):
        out += amp / h * rng.standard_normal() * np.cos(2 * np.pi * h * x + rng.uniform(0, 6.3))
    return out


def _real_profile(nom: np.ndarray, cat: str, rng: np.random.Generator, amp: float) -> np.ndarray:
    """The real weekly profile behind a nominal one: shifted, modulated, with its own weekend."""
    shift = int(rng.integers(-6, 7))  # ±30 min
    p = np.roll(nom, shift) * (1 + _smooth_mod(rng, amp))
    dow = np.arange(TOW) // 288
    tod = np.arange(TOW) % 288
    if cat == "ind" or np.ptp(nom) < 1e-9:
        a, b = int(rng.integers(60, 84)), int(rng.integers(228, 270))  # shift start/end
        on = (tod >= a) & (tod < b)
        p = np.where(on, 1.15, 0.8) * np.where(dow == 5, 0.8, np.where(dow == 6, 0.7, 1.0))
        p = p * (1 + _smooth_mod(rng, 0.03))
    elif cat == "res":
        wknd = dow >= 5
        late = np.roll(p, int(rng.integers(6, 19)))  # weekend mornings start later
        p = np.where(wknd, late * np.where(dow == 6, 0.9, 0.97), p)
    elif cat == "com":
        p = p * np.where(dow == 6, 0.6, np.where(dow == 5, 0.85, 1.0))
    p = np.clip(p, 0.02, None)
    return p / p.mean() * nom.mean()


def _field(xy: np.ndarray, rng: np.random.Generator, n: int = 6) -> np.ndarray:
    """A smooth random field over the junction positions, scaled to [-1, 1]: the sum of ``n``
    Gaussian bumps of random sign, each about a quarter of the network wide."""
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    width = float(np.linalg.norm(hi - lo)) / 4 or 1.0
    f = np.zeros(len(xy))
    for _ in range(n):
        c = lo + rng.uniform(0, 1, 2) * (hi - lo)
        f += rng.choice([-1.0, 1.0]) * np.exp(-(((xy - c) ** 2).sum(axis=1)) / (2 * width**2))
    return f / max(float(np.abs(f).max()), 1e-9)


def _close_valves(wn: Any, rng: np.random.Generator, n: int) -> list[str]:
    """Close ``n`` pipes in the real network (valves the utility believes open), keeping every
    junction connected to a source."""
    import networkx as nx

    g = nx.Graph()
    for name, lk in wn.links():
        g.add_edge(lk.start_node_name, lk.end_node_name, name=name)
    out: list[str] = []
    pipes = list(wn.pipe_name_list)
    for _ in range(50 * n):
        if len(out) == n:
            break
        name = pipes[int(rng.integers(len(pipes)))]
        p = wn.get_link(name)
        if name in out or not g.has_edge(p.start_node_name, p.end_node_name):
            continue
        g.remove_edge(p.start_node_name, p.end_node_name)
        if nx.is_connected(g):
            p.initial_status = "Closed"
            out.append(name)
        else:
            g.add_edge(p.start_node_name, p.end_node_name, name=name)
    return out


def _kmeans(xy: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    c = xy[rng.choice(len(xy), size=k, replace=False)]
    lab = np.zeros(len(xy), dtype=int)
    for _ in range(25):
        lab = np.argmin(((xy[:, None, :] - c[None]) ** 2).sum(axis=2), axis=1)
        c = np.array([xy[lab == i].mean(axis=0) if (lab == i).any() else c[i] for i in range(k)])
    return lab


def _node_distances(wn: Any) -> tuple[list[str], np.ndarray]:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import shortest_path

    nodes = list(wn.node_name_list)
    ix = {n: i for i, n in enumerate(nodes)}
    r, c, w = [], [], []
    for _, lk in wn.links():
        a, b = ix[lk.start_node_name], ix[lk.end_node_name]
        length = max(float(getattr(lk, "length", 1.0) or 1.0), 1.0)
        r += [a, b]
        c += [b, a]
        w += [length, length]
    g = coo_matrix((w, (r, c)), shape=(len(nodes),) * 2).tocsr()
    return nodes, shortest_path(g, directed=False)


def _sensors(wn: Any, rng: np.random.Generator) -> dict[str, list[str]]:
    """Sensors of a network without an official layout: pressure sensors spread by farthest-point
    sampling with L-Town's density per km of pipe (at most 20 % of junctions), flows on the
    links from reservoirs and on pumps not in series with them, every tank level, and AMR meters
    on about 10 % of the demand junctions in one connected area."""
    nodes, dist = _node_distances(wn)
    junc = [n for n in wn.junction_name_list]
    ji = np.array([nodes.index(j) for j in junc])
    km = sum(p.length for _, p in wn.pipes()) / 1000.0
    n_p = int(min(round(33 / 43.16 * km), round(0.2 * len(junc))))
    chosen = [int(rng.integers(len(junc)))]
    dmin = dist[ji[chosen[0]], ji].copy()
    while len(chosen) < n_p:
        j = int(np.argmax(dmin))
        chosen.append(j)
        dmin = np.minimum(dmin, dist[ji[j], ji])
    res = set(wn.reservoir_name_list)
    flows = [name for name, lk in wn.links() if {lk.start_node_name, lk.end_node_name} & res]
    src_nodes = {
        n for f in flows for n in (wn.get_link(f).start_node_name, wn.get_link(f).end_node_name)
    }
    for name in wn.pump_name_list:
        lk = wn.get_link(name)
        if not {lk.start_node_name, lk.end_node_name} & src_nodes:
            flows.append(name)
    demand = [
        j for j in junc if any(d.base_value > 0 for d in wn.get_node(j).demand_timeseries_list)
    ]
    start = demand[int(rng.integers(len(demand)))]
    order = np.argsort(dist[nodes.index(start), [nodes.index(j) for j in demand]])
    amr = [demand[i] for i in order[: max(5, len(demand) // 10)]]
    return {
        "pressure_sensors": sorted((junc[i] for i in chosen), key=lambda s: junc.index(s)),
        "flow_sensors": flows,
        "level_sensors": list(wn.tank_name_list),
        "amr_sensors": sorted(amr, key=lambda s: junc.index(s)),
    }


def _ltown_sensors() -> dict[str, list[str]]:
    import yaml

    cfg = yaml.safe_load((SHARED / "dataset_configuration_historical.yalm").read_text())
    return {
        "pressure_sensors": [str(s) for s in cfg["pressure_sensors"]],
        "flow_sensors": [str(s) for s in cfg["flow_sensors"]],
        "level_sensors": [str(s) for s in cfg["level_sensors"]],
        "amr_sensors": [str(s) for s in cfg["amrs"]],
    }


def _required_pressure(wn: Any) -> float:
    """Pressure (m) for full supply in the pressure-driven model: 20 m (L-Town's service level),
    lower where the network normally runs below it (2nd percentile of a nominal day)."""
    import tempfile

    import wntr

    w = wntr.network.WaterNetworkModel(wn.name) if wn.name else wn
    w.options.time.duration = 24 * 3600
    w.options.hydraulic.demand_model = "DDA"
    with tempfile.TemporaryDirectory() as tmp:  # EPANET's files, not in the working directory
        res = wntr.sim.EpanetSimulator(w).run_sim(file_prefix=str(Path(tmp) / "day"))
    p = res.node["pressure"][w.junction_name_list].to_numpy()
    return float(np.clip(np.percentile(p, 2), 5.0, 20.0))


def _category(pattern: str | None, base: float, rng: np.random.Generator) -> str:
    name = (pattern or "").lower()
    for cat, key in (("res", "resid"), ("com", "comm"), ("ind", "indus")):
        if key in name:
            return cat
    r = rng.uniform()  # a network without categories: most users residential
    return "res" if r < 0.82 else ("com" if r < 0.97 else "ind")


def build_world(network: str, seed: int, cache: Path) -> World:
    """Load a world from ``cache`` or draw and write it (nominal.inp, real.inp, world.json)."""
    import wntr

    folder = cache / f"{network}-w{seed}"
    meta = folder / "world.json"
    if meta.is_file():
        return World(network, seed, folder, json.loads(meta.read_text()))
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng([seed, 1])
    src = network_source(network)
    wn = wntr.network.WaterNetworkModel(str(src))
    wn.name = str(src)
    if network == "ltown":
        shutil.copyfile(src, folder / "nominal.inp")
        sensors = _ltown_sensors()
    else:
        wn.options.time.duration = 0
        wntr.network.write_inpfile(wn, str(folder / "nominal.inp"), units="CMH")
        wn = wntr.network.WaterNetworkModel(str(folder / "nominal.inp"))
        wn.name = str(folder / "nominal.inp")
        sensors = _sensors(wn, rng)
    pstep = int(wn.options.time.pattern_timestep or 3600)
    xy = np.array([wn.get_node(j).coordinates for j in wn.junction_name_list], dtype=float)
    group = dict(zip(wn.junction_name_list, _kmeans(xy, GROUPS, rng), strict=True))
    profiles: dict[str, list[float]] = {}
    cat_base: dict[str, np.ndarray] = {}
    f_rough, f_old, f_dem = (_field(xy, rng) for _ in range(3))
    pos = dict(zip(wn.junction_name_list, range(len(xy)), strict=True))
    for _, p in wn.pipes():
        i = pos.get(p.start_node_name, pos.get(p.end_node_name))
        a, b, c = (f[i] if i is not None else 0.0 for f in (f_rough, f_old, f_dem))
        p.roughness *= 1 + 0.07 * a + rng.uniform(-0.03, 0.03)  # whole districts differ
        if b > 0.2:  # older districts: deposits narrow some pipes
            p.diameter *= 1 - 0.1 * b * rng.uniform(0.5, 1.0)
        elif rng.uniform() < 0.1:
            p.diameter *= 1 + rng.uniform(-0.05, 0.05)
    closed = _close_valves(wn, rng, 2)
    total = 0.0
    default_pat = wn.options.hydraulic.pattern
    for name, j in wn.junctions():
        entries = []
        for d in j.demand_timeseries_list:
            if d.base_value <= 0:
                continue
            pat = d.pattern_name or default_pat
            cat = _category(pat, d.base_value, rng)
            nom = wn.get_pattern(pat).multipliers if pat in wn.pattern_name_list else [1.0]
            if cat not in cat_base:
                cat_base[cat] = _real_profile(_weekly(list(nom), pstep), cat, rng, 0.06)
            pname = f"ind_{name}" if cat == "ind" else f"{cat}_g{group[name]}"
            if pname not in profiles:
                prof = (
                    cat_base[cat]
                    if cat != "ind"
                    else _real_profile(_weekly(list(nom), pstep), "ind", rng, 0.0)
                )
                if cat != "ind":
                    prof = _real_profile(prof, "grp", rng, 0.03)
                profiles[pname] = prof.tolist()
                wn.add_pattern(pname, [1.0])
            base = d.base_value * (1 + 0.05 * f_dem[pos[name]] + rng.uniform(-0.05, 0.05))
            entries.append((base, pname))
            total += d.base_value
        j.demand_timeseries_list.clear()
        for base, pname in entries:
            j.add_demand(base, pname)
    demand_juncs = [n for n, j in wn.junctions() if j.demand_timeseries_list]
    for i in range(3):  # consumers the nominal model does not know
        node = demand_juncs[int(rng.integers(len(demand_juncs)))]
        pname = f"unk_{i}"
        profiles[pname] = _real_profile(np.ones(TOW), "ind", rng, 0.0).tolist()
        wn.add_pattern(pname, [1.0])
        wn.get_node(node).add_demand(total * rng.uniform(0.004, 0.012), pname)
    wn.options.hydraulic.demand_model = "PDA"  # a leak that drains a zone lowers its supply
    wn.options.hydraulic.required_pressure = _required_pressure(wn)
    wn.options.hydraulic.minimum_pressure = 0.0
    wn.options.hydraulic.pressure_exponent = 0.5
    wn.options.hydraulic.emitter_exponent = 0.5
    wntr.network.write_inpfile(wn, str(folder / "real.inp"), units="CMH")
    ends = set(wn.reservoir_name_list) | set(wn.tank_name_list)
    leak_pipes = [
        name
        for name, p in wn.pipes()
        if p.length >= 1.0
        and not {p.start_node_name, p.end_node_name} & ends
        and name not in sensors["flow_sensors"]
        and name not in closed
    ]
    src_cols = [
        i
        for i, f in enumerate(sensors["flow_sensors"])
        if {wn.get_link(f).start_node_name, wn.get_link(f).end_node_name}
        & set(wn.reservoir_name_list)
    ]
    spec = {
        **sensors,
        "first_year": 2018 if network == "ltown" else 2021,
        "leak_pipes": leak_pipes,
        "leak_scale": float(np.clip(np.sqrt(total * 3600 / LTOWN_DEMAND_M3H), 0.7, 1.5)),
        "pressure_noise": rng.uniform(0.01, 0.025, len(sensors["pressure_sensors"])).tolist(),
        "amr_noise": 0.04,
        "source_cols": src_cols,
        "profiles": profiles,
        "closed_in_reality": closed,
    }
    tmp = meta.with_suffix(".tmp")
    tmp.write_text(json.dumps(spec))
    tmp.replace(meta)
    return World(network, seed, folder, spec)
