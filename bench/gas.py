"""Benchmark `lifeline gas locate` on the gas dev set (../shared/data/gas_dev).

Runs the real command (one process per scenario, so start-up is counted) and scores with the
dev set's rules: leak detection F1, localisation error (median, p90, m), alarm cause accuracy,
false leak rate and time per scenario. Truth files are read only in the scoring step.

To guard against overfitting, the figures are also reported on two halves (odd / even scenario
numbers): parameters were set with the odd half in view; the even half is the held-out check.

    .venv/bin/python bench/gas.py [--data ../shared/data/gas_dev] [--limit N] [--in-process]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent


def score(names: list[str], outs: dict[str, dict], truths: dict[str, dict]) -> dict:
    """Scores over the given scenarios (dev-set rules)."""
    tp = fp = fn = tn = 0
    errs: list[float] = []
    n_alarm = ok_alarm = 0
    for n in names:
        o, t = outs[n], truths[n]
        det = isinstance(o.get("leak"), dict)
        if t["leak"] is not None:
            if det:
                tp += 1
                lx, ly = o["leak"].get("x"), o["leak"].get("y")
                errs.append(
                    math.hypot(lx - t["leak"]["x"], ly - t["leak"]["y"])
                    if lx is not None and ly is not None
                    else math.inf
                )
            else:
                fn += 1
        else:
            fp += det
            tn += not det
        by_sensor: dict[str, set[str]] = {}
        for a in o.get("alarms", []):
            c = "other" if a.get("cause") == "sensor_fault" else a.get("cause")
            by_sensor.setdefault(a["sensor_id"], set()).add(c)
        for a in t["alarms"]:
            n_alarm += 1
            ok_alarm += by_sensor.get(a["sensor_id"]) == {a["cause"]}
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return {
        "n": len(names),
        "f1": round(f1, 3),
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "loc_err_median_m": round(float(np.median(errs)), 1) if errs else None,
        "loc_err_p90_m": round(float(np.percentile(errs, 90)), 1) if errs else None,
        "cause_accuracy": round(ok_alarm / n_alarm, 3) if n_alarm else None,
        "n_truth_alarms": n_alarm,
        "false_leak_rate": round(fp / (fp + tn), 3) if fp + tn else None,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "gas_dev"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument(
        "--in-process", action="store_true", help="call the function instead of the CLI"
    )
    args = ap.parse_args()
    data = Path(args.data)
    names = sorted(p.name for p in data.iterdir() if p.is_dir() and (p / "sensors.csv").exists())
    if args.limit:
        names = names[: args.limit]
    outs: dict[str, dict] = {}
    times: dict[str, float] = {}
    exe = REPO / ".venv" / "bin" / "lifeline"
    with tempfile.TemporaryDirectory() as tmp:
        for n in names:
            readings = data / n / "readings.csv.gz"
            if not readings.exists():
                readings = data / n / "readings.csv"
            out = Path(tmp) / f"{n}.json"
            t = time.perf_counter()
            if args.in_process:
                from lifeline.gas.service import locate_files

                res = locate_files(data / "network.json", data / n / "sensors.csv", readings)
                out.write_text(json.dumps(res, default=str))
            else:
                cmd = [str(exe), "gas", "locate", "--network", str(data / "network.json"), "--sensors",
                       str(data / n / "sensors.csv"), "--readings", str(readings), "--out", str(out)]  # fmt: skip
                p = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy())
                if p.returncode != 0:
                    print(f"{n}: FAILED {p.stderr.strip()[-300:]}", file=sys.stderr)
                    outs[n] = {"alarms": [], "leak": None}
                    times[n] = time.perf_counter() - t
                    continue
            times[n] = time.perf_counter() - t
            outs[n] = json.loads(out.read_text())
            lk = outs[n]["leak"]
            print(
                f"{n}: {times[n]:.1f}s leak={'-' if lk is None else (lk['junction'], lk['evidence'])} alarms={len(outs[n]['alarms'])}"
            )
    # scoring step: the only place truth files are read
    truths = {n: json.loads((data / n / "truth.json").read_text()) for n in names}
    res = {
        "all": score(names, outs, truths),
        "odd_half_tuned": score([n for n in names if int(n[-3:]) % 2 == 1], outs, truths),
        "even_half_heldout": score([n for n in names if int(n[-3:]) % 2 == 0], outs, truths),
        "time_per_scenario_s": {
            "mean": round(float(np.mean(list(times.values()))), 2),
            "max": round(float(np.max(list(times.values()))), 2),
            "first (cold cache if cleared)": round(times[names[0]], 2),
        },
        "per_scenario": {
            n: {
                "truth_leak": truths[n]["leak"] is not None,
                "detected": outs[n]["leak"] is not None,
                "err_m": (
                    round(
                        math.hypot(
                            outs[n]["leak"]["x"] - truths[n]["leak"]["x"],
                            outs[n]["leak"]["y"] - truths[n]["leak"]["y"],
                        ),
                        1,
                    )
                    if outs[n]["leak"] and truths[n]["leak"]
                    else None
                ),
                "time_s": round(times[n], 2),
            }
            for n in names
        },  # fmt: skip
        "data": str(data),
    }
    for k in ("all", "odd_half_tuned", "even_half_heldout"):
        print(k, json.dumps(res[k]))
    print("time per scenario", json.dumps(res["time_per_scenario_s"]))
    # the in-process mode (no start-up per scenario) must not overwrite the CLI figures
    outp = REPO / "bench" / "results" / ("gas_inprocess.json" if args.in_process else "gas.json")
    outp.parent.mkdir(parents=True, exist_ok=True)
    outp.write_text(json.dumps(res, indent=1))
    print(f"wrote {outp}")


if __name__ == "__main__":
    main()
