"""End-to-end leak detection: read data, calibrate on history, detect, write BattLeDIM results."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifeline.errors import InputError
from lifeline.progress import track
from lifeline.water import balance as bl
from lifeline.water import balance_loc as blc
from lifeline.water import leaks as lk
from lifeline.water import trend_loc as tlc
from lifeline.water.network import load_network, pipe_graph, sensitivity
from lifeline.water.scada import Leak, Scada, check_against_network, read_scada, read_truth
from lifeline.water.score import Submission, score

#: grid searched on labelled history (CUSUM allowance k, threshold h, localisation ratio)
GRID_K = (1.0, 2.0)
GRID_H = (10.0, 20.0, 40.0)
GRID_RATIO = (0.85, 0.95)
GRID_BURST = (float("inf"), 30.0)
GRID_SLOW = (float("inf"), 4.0)
GRID_ABRUPT_H = (0, 8)
GRID_MERGE_DAYS = (10.0, 60.0)


def quiet_hours(index: pd.DatetimeIndex, leaks: list[Leak]) -> np.ndarray:
    """True for hours with no labelled leak active."""
    q = np.ones(len(index), dtype=bool)
    for k in leaks:
        q &= ~((index >= k.start.floor("h")) & (index <= k.end.ceil("h")))
    return q


def run_leaks(*args: Any, **kwargs: Any) -> list[lk.Detection]:
    """Detect leaks (see :func:`_run_leaks` for the arguments), with BLAS limited to one thread.

    The matrices are small (sensors × pipes); multi-threaded BLAS on a shared machine is many
    times slower than one thread.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        return _run_leaks(*args, **kwargs)


def _run_leaks(
    network: str | Path,
    scada_dir: str | Path,
    history_dir: str | Path | None = None,
    history_truth: str | Path | None = None,
    params: lk.LeakParams | None = None,
    progress: bool = True,
    report: dict[str, Any] | None = None,
    balance: bool = False,
) -> list[lk.Detection]:
    """Detect leaks in ``scada_dir``; calibrate on ``history_dir`` (+ labels) when given.

    The water-balance channel always runs when flows and history allow it; its rises of
    leakage are listed in ``report["balance_rises"]``. Its located detections are added to the
    results only with ``balance=True`` (experimental: on sim2018 they did not beat the pressure
    channel out of sample, see docs/water.md).

    Without history the residual model is fitted on the first ``calib_days`` of the data (assumed
    leak-free) and default thresholds are used. With labelled history, the CUSUM allowance and
    threshold and the localisation ratio are chosen by maximising the BattLeDIM score on history.
    """
    if history_truth is not None and history_dir is None:
        raise InputError("--history-truth needs --history")
    wn = load_network(network)
    nodes, links = set(wn.node_name_list), set(wn.link_name_list)
    data = read_scada(scada_dir)
    check_against_network(data, nodes, links, scada_dir)
    rep = report if report is not None else {}
    hist: Scada | None = None
    if history_dir is not None:
        hist = read_scada(history_dir)
        check_against_network(hist, nodes, links, history_dir)
        if set(hist.pressures.columns) != set(data.pressures.columns):
            raise InputError("history and data have different pressure sensors", str(history_dir))
    dead = _dead_sensors(data, hist)
    if dead:
        rep["dropped_sensors"] = dead
        data.pressures = data.pressures.drop(columns=dead)
        if hist is not None:
            hist.pressures = hist.pressures.drop(columns=dead)
    if data.pressures.shape[1] < 2:
        raise InputError("fewer than 2 usable pressure sensors", str(scada_dir))
    sensors = list(data.pressures.columns)
    sens = sensitivity(network, sensors)
    graph = pipe_graph(wn)
    h_data = lk.hourly(data)
    prm = params or lk.LeakParams()
    if hist is None:
        n = prm.calib_days * 24
        if len(h_data) < n + 24 * prm.baseline_days:
            raise InputError(
                f"need at least {prm.calib_days + prm.baseline_days} days of data without --history",
                str(scada_dir),
            )
        model = lk.calibrate(h_data.iloc[:n], wn, sens, graph, prm)
        rep["params"] = lk.params_dict(prm)
        return lk.detect(h_data, model, graph, progress=progress, start=n)
    h_hist = lk.hourly(hist)[h_data.columns.intersection(lk.hourly(hist).columns)]
    if list(h_hist.columns) != list(h_data.columns):
        h_hist = h_hist.reindex(columns=h_data.columns)
    truth: list[Leak] = []
    outflow = pd.DataFrame()
    hist_dets: list[lk.Detection] = []
    if history_truth is not None:
        truth, outflow = read_truth(history_truth)
    quiet = quiet_hours(pd.DatetimeIndex(h_hist.index), truth) if truth else None
    model = lk.calibrate(h_hist, wn, sens, graph, prm, quiet)
    if truth and not outflow.empty:
        pre = lk.prepare(h_hist, model)
        best: tuple[float, lk.LeakParams] | None = None
        grid = itertools.product(
            GRID_K, GRID_H, GRID_RATIO, GRID_MERGE_DAYS, GRID_BURST, GRID_SLOW, GRID_ABRUPT_H
        )
        combos = list(grid)
        it = track(combos, "calibrating thresholds on history") if progress else combos
        for k, h, ratio, md, hb, hs, ab in it:
            p = replace(
                prm, k=k, h=h, loc_ratio=ratio, merge_days=md, h_burst=hb, h_slow=hs, abrupt_h=ab
            )
            model.params = p
            dets = lk.detect_prepared(pre, model, graph)
            res = score([Submission(d.pipe, d.time) for d in dets], truth, outflow, graph)
            val = res.score_eur - 250.0 * res.fp  # extra weight against false alarms
            if best is None or val > best[0]:
                best = (val, p)
                rep["history"] = res.as_dict() | {"params": lk.params_dict(p)}
        assert best is not None
        prm = best[1]
        model.params = prm
        hist_dets = lk.detect_prepared(pre, model, graph)
    model.params = prm
    rep["params"] = lk.params_dict(prm)
    # detect on history tail + data so the rolling baseline is warm from the first hour
    warm = h_hist.iloc[-24 * (prm.baseline_days + 14) :]
    gap = h_data.index[0] - warm.index[-1]
    if pd.Timedelta(0) < gap <= pd.Timedelta(hours=1):
        full = pd.concat([warm, h_data])
        dets = lk.detect(full, model, graph, progress=progress)
        dets = [d for d in dets if d.alarm_time >= h_data.index[0]]
    else:
        dets = lk.detect(h_data, model, graph, progress=progress)
    known = (
        bl.known_active(truth, h_hist.index[-1]) if truth and gap <= pd.Timedelta(days=31) else []
    )
    try:  # an auxiliary channel: a failure there must not cost the pressure detections
        extra = _balance_channel(
            wn,
            model,
            sens,
            graph,
            h_hist,
            hist,
            h_data,
            data,
            outflow,
            truth,
            known,
            dets,
            rep,
            balance,
            hist_dets,
        )
    except (ValueError, KeyError, IndexError, np.linalg.LinAlgError) as exc:
        rep["balance"] = f"off (failed: {exc})"
        rep["trend"] = "off (the water balance failed)"
        extra = []
    return sorted(dets + extra, key=lambda d: d.time)


#: grid for the balance channel (CUSUM threshold σ·day, localisation window days, χ² gain)
GRID_BAL_H = (6.0, 10.0, 16.0)
GRID_BAL_POST = (7,)
GRID_BAL_GAIN = (9.0, 25.0, 50.0)
BAL_DEFAULT = (10.0, 7, 25.0)


def amr_hourly(sc: Scada) -> pd.Series | None:
    """Hourly summed AMR demand (missing meters filled by the mean of the others), or None."""
    if sc.demands.shape[1] == 0:
        return None
    tot = sc.demands.mean(axis=1) * sc.demands.shape[1]
    return tot.resample("1h").mean() if sc.step_s < 3600 else tot


def _balance_channel(
    wn: Any,
    model: lk.Model,
    sens: Any,
    graph: Any,
    h_hist: pd.DataFrame,
    hist: Scada,
    h_data: pd.DataFrame,
    data: Scada,
    outflow: pd.DataFrame,
    truth: list[Leak],
    known: list[str],
    dets: list[lk.Detection],
    rep: dict[str, Any],
    locate: bool = False,
    hist_dets: list[lk.Detection] | None = None,
) -> list[lk.Detection]:
    """Rises of leakage from the water balance (see :mod:`lifeline.water.balance`), recorded in
    ``rep``; with ``locate`` and labelled history, also their located detections.

    The channel's thresholds are chosen on labelled history by its own score (no detections
    when no setting beats doing nothing); without labels rises are listed but not located.
    """
    a_hist, a_data = amr_hourly(hist), amr_hourly(data)
    bal = bl.fit_balance(wn, h_hist, a_hist, outflow if truth else None)
    if bal is None:
        rep["balance"] = "off (no source flows or too little history)"
        rep["trend"] = "off (needs the water balance: source flows)"
        return []
    both = pd.concat([h_hist, h_data])
    both = both[~both.index.duplicated(keep="last")].sort_index()  # history may overlap the data
    amr = pd.concat([a_hist, a_data]) if a_hist is not None and a_data is not None else None
    if amr is not None:
        amr = amr[~amr.index.duplicated(keep="last")].sort_index()
    ell = bl.leakage(bal, both, amr)
    rep["balance_sigma"] = bal.sigma
    hb, post, gain = BAL_DEFAULT
    found: list[lk.Detection] = []
    loc = blc.prepare_night(model, both, h_data.index[0], sens, graph)
    trend = _trend_channel(
        loc,
        ell,
        bal.sigma,
        h_hist,
        h_data,
        truth,
        outflow,
        known,
        dets,
        hist_dets or [],
        graph,
        rep,
    )
    if locate and loc is not None and truth and not outflow.empty:
        ell_h = ell[ell.index < h_data.index[0]]
        best: tuple[float, float, int, float] | None = None
        for hb_, post_ in itertools.product(GRID_BAL_H, GRID_BAL_POST):
            evs = bl.events(ell_h, bal.sigma, h=hb_, start=ell_h.index[min(7, len(ell_h) - 1)])
            for gain_ in GRID_BAL_GAIN:
                bd = blc.balance_detections(
                    evs, loc, [], [], graph, post_days=post_, min_gain=gain_, ell=ell_h
                )
                res = score([Submission(d.pipe, d.time) for d in bd], truth, outflow, graph)
                val = res.score_eur - 250.0 * res.fp
                if val > 0 and (best is None or val > best[0]):
                    best = (val, hb_, post_, gain_)
                    rep["balance_history"] = res.as_dict() | {
                        "h": hb_,
                        "post_days": post_,
                        "gain": gain_,
                    }
        if best is not None:
            _, hb, post, gain = best
    evs = bl.events(ell, bal.sigma, h=hb, start=h_data.index[0])
    rep["balance_rises"] = [
        {"from": str((e.z + pd.Timedelta(days=1)).date()), "alarm": str(e.d.date()), "rise": e.dl}
        for e in evs
    ]
    if locate and loc is not None and "balance_history" in rep:
        found = blc.balance_detections(
            evs, loc, dets + trend, known, graph, post_days=post, min_gain=gain, ell=ell
        )
    return trend + found


#: grid for the trend channel: χ² gain, consecutive weeks, flow ratio to the balance rise
GRID_TREND_GAIN = (5.0, 8.0, 12.0, 20.0)
GRID_TREND_WEEKS = (2, 3)
GRID_TREND_FLOW = (1.5, 2.5, float("inf"))


def _trend_channel(
    loc: blc.NightLoc | None,
    ell: pd.Series | None,
    sigma: float,
    h_hist: pd.DataFrame,
    h_data: pd.DataFrame,
    truth: list[Leak],
    outflow: pd.DataFrame,
    known: list[str],
    dets: list[lk.Detection],
    hist_dets: list[lk.Detection],
    graph: Any,
    rep: dict[str, Any],
) -> list[lk.Detection]:
    """Slow leaks from weekly night pressures (:mod:`lifeline.water.trend_loc`).

    The thresholds are chosen on labelled history by the score the channel adds to the pressure
    detections there (false alarms weigh extra); the channel is off without labels or when no
    setting adds anything.
    """
    if loc is None or not truth or outflow.empty:
        rep["trend"] = "off (needs labelled history)"
        return []
    day = pd.Timedelta(days=1)
    h0, h1 = h_hist.index[0].floor("D"), h_hist.index[-1].floor("D") - day
    known_h = [k.pipe for k in truth if k.start <= h0 <= k.end]
    subs = [Submission(d.pipe, d.time) for d in hist_dets]
    base = score(subs, truth, outflow, graph)
    base_val = base.score_eur - 250.0 * base.fp
    best: tuple[float, tlc.TrendParams] | None = None
    for g, w, f in itertools.product(GRID_TREND_GAIN, GRID_TREND_WEEKS, GRID_TREND_FLOW):
        prm = tlc.TrendParams(gain=g, weeks=w, flow_ratio=f)
        td = tlc.trend_detections(loc, ell, h0, h1, hist_dets, known_h, graph, prm, sigma)
        res = score(subs + [Submission(d.pipe, d.time) for d in td], truth, outflow, graph)
        val = res.score_eur - 250.0 * res.fp - base_val
        if val > 0 and (best is None or val > best[0]):
            best = (val, prm)
            rep["trend_history"] = {
                "added_eur": round(val, 2),
                "tp": res.tp - base.tp,
                "fp": res.fp - base.fp,
                "gain": g,
                "weeks": w,
                "flow_ratio": f,
            }
    if best is None:
        rep["trend"] = "off (adds nothing on history)"
        return []
    rep["trend"] = "on"
    d0, d1 = h_data.index[0].ceil("D"), h_data.index[-1].floor("D") - day
    return tlc.trend_detections(loc, ell, d0, d1, dets, known, graph, best[1], sigma)


def _dead_sensors(data: Scada, hist: Scada | None, max_missing: float = 0.5) -> list[str]:
    """Pressure sensors missing in more than ``max_missing`` of the rows of the data or history.

    They are dropped (and listed in the results header) rather than stopping the whole run.
    """
    dead = set()
    for sc in (data, hist):
        if sc is not None:
            frac = sc.pressures.isna().mean()
            dead |= set(frac[frac > max_missing].index)
    return sorted(dead)


def write_results(
    dets: list[lk.Detection], path: str | Path, header: list[str] | None = None
) -> None:
    """Write detections in the BattLeDIM results format (``pipe, YYYY-MM-DD HH:MM``)."""
    lines = [f"# {h}" for h in (header or [])]
    lines.append("# pipe, detection time (change point); alarm time; confidence; candidates")
    for d in dets:
        lines.append(
            f"# alarm {d.alarm_time:%Y-%m-%d %H:%M} confidence {d.confidence:.2f} candidates {' '.join(d.candidates[:5])}"
        )
        lines.append(f"{d.pipe}, {d.time:%Y-%m-%d %H:%M}")
    Path(path).write_text("\n".join(lines) + "\n")
