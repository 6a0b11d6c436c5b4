"""Leak evidence from the gas network's pressure sensors.

Measured pressures are modelled, per time bin ``t`` and sensor ``k``, as

    y_k(t) = c_k + h(t) a_k + g(t) b_k(j) + noise

with ``c`` the sensors' constant offsets, ``a`` the pressure-drop shape of the customers' demand
(from pipeflows; its amplitude ``h(t)`` follows the daily demand and is a free nuisance per bin),
and ``b(j)`` the drop per kg/s of a leak at junction ``j`` (the cached sensitivity matrix). The
leak rate ``g(t) = G s(t)`` follows a profile ``s`` — a step or a ramp starting at ``t0``. After
projecting out the demand direction, a least-squares fit of ``G`` for every (profile, junction)
pair is a single matrix product, so all candidate junctions and onset times are scanned at once.
The explained sum of squares over the noise variance is a chi-square-like detection statistic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lifeline.gas.network import GasNetwork

#: ramp durations (minutes) of the leak-rate profiles scanned (0 = abrupt step)
RAMPS_MIN = (0.0, 60.0, 120.0, 240.0)
BIN_MIN = 5.0
LF_BLOCK = 6  # bins per block for the slow-mismatch noise estimate (30 min)


@dataclass
class PressureScan:
    """Result of the pressure scan. Statistics are in units of noise variance (chi-square-like)."""

    stat: np.ndarray  # (J,) best explained SS / sigma^2 per junction (over profiles, G > 0)
    rate: np.ndarray  # (J,) leak rate of that best fit, kg/s
    t0: np.ndarray  # (J,) onset (datetime64) of that best fit
    ramp_min: np.ndarray  # (J,) ramp of that best fit, minutes
    sigma_bar: float  # noise std of the demand-free residual, bar
    times: np.ndarray  # (T,) bin times (datetime64[ns])
    drop_bar: np.ndarray  # (K,) fitted leak drop at the sensors at the end of the window (best j)
    best: int  # position of the best junction
    ok: bool  # False when there are too few pressure data to scan

    def stat_for(
        self,
        positions: np.ndarray,
        t_lo: np.datetime64 | None = None,
        t_hi: np.datetime64 | None = None,
    ) -> float:
        """Best statistic among the given junction positions with onset in [t_lo, t_hi]."""
        if len(positions) == 0 or not self.ok:
            return 0.0
        ok = np.ones(len(positions), bool)
        if t_lo is not None:
            ok &= self.t0[positions] >= t_lo
        if t_hi is not None:
            ok &= self.t0[positions] <= t_hi
        return float(np.where(ok, self.stat[positions], 0.0).max())


def _bin_pressures(readings: pd.DataFrame, sensor_ids: list[str]) -> pd.DataFrame:
    """Mean pressure per BIN_MIN bin and sensor (columns in ``sensor_ids`` order), gaps filled."""
    r = readings[readings["sensor_id"].isin(sensor_ids)]
    if r.empty:
        return pd.DataFrame(columns=sensor_ids)
    b = r.assign(bin=r["ts"].dt.floor(f"{int(BIN_MIN)}min"))
    wide = b.pivot_table(index="bin", columns="sensor_id", values="value", aggfunc="mean")
    wide = wide.reindex(columns=sensor_ids)
    full = pd.date_range(wide.index.min(), wide.index.max(), freq=f"{int(BIN_MIN)}min")
    wide = wide.reindex(full)
    return wide.interpolate(limit_direction="both")


def scan_pressures(
    net: GasNetwork, readings: pd.DataFrame, sensor_ids: list[str], candidate: np.ndarray
) -> PressureScan:
    """Scan all (onset, ramp, junction) leak hypotheses against the pressure readings.

    ``sensor_ids`` are the pressure sensors in the order of ``net.sensor_junction``;
    ``candidate`` is a boolean mask of junctions to consider. Pressures in bar.
    """
    return scan_binned(net, _bin_pressures(readings, sensor_ids), sensor_ids, candidate)


def scan_binned(
    net: GasNetwork, wide: pd.DataFrame, sensor_ids: list[str], candidate: np.ndarray
) -> PressureScan:
    """:func:`scan_pressures` on pressures already binned: ``wide`` has one row per
    ``BIN_MIN`` bin (a DatetimeIndex, naive or UTC), one column per sensor (bar), gaps filled."""
    J = len(net.junction)
    seen = wide.notna().any()
    have = [c for c in sensor_ids if c in wide.columns and bool(seen[c])]
    empty = PressureScan(
        stat=np.zeros(J), rate=np.zeros(J), t0=np.full(J, np.datetime64("NaT"), "datetime64[ns]"),
        ramp_min=np.zeros(J), sigma_bar=float("nan"), times=np.zeros(0, "datetime64[ns]"),
        drop_bar=np.zeros(len(sensor_ids)), best=0, ok=False,
    )  # fmt: skip
    if len(wide) < 12 or len(have) < 3:
        return empty
    keep = np.array([c in have for c in sensor_ids])
    Y = wide[[c for c in sensor_ids if c in have]].to_numpy(float)  # (T, K')
    times = wide.index.to_numpy(dtype="datetime64[ns]")
    T = len(Y)
    dd = net.demand_drop[:, keep]  # (L, K') demand drop at the computed demand levels
    # nuisance subspace: the demand shapes at all levels (rank <= 2 kept)
    U, sv, _ = np.linalg.svd(dd.T, full_matrices=False)
    r = 1 if len(sv) < 2 or sv[1] < 0.02 * sv[0] else 2
    A = U[:, :r]
    P = np.eye(A.shape[0]) - A @ A.T
    Z = -Y @ P  # (T, K') demand-free pressure DROP (leak drops are positive)
    Zc = Z - Z.mean(axis=0)
    # noise from first differences (robust), per sensor then pooled
    d = np.diff(Z, axis=0)
    mad = np.median(np.abs(d - np.median(d, axis=0)), axis=0) * 1.4826 / np.sqrt(2.0)
    sigma = float(np.sqrt(np.mean(mad**2))) if np.all(np.isfinite(mad)) else float("nan")
    sigma = max(sigma, 2e-5)
    # slow model mismatch (e.g. customers' demand profiles differing from the uniform scaling):
    # the noise of block means over LF_BLOCK bins, scaled back to one bin, if larger
    nb = T // LF_BLOCK
    if nb >= 6:
        blocks = Z[: nb * LF_BLOCK].reshape(nb, LF_BLOCK, -1).mean(axis=1)
        db = np.diff(blocks, axis=0)
        mad_b = np.median(np.abs(db - np.median(db, axis=0)), axis=0) * 1.4826 / np.sqrt(2.0)
        sigma_lf = float(np.sqrt(np.mean(mad_b**2)) * np.sqrt(LF_BLOCK))
        sigma = max(sigma, sigma_lf)
    # demand level per bin: the observed drop along the demand shape, against the pipeflow
    # drops at the computed levels (drop ~ coef * level^2)
    lv = net.demand_levels
    norms = np.linalg.norm(dd, axis=1)
    a_dir = dd[-1] / norms[-1]
    coef = float(np.sum(norms * lv**2) / np.sum(lv**4))
    h = np.clip((net.supply_p_bar - Y) @ a_dir, 0.0, None)
    lam = np.sqrt(h / coef)  # (T,) demand level per bin
    # leak sensitivity is close to linear in the demand level: b(level) = b0 + level * b1
    Bl = net.sens[:, keep, :]  # (L, K', J)
    X = np.vstack([np.ones_like(lv), lv]).T  # (L, 2)
    coefs = np.linalg.lstsq(X, Bl.reshape(len(lv), -1), rcond=None)[0]
    B0 = P @ coefs[0].reshape(Bl.shape[1:])  # (K', J)
    B1 = P @ coefs[1].reshape(Bl.shape[1:])
    # profiles
    tmin = (times - times[0]) / np.timedelta64(1, "m")
    t0_idx = np.arange(2, T - 2)
    profs: list[np.ndarray] = []
    meta: list[tuple[int, float]] = []
    rel = tmin[None, :] - tmin[t0_idx][:, None]  # (onsets, T) minutes since each onset
    for ramp in RAMPS_MIN:
        s = np.clip(rel / ramp, 0.0, 1.0) if ramp > 0 else (rel >= 0) * 1.0
        live = s[:, -1] > 0
        profs.append(s[live])
        meta.extend((int(i0), ramp) for i0 in t0_idx[live])
    S = np.vstack(profs)  # (N, T)
    U1 = S - S.mean(axis=1, keepdims=True)
    SL = S * lam[None, :]
    U2 = SL - SL.mean(axis=1, keepdims=True)
    W1 = U1 @ Zc  # (N, K')
    W2 = U2 @ Zc
    num = W1 @ B0 + W2 @ B1  # (N, J)
    s11 = np.einsum("nt,nt->n", U1, U1)[:, None]
    s12 = np.einsum("nt,nt->n", U1, U2)[:, None]
    s22 = np.einsum("nt,nt->n", U2, U2)[:, None]
    b00 = np.einsum("kj,kj->j", B0, B0)[None, :]
    b01 = np.einsum("kj,kj->j", B0, B1)[None, :]
    b11 = np.einsum("kj,kj->j", B1, B1)[None, :]
    den = s11 * b00 + 2 * s12 * b01 + s22 * b11
    den = np.where(den > 0, den, np.inf)
    G = num / den
    ess = np.where(G > 0, num**2 / den, 0.0) / sigma**2
    ess[:, ~candidate] = 0.0
    bi = np.argmax(ess, axis=0)  # best profile per junction
    cols = np.arange(J)
    stat = ess[bi, cols]
    rate = G[bi, cols] * S[bi, -1]
    m = np.array(meta)
    t0 = times[m[bi, 0].astype(int)]
    ramp_min = m[bi, 1]
    B = coefs[0].reshape(Bl.shape[1:]) + lam[-1] * coefs[1].reshape(Bl.shape[1:])
    best = int(np.argmax(stat))
    drop = np.zeros(len(sensor_ids))
    drop[keep] = B[:, best] * rate[best]
    return PressureScan(
        stat=stat, rate=np.maximum(rate, 0.0), t0=t0, ramp_min=ramp_min, sigma_bar=sigma,
        times=times, drop_bar=drop, best=best, ok=True,
    )  # fmt: skip
