"""End-to-end leak detection: read data, calibrate on history, detect, write BattLeDIM results."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifeline.errors import InputError
from lifeline.water import balance as bl
from lifeline.water import calib, growth, slowchan
from lifeline.water import leaks as lk
from lifeline.water import rawstep as rs
from lifeline.water.case import Inputs, Labelled
from lifeline.water.epanet import ToolkitError
from lifeline.water.network import load_network, pipe_graph, sensitivity, tank_areas
from lifeline.water.refine import AGREEMENT, Refiner
from lifeline.water.repeats import not_repeated
from lifeline.water.scada import Leak, Scada, check_against_network, read_scada, read_truth
from lifeline.water.score import Submission, score

RAW_WARM_DAYS = 10  # days of raw history put before the data for the burst test (it looks 8 back)


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
    report_known: bool = True,
    refine: bool | None = None,
) -> list[lk.Detection]:
    """Detect leaks in ``scada_dir``; calibrate on ``history_dir`` (+ labels) when given.

    The water-balance channel always runs when flows and history allow it; its rises of
    leakage are listed in ``report["balance_rises"]`` and located by the balance-episode and
    growth channels. ``balance`` is kept for compatibility and has no effect (it once added
    the balance channel's own located detections). With ``refine=True`` the burst channel's
    reports are placed with the network model (:mod:`lifeline.water.refine`); with None (the
    default) only where the network's leak response depends on the hour
    (:func:`burst_refiner`); with False never.

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
    refiner = burst_refiner(network, sensors, graph, refine, rep)
    try:
        inputs = Inputs(wn, sens, graph, data, hist, scada_dir)
        return _detect_all(inputs, history_truth, params, progress, rep, report_known, refiner)
    finally:
        if refiner is not None:
            refiner.close()


def burst_refiner(
    network: str | Path, sensors: list[str], graph: Any, refine: bool | None, rep: dict[str, Any]
) -> Refiner | None:
    """The network model that places the burst channel's reports, or None for the linear
    signatures. ``refine`` True or False decides; None decides from the model: refine when the
    response to a leak depends on the hour of the day (:meth:`Refiner.hour_agreement` below
    :data:`lifeline.water.refine.AGREEMENT`: the linear signatures, computed at midnight, are
    then wrong at most hours), unless the labelled history overrules it (:func:`_detect_all`,
    :func:`linear_earned_more`: the linear placement earned more there by more than one false
    alarm's cost). Records the decision in ``rep["burst_placement"]``."""
    if refine is False:
        rep["burst_placement"] = "linear signatures (--no-refine-bursts)"
        return None
    if refine:
        rep["burst_placement"] = "network model (--refine-bursts)"
        return Refiner(network, sensors, graph)
    refiner: Refiner | None = None
    try:
        refiner = Refiner(network, sensors, graph)
        agree = refiner.hour_agreement()
    except ToolkitError as exc:  # a model the toolkit cannot open or solve: stay linear
        if refiner is not None:
            refiner.close()
        rep["burst_placement"] = f"linear signatures (the hour test failed: {exc})"
        return None
    if agree < AGREEMENT:
        rep["burst_placement"] = (
            f"network model: the response to a leak depends on the hour (agreement {agree:.3f} "
            f"< {AGREEMENT})"
        )
        refiner.auto = True
        return refiner
    refiner.close()
    rep["burst_placement"] = (
        f"linear signatures: the response to a leak is the same at every hour (agreement "
        f"{agree:.3f} >= {AGREEMENT})"
    )
    return None


def _detect_all(
    inputs: Inputs,
    history_truth: str | Path | None,
    params: lk.LeakParams | None,
    progress: bool,
    rep: dict[str, Any],
    report_known: bool,
    refiner: Refiner | None,
) -> list[lk.Detection]:
    """Every channel of :func:`_run_leaks` on read and checked data (see there)."""
    wn, data, hist, sens, graph = inputs.wn, inputs.data, inputs.hist, inputs.sens, inputs.graph
    h_data = lk.hourly(data)
    prm = params or lk.LeakParams()
    if hist is None:
        n = prm.calib_days * 24
        if len(h_data) < n + 24 * prm.baseline_days:
            raise InputError(
                f"need at least {prm.calib_days + prm.baseline_days} days of data without --history",
                str(inputs.scada_dir),
            )
        model = lk.calibrate(h_data.iloc[:n], wn, sens, graph, prm)
        rep["params"] = lk.params_dict(prm)
        return lk.detect(h_data, model, graph, progress=progress, start=n, refiner=refiner)
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
    gap = h_data.index[0] - h_hist.index[-1]
    known = (
        bl.known_active(truth, h_hist.index[-1]) if truth and gap <= pd.Timedelta(days=31) else []
    )
    pre = lk.prepare(h_hist, model)
    hist_known = [k.pipe for k in truth if k.start <= h_hist.index[0] <= k.end]
    tanks = tank_areas(wn, list(h_data.columns))
    raw_h = lk.raw_frame(hist)
    prm, z_thr, rep["fast_thresholds"] = learn_bursts(pre, model, graph, raw_h, tanks, truth)
    bursts_on = True
    if truth and not outflow.empty:
        hist_test = burst_test(raw_h, model, tanks, z_thr)
        hist_dets = lk.detect_prepared(
            pre, model, graph, known=hist_known, burst=hist_test, refiner=refiner
        )
        res = score([Submission(d.pipe, d.time) for d in hist_dets], truth, outflow, graph)
        if refiner is not None and refiner.auto:  # the history decides between the placements
            lin = lk.detect_prepared(pre, model, graph, known=hist_known, burst=hist_test)
            res_lin = score([Submission(d.pipe, d.time) for d in lin], truth, outflow, graph)
            said = (
                f"on the labelled history the model's placement earned {res.score_eur:.0f} EUR, "
                f"the linear one {res_lin.score_eur:.0f} EUR"
            )
            if linear_earned_more(res.score_eur, res_lin.score_eur):
                refiner, hist_dets, res = None, lin, res_lin
                rep["burst_placement"] = f"linear signatures: {said}"
            else:
                if res_lin.score_eur > res.score_eur:
                    said += (
                        f": within one false alarm's cost ({calib.FP_COST_EUR:.0f} EUR), "
                        "the history cannot tell them apart"
                    )
                rep["burst_placement"] += f"; {said}"
        rep["history_bursts"] = res.as_dict()
        bursts_on = bursts_earn(res.score_eur, rep)
    rep["params"] = lk.params_dict(prm)
    raw = with_history_tail(lk.raw_frame(data), raw_h)
    supply: dict[tuple[str, pd.Timestamp], float] = {}
    test = burst_test(raw, model, tanks, z_thr, supply)
    # detect on history tail + data so the rolling baseline is warm from the first hour
    warm = h_hist.iloc[-24 * (prm.baseline_days + 14) :]
    if pd.Timedelta(0) < gap <= pd.Timedelta(hours=1):
        full = pd.concat([warm, h_data])
        pre_d = lk.prepare(full, model)
    else:
        pre_d = lk.prepare(h_data, model)
    dets: list[lk.Detection] = []
    if bursts_on:
        dets = lk.detect_prepared(
            pre_d, model, graph, progress, known=known, burst=test, refiner=refiner
        )
        dets = [d for d in dets if d.alarm_time >= h_data.index[0]]
    flows = [supply.get((d.pipe, d.time), float("nan")) for d in dets]
    rises: dict[str, list[bl.Event]] = {}
    lab = Labelled(h_hist, h_data, truth=truth, outflow=outflow, known=known)
    try:  # an auxiliary channel: a failure there must not cost the pressure detections
        lab.amr_hist, lab.amr_data = amr_hourly(hist), amr_hourly(data)
        extra, carried = slowchan.slow_channel(inputs, model, lab, dets, rep, flows, rises)
    except (ValueError, KeyError, IndexError, np.linalg.LinAlgError) as exc:
        rep["balance"] = f"off (failed: {exc})"
        rep["slow"] = "off (the water balance failed)"
        extra, carried = [], []
    try:  # another auxiliary channel
        slow = extra + carried
        hist_bursts = hist_dets if bursts_on else []
        extra += growth_channel(pre, pre_d, model, graph, rises, lab, dets, slow, rep, hist_bursts)
    except (ValueError, KeyError, IndexError, np.linalg.LinAlgError) as exc:
        rep["growth"] = {"confidence": f"off (failed: {exc})"}
    dets = not_repeated(dets, extra, model.params.merge_days)
    rep["known_reported"] = [d.pipe for d in carried] if report_known else []
    if report_known:
        extra = carried + extra
    return sorted(dets + extra, key=lambda d: d.time)


def with_history_tail(
    raw: pd.DataFrame, raw_hist: pd.DataFrame, days: float = RAW_WARM_DAYS
) -> pd.DataFrame:
    """The raw data with the last ``days`` days of the raw history before them, when the
    history ends at most an hour before the data begin (else the data alone). The burst test
    compares a step with the week before it (supply steps at the same clock time, the nights
    before): in the data's first week that week is the history's end."""
    if raw.empty or raw_hist.empty:
        return raw
    gap = raw.index[0] - raw_hist.index[-1]
    if not pd.Timedelta(0) < gap <= pd.Timedelta(hours=1):
        return raw
    tail = raw_hist.loc[raw_hist.index > raw_hist.index[-1] - pd.Timedelta(days=days)]
    return pd.concat([tail, raw])


def linear_earned_more(model_eur: float, linear_eur: float) -> bool:
    """Whether the labelled history overrules the hour test of :func:`burst_refiner`: the burst
    channel's reports there placed by the linear signatures earned (BattLeDIM score, €) more
    than placed by the network model, by more than one false alarm's cost
    (:data:`calib.FP_COST_EUR`). A smaller difference is the crew's walk to the same leaks
    (on two ky4 worlds the linear placement won by 7 and 8 € and was kept): the history
    cannot tell the two placements apart, and the hour test decides."""
    return linear_eur > model_eur + calib.FP_COST_EUR


def bursts_earn(history_eur: float, rep: dict[str, Any]) -> bool:
    """Whether the burst channel reports on the data: only when its reports on the labelled
    history (with the thresholds learnt there) earned more by the BattLeDIM score than their
    false alarms cost (``history_eur`` > 0 €; the false-positive budget in money, as for the
    growth channel). Where pump or valve switching makes steps the burst test cannot tell from
    bursts, the channel's alarms on history are false and it stays off. Records the decision
    in ``rep["bursts"]``."""
    on = history_eur > 0.0
    rep["bursts"] = (
        "on"
        if on
        else f"off (its reports on the labelled history earned {history_eur:.0f} EUR: "
        "no more than their false alarms cost)"
    )
    return on


def growth_channel(
    pre: lk.Prepared,
    pre_d: lk.Prepared,
    model: lk.Model,
    graph: Any,
    rises: dict[str, list[bl.Event]],
    lab: Labelled,
    bursts: list[lk.Detection],
    slow: list[lk.Detection],
    rep: dict[str, Any],
    hist_bursts: list[lk.Detection],
) -> list[lk.Detection]:
    """Growing leaks (:mod:`lifeline.water.growth`) reported from the first hour of the data on,
    from the balance rises of the data (``pre_d``: the data, with a warm-up tail of history,
    prepared with ``model``), with the confidence threshold learnt on the history's rises and
    labels (``pre``: the history prepared; ``lab.truth``, ``lab.outflow``) against
    ``hist_bursts``, the burst channel's reports on the history
    (:func:`growth.learn_confidence`). Leaks known from the history (``lab.known``), the burst
    channel's ``bursts`` (while their reports are open, ``merge_days``: an incipient leak the
    hourly channel reported keeps growing) and the ``slow`` leaks found are left to
    themselves."""
    if not rises.get("history") or not rises.get("data"):
        rep["growth"] = {"confidence": "off (no balance rises on the history or the data)"}
        return []
    day = pd.Timedelta(days=1)
    gp, rep["growth"] = growth.learn_confidence(
        pre,
        model,
        graph,
        [e.z + day for e in rises["history"]],
        lab.truth,
        lab.outflow,
        growth.GrowthParams(),
        hist_bursts,
        model.params.merge_days,
    )
    span, start = pd.Timedelta(days=gp.span_days), lab.start
    others = [(p, start - 365 * day, start + span) for p in lab.known]
    others += growth.report_spans(bursts, model.params.merge_days)
    others += [(d.pipe, d.time, d.time + span) for d in slow]
    pairs = growth.candidates(pre_d, model, graph, [e.z + day for e in rises["data"]], gp)
    return [d for d in growth.growth_leaks(pairs, graph, others, gp) if d.time >= start]


def amr_hourly(sc: Scada) -> pd.DataFrame | None:
    """Hourly mean AMR demand per meter, or None without meters."""
    if sc.demands.shape[1] == 0:
        return None
    return sc.demands.resample("1h").mean() if sc.step_s < 3600 else sc.demands


def learn_bursts(
    pre: lk.Prepared,
    model: lk.Model,
    graph: Any,
    raw_hist: pd.DataFrame,
    tanks: list[tuple[str, float]],
    truth: list[Leak],
) -> tuple[lk.LeakParams, float, dict[str, Any]]:
    """Thresholds of the burst channel learnt on the history (the batch command and the online
    detector share them): how long a reported burst stays open (:func:`calib.merge_days`), the
    CUSUM threshold and the raw-data step gate (:func:`calib.learn_fast`). ``pre``: the
    history prepared with ``model``; ``raw_hist``: its raw readings (:func:`lk.raw_frame`);
    ``truth``: its labelled leaks (may be empty). Sets ``model.params``; returns (params, step
    gate in noise σ, report)."""
    model.params = replace(
        model.params, merge_days=calib.merge_days(truth, model.params.merge_days)
    )
    hist_known = [k.pipe for k in truth if k.start <= pre.idx[0] <= k.end]

    def hist_test(z_thr: float | None) -> Any:
        return burst_test(raw_hist, model, tanks, z_thr)

    prm, z_thr, info = calib.learn_fast(pre, model, graph, truth, hist_known, hist_test)
    model.params = prm
    return prm, z_thr, info


def burst_test(
    raw: pd.DataFrame,
    model: lk.Model,
    tanks: list[tuple[str, float]],
    z_thr: float | None,
    supply: dict[tuple[str, pd.Timestamp], float] | None = None,
) -> Any:
    """The burst test of the hourly channel on the raw data (:func:`rs.refine_onset`), with the
    gate ``z_thr`` learnt on history; ``supply`` (optional) collects each burst's supply step.
    With ``z_thr`` None the test only records every alarm's step (``test.steps``). The verdict
    is None when the raw data cannot tell (hourly data, gaps); ``test.last`` is the
    :class:`rs.Step` of the last alarm tested."""
    steps: list[tuple[pd.Timestamp, rs.Step]] = []

    def test(det: lk.Detection) -> tuple[lk.Detection, bool | None]:
        d2, st = rs.refine_onset(det, raw, model, tanks)
        test.last = st  # type: ignore[attr-defined]
        if z_thr is None:
            if np.isfinite(st.z):
                steps.append((d2.time, st))
            return d2, False
        if not np.isfinite(st.z):
            return d2, None
        ok = calib.is_burst(st, z_thr, model.params.night_z)
        if ok and not st.supply_z >= calib.SUPPLY_SIGMAS and st.night_end is not None:
            # confirmed by the night after it: that is when the test could tell
            d2 = replace(d2, alarm_time=max(d2.alarm_time, st.night_end))
        if ok and supply is not None:
            supply[(d2.pipe, d2.time)] = st.supply
        return d2, ok

    test.steps = steps  # type: ignore[attr-defined]
    return test


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
