"""Synthetic labelled years of SCADA data with leaks, simulated with EPANET (through WNTR).

A *world* is a network as the utility knows it (the nominal INP) plus a hidden "real" network
that differs from it: pipe roughness (±10 %), some diameters (−10…+5 %), base demands (±10 %),
real weekly consumption profiles that differ from the nominal patterns and from one part of town
to another, industrial users on their own shifts, and a few consumers the model does not know.
A *year* of a world adds a leak schedule with BattLeDIM-like statistics (abrupt bursts and
incipient leaks growing to a peak, sizes, durations, repairs; 15–25 new leaks a year; leaks still
open at the end of a year go on in the next), seasonal drift, holidays, daily and 5-minute
randomness of consumption, sensor noise, 0.01 rounding, and gaps.

Hydraulics are solved by the EPANET 2.2 library shipped with WNTR, stepped through its toolkit so
that a leak is what the BattLeDIM description says it is: a pressure-dependent orifice in the
middle of the leak pipe (an emitter, ``Q = 0.75·A·√(2gP)``), whose hole grows linearly from
start to peak for an incipient leak. Every junction's demand follows one of a few dozen
year-long 5-minute patterns (category × part of town); AMR meters read the node's demand with a
meter-level randomness on top.

Output (the layout of ../shared/data/battledim/sim2018, read by ``lifeline water leaks``)::

    <cache>/<network>-w<world>/nominal.inp         the utility's model (flows in m³/h)
    <cache>/<network>-w<world>/y<k>[-d<days>]/scada/<year>_SCADA_{Pressures,Flows,Levels,Demands}.csv
    <cache>/<network>-w<world>/y<k>[-d<days>]/truth/{leaks.csv,leak_outflow.csv}
    <cache>/<network>-w<world>/y<k>[-d<days>]/meta.json

The generator is independent of the detector: it imports nothing from ``lifeline``.
Statistics were taken from the sim2018 *training* year (see docs/water.md, "Generated years").

    nice -n 10 .venv/bin/python bench/leakgen.py --network ltown --world 1 --years 0 1 2
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from leakgen_world import World, build_world  # noqa: E402

STEP = 300  # s
EN_EMITTER, EN_DEMAND, EN_PRESSURE, EN_FLOW = 3, 9, 11, 8
EN_DURATION, EN_HYDSTEP, EN_PATTERNSTEP, EN_PATTERNSTART, EN_REPORTSTEP = 0, 1, 3, 4, 5
EN_REPORTSTART, EN_RULESTEP = 6, 7
CD = 0.75  # orifice discharge coefficient (BattLeDIM)


def cache_root() -> Path:
    """Where generated worlds and years live: ``$LIFELINE_CACHE_DIR/leakgen`` or
    ``~/.cache/lifeline/leakgen`` (not in git)."""
    base = os.environ.get("LIFELINE_CACHE_DIR") or str(Path.home() / ".cache" / "lifeline")
    return Path(base) / "leakgen"


@dataclass
class LeakSpec:
    """One leak of a schedule (times are 5-minute grid timestamps, diameter in m)."""

    pipe: str
    start: str
    end: str
    diameter: float
    kind: str  # abrupt | incipient
    peak: str

    def area_at(self, t: np.ndarray) -> np.ndarray:
        """Hole area (m²) at timestamps ``t`` (datetime64 array); 0 outside [start, end]."""
        s, e, p = (np.datetime64(pd.Timestamp(x)) for x in (self.start, self.end, self.peak))
        frac = np.ones(len(t))
        if self.kind == "incipient" and p > s:
            frac = np.clip((t - s) / (p - s), 0.0, 1.0)
        d = self.diameter * frac
        return np.where((t >= s) & (t <= e), np.pi * d * d / 4.0, 0.0)


def year_bounds(world: World, k: int, days: int = 365) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last 5-minute timestamp of year ``k`` of a world (``days`` long)."""
    t0 = pd.Timestamp(f"{world.first_year + k}-01-01")
    full = pd.Timestamp(f"{world.first_year + k + 1}-01-01") - t0
    length = min(pd.Timedelta(days=days), full)
    return t0, t0 + length - pd.Timedelta(seconds=STEP)


def _grid(ts: pd.Timestamp) -> str:
    return f"{ts.floor('5min'):%Y-%m-%d %H:%M}"


def schedule(world: World, k: int, days: int = 365) -> list[LeakSpec]:
    """Leaks active in year ``k``: those still open at the end of year ``k-1`` and new ones.

    New leaks (statistics of the sim2018 training year, widened): 15–25 a year at uniform
    times; 45 % abrupt bursts (hole 15–24 mm, repaired after 7–28 days); incipient leaks either
    large (15–24 mm, growing for 3–60 days, repaired 2–20 days after the peak) or small
    (8.5–12 mm, growing for 2–16 weeks, repaired 2–12 months after the peak, often in a later
    year: the small ones are the leaks a utility does not find).
    Hole sizes scale with √(mean demand / L-Town's) so that a leak is a similar share of the
    inflow on other networks.
    """
    prev = schedule(world, k - 1) if k > 0 else []
    t0, t1 = year_bounds(world, k, days)
    carried = [lk for lk in prev if pd.Timestamp(lk.end) > t0]
    rng = np.random.default_rng([world.seed, k, 11])
    n_new = int(rng.integers(15, 26))
    if days < 365:
        n_new = max(3, round(n_new * days / 365))
    busy = {lk.pipe for lk in carried}
    cand = [p for p in world.leak_pipes if p not in busy]
    out = list(carried)
    span = (t1 - t0).total_seconds() - 3 * 86400
    scale = world.leak_scale
    for _ in range(n_new):
        pipe = str(cand.pop(int(rng.integers(len(cand)))))
        start = t0 + pd.Timedelta(days=2) + pd.Timedelta(seconds=float(rng.uniform(0, span)))
        day = pd.Timedelta(days=1)
        r = rng.uniform()
        if r < 0.45:
            kind, d = "abrupt", rng.uniform(0.015, 0.024)
            peak = start
            end = start + rng.uniform(7, 28) * day
        elif r < 0.72:
            kind, d = "incipient", rng.uniform(0.015, 0.024)
            peak = start + rng.uniform(3, 60) * day
            end = peak + rng.uniform(2, 20) * day
        else:
            kind, d = "incipient", rng.uniform(0.0085, 0.012)
            peak = start + rng.uniform(14, 112) * day
            end = peak + rng.uniform(60, 365) * day
        out.append(LeakSpec(pipe, _grid(start), _grid(end), round(d * scale, 6), kind, _grid(peak)))
    return out


def _lib(en: Any) -> tuple[Any, Any]:
    lib = en.ENlib
    lib.EN_getnodevalue.argtypes = [
        ctypes.c_uint64,
        ctypes.c_int,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_double),
    ]
    lib.EN_getlinkvalue.argtypes = lib.EN_getnodevalue.argtypes
    lib.EN_setnodevalue.argtypes = [ctypes.c_uint64, ctypes.c_int, ctypes.c_int, ctypes.c_double]
    return lib, en._project.value


def _index(lib: Any, ph: Any, name: str, link: bool = False) -> int:
    i = ctypes.c_int()
    fn = lib.EN_getlinkindex if link else lib.EN_getnodeindex
    if fn(ctypes.c_uint64(ph), name.encode(), ctypes.byref(i)):
        raise KeyError(name)
    return i.value


def simulate(world: World, k: int, out: Path, days: int = 365, gaps: float = 1.0) -> dict:
    """Simulate year ``k`` of ``world`` into folder ``out`` (see the module doc); returns meta."""
    import wntr
    from wntr.epanet.toolkit import ENepanet

    t_start = time.perf_counter()
    leaks = schedule(world, k, days)
    t0, t1 = year_bounds(world, k, days)
    index = pd.date_range(t0, t1, freq=f"{STEP}s")
    n = len(index)
    wn = wntr.network.WaterNetworkModel(str(world.real_inp))
    leak_nodes = []
    for lk in leaks:
        node = f"{lk.pipe}_leaknode"
        if node not in wn.node_name_list:
            wntr.morph.split_pipe(wn, lk.pipe, f"{lk.pipe}_Bleak", node, return_copy=False)
        leak_nodes.append(node)
    out.mkdir(parents=True, exist_ok=True)
    inp = out / "real.inp"
    wntr.network.write_inpfile(wn, str(inp), units="CMH")
    patterns = world.patterns(k, index)
    rng = np.random.default_rng([world.seed, k, 23])
    en = ENepanet()
    en.ENopen(str(inp), str(out / "sim.rpt"), "")
    lib, ph = _lib(en)
    php = ctypes.c_uint64(ph)
    lib.EN_setstatusreport(php, 0)  # no per-step status report (it is huge and slow)
    try:
        for param, val in (
            (EN_DURATION, (n - 1) * STEP),
            (EN_HYDSTEP, STEP),
            (EN_PATTERNSTEP, STEP),
            (EN_PATTERNSTART, 0),
            (EN_REPORTSTEP, STEP),
            (EN_REPORTSTART, 0),
            (EN_RULESTEP, 60),
        ):
            lib.EN_settimeparam(php, param, ctypes.c_long(val))
        for name, values in patterns.items():
            arr = (ctypes.c_double * n)(*values)
            err = lib.EN_setpattern(php, _index_pattern(lib, php, name), arr, n)
            if err:
                raise RuntimeError(f"EN_setpattern {name}: error {err}")
        p_idx = [_index(lib, ph, s) for s in world.pressure_sensors]
        l_idx = [_index(lib, ph, s) for s in world.level_sensors]
        a_idx = [_index(lib, ph, s) for s in world.amr_sensors]
        f_idx = [_index(lib, ph, s, link=True) for s in world.flow_sensors]
        k_idx = [_index(lib, ph, s) for s in leak_nodes]
        coef = np.array([lk.area_at(index.values) for lk in leaks]) * CD * np.sqrt(2 * 9.81) * 3600
        res = {
            "P": np.full((n, len(p_idx)), np.nan),
            "L": np.full((n, len(l_idx)), np.nan),
            "A": np.full((n, len(a_idx)), np.nan),
            "F": np.full((n, len(f_idx)), np.nan),
            "K": np.zeros((n, len(k_idx))),
        }
        v = ctypes.c_double()
        t, ts = ctypes.c_long(), ctypes.c_long()
        lib.EN_openH(php)
        lib.EN_initH(php, 0)
        step = 0
        while True:
            cur = min(step, n - 1)
            for j, i in enumerate(k_idx):
                lib.EN_setnodevalue(ph, i, EN_EMITTER, float(coef[j, cur]))
            err = lib.EN_runH(php, ctypes.byref(t))
            if err > 100:
                raise RuntimeError(f"EPANET error {err} at t={t.value} s")
            if t.value % STEP == 0 and t.value // STEP < n:
                r = t.value // STEP
                for key, idx, fn, code in (
                    ("P", p_idx, lib.EN_getnodevalue, EN_PRESSURE),
                    ("L", l_idx, lib.EN_getnodevalue, EN_PRESSURE),
                    ("A", a_idx, lib.EN_getnodevalue, EN_DEMAND),
                    ("F", f_idx, lib.EN_getlinkvalue, EN_FLOW),
                    ("K", k_idx, lib.EN_getnodevalue, EN_PRESSURE),
                ):
                    row = res[key][r]
                    for j, i in enumerate(idx):
                        fn(ph, i, code, ctypes.byref(v))
                        row[j] = v.value
            lib.EN_nextH(php, ctypes.byref(ts))
            if ts.value <= 0:
                break
            step = (t.value + ts.value) // STEP
        lib.EN_closeH(php)
    finally:
        en.ENclose()
    outflow = coef.T * np.sqrt(np.clip(res["K"], 0.0, None))  # m³/h
    meta = _write_year(world, k, out, index, leaks, res, outflow, rng, gaps)
    meta["simulate_s"] = round(time.perf_counter() - t_start, 1)
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    for f in ("real.inp", "sim.rpt"):
        (out / f).unlink(missing_ok=True)
    return meta


def _index_pattern(lib: Any, php: Any, name: str) -> int:
    i = ctypes.c_int()
    if lib.EN_getpatternindex(php, name.encode(), ctypes.byref(i)):
        raise KeyError(f"pattern {name}")
    return i.value


def _gaps(rng: np.random.Generator, shape: tuple[int, int], rate: float) -> np.ndarray:
    """Mask of missing readings: per sensor about ``rate`` gaps a year (5 min to 12 h,
    log-uniform), and with a 30 % chance a SCADA outage of 1–6 h on every sensor."""
    n, m = shape
    miss = np.zeros(shape, dtype=bool)
    years = n * STEP / (365 * 86400)
    for j in range(m):
        for _ in range(int(rng.poisson(rate * years))):
            a = int(rng.integers(n))
            miss[a : a + int(np.exp(rng.uniform(0, np.log(144)))), j] = True
    if rate > 0 and rng.uniform() < 0.3 * years:
        a = int(rng.integers(n))
        miss[a : a + int(rng.uniform(12, 72))] = True
    return miss


def _write_year(
    world: World,
    k: int,
    out: Path,
    index: pd.DatetimeIndex,
    leaks: list[LeakSpec],
    res: dict[str, np.ndarray],
    outflow: np.ndarray,
    rng: np.random.Generator,
    gaps: float,
) -> dict:
    """Add sensor noise, rounding and gaps; write SCADA and truth in the BattLeDIM layout."""
    n = len(index)
    year = index[0].year
    sc = out / "scada"
    sc.mkdir(parents=True, exist_ok=True)
    sig_p = world.pressure_noise
    p = res["P"] + rng.standard_normal(res["P"].shape) * sig_p
    f = res["F"] * (1 + 0.005 * rng.standard_normal(res["F"].shape))
    lv = res["L"] + 0.002 * rng.standard_normal(res["L"].shape)
    a = res["A"] * 1000.0 * (1 + world.amr_noise * rng.standard_normal(res["A"].shape))
    frames = {
        "Pressures": (p, world.pressure_sensors),
        "Flows": (f, world.flow_sensors),
        "Levels": (lv, world.level_sensors),
        "Demands": (a, world.amr_sensors),
    }
    for kind, (vals, cols) in frames.items():
        if not cols:
            continue
        vals = np.round(vals, 2)
        vals[_gaps(rng, vals.shape, gaps)] = np.nan
        df = pd.DataFrame(vals, index=index.strftime("%Y-%m-%d %H:%M:%S"), columns=cols)
        df.index.name = "Timestamp"
        df.to_csv(
            sc / f"{year}_SCADA_{kind}.csv",
            sep=";",
            decimal=",",
            float_format="%.2f",
            lineterminator="\r\n",
        )
    tr = out / "truth"
    tr.mkdir(parents=True, exist_ok=True)
    last = index[-1]
    rows = []
    cols: dict[str, np.ndarray] = {}
    for j, lk in enumerate(leaks):
        if pd.Timestamp(lk.start) > last:
            continue
        end = min(pd.Timestamp(lk.end), last)
        rows.append(
            {
                "linkID": lk.pipe,
                "startTime": lk.start,
                "endTime": f"{end:%Y-%m-%d %H:%M}",
                "leakDiameter": lk.diameter,
                "leakType": lk.kind,
                "peakTime": lk.peak,
            }
        )
        cols[lk.pipe] = cols.get(lk.pipe, np.zeros(n)) + np.round(outflow[:, j], 4)
    pd.DataFrame(rows).to_csv(tr / "leaks.csv", index=False)
    of = pd.DataFrame(cols, index=index.strftime("%Y-%m-%d %H:%M:%S"))
    of.index.name = "Timestamp"
    of.to_csv(tr / "leak_outflow.csv")
    carried = [lk.pipe for lk in leaks if pd.Timestamp(lk.start) < index[0]]
    vols = {
        lk.pipe: round(float(outflow[:, j].sum()) * STEP / 3600, 1) for j, lk in enumerate(leaks)
    }
    return {
        "network": world.network,
        "world": world.seed,
        "year_index": k,
        "year": year,
        "days": int(round(n * STEP / 86400)),
        "leaks": [asdict(lk) for lk in leaks],
        "carried_over": carried,
        "leak_volume_m3": vols,
        "mean_inflow_m3h": round(float(np.nanmean(res["F"][:, world.source_cols].sum(axis=1))), 1)
        if world.source_cols
        else None,
        "pressure_noise_m": [round(float(s), 4) for s in np.atleast_1d(sig_p)],
        "gap_rate_per_sensor_year": gaps,
    }


def year_dir(network: str, world: int, k: int, days: int = 365, cache: Path | None = None) -> Path:
    """Folder of year ``k`` of a world (generated on first use)."""
    w = build_world(network, world, cache or cache_root())
    out = w.folder / (f"y{k}" if days >= 365 else f"y{k}-d{days}")
    if not (out / "meta.json").is_file():
        simulate(w, k, out, days)
    return out


def nominal_inp(network: str, world: int, cache: Path | None = None) -> Path:
    """The utility's nominal INP of a world (flows in m³/h)."""
    return build_world(network, world, cache or cache_root()).nominal_inp


def main() -> None:
    """Generate the requested years and print a summary line per year."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--network", default="ltown", help="ltown, ky4, ky10 or net3")
    ap.add_argument("--world", type=int, default=1, help="seed of the world (real network)")
    ap.add_argument("--years", type=int, nargs="+", default=[0], help="year indices (0 = first)")
    ap.add_argument("--days", type=int, default=365, help="shorter years for development")
    ap.add_argument("--cache", default=str(cache_root()))
    args = ap.parse_args()
    for k in args.years:
        d = year_dir(args.network, args.world, k, args.days, Path(args.cache))
        meta = json.loads((d / "meta.json").read_text())
        kinds = [lk["kind"] for lk in meta["leaks"]]
        print(
            f"{d}: {len(kinds)} leaks ({kinds.count('abrupt')} abrupt, "
            f"{len(meta['carried_over'])} carried over), mean inflow {meta['mean_inflow_m3h']} m3/h, "
            f"simulated in {meta.get('simulate_s')} s"
        )


if __name__ == "__main__":
    main()
