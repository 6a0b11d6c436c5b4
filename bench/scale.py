"""City-scale criticality benchmark: a synthetic >= 100,000-pipe water network.

Measures (time, peak memory):
1. the exact one-pass topological criticality of every segment, in-process;
2. the district fan-out (k x k districts, each a self-contained task) in-process, on a process
   pool and on a Dask LocalCluster — with its agreement against the exact pass;
3. an incremental update (one pipe's connected customers/demand change) against a full recompute;
4. pressure-driven (PDD) EPANET runs where feasible: every segment of the demo town's full
   model through the same executors (at 100,000 pipes one PDD solve per segment is not
   feasible on 2 cores, so the city-scale consequence is topological — stated in the output).

Run: ``nice -n 10 .venv/bin/python bench/scale.py [--pipes 100000] [--workers 2]``.
Writes bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lifeline.risk import scale, synth
from lifeline.risk.executors import get_executor


def _rss_mb(children: bool = True) -> float:
    p = psutil.Process()
    total = p.memory_info().rss
    if children:
        for c in p.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                total += c.memory_info().rss
    return round(total / 2**20, 1)


class _PeakRss:
    """Sample the RSS of this process (and its children) every 0.25 s; ``peak_mb`` after exit."""

    def __init__(self, children: bool = False) -> None:
        import threading

        self.children = children
        self.peak_mb = _rss_mb(children)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self.peak_mb = max(self.peak_mb, _rss_mb(self.children))

    def __enter__(self) -> _PeakRss:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak_mb = max(self.peak_mb, _rss_mb(self.children))


def _timed(fn: Any, children: bool = False) -> tuple[Any, float, float]:
    """Run ``fn``; return (result, seconds, peak RSS in MB of this process and, if asked, its workers)."""
    with _PeakRss(children) as mem:
        t0 = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t0
    return out, round(dt, 3), mem.peak_mb


def _traced_peak_mb(fn: Any) -> float:
    """Peak Python heap allocation (tracemalloc) of ``fn`` in MB (a separate, slower run)."""
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return round(peak / 2**20, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pipes", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--districts", type=int, default=8, help="k: the city is cut into k x k districts"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-town", action="store_true", help="skip the PDD fan-out on the demo town")
    args = ap.parse_args()
    res: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "workers": args.workers,
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
    }

    net, t_gen, m_gen = _timed(lambda: synth.city(args.pipes, seed=args.seed))
    res["network"] = {
        "pipes": len(net.link_ids),
        "nodes": len(net.node_ids),
        "valves": len(net.valves),
        "km_of_main": round(float(net.length_m.sum()) / 1000, 1),
        "generate_s": t_gen,
        "generate_peak_mb": m_gen,
    }
    print(
        f"network: {len(net.link_ids)} pipes, {len(net.node_ids)} nodes, {len(net.valves)} valves, "
        f"{res['network']['km_of_main']} km; generated in {t_gen:.1f} s"
    )

    exact, t_ex, m_ex = _timed(lambda: scale.global_consequence(net))
    per_link = exact.per_link
    m_tr = _traced_peak_mb(lambda: scale.global_consequence(net))
    res["exact_in_process"] = {
        "segments": int(exact.cut.shape[0]),
        "seconds": t_ex,
        "peak_rss_mb": m_ex,
        "peak_python_heap_mb": m_tr,
        "max_customers_cut": float(exact.cut[:, 0].max()),
        "median_customers_cut_per_pipe": float(np.median(per_link[:, 0])),
        "method": "topology: segment + segments cut off from every source (one-pass articulation analysis)",
    }
    print(
        f"exact one-pass criticality: {exact.cut.shape[0]} segments in {t_ex:.2f} s, "
        f"peak RSS {m_ex} MB (Python heap peak {m_tr} MB, tracemalloc run)"
    )

    fan: dict[str, Any] = {}
    for kind in ("inprocess", "processes", "dask"):
        t0 = time.perf_counter()
        with get_executor(kind, workers=args.workers) as ex:
            t_start = time.perf_counter() - t0
            approx, t_run, m_run = _timed(
                lambda ex=ex: scale.district_consequence(net, ex, args.districts),
                children=kind != "inprocess",
            )
            desc = ex.describe()
        agree = scale.agreement(per_link, approx)
        fan[kind] = {
            "executor": desc,
            "startup_s": round(t_start, 2),
            "seconds": t_run,
            "peak_rss_mb_parent_plus_workers": m_run,
            **agree,
        }
        print(
            f"district fan-out ({args.districts}x{args.districts}) on {desc}: {t_run:.2f} s "
            f"(+{t_start:.1f} s start-up), peak RSS incl. workers {m_run} MB, agreement {agree}"
        )
    res["district_fanout"] = fan

    rng = np.random.default_rng(args.seed)
    # the changed junction: of 500 random customer junctions, the one with the most segments
    # separating it from the sources (the largest incremental update in the sample)
    sample = rng.choice(np.flatnonzero(net.customers > 0), size=500, replace=False)
    node = int(
        max(sample, key=lambda x: len(exact.tree.separating_ancestors(int(exact.node_seg[x]))))
    )
    delta = np.array([25.0, 1.0, 25 * 2.3 * 0.15 / 24])
    (new, changed), t_inc, _ = _timed(lambda: scale.incremental_update(exact, node, delta))
    net.customers[node] += delta[0]
    net.critical[node] += delta[1]
    net.demand[node] += delta[2]
    full, t_full, _ = _timed(lambda: scale.global_consequence(net))
    equal = bool(np.allclose(new, full.cut))
    res["incremental"] = {
        "change": f"node {net.node_ids[node]}: +25 customers, +1 critical site",
        "segments_changed": len(changed),
        "incremental_s": t_inc,
        "full_recompute_s": t_full,
        "speed_up": round(t_full / max(t_inc, 1e-6), 1),
        "equal_to_full": equal,
    }
    print(
        f"incremental update: {len(changed)} segments changed in {t_inc * 1000:.2f} ms vs full {t_full:.2f} s; equal: {equal}"
    )

    if not args.no_town:
        res["pdd_town"] = _pdd_town(args.workers)
    out = Path(__file__).resolve().parent / "results" / "scale.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print(f"wrote {out}")


def _pdd_town(workers: int) -> dict[str, Any]:
    """PDD runs through each executor on the demo town (full EPANET model), one per segment."""
    from lifeline.datasets.town import load_town
    from lifeline.risk import criticality
    from lifeline.risk.networks import from_wntr
    from lifeline.risk.pdd import PddSettings, peak_hour_s

    town = load_town()
    net = from_wntr(town.water, town.water_valves, town.customers)
    text = Path(town.water_inp_path).read_text()
    st = PddSettings(hour_s=peak_hour_s(town.water))
    out: dict[str, Any] = {}
    ref = None
    for kind in ("inprocess", "processes", "dask"):
        with get_executor(kind, workers=workers) as ex:
            t0 = time.perf_counter()
            c = criticality.water(net, text, ex, st)
            dt = time.perf_counter() - t0
        same = ref is None or c.segments.equals(ref)
        ref = c.segments if ref is None else ref
        out[kind] = {
            "segments": len(c.segments),
            "seconds": round(dt, 2),
            "same_as_inprocess": bool(same),
        }
        print(
            f"town PDD criticality ({len(c.segments)} segments, full EPANET model) on {ex.describe()}: {dt:.2f} s, same: {same}"
        )
    return out


if __name__ == "__main__":
    main()
