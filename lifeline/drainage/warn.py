"""Waterlogging warnings: from ponding forecasts to the lines of WARNINGS.csv.

:func:`run_warn` is ``lifeline drainage warn``: it replays a recorded day as a real-time feed
(:mod:`lifeline.drainage.feed`) and at every nowcast issue time asks the
:class:`~lifeline.drainage.ponding.PondingForecaster` for the predicted ponding, then lets
:class:`WarningPolicy` decide which points get a line.

Between issue times the replay clock ticks every 5 minutes and only the depth gauges are read.

The decision (parameters in :class:`PolicyConfig`; chosen on half of the dev days, see
docs/drainage.md):

* **warn** a point when the forecast (the member at scale 1) predicts ponding of at least
  ``margin`` x its threshold within the horizon at ``persist`` consecutive issue times;
* **lead-time-aware**: a forecast whose start is more than ``far_min`` minutes ahead is least
  reliable (before the rain, a storm that never comes looks like one that will): it needs
  ``margin_far`` x the threshold at ``persist_far`` issue times, and the storm must have begun
  (at least ``far_rain_mm`` of rain observed over the nowcast verification window);
* **a flood under way**: a point whose depth gauge reads at least threshold + ``trigger_m``
  gets a line at once (also between issue times) and at every issue time while it floods;
* **stand down** once the gauge has seen the water above the threshold and back below
  ``recede`` x it: re-issuing then would be a new, false warning; a new warning needs a new
  predicted rise of ``rewarn`` x the threshold.

``expected_start`` is the forecast's first time at/above the threshold (the issue time when the
flood is under way); ``expected_peak_m`` its peak ponding, raised to the observed depth when the
gauge reads more.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lifeline.drainage.feed import RecordedFeed
from lifeline.drainage.io import STEP, Point, read_points, write_warnings
from lifeline.drainage.model import NetworkModel, load_network
from lifeline.drainage.ponding import (
    ForecastConfig,
    PondingForecaster,
    Prediction,
    observed_ponding,
)
from lifeline.errors import InputError


@dataclass(frozen=True)
class PolicyConfig:
    """Decision parameters (see module doc).

    ``margin``: predicted peak / threshold needed to warn; ``persist``: the forecast must have
    called for a warning at this many consecutive issue times (1 = act at once); ``recede``:
    observed depth / threshold below which a flood that was seen is over; ``rewarn``: after
    that, predicted peak / threshold needed for a new warning; ``trigger_m``: a depth gauge
    reading at least threshold + this (m) is a flood under way (a guard against gauge noise).

    Lead-time-aware: when the forecast puts the start more than ``far_min`` minutes after the
    issue time (before the rain has come, where the nowcast is least reliable), the call needs
    ``margin_far`` instead of ``margin`` and ``persist_far`` consecutive issue times, and at
    least ``far_rain_mm`` of rain (gauge mean) must have been observed in the nowcast
    verification window (the storm has begun: a forecast storm that never comes is the main
    source of false warnings).
    """

    margin: float = 2.5
    persist: int = 2
    recede: float = 0.7
    rewarn: float = 3.0
    trigger_m: float = 0.01
    far_min: float = 45.0
    margin_far: float = 2.0
    persist_far: int = 1
    far_rain_mm: float = 1.0

    @classmethod
    def open_loop(cls) -> PolicyConfig:
        """The plain rule of the open-loop baseline: warn whenever the forecast ponds."""
        return cls(
            margin=1.0,
            persist=1,
            recede=0.0,
            rewarn=1.0,
            trigger_m=float("inf"),
            margin_far=1.0,
            persist_far=1,
            far_rain_mm=0.0,
        )


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
    flooding: bool = False  # the gauge reads at/above the threshold
    seen_flood: bool = False  # it has today
    over: bool = False  # and the water has gone down since
    calls: int = 0  # consecutive issue times whose forecast called for a warning


@dataclass
class WarningPolicy:
    """Turns predictions and depth-gauge readings into warning lines (see module doc)."""

    points: Sequence[Point]
    config: PolicyConfig = field(default_factory=PolicyConfig)
    _state: dict[str, _PointState] = field(default_factory=dict)

    def _st(self, point_id: str) -> _PointState:
        return self._state.setdefault(point_id, _PointState())

    def observe(self, t: pd.Timestamp, observed_m: dict[str, float]) -> list[WarningLine]:
        """Take the depth-gauge readings at ``t`` (point_id -> m, NaN = none); returns a line
        for each point whose gauge has just crossed its threshold (a flood under way)."""
        cfg = self.config
        out: list[WarningLine] = []
        for p in self.points:
            obs = observed_m.get(p.point_id, float("nan"))
            if not np.isfinite(obs):
                continue
            st = self._st(p.point_id)
            now = obs >= p.threshold_m + cfg.trigger_m
            if now and not st.flooding:
                out.append(WarningLine(t, p.point_id, t, round(float(obs), 3)))
            if now:
                st.seen_flood, st.over = True, False
            elif st.seen_flood and obs < cfg.recede * p.threshold_m:
                st.over = True
            st.flooding = bool(now) or (st.flooding and obs >= p.threshold_m)
        return out

    def decide(self, pred: Prediction) -> list[WarningLine]:
        """The lines to issue at ``pred.t`` from the forecast (one per point warned)."""
        cfg = self.config
        member = pred.members.get(1.0) or next(iter(pred.members.values()))
        lines = {ln.point_id: ln for ln in self.observe(pred.t, pred.observed_m)}
        for p in self.points:
            st = self._st(p.point_id)
            fc = member[p.point_id]
            obs = pred.observed_m.get(p.point_id, float("nan"))
            obs_m = obs if np.isfinite(obs) else 0.0
            far = fc.start is not None and fc.start - pred.t > pd.Timedelta(minutes=cfg.far_min)
            need = cfg.rewarn if st.over else (cfg.margin_far if far else cfg.margin)
            call = (
                fc.peak_m >= need * p.threshold_m
                and (not st.over or (fc.start is not None and fc.start > pred.t))
                and not (far and pred.bias.observed_mm < cfg.far_rain_mm)
            )
            st.calls = st.calls + 1 if call else 0
            warn = st.calls >= (cfg.persist_far if far else cfg.persist) or st.flooding
            if not warn:
                continue
            start = pred.t if st.flooding or fc.start is None else max(fc.start, pred.t)
            peak = max(fc.peak_m, obs_m)
            lines[p.point_id] = WarningLine(pred.t, p.point_id, start, round(float(peak), 3))
        return list(lines.values())


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
        issue = set(times)
        end = feed.end if feed.end is not None else times[-1]
        clock = pd.date_range(times[0], max(end, times[-1]), freq=STEP)
        steps = sorted(set(clock) | issue)
        with PondingForecaster(model, pts, sensors, feed.start, forecast_config) as fc:
            for t in steps:
                snap = feed.snapshot(t)
                if t in issue:
                    pred = fc.update(t, snap.observed, snap.forecasts)
                    lines.extend(pol.decide(pred))
                    if keep_predictions:
                        preds.append(pred)
                else:
                    depth = observed_ponding(snap.observed, sensors, pts, t)
                    lines.extend(pol.observe(t, depth))
    write_warnings((ln.as_row() for ln in lines), out)
    return WarnSummary(
        len(lines),
        len(times),
        tuple(sorted({ln.point_id for ln in lines})),
        time.perf_counter() - t0,
        tuple(preds),
    )
