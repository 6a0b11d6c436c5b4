"""Benchmark `lifeline water isolate` on L-Town (../shared/data/battledim/L-TOWN.inp).

In a fresh cache folder: the one-time precomputation (generated N-1 valve layer, segments, PDD-ready
INP and base demands) is timed once; then ``--pipes`` random pipes (seeded) are isolated in process
with the pressure-driven check, each cold (the per-segment PDD cache is emptied before every call),
and median / p95 / max wall times of ``isolate()`` are reported. Three whole CLI processes
(``lifeline water isolate --json``) are timed too, every segment is isolated once (counts of
starved / unsolved cases), and for ``--check`` sampled pipes plus up to 5 with starved nodes the
low-service set is recomputed the previous way (WNTR EpanetSimulator runs, base and closed).

    nice -n 10 .venv/bin/python bench/isolate.py [--pipes 50] [--check 8] [--seed 0]

Writes bench/results/isolate.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
NET = REPO.parent / "shared" / "data" / "battledim" / "L-TOWN.inp"


def wntr_low_service(inp: Path, closed: list[str], skip: set[str]) -> set[str] | None:
    """The previous method: two WNTR EpanetSimulator PDD runs (base, closed); nodes < 50 %."""
    import warnings

    import wntr

    from lifeline.water.network import load_network

    def served(close: list[str]) -> Any:
        wn = load_network(inp)
        for name in close:
            wn.get_link(name).initial_status = wntr.network.LinkStatus.Closed
        wn.options.time.duration = 0
        wn.options.hydraulic.demand_model = "PDD"
        if (wn.options.hydraulic.required_pressure or 0.0) < 0.1:
            wn.options.hydraulic.required_pressure = 10.0
            wn.options.hydraulic.minimum_pressure = 0.0
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=os.path.join(tmp, "b"))
        return r.node["demand"].iloc[0], wntr.metrics.expected_demand(wn).iloc[0]

    try:
        got0, exp = served([])
        got, _ = served(closed)
    except Exception:
        return None
    return {
        str(n)
        for n in exp.index
        if n not in skip and exp[n] > 0 and got0[n] >= 0.5 * exp[n] and got[n] < 0.5 * exp[n]
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--network", type=Path, default=NET, help="EPANET INP (default L-Town).")
    ap.add_argument("--pipes", type=int, default=50, help="Number of random pipes to isolate.")
    ap.add_argument("--check", type=int, default=8, help="Pipes re-checked with the WNTR method.")
    ap.add_argument("--seed", type=int, default=0, help="Random seed of the pipe sample.")
    args = ap.parse_args()

    cache = Path(tempfile.mkdtemp(prefix="lifeline-bench-isolate-"))
    os.environ["LIFELINE_CACHE_DIR"] = str(cache)
    from lifeline.config import get_settings

    get_settings.cache_clear()
    from lifeline.water.isolate import isolate, precompute, segments
    from lifeline.water.network import cache_dir

    t0 = time.perf_counter()
    precompute(args.network)
    t_pre = time.perf_counter() - t0
    seg = segments(args.network)
    pipes = [n for n, k in zip(seg.links, seg.link_kind, strict=True) if k == "Pipe"]
    rng = np.random.default_rng(args.seed)
    sample = [pipes[i] for i in rng.choice(len(pipes), size=args.pipes, replace=False)]

    times: list[float] = []
    rows: list[dict[str, Any]] = []
    for p in sample:
        for f in cache_dir().glob("pdd_*.json"):
            f.unlink()  # cold: no per-segment PDD result
        t0 = time.perf_counter()
        res = isolate(args.network, p, simulate=True)
        times.append(time.perf_counter() - t0)
        rows.append(
            {
                "pipe": p,
                "ms": round(times[-1] * 1000, 1),
                "pdd_status": res["pdd_status"],
                "segment_junctions": len(res["segment"]["junctions"]),
                "cut_off": len(res["cut_off_unintended"]),
                "low_service": sorted(d["node"] for d in res["low_service_pdd"]),
                "lost_m3h": res["lost_volume_m3_per_h"],
            }
        )
    ms = np.array(times) * 1000
    stats = {
        "median_ms": round(float(np.median(ms)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "max_ms": round(float(ms.max()), 1),
    }

    # whole CLI processes (Python start-up included), each on a segment not cached yet
    exe = Path(sys.executable).with_name("lifeline")
    cli_times, cli_ok = [], True
    for p in sample[:3]:
        for f in cache_dir().glob("pdd_*.json"):
            f.unlink()
        cmd = [str(exe), "water", "isolate", "--network", str(args.network), "--pipe", p, "--json"]
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
        cli_times.append(time.perf_counter() - t0)
        cli_ok &= out.returncode == 0 and "pdd_status" in json.loads(out.stdout or "{}")
    t_cli = float(np.median(cli_times))

    # every segment once (one pipe each): how often the PDD check finds starved nodes
    t0 = time.perf_counter()
    seen: set[int] = set()
    scan_low: list[str] = []
    scan_unsolved: list[str] = []
    for li, (name, kind) in enumerate(zip(seg.links, seg.link_kind, strict=True)):
        sid = int(seg.link_seg[li])
        if kind != "Pipe" or sid in seen:
            continue
        seen.add(sid)
        res = isolate(args.network, name, simulate=True)
        if res["pdd_status"] != "solved":
            scan_unsolved.append(name)
        elif res["low_service_pdd"]:
            scan_low.append(name)
    t_scan = time.perf_counter() - t0

    # equivalence with the previous (WNTR EpanetSimulator) method, and its time per segment
    agree, checked, t_old = 0, 0, []
    for p in [r["pipe"] for r in rows[: args.check]] + scan_low[:5]:
        res = isolate(args.network, p, simulate=True)
        closed = sorted(set(res["segment"]["links"]) | {v["link"] for v in res["valves_to_close"]})
        skip = set(res["segment"]["junctions"]) | set(res["cut_off_unintended"])
        t0 = time.perf_counter()
        ref = wntr_low_service(args.network, closed, skip)
        t_old.append(time.perf_counter() - t0)
        checked += 1
        agree += int(ref is not None and ref == {d["node"] for d in res["low_service_pdd"]})

    n_low = sum(1 for r in rows if r["low_service"])
    report = {
        "network": str(args.network.name),
        "pipes": args.pipes,
        "seed": args.seed,
        "precompute_s": round(t_pre, 2),
        "isolate_cold_in_process": stats,
        "cli_process_s_median_of_3": round(t_cli, 2),
        "cli_ok": cli_ok,
        "all_segments": {
            "segments": len(seen),
            "seconds": round(t_scan, 1),
            "with_low_service": scan_low,
            "unsolved": scan_unsolved,
        },
        "previous_wntr_method_s_per_segment_median": round(float(np.median(t_old)), 2),
        "pdd_unsolved": sum(1 for r in rows if r["pdd_status"] != "solved"),
        "pipes_with_low_service": n_low,
        "wntr_method_agreement": f"{agree}/{checked}",
        "target_p95_ms": 200,
        "rows": rows,
    }
    print(
        f"L-Town isolate: precompute {t_pre:.2f} s; {args.pipes} cold isolate() with PDD: "
        f"median {stats['median_ms']} ms, p95 {stats['p95_ms']} ms, max {stats['max_ms']} ms; "
        f"CLI process {t_cli:.2f} s (median of 3, ok={cli_ok}); low service for {n_low} sampled "
        f"pipe(s)\nall {len(seen)} segments in {t_scan:.1f} s: low service for {len(scan_low)}, "
        f"unsolved {len(scan_unsolved)}; same set as the previous WNTR method on "
        f"{agree}/{checked} (which took {np.median(t_old):.2f} s per segment)"
    )
    out_path = REPO / "bench" / "results" / "isolate.json"
    out_path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
