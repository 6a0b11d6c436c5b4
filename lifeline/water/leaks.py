"""Leak detection and localisation from SCADA pressures (and flows, levels when present).

Method (data-driven residuals + model-based localisation, see docs/water.md):

1. Hourly means of every sensor. Each pressure sensor is regressed (least squares, calibrated on
   history or on the first days of the data) on the operating state: total source inflow Q and
   Q² (flow sensors on links that touch a reservoir), the other flow sensors and the tank levels.
   The residual r(t) removes the demand-driven head loss, so what remains is the location-specific
   part of a leak (LILA-style linear approximation).
2. A rolling baseline (median of the same hour of day over the previous ``baseline_days`` days)
   is subtracted; residuals are scaled by their robust noise σ (from history).
3. Leak signatures: the EPANET sensitivity of every sensor to a leak at each junction (exact
   hydraulics, cached), averaged over a pipe's two end nodes, minus the part the regression
   attributes to the extra inflow. One one-sided CUSUM per candidate pipe on the projection of
   the scaled residual onto the pipe's unit signature; an alarm when any CUSUM exceeds ``h``.
4. Localisation: the mean scaled residual from the change point to ``loc_hours`` after the
   alarm, projected on all signatures; the best-fitting pipes are weighted by how likely the
   change makes each (a Gaussian likelihood with the noise the best fit's misfit shows), and
   their weighted medoid (least weighted pipe-path distance to the others) is moved to the pipe
   within ``search_m`` of it whose own ``search_m`` radius covers the most weight.
5. Re-alarms of a leak already reported are merged (see :func:`detect_prepared`: near it while
   the baseline absorbs its step, or put in the same place while its report is open); the
   reported time is the CUSUM change point (the last time the winning CUSUM was zero) plus
   ``onset_margin_h``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.errors import InputError
from lifeline.water.locate import burst_placer, locate_burst, unit_signatures
from lifeline.water.network import PipeGraph, Sensitivity
from lifeline.water.repeats import absorb_time, reported_recently, verified_repeat
from lifeline.water.scada import Scada
from lifeline.water.tankzone import TankZones, tank_zones

if TYPE_CHECKING:
    from lifeline.water.refine import Refiner


@dataclass
class LeakParams:
    """Tunable parameters (dimensionless unless a unit is given). Calibrated on history."""

    k: float = 1.0  # CUSUM allowance (σ units per hour)
    h: float = 15.0  # CUSUM alarm threshold (σ·hours)
    h_burst: float = float("inf")  # single-hour alarm threshold (σ) for abrupt bursts
    night_z: float = float("inf")  # night-supply rise (robust σ) that confirms a burst whose
    # supply step is lost in the day's demand swings (rawstep.night_excess; learnt on history)
    q_veto: float = -1.0  # veto when inflow change < this (σ of hourly inflow noise)
    baseline_days: int = 7
    loc_hours: int = 12
    loc_ratio: float = 0.85  # unused since growth picks are placed as bursts; kept: results header
    merge_m: float = 600.0
    search_m: float = 300.0  # a crew searches this far along the pipes from the reported pipe
    # (BattLeDIM counts a report within 300 m of the leak)
    merge_days: float = 30.0
    abrupt_h: int = 12  # an alarm whose CUSUM rose within this many hours is a new burst
    holdoff_h: int = 6
    onset_margin_h: float = 1.0
    calib_days: int = 14  # used when no history is given


@dataclass
class Detection:
    """One detected leak: located pipe, reported time (change point), alarm time, confidence 0..1,
    and the channel that found it (``burst``: the hourly channel; ``growth``, ``episode``:
    :mod:`lifeline.water.growth`, :mod:`lifeline.water.episodes`; ``known``: a labelled leak of
    the history still running, :mod:`lifeline.water.carry`; ``balance``, ``trend``: the
    located balance rises and weekly trends of :mod:`lifeline.water.balance_loc` and
    :mod:`lifeline.water.trend_loc`, which the command no longer reports)."""

    pipe: str
    time: pd.Timestamp
    alarm_time: pd.Timestamp
    confidence: float
    candidates: list[str] = field(default_factory=list)
    strength: float = 0.0
    channel: str = "burst"


def raw_frame(scada: Scada) -> pd.DataFrame:
    """All sensors at their own time step, columns prefixed ``P:``, ``F:``, ``L:``."""
    parts = [scada.pressures.add_prefix("P:")]
    if scada.flows.shape[1]:
        parts.append(scada.flows.add_prefix("F:"))
    if scada.levels.shape[1]:
        parts.append(scada.levels.add_prefix("L:"))
    return pd.concat(parts, axis=1)


def hourly(scada: Scada) -> pd.DataFrame:
    """Hourly means of all sensors, columns prefixed like :func:`raw_frame`."""
    df = raw_frame(scada)
    if scada.step_s > 3600 or 3600 % scada.step_s:
        raise InputError(
            f"time step {scada.step_s} s not supported: it must divide one hour (e.g. 300 s, 3600 s)"
        )
    if scada.step_s < 3600:
        df = df.resample("1h").mean()
    return df


@dataclass
class Model:
    """A calibrated residual model for one network and sensor set."""

    sensors: list[str]
    source_flows: list[str]
    other_flows: list[str]
    levels: list[str]
    theta: np.ndarray  # (n_features, n_sensors)
    sigma: np.ndarray  # (n_sensors,)
    pipes: list[str]
    unit_sig: np.ndarray  # (n_pipes, n_sensors), raw signature (m per flow unit), unit norm
    params: LeakParams
    cov: np.ndarray | None = None  # residual covariance on history (m²)
    zones: TankZones | None = None  # zones behind a metered tank (lifeline.water.tankzone)

    def mask(self, h: pd.DataFrame, d: np.ndarray) -> np.ndarray:
        """``d`` (hours × sensors of ``h``) without the sensors behind a tank that is low."""
        return self.zones.mask(h, d) if self.zones is not None else d

    def features(self, h: pd.DataFrame) -> np.ndarray:
        """Design matrix for hourly frame ``h`` (rows with NaN stay NaN)."""
        cols = [np.ones(len(h))]
        if self.source_flows:
            q = (
                h[[f"F:{c}" for c in self.source_flows]]
                .sum(axis=1, min_count=len(self.source_flows))
                .to_numpy()
            )
            cols += [q, q * q]
        cols += [h[f"F:{c}"].to_numpy() for c in self.other_flows]
        cols += [h[f"L:{c}"].to_numpy() for c in self.levels]
        return np.column_stack(cols)

    def residuals(self, h: pd.DataFrame) -> np.ndarray:
        """Pressure residuals (m), shape (hours, sensors)."""
        p = h[[f"P:{s}" for s in self.sensors]].to_numpy()
        return p - self.features(h) @ self.theta


def _fit_theta(x: np.ndarray, p: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x).all(axis=1) & np.isfinite(p).all(axis=1)
    if ok.sum() < x.shape[1] * 5:
        raise InputError(
            f"too few complete hours ({int(ok.sum())}) to calibrate the residual model"
        )
    xs = x[ok]
    scale = np.abs(xs).max(axis=0)
    scale[scale == 0] = 1.0
    theta, *_ = np.linalg.lstsq(xs / scale, p[ok], rcond=None)
    return theta / scale[:, None]


def baseline(r: np.ndarray, index: pd.DatetimeIndex, days: int) -> np.ndarray:
    """Median of the same hour of day over the previous ``days`` days (NaN while too short)."""
    df = pd.DataFrame(r, index=index)
    out = np.full_like(r, np.nan)
    hours = index.hour.to_numpy()
    for hr in range(24):
        m = hours == hr
        if not m.any():
            continue
        sub = df.iloc[np.flatnonzero(m)]
        med = sub.shift(1).rolling(days, min_periods=days).median()
        out[m] = med.to_numpy()
    return out


def calibrate(
    hist: pd.DataFrame,
    wn: Any,
    sens: Sensitivity,
    graph: PipeGraph,
    params: LeakParams,
    quiet: np.ndarray | None = None,
) -> Model:
    """Fit the residual model on hourly history ``hist``; ``quiet`` marks leak-free hours (optional)."""
    sensors = [c[2:] for c in hist.columns if c.startswith("P:")]
    flows = [c[2:] for c in hist.columns if c.startswith("F:")]
    reservoirs = set(wn.reservoir_name_list)
    source: list[str] = []
    other: list[str] = []
    for f in flows:
        link = wn.get_link(f)
        (source if {link.start_node_name, link.end_node_name} & reservoirs else other).append(f)
    levels = [c[2:] for c in hist.columns if c.startswith("L:")]
    model = Model(
        sensors,
        source,
        other,
        levels,
        np.zeros((0, 0)),
        np.ones(len(sensors)),
        [],
        np.zeros((0, 0)),
        params,
    )
    model.zones = zones = tank_zones(wn, sens, sensors, source + other, hist)
    x = model.features(hist)
    p = hist[[f"P:{s}" for s in sensors]].to_numpy()
    fit_rows = (
        quiet if quiet is not None and quiet.sum() > 24 * 7 else np.ones(len(hist), dtype=bool)
    )
    fit_rows = fit_rows & ~zones.off_regime(hist).any(axis=1)
    model.theta = _fit_theta(x[fit_rows], p[fit_rows])
    r = p - x @ model.theta
    d = model.mask(hist, r - baseline(r, pd.DatetimeIndex(hist.index), params.baseline_days))
    dq = d[fit_rows]
    med = np.nanmedian(dq, axis=0)
    sigma = 1.4826 * np.nanmedian(np.abs(dq - med), axis=0)
    model.sigma = np.where(np.isfinite(sigma) & (sigma > 1e-3), sigma, 1e-3)
    # signatures: sensitivity at pipe midpoints minus the part explained by the inflow terms
    jidx = {j: i for i, j in enumerate(sens.junctions)}
    smat = sens.matrix[[sens.sensors.index(s) for s in sensors]]
    g = np.zeros(len(sensors))
    if source:
        demand = np.array([_base_demand(wn, j) for j in sens.junctions])
        w = demand / demand.sum() if demand.sum() > 0 else np.full(len(demand), 1 / len(demand))
        g = smat @ w
    pipes, sigs = [], []
    for i, name in enumerate(graph.pipes):
        cols = [jidx[graph.node_names[n]] for n in graph.ends[i] if graph.node_names[n] in jidx]
        if not cols:
            continue
        # the residual model takes out what the leak adds to the reservoirs' inflow: nothing
        # in a zone behind a metered tank, which supplies it
        behind = sum(zones.behind(sens.junctions[c]) for c in cols)
        s = smat[:, cols].mean(axis=1) - (1.0 - behind / len(cols)) * g
        nrm = np.linalg.norm(s)
        if nrm > 0:
            pipes.append(name)
            sigs.append(s / nrm)
    model.pipes = pipes
    model.unit_sig = np.array(sigs)
    ok = np.isfinite(d).all(axis=1) & fit_rows
    model.cov = _robust_cov(d[ok]) if ok.sum() > 2 * len(sensors) else np.diag(model.sigma**2)
    return model


def fill_missing(d: np.ndarray, cov: np.ndarray, min_share: float = 0.5) -> np.ndarray:
    """Residual rows (m, hours × sensors, zero mean) with some sensors missing, those sensors
    filled with their conditional mean given the others under covariance ``cov`` (m²).

    One sensor's gap would otherwise take the whole hour out of the detector; on a network with
    many sensors most gaps are of one. Rows with fewer than ``min_share`` of the sensors, or
    none missing, are returned as they are.
    """
    miss = ~np.isfinite(d)
    rows = np.flatnonzero(miss.any(axis=1) & (miss.mean(axis=1) <= 1 - min_share))
    if not len(rows):
        return d
    out = d.copy()
    groups: dict[bytes, list[int]] = {}
    for i in rows:
        groups.setdefault(miss[i].tobytes(), []).append(int(i))
    for members in groups.values():
        at = np.asarray(members)
        m = miss[at[0]]
        o = ~m
        gain = np.linalg.solve(cov[np.ix_(o, o)], cov[np.ix_(o, m)])  # (observed, missing)
        out[np.ix_(at, np.flatnonzero(m))] = d[np.ix_(at, np.flatnonzero(o))] @ gain
    return out


def _robust_cov(d: np.ndarray, trim: float = 0.1, shrink: float = 0.02) -> np.ndarray:
    """Covariance (m²) of residual rows after trimming the largest ``trim`` share, shrunk to the diagonal."""
    mad = 1.4826 * np.median(np.abs(d - np.median(d, axis=0)), axis=0)
    mad = np.where(mad > 1e-4, mad, 1e-4)
    n2 = ((d / mad) ** 2).sum(axis=1)
    keep = n2 <= np.quantile(n2, 1 - trim)
    c = np.cov(d[keep].T) if keep.sum() > 2 else np.diag(mad**2)
    c = np.atleast_2d(c)
    c = (1 - shrink) * c + shrink * np.diag(np.diag(c))
    return c + np.eye(len(c)) * 1e-8


def _whitener(c: np.ndarray) -> np.ndarray:
    """W with W·C·Wᵀ = I (inverse Cholesky factor)."""
    return np.linalg.inv(np.linalg.cholesky(c))


def _hour_scale(d: np.ndarray, s0: int, days: int, w: np.ndarray, n: int) -> np.ndarray:
    """Per hour-of-day noise scale of the whitened residuals over the previous ``days`` days.

    Pump switching or tank control make some hours of the day noisier than others; the scale
    (≥ 1) is the robust RMS of the whitened residual at that hour divided by its overall RMS.
    """
    lo = max(0, s0 - days * 24)
    if s0 - lo < 7 * 24:
        return np.ones(n)
    past = d[lo:s0]
    ok = np.isfinite(past).all(axis=1)
    e = np.full(len(past), np.nan)
    e[ok] = np.sqrt(((past[ok] @ w.T) ** 2).mean(axis=1))
    hod = (np.arange(lo, s0) - s0) % 24
    overall = float(np.nanmedian(e)) if np.isfinite(e).any() else 1.0
    scale = np.array(
        [
            np.nanmedian(e[hod == k]) if np.isfinite(e[hod == k]).any() else overall
            for k in range(24)
        ]
    )
    scale = np.where(np.isfinite(scale), scale / max(overall, 1e-12), 1.0)
    return np.maximum(scale, 1.0)[:n]


def whitened(
    d: np.ndarray, model: Model, days: int = 14
) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]:
    """Whiten residuals day by day with the covariance of the previous ``days`` days.

    Returns (projections hours×pipes, whitened residuals hours×sensors, whitener per day,
    hour-of-day noise scale per hour).
    The covariance adapts to seasons (noise grows with demand); until ``days`` days are
    available, the history covariance is used.
    """
    n_t = len(d)
    proj = np.zeros((n_t, len(model.pipes)))
    zw = np.zeros_like(d)
    ws: list[np.ndarray] = []
    scales = np.ones(n_t)
    base_c = model.cov if model.cov is not None else np.diag(model.sigma**2)
    for s0 in range(0, n_t, 24):
        lo = max(0, s0 - days * 24)
        past = d[lo:s0]
        past = past[np.isfinite(past).all(axis=1)]
        c = _robust_cov(past) if len(past) >= 7 * 24 else base_c
        w = _whitener(c)
        u = unit_signatures(model, w)
        blk = d[s0 : s0 + 24]
        okr = np.isfinite(blk).all(axis=1)
        zb = np.where(okr[:, None], np.nan_to_num(blk) @ w.T, 0.0)
        sc = _hour_scale(d, s0, days, w, len(blk))
        scales[s0 : s0 + 24] = sc
        zb /= sc[:, None]
        zw[s0 : s0 + 24] = zb
        proj[s0 : s0 + 24] = zb @ u.T
        ws.append(w)
    return proj, zw, ws, scales


def _base_demand(wn: Any, name: str) -> float:
    node = wn.get_node(name)
    try:
        return float(sum(d.base_value for d in node.demand_timeseries_list))
    except AttributeError:
        return 0.0


def detect(
    h: pd.DataFrame,
    model: Model,
    graph: PipeGraph,
    progress: bool = False,
    start: int = 0,
    refiner: Refiner | None = None,
) -> list[Detection]:
    """Run the detector over hourly data ``h``; alarms are raised from hour ``start`` on
    (``refiner``: see :func:`detect_prepared`)."""
    return detect_prepared(prepare(h, model), model, graph, progress, start, refiner=refiner)


@dataclass
class Prepared:
    """Residuals, baseline, projections and whiteners of one hourly data set (reusable across
    threshold settings during calibration)."""

    r: np.ndarray
    b: np.ndarray
    proj: np.ndarray
    ws: list[np.ndarray]
    idx: pd.DatetimeIndex
    dq: np.ndarray  # inflow minus its same-hour baseline, in σ of that series (0 without flows)
    # hours the projections rest on readings (a sensor's gap filled from the others, see
    # fill_missing)
    seen: np.ndarray
    scale: np.ndarray | None = None  # hour-of-day noise scale of each hour


def prepare(h: pd.DataFrame, model: Model) -> Prepared:
    """Compute residuals (m), same-hour baseline and whitened projections for hourly ``h``."""
    r = model.residuals(h)
    idx = pd.DatetimeIndex(h.index)
    b = baseline(r, idx, model.params.baseline_days)
    d = model.mask(h, r - b)
    if model.cov is not None:  # a sensor's gap: its most likely residual given the others'
        d = fill_missing(d, model.cov)
    proj, _, ws, scale = whitened(d, model)
    dq = np.zeros(len(h))
    if model.source_flows:
        q = h[[f"F:{c}" for c in model.source_flows]].sum(axis=1, min_count=1).to_numpy()[:, None]
        x = (q - baseline(q, idx, model.params.baseline_days))[:, 0]
        sd = 1.4826 * np.nanmedian(np.abs(x - np.nanmedian(x))) if np.isfinite(x).any() else 0.0
        dq = np.nan_to_num(x / sd) if sd > 0 else np.zeros(len(h))
    return Prepared(r, b, proj, ws, idx, dq, np.isfinite(d).all(axis=1), scale)


@dataclass
class AlarmState:
    """The hourly alarm loop between calls, kept in timestamps so that the data window may move
    (the online detector feeds new hours to the same loop the batch run uses)."""

    c: np.ndarray | None = None  # CUSUM per pipe (σ·h)
    zero_at: np.ndarray | None = None  # last hour each CUSUM was zero (ns since epoch)
    steps: list[tuple[pd.Timestamp, pd.Timestamp]] = field(default_factory=list)
    hold_until: pd.Timestamp | None = None
    dets: list[Detection] = field(default_factory=list)
    last: pd.Timestamp | None = None  # last hour processed


def detect_prepared(
    pre: Prepared,
    model: Model,
    graph: PipeGraph,
    progress: bool = False,
    start: int = 0,
    known: list[str] | None = None,
    trace: list[tuple[str, Detection | None, pd.Timestamp]] | None = None,
    burst: Callable[[Detection], tuple[Detection, bool | None]] | None = None,
    state: AlarmState | None = None,
    levels: list[tuple[pd.Timestamp, float, int]] | None = None,
    refiner: Refiner | None = None,
) -> list[Detection]:
    """The alarm loop of :func:`detect` on prepared data (uses ``model.params``); returns the
    leaks reported in this call.

    ``burst`` (optional): tells from the raw data whether an alarm is a burst (a step of
    pressure and supply) and sharpens its start; None when the raw data cannot tell (then an
    alarm whose CUSUM rose within ``abrupt_h`` hours is one). A burst whose step the raw data
    verify is a new leak unless a leak reported within ``merge_m`` began less than the
    baseline's absorption time (half the baseline plus a day) before it (re-alarms of that
    leak's step while the baseline catches up; a leak that persists makes no new step) or it is
    put where a report of the ``merge_days`` before it was (with ``refiner``, placed as it would
    be reported: an incipient leak reported, still growing; :func:`repeats.verified_repeat`); an
    unverified one is a new leak unless one was reported within ``merge_m`` in the
    ``merge_days`` before; any other alarm is left to the slow channel. Without it, an alarm
    within ``merge_m`` of a leak reported in the last ``merge_days`` is that leak again, and an
    alarm whose CUSUM rose slower than ``abrupt_h`` hours near a leak known from the history
    (``known``: pipes labelled there and active when the data begin) is that leak growing. After
    a report (or a repeat), the leak's step (the mean residual change since its change point,
    over up to a day) is taken out of the residuals until the same-hour baseline has absorbed
    it, so that a persisting leak does not alarm again and a second leak right after it still
    can. ``state`` (optional) carries the loop from one call to the next: hours up to
    ``state.last`` are skipped. ``trace`` (optional) receives every alarm with what became of
    it; ``levels`` (optional) every hour's largest CUSUM over ``h`` and its pipe index (before
    an alarm resets it). ``refiner`` (optional) places each reported leak with the network model
    (:mod:`lifeline.water.refine`).
    """
    prm = model.params
    r, b, proj, ws, idx = pre.r, pre.b, pre.proj, pre.ws, pre.idx
    scale = pre.scale if pre.scale is not None else np.ones(len(idx))
    n_t, n_p = proj.shape
    st = state if state is not None else AlarmState()
    ns = idx.asi8
    if st.c is None or st.zero_at is None or len(st.c) != n_p:
        st.c, st.zero_at = np.zeros(n_p), np.full(n_p, ns[0] if n_t else 0, dtype=np.int64)
    c = st.c
    zero_at = np.clip(np.searchsorted(ns, np.asarray(st.zero_at)), 0, max(n_t - 1, 0))
    first = int(np.searchsorted(ns, st.last.value, side="right")) if st.last is not None else 0
    new: list[Detection] = []
    rng: Any = range(first, n_t)
    if progress:
        from lifeline.progress import track

        rng = track(rng, "leak detection (hours)")
    u_day: dict[int, np.ndarray] = {}
    absorb = absorb_time(prm)
    for t in rng:
        x = proj[t]
        now = idx[t]
        active = [(int(np.searchsorted(ns, a.value)), 0) for a, e in st.steps if a < now <= e]
        if active:
            x = x - _step_projection(r, b, active, t, ws, scale, model, u_day)
        c = np.maximum(0.0, c + x - prm.k)
        zero_at = np.where(c == 0.0, t, zero_at)
        if levels is not None:
            jl = int(np.argmax(c))
            levels.append((now, float(c[jl] / prm.h), jl))
        if t < start or (st.hold_until is not None and now < st.hold_until):
            continue
        jb = int(np.argmax(c))
        if c[jb] > prm.h:
            t0 = _split(proj[:, jb], int(zero_at[jb]) + 1, t)
        elif x.max() > prm.h_burst:
            t0 = t
        else:
            continue
        c[:] = 0.0
        zero_at[:] = t
        # pressures fell relative to a drop in inflow: a repair or a closed valve, not a leak;
        # when the raw data can tell, their supply step decides instead (a holiday's low inflow
        # must not veto a burst that day)
        vetoed = float(np.mean(pre.dq[t0 : t + 1])) < prm.q_veto
        if vetoed and burst is None:
            if trace is not None:
                trace.append(("vetoed", None, now))
            continue
        det = locate_burst((r, b, idx), t0, t, model, graph, ws[t // 24])
        verdict: bool | None = None  # of the raw data's burst test
        place = None  # the reported leak placed by the network model
        if refiner is not None:
            place = burst_placer(pre, t0, t, model, graph, refiner)
        if burst is not None:
            det, verdict = burst(det)
            if verdict is None and vetoed:
                if trace is not None:
                    trace.append(("vetoed", None, now))
                continue
            # raw data too coarse to tell: a CUSUM that rose within ``abrupt_h`` is a burst
            is_burst = verdict if verdict is not None else t - t0 < prm.abrupt_h
            if not is_burst:
                if trace is not None:
                    trace.append(("slow", det, now))
                continue
            if verdict:  # a verified step: placed as it would be reported before it is compared
                det, same = verified_repeat(det, st.dets, graph, prm, place)
            else:
                same = reported_recently(det, st.dets, graph, prm)
        else:
            abrupt = t - t0 < prm.abrupt_h
            same = reported_recently(det, st.dets, graph, prm) or (
                not abrupt
                and any(graph.pipe_distance(det.pipe, p) <= prm.merge_m for p in known or [])
            )
        st.steps.append((idx[t0], idx[t0] + absorb))  # take the leak's step out of what follows
        if same:
            if trace is not None:
                trace.append(("merged", det, now))
            continue
        if place is not None and not verdict:  # a verified burst was placed above
            det = place(det)
        st.hold_until = now + pd.Timedelta(hours=prm.holdoff_h)  # a reported leak holds off
        if trace is not None:
            trace.append(("reported", det, now))
        st.dets.append(det)
        new.append(det)
    st.c = c
    st.zero_at = ns[zero_at] if n_t else st.zero_at
    if n_t:
        st.last = max(st.last, idx[-1]) if st.last is not None else idx[-1]
    horizon = idx[-1] - pd.Timedelta(days=max(prm.merge_days, 7)) if n_t else None
    if horizon is not None:
        st.steps = [(a, e) for a, e in st.steps if e >= horizon]
    return new


def _split(x: np.ndarray, t0: int, t: int, before: int = 24) -> int:
    """The most likely single step of ``x`` between the CUSUM's last zero ``t0`` and the alarm
    ``t`` (two-segment mean fit over ``before`` hours before ``t0`` to ``t``). A slow drift that
    started the CUSUM early does not pull the start of a later burst back."""
    lo = max(0, t0 - before)
    seg = np.nan_to_num(x[lo : t + 1])
    n = len(seg)
    if n < 3:
        return t0
    best, arg = -np.inf, t0
    for k in range(max(1, t0 - lo), n):
        stat = np.sqrt(k * (n - k) / n) * (seg[k:].mean() - seg[:k].mean())
        if stat > best:
            best, arg = stat, lo + k
    return arg


def _step_projection(
    r: np.ndarray,
    b: np.ndarray,
    active: list[tuple[int, int]],
    t: int,
    ws: list[np.ndarray],
    scale: np.ndarray,
    model: Model,
    u_day: dict[int, np.ndarray],
) -> np.ndarray:
    """Projection (per pipe) of the steps of reported leaks at hour ``t``: the mean residual
    change of the hours since each change point (up to a day), whitened like hour ``t``."""
    day = t // 24
    if day not in u_day:
        u_day.clear()
        u_day[day] = unit_signatures(model, ws[day])
    total = np.zeros(r.shape[1])
    for t0, _ in active:
        seg = r[t0 : min(t, t0 + 24)] - b[t0 : min(t, t0 + 24)]
        seg = seg[np.isfinite(seg).all(axis=1)]
        if len(seg):
            total += seg.mean(axis=0)
    return u_day[day] @ (ws[day] @ total) / scale[t]


def params_dict(p: LeakParams) -> dict[str, Any]:
    """Parameters as a plain dict (for reports)."""
    return asdict(p)
