"""The live leak detector (``water-leaks``) against the batch command on generated years.

    nice -n 5 .venv/bin/python bench/leaks_live.py ltown:4:1 ky4:1:1 [--json PATH]

For each NET:WORLD:YEAR (bench/leakgen.py; history = the year before): the online detector of
the live engine (lifeline/water/online.py) learns the history year — once without its labels
(as the engine's ``water-leaks`` does today), once with them (as ``lifeline water leaks
--history-truth`` does) — then scores the year hour by hour (fed a day at a time). Its reports
(hours scoring ≥ 1: located pipe and start) are scored like the batch command's results
(bench/leakeval.py: leaks running when the data begin are the utility's knowledge), next to the
batch command on the same year (every channel; the online detector is its burst channel).
Prints the figures and writes bench/results/leaks_live.json. The truth is read only to score.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))


def live_year(network: str, world: int, year: int) -> dict[str, Any]:
    """The online detector's reports on one generated year, learnt on the history without and
    with its labels, and the batch command's results, all scored."""
    from leakeval import evaluate_pair, scada_long
    from leakgen import nominal_inp, year_dir
    from threadpoolctl import threadpool_limits

    from lifeline.water.online import WaterLeakDetector
    from lifeline.water.scada import read_scada, read_truth

    hist, ev = year_dir(network, world, year - 1), year_dir(network, world, year)
    inp = nominal_inp(network, world)
    data = read_scada(ev / "scada")
    start = pd.Timestamp(data.pressures.index[0])
    hist_leaks, _ = read_truth(hist / "truth")
    known = [k.pipe for k in hist_leaks if k.end >= start - pd.Timedelta(minutes=5)]
    out: dict[str, Any] = {"network": network, "world": world, "year": year}
    history = scada_long(read_scada(hist / "scada"))
    readings = scada_long(data)
    for mode, labels in (("live_unlabelled", None), ("live_labelled", hist_leaks)):
        t0 = time.perf_counter()
        with threadpool_limits(1):
            det = WaterLeakDetector(inp, labels=labels)
            det.learn(history)
            learn_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            scores = [det.score(g) for _, g in readings.groupby(readings["ts"].dt.floor("D"))]
            score_s = time.perf_counter() - t1
        out[mode] = _scored(pd.concat(scores, ignore_index=True), inp, ev, known, start)
        out[mode].update(
            learn_s=round(learn_s, 1),
            score_s_per_year=round(score_s, 1),
            thresholds=det.thresholds,
        )
    batch = evaluate_pair(network, world, year)
    out["batch_all_channels"] = {k: batch[k] for k in ("fraction_of_perfect", "tp", "fp", "leaks")}
    out["batch_bursts"] = batch["report"].get("bursts")
    return out


def _scored(
    sc: pd.DataFrame, inp: Path, ev: Path, known: list[str], start: pd.Timestamp
) -> dict[str, Any]:
    """The online detector's reports (hours scoring ≥ 1) scored like the batch results."""
    from leakeval import score_run

    from lifeline.water.leaks import Detection
    from lifeline.water.pipeline import write_results

    rep = sc[sc["score"] >= 1.0]
    dets = [
        Detection(
            r["detail"]["pipe"],
            pd.Timestamp(r["detail"]["start"]),
            pd.Timestamp(r["ts"]).tz_convert(None),
            float(r["detail"]["confidence"]),
        )
        for _, r in rep.iterrows()
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "live.txt"
        write_results(dets, path)
        res = score_run(inp, path, ev / "truth", dets, known, start)
    out = {k: res[k] for k in ("fraction_of_perfect", "tp", "fp", "leaks")}
    out["reports"] = [
        {"pipe": d.pipe, "start": str(d.time), "reported_at": str(d.alarm_time)} for d in dets
    ]
    out["matches"] = [m for m in res["matches"] if m["result"] in ("TP", "FP")]
    return out


def main() -> None:
    """Run the comparison and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("years", nargs="+", metavar="NET:WORLD:YEAR")
    ap.add_argument("--json", default=str(ROOT / "bench" / "results" / "leaks_live.json"))
    args = ap.parse_args()
    rows = []
    for spec in args.years:
        net, w, y = spec.split(":")
        r = live_year(net, int(w), int(y))
        rows.append(r)
        for mode in ("live_unlabelled", "live_labelled", "batch_all_channels"):
            m = r[mode]
            print(
                f"{net} w{w} y{y} {mode}: {100 * m['fraction_of_perfect']:.1f} % of perfect, "
                f"TP {m['tp']} FP {m['fp']} of {m['leaks']} leaks"
                + (f"; {m['score_s_per_year']} s to score the year" if "live" in mode else "")
            )
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"years": rows}, indent=2, default=str))


if __name__ == "__main__":
    main()
