"""Sensor placement: greedy maximum coverage of risk-weighted leak targets.

* Pressure (water): a sensor at junction ``s`` *detects* a leak on pipe ``p`` when the pressure
  drop it causes there exceeds ``threshold_m``. The drop comes from the EPANET leak-sensitivity
  matrix (:func:`lifeline.water.network.sensitivity`: an emitter at each junction, single
  period), for a leak of ``leak_fraction`` of the total demand at the pipe's end junctions.
* Methane (gas): a detector in a manhole covers a gas main within ``radius_m`` (gas migrating
  through the soil and along ducts reaches nearby manholes).

Each target pipe weighs its ageing risk. Greedy maximum coverage (Nemhauser, Wolsey & Fisher
1978: within 1 - 1/e of the optimum for this submodular objective) adds, one by one, the
location covering the most not-yet-covered risk; existing sensors are counted first. The
coverage curve (share of total risk covered against N) is non-decreasing by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class Placement:
    """Greedy result: picks (in order), coverage after each pick, and the baseline coverage."""

    picks: pd.DataFrame  # order, location, x_m, y_m, gain, coverage
    baseline: float
    curve: list[float]
    n_targets: int
    meta: dict[str, Any] = field(default_factory=dict)


def greedy(
    cover: np.ndarray, weights: np.ndarray, n: int, existing: np.ndarray | None = None
) -> tuple[list[int], list[float], list[float], float]:
    """Greedy maximum weighted coverage.

    ``cover``: (candidates, targets) bool; ``weights``: (targets,) >= 0; ``existing``: indices of
    candidates already equipped (count towards coverage, not picked). Returns ``(picks, gains,
    coverage after each pick, baseline coverage)``; coverage is a share of the total weight. Stops early when no location adds coverage.
    """
    cover = np.asarray(cover, dtype=bool)
    w = np.clip(np.asarray(weights, float), 0, None)
    total = float(w.sum()) or 1.0
    covered = np.zeros(cover.shape[1], dtype=bool)
    if existing is not None and len(existing):
        covered |= cover[np.asarray(existing, dtype=np.int64)].any(axis=0)
    base = float(w[covered].sum()) / total
    available = np.ones(cover.shape[0], dtype=bool)
    if existing is not None and len(existing):
        available[np.asarray(existing, dtype=np.int64)] = False
    picks: list[int] = []
    gains: list[float] = []
    curve: list[float] = []
    cf = cover.astype(np.float64)
    for _ in range(min(n, int(available.sum()))):
        gain = cf[:, ~covered] @ w[~covered]
        gain[~available] = -1.0
        best = int(np.argmax(gain))
        if gain[best] <= 0 and picks:
            break  # nothing left that any further location can detect
        picks.append(best)
        gains.append(float(max(gain[best], 0.0)) / total)
        covered |= cover[best]
        available[best] = False
        curve.append(float(w[covered].sum()) / total)
    return picks, gains, curve, base


def point_segment_distance(px: np.ndarray, py: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Distances (m) from points (P,) to segments (S, 4: x0, y0, x1, y1), shape (P, S)."""
    x0, y0, x1, y1 = (seg[:, k][None, :] for k in range(4))
    dx, dy = x1 - x0, y1 - y0
    ll = dx * dx + dy * dy
    t = np.where(
        ll > 0, ((px[:, None] - x0) * dx + (py[:, None] - y0) * dy) / np.where(ll > 0, ll, 1.0), 0.0
    )
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(px[:, None] - (x0 + t * dx), py[:, None] - (y0 + t * dy))


def methane_cover(manholes: pd.DataFrame, pipes: pd.DataFrame, radius_m: float) -> np.ndarray:
    """(manholes, pipes) bool: manhole within ``radius_m`` of the pipe (columns x_m,y_m / x0..y1)."""
    seg = pipes[["x0", "y0", "x1", "y1"]].to_numpy(float)
    d = point_segment_distance(manholes.x_m.to_numpy(float), manholes.y_m.to_numpy(float), seg)
    return d <= radius_m


def pressure_cover(
    inp: str | Path,
    pipes: pd.DataFrame,
    node_ends: list[tuple[str, str]],
    threshold_m: float,
    leak_fraction: float,
) -> tuple[list[str], np.ndarray]:
    """Candidate junctions and (junctions, pipes) detectability from EPANET leak sensitivities.

    A leak of ``leak_fraction`` of the total demand on a pipe is modelled at its end junctions
    (mean of their sensitivity columns); detectable where the pressure drop >= ``threshold_m``.
    """
    from lifeline.risk.pdd import UNITS
    from lifeline.water.epanet import FLOW_UNIT_CODES
    from lifeline.water.network import load_network, sensitivity

    wn = load_network(inp)
    junctions = list(wn.junction_name_list)
    sens = sensitivity(inp, junctions, leak_fraction)
    flow_units = str(wn.options.hydraulic.inpfile_units or "GPM").upper()
    code = FLOW_UNIT_CODES.get(flow_units, 8)
    qf, pf = UNITS[code]
    mat = (
        np.abs(sens.matrix) * pf / qf
    )  # m per m³/h, rows: sensors (= junctions), cols: leak junctions
    col = {j: i for i, j in enumerate(sens.junctions)}
    from lifeline.risk.networks import mean_demand_m3h

    q_leak = leak_fraction * float(mean_demand_m3h(wn).sum())
    cover = np.zeros((len(junctions), len(pipes)), dtype=bool)
    for k, (a, b) in enumerate(node_ends):
        cols = [col[x] for x in (a, b) if x in col]
        if cols:
            cover[:, k] = mat[:, cols].mean(axis=1) * q_leak >= threshold_m
    return list(sens.sensors), cover


def place(
    cover: np.ndarray,
    weights: np.ndarray,
    locations: pd.DataFrame,
    n: int,
    existing: list[str] | None = None,
) -> Placement:
    """Run :func:`greedy` and label the picks with ``locations`` (columns location, x_m, y_m).

    When fewer than ``n`` locations are returned, ``meta["short_reason"]`` says why: every free
    candidate is used, or no further location detects a target not yet covered (with the share
    of the risk that no candidate can detect at all).
    """
    loc = locations.reset_index(drop=True)
    pos = {v: i for i, v in enumerate(loc["location"])}
    ex = np.array([pos[e] for e in (existing or []) if e in pos], dtype=np.int64)
    picks, gains, curve, base = greedy(cover, weights, n, ex)
    meta: dict[str, Any] = {"existing_used": len(ex)}
    if len(picks) < n:
        meta["short_reason"] = _short_reason(cover, weights, ex, len(picks), curve or [base])
    df = pd.DataFrame(
        {
            "order": np.arange(1, len(picks) + 1),
            "location": loc["location"].to_numpy()[picks] if picks else [],
            "x_m": loc["x_m"].to_numpy()[picks] if picks else [],
            "y_m": loc["y_m"].to_numpy()[picks] if picks else [],
            "gain": np.round(gains, 6),
            "coverage": np.round(curve, 6),
        }
    )
    return Placement(df, base, curve, cover.shape[1], meta)


def _short_reason(
    cover: np.ndarray, weights: np.ndarray, existing: np.ndarray, picked: int, curve: list[float]
) -> str:
    """Why greedy stopped before N: no free candidate left, or nothing more to detect."""
    free = int(cover.shape[0]) - len(set(existing.tolist()))
    if picked >= free:
        return f"only {free} candidate location(s) have no sensor yet"
    w = np.clip(np.asarray(weights, float), 0, None)
    total = float(w.sum()) or 1.0
    never = float(w[~np.asarray(cover, dtype=bool).any(axis=0)].sum()) / total
    return (
        f"after {picked} new location(s) no other location detects a target not yet covered; "
        f"coverage stays at {curve[-1]:.1%}, and {never:.1%} of the risk lies on pipes that no "
        "candidate location can detect"
    )


def plot_coverage(pl: Placement, path: str | Path, title: str) -> None:
    """Coverage of the risk-weighted leak targets against the number of new sensors (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    xs = np.arange(0, len(pl.curve) + 1)
    ax.plot(xs, [pl.baseline, *pl.curve], marker="o", ms=3)
    ax.axhline(
        pl.baseline, color="grey", ls=":", label=f"existing sensors only ({pl.baseline:.0%})"
    )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # sensors come whole
    ax.set_xlabel("new sensors N")
    ax.set_ylabel("share of risk covered")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
