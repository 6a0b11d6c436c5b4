"""The slow channel: the water balance and the weekly trend of night pressures, with thresholds
learnt from history (see :mod:`lifeline.water.calib` for the principle).

* The water balance (:mod:`lifeline.water.balance`) gives the daily leakage; its rises are listed
  in the results file. Their CUSUM threshold is the one with :data:`calib.FALSE_ALARMS_PER_YEAR`
  on a bootstrap of the history's balance errors (leakage minus the labelled leak outflow).
* The trend channel (:mod:`lifeline.water.trend_loc`) finds slow leaks in weekly night pressures.
  Its χ² gain threshold is a quantile of the gains the weekly fit reaches on the history when
  every labelled leak is known (the null), chosen so that a false streak of ``weeks`` weeks stays
  within the budget; its flow check uses the largest ratio of real to modelled signature size
  seen on the history's labelled leaks.
* A slow leak is reported at the start of its rise of leakage (the balance CUSUM's change
  point within the weeks before the trend found it), not when the trend found it: its pipe and
  its start are what the results file asks for.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from lifeline.water import balance as bl
from lifeline.water import balance_loc as blc
from lifeline.water import calib, carry
from lifeline.water import episodes as ep
from lifeline.water import trend_loc as tlc
from lifeline.water.case import Inputs, Labelled
from lifeline.water.leaks import Detection, Model
from lifeline.water.scada import Leak

DAY = pd.Timedelta(days=1)
BAL_H_GRID = tuple(float(x) for x in np.geomspace(2.0, 60.0, 16))


def learn_balance_h(err: pd.Series, sigma: float, years: float = 50.0, seed: int = 0) -> float:
    """CUSUM threshold (σ·day) of the balance rises with the false-alarm budget, on a bootstrap
    of weekly blocks of the history's balance error ``err`` (leakage minus labelled outflow)."""
    e = err.dropna().to_numpy()
    if len(e) < 28:
        return 10.0 if len(e) else float("inf")
    med = float(np.median(e))
    mad = 1.4826 * float(np.median(np.abs(e - med)))
    e = np.clip(e, med - 4 * mad, med + 4 * mad)  # days the labels cannot explain (data faults)
    rng = np.random.default_rng(seed)
    blocks = [e[i : i + 7] for i in range(0, len(e) - 6)]
    seq = np.concatenate([blocks[j] for j in rng.integers(len(blocks), size=int(years * 52))])
    seq = seq - np.median(e)
    idx = pd.date_range("2000-01-01", periods=len(seq), freq="D")
    s = pd.Series(seq, index=idx)
    hs = np.array(BAL_H_GRID)
    rate = np.array([len(bl.events(s, sigma, h=h, start=idx[7])) / years for h in hs])
    h, _ = calib.threshold_for_rate(hs, rate, calib.FALSE_ALARMS_PER_YEAR)
    return h


def rise_series(rises: list[bl.Event], index: pd.DatetimeIndex) -> pd.Series:
    """The balance rises as a daily series: each rise's size on the day after its last quiet day."""
    out = pd.Series(0.0, index=index)
    for e in rises:
        day = e.z + DAY
        if day in out.index and e.dl > 0:
            out[day] += e.dl
    return out


def empirical_signatures(loc: blc.NightLoc, outflow: pd.DataFrame, hours: list[int]) -> dict:
    """Night-residual response (whitened, projected, per flow unit) of each labelled leak on the
    history: a joint least-squares fit of the daily night residuals on the labelled outflows."""
    of = outflow.resample("1h").mean()
    of = of[pd.DatetimeIndex(of.index).hour.isin(hours)]
    of = of.groupby(pd.DatetimeIndex(of.index).floor("D")).mean()
    proj = loc.proj if loc.proj is not None else np.eye(loc.w.shape[0])
    y = pd.DataFrame(loc.rn.to_numpy() @ loc.w.T @ proj.T, index=loc.rn.index)
    y = y.loc[of.index.min() : of.index.max()]
    x = of.reindex(y.index).fillna(0.0)
    keep = [c for c in x.columns if (x[c] > 2.0).sum() >= 14]  # well measured: 2 weeks at 2+
    ok = np.isfinite(y.to_numpy()).all(axis=1)
    if not keep or ok.sum() < len(keep) + 14:
        return {}
    xm = np.column_stack([np.ones(int(ok.sum())), x.loc[ok, keep].to_numpy()])
    beta, *_ = np.linalg.lstsq(xm, y.to_numpy()[ok], rcond=None)
    return {c: beta[i + 1] for i, c in enumerate(keep)}


def signature_ratio(
    loc: blc.NightLoc, outflow: pd.DataFrame, hours: list[int]
) -> tuple[float, list[float]]:
    """How far a real leak's night-pressure pattern may be larger or smaller than the model's:
    the 90 % quantile of max(s, 1/s) over the history's well-measured labelled leaks (s: size of
    the empirical response over the model signature), with a quarter more room; 2 without."""
    emp = empirical_signatures(loc, outflow, hours) if not outflow.empty else {}
    pix = {p: i for i, p in enumerate(loc.pipes)}
    sizes = [
        float(np.linalg.norm(b) / np.linalg.norm(loc.a[pix[p]]))
        for p, b in emp.items()
        if p in pix and np.linalg.norm(loc.a[pix[p]]) > 0
    ]
    if len(sizes) < 3:
        return 2.0, sizes
    spread = [max(x, 1.0 / x) for x in sizes if x > 0]
    return float(np.quantile(spread, 0.9)) * 1.25, sizes


def learn_episodes(
    loc: blc.NightLoc,
    ell: pd.Series,
    rises: list[bl.Event],
    h0: pd.Timestamp,
    h1: pd.Timestamp,
    truth: list[Leak],
    outflow: pd.DataFrame,
    hours: list[int],
    graph: Any,
) -> tuple[ep.EpisodeParams, dict[str, Any]]:
    """Episode-channel thresholds from the history ``[h0, h1]``: the gain threshold lets the
    weekly fits that the history's rises produce when every labelled leak is known (the null)
    exceed it :data:`calib.FALSE_ALARMS_PER_YEAR` times a year."""
    ratio, sizes = signature_ratio(loc, outflow, hours)
    spans = [(k.pipe, k.start - 7 * DAY, k.end + 7 * DAY) for k in truth]
    trace: list[ep.Fit] = []
    null = ep.EpisodeParams(gain=float("inf"), ratio=ratio)
    ep.episode_leaks(loc, ell, rises, h0, h1, spans, [], graph, null, trace)
    gains = np.array([f.gain for f in trace])
    years = max((h1 - h0).days / 365.25, 1 / 12)
    if len(gains) >= 5:
        p = min(calib.FALSE_ALARMS_PER_YEAR * years / len(gains), 1.0)
        gain = float(np.quantile(gains, 1 - p))
    else:  # too few rises on the history: the largest null fit or a χ² Bonferroni bound
        gain = max(float(gains.max()) if len(gains) else 0.0, 2 * np.log(len(loc.pipes) / 0.01))
    prm = ep.EpisodeParams(gain=gain, ratio=ratio)
    info = {
        "gain": round(gain, 2),
        "null_fits": len(gains),
        "null_gain_quantiles": [round(float(q), 2) for q in np.quantile(gains, [0.5, 0.9, 1.0])]
        if len(gains)
        else [],
        "flow_ratio": round(ratio, 2),
        "real_to_model_signature_size": [round(x, 2) for x in sorted(sizes)],
    }
    return prm, info


def slow_channel(
    inputs: Inputs,
    model: Model,
    lab: Labelled,
    dets: list[Detection],
    rep: dict[str, Any],
    supply: list[float] | None = None,
    rises_out: dict[str, list[bl.Event]] | None = None,
) -> tuple[list[Detection], list[Detection]]:
    """Balance rises (recorded in ``rep``), slow-leak detections on the data, and the known
    leaks still running when the data begin (:mod:`lifeline.water.carry`). ``dets``: the burst
    channel's reports on the data, ``supply`` their supply steps (flow unit). ``rises_out``
    (optional) receives the rises of the data and of the history (``"data"``, ``"history"``)."""
    wn, sens, graph = inputs.wn, inputs.sens, inputs.graph
    h_hist, h_data, amr_hist, amr_data = lab.h_hist, lab.h_data, lab.amr_hist, lab.amr_data
    truth, outflow, known = lab.truth, lab.outflow, lab.known
    bal = bl.fit_balance(wn, h_hist, amr_hist, outflow if truth else None)
    if bal is None:
        rep["balance"] = "off (no source flows or too little history)"
        rep["slow"] = "off (needs the water balance: source flows)"
        return [], []
    both = pd.concat([h_hist, h_data])
    both = both[~both.index.duplicated(keep="last")].sort_index()  # history may overlap the data
    amr = None
    if amr_hist is not None and amr_data is not None:
        amr = pd.concat([amr_hist, amr_data])
        amr = amr[~amr.index.duplicated(keep="last")].sort_index()
    ell = bl.leakage(bal, both, amr, breaks=[h_data.index[0]])
    rep["balance_sigma"] = bal.sigma
    rep["balance_groups"] = [len(g) for g in bal.groups]
    ell_h = ell[ell.index < h_data.index[0].floor("D")]
    labelled = pd.Series(0.0, index=ell_h.index)
    if truth and not outflow.empty:
        o = outflow.sum(axis=1)
        labelled = o.groupby(pd.DatetimeIndex(o.index).floor("D")).mean().reindex(ell_h.index)
    h_bal = learn_balance_h(ell_h - labelled.fillna(0.0), bal.sigma)
    rep["balance_h"] = round(h_bal, 2)
    rises = bl.events(ell, bal.sigma, h=h_bal, start=h_data.index[0])
    rep["balance_rises"] = [
        {"from": str((e.z + DAY).date()), "alarm": str(e.d.date()), "rise": e.dl} for e in rises
    ]
    loc = blc.prepare_night(model, both, h_data.index[0], sens, graph)
    if loc is None:
        rep["slow"] = "off (too little history)"
        return [], []
    hours = blc.night_hours(both, model.source_flows)
    h0, h1 = h_hist.index[0].floor("D"), h_hist.index[-1].floor("D") - DAY
    hist_rises = bl.events(ell_h, bal.sigma, h=h_bal, start=ell_h.index[min(7, len(ell_h) - 1)])
    if rises_out is not None:
        rises_out.update(data=rises, history=hist_rises)
    prm, info = learn_episodes(loc, ell, hist_rises, h0, h1, truth, outflow, hours, graph)
    rep["slow_history"] = info
    carried: list[Detection] = []
    gap = h_data.index[0] - h_hist.index[-1]
    if truth and not outflow.empty and pd.Timedelta(0) < gap <= DAY:
        running = [k for k in truth if k.pipe in known]
        emp = empirical_signatures(loc, outflow, hours)
        carried, shares = carry.still_running(loc, running, outflow, h_data.index[0], emp)
        rep["known_at_start"] = {"repair_share": shares, "running": [d.pipe for d in carried]}
    rep["slow"] = "on"
    d0, d1 = h_data.index[0].ceil("D"), h_data.index[-1].floor("D") - DAY
    spans = tlc.spans_of(dets, 35.0)
    for k in truth:
        if k.pipe in known:  # still growing when the data begin, or for the first weeks
            grow = k.peak + 7 * DAY if k.kind == "incipient" and k.peak is not None else d0
            spans.append((k.pipe, d0 - 365 * DAY, max(grow, d0 + 35 * DAY)))
    bursts = list(zip(dets, supply or [float("nan")] * len(dets), strict=True))
    found = ep.episode_leaks(loc, ell, rises, d0, d1, spans, bursts, graph, prm)
    return [replace(d, time=max(d.time, h_data.index[0])) for d in found], carried
