"""Waterlogging warnings: from ponding forecasts to the lines of WARNINGS.csv.

:func:`run_warn` is ``lifeline drainage warn``: it replays a recorded day as a real-time feed
(:mod:`lifeline.drainage.feed`) and at every nowcast issue time asks the
:class:`~lifeline.drainage.ponding.PondingForecaster` for the predicted ponding, then lets
:class:`WarningPolicy` decide which points get a line.

The decision (parameters in :class:`PolicyConfig`, chosen on half of the dev days, see
docs/drainage.md):

* **warn** a point when the forecast member ``member`` predicts ponding of at least ``margin``
  times the point's threshold within the horizon, or when its depth gauge reads at least the
  threshold now (the flood is under way);
* **stand down** (no line) once the point's depth gauge has seen the water go above the
  threshold and back below ``recede`` times it while the forecast shows no new rise — re-issuing
  a warning after the water has gone would be a new, false one.

``expected_start`` is the member's first time at/above the threshold (the issue time when the
flood is under way); ``expected_peak_m`` the member's peak ponding, raised to the observed depth
when the gauge reads more.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lifeline.drainage.feed import RecordedFeed
from lifeline.drainage.io import Point, read_points, write_warnings
from lifeline.drainage.model import NetworkModel, load_network
from lifeline.drainage.ponding import ForecastConfig, PondingForecaster, Prediction
from lifeline.errors import InputError


@dataclass(frozen=True)
class PolicyConfig:
    """Decision parameters (see module doc). ``member``: which forecast member decides;
    ``margin``: predicted peak / threshold needed to warn; ``recede``: observed depth / threshold
    below which a flood that was seen is over."""

    member: float = 1.0
    margin: float = 1.0
    recede: float = 0.7


@dataclass(frozen=True)
class WarningLine:
    """One line of WARNINGS.csv."""

    issued_at: pd.Timestamp
    point_id: str
    expected_start: pd.Timestamp
    expected_peak_m: float

    def as_row(self) -> dict[str, object]:
        """The line as a dict keyed by the WARNINGS.csv columns."""
        return {
            "issued_at": self.issued_at,
            "point_id": self.point_id,
            "expected_start": self.expected_start,
            "expected_peak_m": self.expected_peak_m,
        }


@dataclass
class _PointState:
    seen_flood: bool = False
    over: bool = False


@dataclass
class WarningPolicy:
    """Turns predictions into warning lines, point by point (see module doc)."""

    points: Sequence[Point]
    config: PolicyConfig = field(default_factory=PolicyConfig)
    _state: dict[str, _PointState] = field(default_factory=dict)

    def decide(self, pred: Prediction) -> list[WarningLine]:
        """The lines to issue at ``pred.t`` (one per point warned)."""
        cfg = self.config
        member = pred.members.get(cfg.member) or next(iter(pred.members.values()))
        out: list[WarningLine] = []
        for p in self.points:
            st = self._state.setdefault(p.point_id, _PointState())
            fc = member[p.point_id]
            obs = pred.observed_m.get(p.point_id, float("nan"))
            flooding_now = bool(np.isfinite(obs) and obs >= p.threshold_m)
            if flooding_now:
                st.seen_flood, st.over = True, False
            elif st.seen_flood and np.isfinite(obs) and obs < cfg.recede * p.threshold_m:
                st.over = True
            predicted = fc.peak_m >= cfg.margin * p.threshold_m
            if st.over and predicted and fc.start is not None and fc.start > pred.t:
                # a new rise after the flood was seen to end: a new warning
                rising = fc.peak_m > max(pred.now_m.get(p.point_id, 0.0), obs if np.isfinite(obs) else 0)
                predicted = rising
            elif st.over:
                predicted = False
            if not (predicted or flooding_now):
                continue
            start = pred.t if flooding_now or fc.start is None else max(fc.start, pred.t)
            peak = max(fc.peak_m, obs if np.isfinite(obs) else 0.0)
            out.append(WarningLine(pred.t, p.point_id, start, round(float(peak), 3)))
        return out


@dataclass(frozen=True)
class WarnSummary:
    """What a run of :func:`run_warn` did."""

    lines: int
    issue_times: int
    points_warned: tuple[str, ...]
    seconds: float
    predictions: tuple[Prediction, ...] = ()


def check_points(points: Sequence[Point], model: NetworkModel, where: str) -> None:
    """Every point must be on a node of the model (error names the points file)."""
    for i, p in enumerate(points, start=2):
        if p.node not in model.max_depth_m:
            raise InputError(
                f"point {p.point_id!r}: node {p.node!r} is not a junction or storage node of the "
                f"SWMM model",
                where=f"{where}:{i}",
            )


def run_warn(
    network: str | Path,
    observed: str | Path,
    forecasts: str | Path,
    points: str | Path,
    out: str | Path,
    forecast_config: ForecastConfig | None = None,
    policy: PolicyConfig | None = None,
    keep_predictions: bool = False,
) -> WarnSummary:
    """``lifeline drainage warn``: write WARNINGS.csv for a recorded day (see module doc).

    Returns a summary; with ``keep_predictions`` it holds every prediction (for benchmarks).
    """
    t0 = time.perf_counter()
    model = load_network(network)
    pts = read_points(points)
    check_points(pts, model, str(points))
    feed = RecordedFeed(observed, forecasts)
    sensors = feed.sensors
    for s in sensors:
        known = model.links if s.quantity == "flow_m3s" else model.nodes
        if s.node not in known:
            raise InputError(
                f"sensor {s.sensor_id!r}: {s.node!r} is not in the SWMM model",
                where=str(Path(observed) / "sensors.csv"),
            )
    times = feed.issue_times()
    lines: list[WarningLine] = []
    preds: list[Prediction] = []
    if times:
        pol = WarningPolicy(pts, policy or PolicyConfig())
        with PondingForecaster(model, pts, sensors, feed.start, forecast_config) as fc:
            for t in times:
                snap = feed.snapshot(t)
                pred = fc.update(t, snap.observed, snap.forecasts)
                lines.extend(pol.decide(pred))
                if keep_predictions:
                    preds.append(pred)
    write_warnings((ln.as_row() for ln in lines), out)
    return WarnSummary(
        len(lines),
        len(times),
        tuple(sorted({ln.point_id for ln in lines})),
        time.perf_counter() - t0,
        tuple(preds),
    )
