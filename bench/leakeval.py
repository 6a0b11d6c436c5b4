"""Scoring of `lifeline water leaks` on a generated year (history = the year before, labelled).

Used by bench/battledim.py. The truth of the evaluated year is read only in :func:`score_run`,
after the detector has written its results file.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def run_detector(
    inp: Path, scada: Path, hist: Path | None, hist_truth: Path | None, results: Path, **kw: Any
) -> tuple[list[Any], dict[str, Any], float]:
    """Run the detector in process (as `lifeline water leaks` does); returns detections,
    report and wall time (s)."""
    from lifeline.water.pipeline import run_leaks, write_results

    report: dict[str, Any] = {}
    t0 = time.perf_counter()
    dets = run_leaks(inp, scada, hist, hist_truth, progress=False, report=report, **kw)
    dt = time.perf_counter() - t0
    write_results(dets, results)
    return dets, report, dt


def score_run(
    inp: Path, results: Path, truth: Path, dets: list[Any], known: list[str], start: pd.Timestamp
) -> dict[str, Any]:
    """Score a results file against ``truth``.

    Leaks named in ``known`` (labelled in the history and still active when the data begin) are
    the utility's knowledge: a detection of one is neither a TP nor a FP in the main figure
    (``unseen``); ``counting_known`` counts them as leaks like any other. Delays: reported time
    and alarm time minus the leak's start (h); distance: pipe-path metres to the matched leak.
    """
    from lifeline.water.network import load_network, pipe_graph
    from lifeline.water.scada import read_truth
    from lifeline.water.score import read_submission, score

    graph = pipe_graph(load_network(inp))
    leaks, outflow = read_truth(truth)
    subs = read_submission(results)
    new = [k for k in leaks if k.pipe not in known]
    carried = [replace(k, start=max(k.start, start)) for k in leaks if k.pipe in known]
    res = score(subs, new, outflow, graph, ignore=carried)
    out = res.as_dict()
    alarm = {(d.pipe, pd.Timestamp(d.time)): d.alarm_time for d in dets}
    channel = {(d.pipe, pd.Timestamp(d.time).floor("min")): d.channel for d in dets}
    for m in out["matches"]:
        if m["result"] in ("TP", "FP"):
            m["channel"] = channel.get((m["pipe"], pd.Timestamp(m["time"])), "?")
    out["by_channel"] = by_channel(out["matches"], res.perfect_eur)
    start_of = {k.pipe: k.start for k in leaks}
    kind_of = {k.pipe: k.kind for k in leaks}
    delays, adelays, dists = [], [], []
    for m in out["matches"]:
        if m["result"] != "TP":
            continue
        t = pd.Timestamp(m["time"])
        s = start_of[m["leak"]]
        m["kind"] = kind_of[m["leak"]]
        m["delay_h"] = round((t - max(s, start)).total_seconds() / 3600, 1)
        a = alarm.get((m["pipe"], t))
        if a is not None:
            m["alarm_delay_h"] = round((a - max(s, start)).total_seconds() / 3600, 1)
            adelays.append(m["alarm_delay_h"])
        delays.append(m["delay_h"])
        dists.append(m["distance_m"])
    out["delay_h"] = _stats(delays)
    out["alarm_delay_h"] = _stats(adelays)
    out["distance_m"] = _stats(dists)
    out["leaks"] = len(new)
    out["leaks_abrupt"] = sum(k.kind == "abrupt" for k in new)
    out["missed"] = sorted(
        {k.pipe for k in new} - {m["leak"] for m in out["matches"] if m["result"] == "TP"}
    )
    allres = score(subs, new + carried, outflow, graph)
    out["counting_known"] = {k: v for k, v in allres.as_dict().items() if k != "matches"}
    return out


def by_channel(matches: list[dict[str, Any]], perfect_eur: float) -> dict[str, dict[str, Any]]:
    """True and false positives per detection channel (``matches`` with their ``channel``),
    and what each channel's reports added to the score as a share of the perfect score (a TP
    its water saved less the crew's walk, a FP −500 €, the score's ``fp_eur``)."""
    out: dict[str, dict[str, Any]] = {}
    for m in matches:
        if m["result"] not in ("TP", "FP"):
            continue
        c = out.setdefault(m.get("channel", "?"), {"tp": 0, "fp": 0, "eur": 0.0})
        if m["result"] == "TP":
            c["tp"] += 1
            c["eur"] += m["saved_eur"] - m["crew_eur"]
        else:
            c["fp"] += 1
            c["eur"] -= 500.0
    for c in out.values():
        c["share_of_perfect"] = round(c.pop("eur") / perfect_eur, 4) if perfect_eur > 0 else None
    return dict(sorted(out.items()))


def scada_long(sc: Any) -> pd.DataFrame:
    """Long readings (``sensor_id``, ``ts`` UTC, ``value``) of a :class:`Scada`."""
    parts = []
    for df in (sc.pressures, sc.flows, sc.levels):
        lg = df.stack().rename("value").reset_index()
        lg.columns = ["ts", "sensor_id", "value"]
        parts.append(lg)
    o = pd.concat(parts, ignore_index=True)
    o["ts"] = pd.to_datetime(o["ts"]).dt.tz_localize("UTC")
    return o


def _stats(x: list[float]) -> dict[str, float | None]:
    if not x:
        return {"mean": None, "median": None, "worst": None}
    a = np.asarray(x, dtype=float)
    return {
        "mean": round(float(a.mean()), 1),
        "median": round(float(np.median(a)), 1),
        "worst": round(float(a.max()), 1),
    }


def evaluate_pair(
    network: str, world: int, k_eval: int, days: int = 365, workdir: Path | None = None, **kw: Any
) -> dict[str, Any]:
    """Generate (or reuse) years ``k_eval - 1`` (history, labelled) and ``k_eval`` of a world,
    run the detector, score; returns the figures."""
    import tempfile

    from leakgen import nominal_inp, year_dir

    from lifeline.water.scada import read_truth

    hist = year_dir(network, world, k_eval - 1, days)
    ev = year_dir(network, world, k_eval, days)
    inp = nominal_inp(network, world)
    hist_leaks, _ = read_truth(hist / "truth")
    ev_first = pd.read_csv(next((ev / "scada").glob("*_SCADA_Pressures.csv")), sep=";", nrows=1)
    start = pd.Timestamp(ev_first.iloc[0, 0])
    hist_end = start - pd.Timedelta(minutes=5)
    known = [k.pipe for k in hist_leaks if k.end >= hist_end]
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        res_path = Path(tmp) / "results.txt"
        dets, report, dt = run_detector(
            inp, ev / "scada", hist / "scada", hist / "truth", res_path, **kw
        )
        out = score_run(inp, res_path, ev / "truth", dets, known, start)
    out["detect_s"] = round(dt, 1)
    out["network"], out["world"], out["year"] = network, world, k_eval
    out["known_at_start"] = known
    out["report"] = {k: v for k, v in report.items() if k not in ("history",)}
    return out
