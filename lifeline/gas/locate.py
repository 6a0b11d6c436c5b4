"""Fuse pressure and manhole evidence: leak decision, location, rate and alarm causes.

Rules (all physical, see docs/gas.md):

* A manhole's *sustained rise* (not a stuck run, not a spike) is methane evidence. Rises that
  start within ``cluster_gap_min`` of each other in manholes within ``cluster_radius_m`` form a
  cluster. Gas from a network leak spreads along the main to several nearby manholes at once and
  does not stop by itself; biogas is a single manhole's event.
* Leak hypotheses: (a) a cluster with at least two rising manholes of which one is persistent
  (still elevated at the end of the window) and one alarmed; (b) a single alarmed, persistent
  manhole whose rise is backed by a pressure drop fitted at gas junctions near it with an onset shortly before
  the rise; (c) a pressure drop alone that is strong (``pressure_stat_alone``).
* Location: among candidate main junctions near the evidence, the one minimising the
  arrival-weighted distance to the rising manholes (earlier and stronger rises weigh more), with
  the pressure fit as a tie-breaker; without manhole evidence, the best pressure junction.
* Rate: from the pressure fit at the chosen junction (kg/s).
* Causes: sensor faults from the sensor's own history; alarms in the leak's cluster (or within
  ``leak_alarm_radius_m`` of the leak, starting after its onset) are ``gas_leak``; the rest
  ``other``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lifeline.gas.methane import AlarmConfig, SensorFeatures, trend_label
from lifeline.gas.network import GasNetwork
from lifeline.gas.pressure import PressureScan


@dataclass(frozen=True)
class LocateConfig:
    """Evidence-fusion parameters (distances in m, times in minutes, statistics chi-square-like)."""

    cluster_radius_m: float = 120.0
    cluster_gap_min: float = 90.0
    persistent: float = 0.7  # end-of-window level / peak rise for a "persistent" rise
    search_radius_m: float = 150.0  # candidate junctions this close to the rising manholes
    pressure_stat_alone: float = 150.0  # pressure-only leak (no manhole evidence)
    pressure_stat_single: float = 100.0  # pressure backing for a single alarmed manhole
    pressure_lead_min: float = 240.0  # pressure onset may precede the methane rise by this much
    min_drop_mbar: float = 1.0  # pressure-only leaks must drop some sensor at least this much
    arrival_tau_min: float = 20.0
    leak_alarm_radius_m: float = 200.0


@dataclass
class Evidence:
    """A leak hypothesis and why it was accepted."""

    kind: str  # "cluster", "single+pressure", "pressure"
    members: list[str] = field(default_factory=list)
    pressure_stat: float = 0.0


def _minutes(a: pd.Timestamp, b: pd.Timestamp) -> float:
    return float((a - b) / pd.Timedelta(minutes=1))


def clusters(
    risers: list[SensorFeatures], xy: dict[str, tuple[float, float]], cfg: LocateConfig
) -> list[list[SensorFeatures]]:
    """Group rising manholes close in space and onset time (single linkage)."""
    n = len(risers)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        for k in range(i + 1, n):
            a, b = risers[i], risers[k]
            d = float(
                np.hypot(
                    xy[a.sensor_id][0] - xy[b.sensor_id][0], xy[a.sensor_id][1] - xy[b.sensor_id][1]
                )
            )
            assert a.onset_ts is not None and b.onset_ts is not None
            if (
                d <= cfg.cluster_radius_m
                and abs(_minutes(a.onset_ts, b.onset_ts)) <= cfg.cluster_gap_min
            ):
                parent[find(i)] = find(k)
    groups: dict[int, list[SensorFeatures]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(risers[i])
    return list(groups.values())


def _near(net: GasNetwork, pts: np.ndarray, radius: float, mask: np.ndarray) -> np.ndarray:
    d = np.hypot(net.jx[:, None] - pts[None, :, 0], net.jy[:, None] - pts[None, :, 1]).min(axis=1)
    return np.flatnonzero(mask & (d <= radius))


def _place(
    net: GasNetwork,
    members: list[SensorFeatures],
    xy: dict[str, tuple[float, float]],
    scan: PressureScan,
    cand: np.ndarray,
) -> int:
    """Candidate junction (position) best explaining the manhole rises (and pressures)."""
    pts = np.array([xy[m.sensor_id] for m in members])
    t_first = min(m.onset_ts for m in members if m.onset_ts is not None)
    w = np.array([
        min(m.rise, 100.0) / 100.0 * np.exp(-_minutes(m.onset_ts, t_first) / 20.0) if m.onset_ts is not None else 0.0
        for m in members
    ])  # fmt: skip
    w = w / w.sum() if w.sum() > 0 else np.full(len(members), 1.0 / len(members))
    d = np.hypot(net.jx[cand, None] - pts[None, :, 0], net.jy[cand, None] - pts[None, :, 1])
    cost = d @ w
    if scan.ok and scan.stat[cand].max() > 0:
        rel = scan.stat[cand] / scan.stat[cand].max()
        cost = cost + 10.0 * (1.0 - rel)  # pressure pattern: up to 10 m of tie-breaking
    return int(cand[int(np.argmin(cost))])


def fuse(
    net: GasNetwork,
    scan: PressureScan,
    feats: list[SensorFeatures],
    xy: dict[str, tuple[float, float]],
    cfg: LocateConfig,
    rise_min: float = 8.0,
) -> tuple[int | None, Evidence | None]:
    """Decide whether there is a leak and where: (junction position or None, evidence).

    ``rise_min``: sustained rise (%LEL) that makes a manhole evidence (``AlarmConfig.rise_min``).
    """
    risers = [f for f in feats if not f.fault and f.onset_ts is not None and f.rise >= rise_min]
    groups = clusters(risers, xy, cfg)
    cand_mask = net.candidate
    hyps: list[tuple[float, int, Evidence]] = []
    for g in groups:
        alarmed = [m for m in g if m.alarm]
        persistent = [m for m in g if m.persistence >= cfg.persistent]
        pts = np.array([xy[m.sensor_id] for m in g])
        cand = _near(net, pts, cfg.search_radius_m, cand_mask)
        if len(cand) == 0:
            continue
        t_first = min(m.onset_ts for m in g if m.onset_ts is not None)
        t_lo = np.datetime64(t_first - pd.Timedelta(minutes=cfg.pressure_lead_min), "ns")
        t_hi = np.datetime64(t_first + pd.Timedelta(minutes=15), "ns")
        pstat = scan.stat_for(cand, t_lo, t_hi)
        if len(g) >= 2 and alarmed and persistent:
            score = 1000.0 + len(g) + pstat
            hyps.append(
                (
                    score,
                    _place(net, g, xy, scan, cand),
                    Evidence("cluster", [m.sensor_id for m in g], pstat),
                )
            )
        elif alarmed and persistent and pstat >= cfg.pressure_stat_single:
            hyps.append(
                (
                    pstat,
                    _place(net, g, xy, scan, cand),
                    Evidence("single+pressure", [m.sensor_id for m in g], pstat),
                )
            )
        elif pstat >= cfg.pressure_stat_alone and persistent:
            hyps.append(
                (
                    pstat,
                    _place(net, g, xy, scan, cand),
                    Evidence("pressure", [m.sensor_id for m in g], pstat),
                )
            )
    if hyps:
        hyps.sort(key=lambda h: -h[0])
        return hyps[0][1], hyps[0][2]
    if scan.ok:
        best = scan.best
        strong = scan.stat[best] >= cfg.pressure_stat_alone
        big = np.max(scan.drop_bar) * 1000.0 >= cfg.min_drop_mbar
        if strong and big:
            return best, Evidence("pressure", [], float(scan.stat[best]))
    return None, None


def alarm_causes(
    feats: list[SensorFeatures],
    xy: dict[str, tuple[float, float]],
    leak_xy: tuple[float, float] | None,
    leak_t0: pd.Timestamp | None,
    evidence: Evidence | None,
    cfg: LocateConfig,
    acfg: AlarmConfig,
) -> list[dict]:
    """One alarm entry per alarmed methane sensor: level, first time, trend and cause."""
    out = []
    members = set(evidence.members) if evidence else set()
    for f in feats:
        if not f.alarm:
            continue
        if f.fault:
            cause = "sensor_fault"
        elif f.sensor_id in members:
            cause = "gas_leak"
        elif leak_xy is not None:
            d = float(np.hypot(xy[f.sensor_id][0] - leak_xy[0], xy[f.sensor_id][1] - leak_xy[1]))
            after = (
                leak_t0 is None
                or f.onset_ts is None
                or _minutes(f.onset_ts, leak_t0) >= -cfg.cluster_gap_min
            )
            cause = "gas_leak" if d <= cfg.leak_alarm_radius_m and after else "other"
        else:
            cause = "other"
        out.append(
            {
                "sensor_id": f.sensor_id,
                "ts": f.first_ts.strftime("%Y-%m-%d %H:%M:%S") if f.first_ts is not None else None,
                "level": int(f.level),
                "cause": cause,
                "max_pct_lel": round(f.max_value, 1),
                "level2_ts": f.level2_ts.strftime("%Y-%m-%d %H:%M:%S")
                if f.level2_ts is not None
                else None,
                "trend": trend_label(f.trend_pct_per_h),
                "trend_pct_lel_per_h": round(f.trend_pct_per_h, 1),
                "fault": f.fault or None,
            }
        )
    out.sort(key=lambda a: (a["ts"] or "", a["sensor_id"]))
    return out
