"""Benchmark `lifeline drainage warn` on the drainage dev set (../shared/data/drainage_dev).

Runs the real command, one process per scenario (start-up counted, 120 s timeout as in the
dev kit's run_all.sh), one scenario at a time, and scores with the dev set's own scorer
(score_dev.py, loaded from the data folder): POD, FAR, CSI, median lead, peak-depth error,
time per scenario. Truth is read only by the scorer.

The decision parameters of lifeline.drainage were chosen on the TUNE half of the days (a split
stratified by storm kind, fixed below); the HELD-OUT half was not looked at while tuning, so
its figures are the honest ones. Both halves and the whole set are reported.

Two reference baselines are re-implemented cheaply for comparison (``--baselines``): the
forecast-rain threshold rule from the dev README (any gauge's largest 60-min nowcast total
> 75 mm -> warn every point) and the open-loop nominal model (no nowcast or level correction,
warn at the threshold; run in-process with the same SWMM runs).

    .venv/bin/python bench/drainage.py [--data ../shared/data/drainage_dev] [--limit N]
        [--baselines] [--out bench/results/drainage.json]
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent

#: days the decision parameters were tuned on (stratified by storm kind: light, chicago, bust,
#: multi-burst, dry, late-forming; 30 flooded point-days in each half)
TUNE = [f"dev{k:03d}" for k in (1, 2, 4, 5, 7, 8, 9, 10, 11, 13, 16, 17, 20, 22, 23)]


#: the dev set README's reference figures (its own implementations, all 30 days), for comparison
REFERENCE = {
    "forecast_rain_threshold_75mm": {
        "pod": 0.750,
        "far": 0.405,
        "csi": 0.489,
        "lead_median_min": 73,
    },
    "nominal_swmm_open_loop": {"pod": 0.900, "far": 0.321, "csi": 0.628, "lead_median_min": 29.5},
    "oracle_truth_2h": {"pod": 1.0, "far": 0.0, "csi": 1.0, "lead_median_min": 114},
}


def load_scorer(data: Path) -> ModuleType:
    """The dev set's scorer module (score_dev.py), loaded by path."""
    spec = importlib.util.spec_from_file_location("score_dev", data / "score_dev.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {data / 'score_dev.py'}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def summarize(results: list[dict]) -> dict:
    """Pooled figures over per-scenario scorer results (the scorer's own definitions)."""
    keys = ("flooded", "hits", "misses", "false_warnings", "true_warnings")
    s = {k: sum(r[k] for r in results) for k in keys}
    leads = [x for r in results for x in r["leads"]]
    perr = [x for r in results for x in r["peak_err"]]
    nw = s["false_warnings"] + s["true_warnings"]
    den = s["hits"] + s["misses"] + s["false_warnings"]
    return {
        "scenarios": len(results),
        "pod": round(s["hits"] / s["flooded"], 4) if s["flooded"] else 1.0,
        "far": round(s["false_warnings"] / nw, 4) if nw else 0.0,
        "csi": round(s["hits"] / den, 4) if den else 1.0,
        "lead_median_min": round(statistics.median(leads), 1) if leads else None,
        "peak_mae_m": round(statistics.mean(perr), 4) if perr else None,
        "n_flooded": s["flooded"],
        "n_hits": s["hits"],
        "n_warnings": nw,
        "n_false_warnings": s["false_warnings"],
    }


def run_one(scen: Path, out: Path, timeout: float) -> tuple[float, int]:
    """Run the command on one scenario; returns (seconds, return code; 124 on timeout)."""
    cmd = [
        str(REPO / ".venv" / "bin" / "lifeline"),
        "drainage",
        "warn",
        "--network",
        str(scen / "network.inp"),
        "--observed",
        str(scen / "observed"),
        "--forecasts",
        str(scen / "forecasts"),
        "--points",
        str(scen / "points.csv"),
        "--out",
        str(out),
    ]
    if not Path(cmd[0]).exists():
        cmd[0:1] = [sys.executable, "-m", "lifeline.cli"]
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        rc = res.returncode
        if rc != 0:
            print(f"  {scen.name}: exit {rc}: {res.stderr.strip()[-300:]}", file=sys.stderr)
    except subprocess.TimeoutExpired:
        rc = 124
    return time.perf_counter() - t0, rc


def rain_threshold_baseline(scen: Path, out: Path, total_mm: float = 75.0) -> None:
    """README baseline: warn every point when any gauge's largest 60-min nowcast total > 75 mm."""
    from lifeline.drainage.io import fmt_ts, list_forecasts, read_forecast, read_points

    points = read_points(scen / "points.csv")
    rows = []
    for t, path in list_forecasts(scen / "forecasts"):
        fc = read_forecast(t, path).rain.fillna(0.0)
        mm60 = float(fc.rolling(12, min_periods=1).sum().max().max()) * 5 / 60 if len(fc) else 0
        if mm60 > total_mm:
            rows += [[fmt_ts(t), p.point_id, fmt_ts(t), "0.5"] for p in points]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["issued_at", "point_id", "expected_start", "expected_peak_m"])
        w.writerows(rows)


def open_loop_baseline(scen: Path, out: Path) -> float:
    """README baseline: nominal model, observed rain then the raw nowcast, warn at threshold."""
    from lifeline.drainage.ponding import ForecastConfig
    from lifeline.drainage.warn import PolicyConfig, run_warn

    t0 = time.perf_counter()
    run_warn(
        scen / "network.inp",
        scen / "observed",
        scen / "forecasts",
        scen / "points.csv",
        out,
        forecast_config=ForecastConfig(
            rain_factor=1.0,
            bias_power=0.0,
            level_power=0.0,
            lagged=1,
            horizon_min=120,
            factor_bounds=(1.0, 1.0),
        ),
        policy=PolicyConfig.open_loop(),
    )
    return time.perf_counter() - t0


def score_dir(sd: ModuleType, data: Path, outs: Path, names: list[str]) -> list[dict]:
    """Per-scenario scorer results for the warnings under ``outs``."""
    return [
        sd.score_scenario(n, str(data / n), str(data / n / "truth"), str(outs / n / "warnings.csv"))
        for n in names
    ]


def report(label: str, res: list[dict], tune: set[str]) -> dict:
    """Print and return the figures on all days, the held-out half and the tuned half."""
    out = {
        "all": summarize(res),
        "held_out": summarize([r for r in res if r["scenario"] not in tune]),
        "tuned_on": summarize([r for r in res if r["scenario"] in tune]),
    }
    for part, s in out.items():
        print(
            f"{label:<22}{part:<9} POD {s['pod']:.3f}  FAR {s['far']:.3f}  CSI {s['csi']:.3f}  "
            f"lead {s['lead_median_min']} min  peak MAE {s['peak_mae_m']} m  "
            f"(hits {s['n_hits']}/{s['n_flooded']}, false {s['n_false_warnings']}/{s['n_warnings']})"
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "drainage_dev")
    ap.add_argument("--limit", type=int, default=0, help="only the first N scenarios")
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--baselines", action="store_true", help="also run the two baselines")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "drainage.json")
    a = ap.parse_args()
    data = a.data.resolve()
    if not (data / "score_dev.py").exists():
        raise SystemExit(f"dev set not found at {data}")
    names = sorted(d for d in os.listdir(data) if (data / d / "points.csv").exists())
    if a.limit:
        names = names[: a.limit]
    sd = load_scorer(data)
    tune = set(TUNE)
    result: dict = {
        "reference_from_dev_readme": REFERENCE,
        "data": str(data),
        "scenarios": names,
        "tuned_on_days": sorted(tune & set(names)),
        "held_out_days": sorted(set(names) - tune),
        "split": "tuned_on: the days the defaults were chosen on (bench/drainage_tune.py); "
        "held_out: used for no choice, the honest figures; all: both",
    }
    with tempfile.TemporaryDirectory(prefix="drainage-bench-") as td:
        outs = Path(td) / "lifeline"
        times: dict[str, float] = {}
        codes: dict[str, int] = {}
        for n in names:
            times[n], codes[n] = run_one(data / n, outs / n / "warnings.csv", a.timeout)
            print(f"  {n}: {times[n]:.1f} s (exit {codes[n]})", flush=True)
        res = score_dir(sd, data, outs, names)
        result["lifeline"] = report("lifeline drainage warn", res, tune)
        tv = sorted(times.values())
        result["time_per_scenario_s"] = {
            "median": round(statistics.median(tv), 2),
            "mean": round(statistics.mean(tv), 2),
            "max": round(tv[-1], 2),
            "timeouts": sum(c == 124 for c in codes.values()),
            "nonzero_exit": sum(c not in (0, 124) for c in codes.values()),
            "per_scenario": {k: round(v, 2) for k, v in times.items()},
            "cores": os.cpu_count(),
            "note": "one scenario at a time on a machine shared with other jobs",
        }
        print(
            f"time per scenario: median {result['time_per_scenario_s']['median']} s, "
            f"max {result['time_per_scenario_s']['max']} s "
            f"(timeouts {result['time_per_scenario_s']['timeouts']})"
        )
        result["per_scenario"] = [
            {
                k: r[k]
                for k in (
                    "scenario",
                    "kind",
                    "flooded",
                    "hits",
                    "misses",
                    "false_warnings",
                    "leads",
                )
            }
            for r in res
        ]
        if a.baselines:
            b1 = Path(td) / "rain75"
            for n in names:
                rain_threshold_baseline(data / n, b1 / n / "warnings.csv")
            result["baseline_rain_threshold"] = report(
                "rain threshold 75 mm", score_dir(sd, data, b1, names), tune
            )
            b2 = Path(td) / "openloop"
            bt = [open_loop_baseline(data / n, b2 / n / "warnings.csv") for n in names]
            result["baseline_open_loop"] = report(
                "nominal SWMM open loop", score_dir(sd, data, b2, names), tune
            )
            result["baseline_open_loop"]["time_median_s"] = round(statistics.median(bt), 2)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"written {a.out}")


if __name__ == "__main__":
    main()
