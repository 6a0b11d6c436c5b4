"""Ponding forecasts with SWMM: the reusable core of drainage warnings.

:class:`PondingForecaster` is what a live loop calls every 15 minutes: given the observations up
to ``t`` and the nowcasts issued up to ``t`` it

1. advances the *analysis* run (the model driven by the gap-filled observed rain) from the last
   call to ``t``, chaining SWMM hotstart files, and records the simulated sensor values;
2. measures the nowcast's recent bias (:class:`~lifeline.drainage.nowcast.NowcastVerifier`) and
   the model's bias against the level sensors (:mod:`lifeline.drainage.assimilate`);
3. runs the forecast members from the hotstart at ``t`` over the horizon, each driven by the
   latest nowcast corrected for bias and scaled, and returns per point the predicted ponding
   (first time at/above the threshold, peak time, peak depth) and the nodes predicted to pond.

It never sees data after ``t``: the caller passes only what was known at ``t`` (see
:mod:`lifeline.drainage.feed`), and calls must come in time order.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lifeline.drainage.assimilate import LevelAssimilator
from lifeline.drainage.io import STEP, Forecast, ObservedData, Point, Sensor
from lifeline.drainage.model import NetworkModel, SwmmRunner, write_run_copy
from lifeline.drainage.nowcast import Bias, NowcastVerifier, fill_observed, forecast_rain
from lifeline.errors import StateError

#: SWMM options for lifeline's runs: a looser Courant factor and 10-s conduit lengthening make a
#: 2-h storm run 3-5x faster; peak ponding changes by a few cm (checked on the dev network).
FAST_OPTIONS = {"VARIABLE_STEP": "2.0", "LENGTHENING_STEP": "10", "THREADS": "1"}


@dataclass(frozen=True)
class ForecastConfig:
    """Settings of :class:`PondingForecaster`.

    The forecast runs are driven by the nowcast times a rain factor
    ``rain_factor`` x bias^``bias_power`` x level^``level_power``, where *bias* is the nowcast's
    measured observed/forecast ratio and *level* the rain factor the level sensors suggest
    (:mod:`lifeline.drainage.assimilate`); ``rain_factor`` > 1 stands for the nowcast's smoothed
    peaks and a real catchment that runs wetter than its published model.

    ``horizon_min``: how far each forecast run looks (min; the nowcast covers 120, rain is 0
    beyond); ``scales``: forecast members, extra multipliers of that rain; ``record_s``:
    recording step of the forecast runs (s); ``quiet_mm_h``: skip the forecast runs (predict no
    ponding) when the driving rain never exceeds this intensity (mm/h, gauge mean) and no point
    is near ponding in the analysis; ``lagged``: how many of the latest nowcasts make the
    time-lagged ensemble mean that drives the runs; ``factor_bounds``: the rain factor is
    clipped to these. Defaults: chosen on the tuning half of the dev days (docs/drainage.md).
    """

    rain_factor: float = 1.5
    bias_power: float = 0.5
    level_power: float = 0.0
    factor_bounds: tuple[float, float] = (0.5, 2.0)
    horizon_min: int = 150
    scales: tuple[float, ...] = (1.0,)
    record_s: int = 60
    quiet_mm_h: float = 10.0
    lagged: int = 3
    swmm_options: dict[str, str] = field(default_factory=lambda: dict(FAST_OPTIONS))


@dataclass(frozen=True)
class PointForecast:
    """Predicted ponding at a point for one forecast member.

    ``start``: first time the ponding reaches the threshold (None if it does not); ``peak_ts`` /
    ``peak_m``: time and depth (m above the rim) of the largest ponding over the horizon.
    """

    point_id: str
    start: pd.Timestamp | None
    peak_ts: pd.Timestamp | None
    peak_m: float


@dataclass
class Prediction:
    """What :meth:`PondingForecaster.update` returns at issue time ``t``.

    ``members``: scale -> point_id -> :class:`PointForecast`; ``now_m``: point_id -> ponding
    (m) in the analysis run at t; ``observed_m``: point_id -> latest observed ponding (m, from a
    ``depth_m`` gauge at the point within 10 min, NaN when none); ``bias``: the nowcast bias;
    ``level_factor``: the rain factor the level sensors suggest; ``rain_factor``: the factor
    applied; ``flood_nodes``: node -> predicted peak ponding (m) in the central member, for every
    node predicted to pond; ``forecast_mm_h``: largest corrected nowcast intensity (gauge mean).
    """

    t: pd.Timestamp
    members: dict[float, dict[str, PointForecast]]
    now_m: dict[str, float]
    observed_m: dict[str, float]
    bias: Bias
    level_factor: float
    rain_factor: float
    flood_nodes: dict[str, float]
    forecast_mm_h: float
    ran: bool


def _first_at(times: pd.DatetimeIndex, values: np.ndarray, level: float) -> pd.Timestamp | None:
    hit = np.flatnonzero(values >= level)
    return None if hit.size == 0 else times[int(hit[0])]


class PondingForecaster:
    """Predicts ponding at waterlogging points from observations and nowcasts (module doc).

    ``model``: the SWMM network; ``points``: the waterlogging points; ``sensors``: the sensors
    (``level_m`` ones are assimilated; ``depth_m`` ones on point nodes give the observed
    ponding); ``start``: the time the analysis run starts (the first observation);
    ``workdir``: where run copies and hotstart files go (a temporary folder when None).
    """

    def __init__(
        self,
        model: NetworkModel,
        points: Sequence[Point],
        sensors: Sequence[Sensor] = (),
        start: pd.Timestamp | None = None,
        config: ForecastConfig | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.model = model
        self.points = list(points)
        self.sensors = list(sensors)
        self.config = config or ForecastConfig()
        self._tmp = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="lifeline-drainage-")
            workdir = Path(self._tmp.name)
        self.workdir = Path(workdir)
        self.inp = write_run_copy(model, self.workdir, self.config.swmm_options)
        self.gauges = list(model.gauges)
        level_nodes = [s.node for s in self.sensors if s.quantity == "level_m"]
        self.runner = SwmmRunner(self.inp, self.gauges, [p.node for p in self.points] + level_nodes)
        self.verifier = NowcastVerifier()
        self.assimilator = LevelAssimilator(model, self.sensors)
        self._t: pd.Timestamp | None = start
        self._hotstart: Path | None = None
        self._n = 0
        self._filled = pd.DataFrame(columns=self.gauges, dtype=float)
        self.analysis_depth = pd.DataFrame(dtype=float)

    def close(self) -> None:
        """Remove the temporary working folder (when the forecaster made one)."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> PondingForecaster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- analysis ---------------------------------------------------------------------------
    def _advance(
        self, t: pd.Timestamp, observed: ObservedData, forecasts: Sequence[Forecast]
    ) -> None:
        if self._t is None:
            first = observed.rain.index.min() if not observed.rain.empty else t
            self._t = min(pd.Timestamp(first), t)
        if t < self._t:
            raise StateError(f"forecaster is at {self._t}; cannot go back to {t}")
        if t == self._t and self._hotstart is not None:
            return
        rain = fill_observed(observed.rain, self.gauges, self._t, t, forecasts)
        self._filled = pd.concat([self._filled, rain]) if len(self._filled) else rain
        self._n += 1
        out = self.workdir / f"analysis_{self._n % 2}.hsf"
        res = self.runner.run(
            self._t,
            t,
            rain,
            hotstart_in=self._hotstart,
            hotstart_out=out,
            record_s=int(STEP.total_seconds()),
        )
        if len(res.times):
            piece = pd.DataFrame(res.node_depth, index=res.times)
            self.analysis_depth = (
                pd.concat([self.analysis_depth, piece]) if len(self.analysis_depth) else piece
            )
        self._hotstart = out
        self._t = t

    # -- forecast ---------------------------------------------------------------------------
    def update(
        self, t: pd.Timestamp, observed: ObservedData, forecasts: Sequence[Forecast]
    ) -> Prediction:
        """Advance to issue time ``t`` and forecast the ponding at every point (module doc).

        ``observed`` must hold only rows with ts <= t and ``forecasts`` only nowcasts issued at
        or before t (the latest one drives the forecast); both are checked.
        """
        t = pd.Timestamp(t)
        if any(len(x) and x.index.max() > t for x in (observed.rain, observed.levels)):
            raise StateError(f"observations after the issue time {t} were passed")
        if any(f.issued_at > t for f in forecasts):
            raise StateError(f"a nowcast issued after {t} was passed")
        self._advance(t, observed, forecasts)
        cfg = self.config
        bias = self.verifier.bias(t, self._filled, forecasts)
        level_factor = (
            self.assimilator.rain_factor(observed.levels, self.analysis_depth)
            if cfg.level_power
            else 1.0
        )
        factor = float(
            np.clip(
                cfg.rain_factor * bias.ratio**cfg.bias_power * level_factor**cfg.level_power,
                *cfg.factor_bounds,
            )
        )
        base = forecast_rain(
            forecasts, self.gauges, t, cfg.horizon_min, scale=factor, lagged=cfg.lagged
        )
        max_mm_h = float(base.mean(axis=1).max()) if len(base) else 0.0
        now_m = {
            p.point_id: float(self.model.ponding_m(p.node, self.analysis_depth[p.node].iloc[-1]))
            if p.node in self.analysis_depth and len(self.analysis_depth)
            else 0.0
            for p in self.points
        }
        near = any(
            self.analysis_depth[p.node].iloc[-1] > self.model.max_depth_m.get(p.node, np.inf) - 0.3
            for p in self.points
            if p.node in self.analysis_depth and len(self.analysis_depth)
        )
        members: dict[float, dict[str, PointForecast]] = {}
        flood_nodes: dict[str, float] = {}
        ran = max_mm_h * max(cfg.scales) >= cfg.quiet_mm_h or near
        end = t + pd.Timedelta(minutes=cfg.horizon_min)
        for k, s in enumerate(cfg.scales):
            if not ran:
                members[s] = {
                    p.point_id: PointForecast(p.point_id, None, None, 0.0) for p in self.points
                }
                continue
            central = k == len(cfg.scales) // 2
            res = self.runner.run(
                t,
                end,
                base,
                hotstart_in=self._hotstart,
                rain_scale=s,
                record_s=cfg.record_s,
                all_nodes=sorted(self.model.max_depth_m) if central else (),
            )
            members[s] = {}
            for p in self.points:
                pond = self.model.ponding_m(p.node, res.node_depth[p.node])
                i = int(np.argmax(pond)) if pond.size else 0
                peak = float(pond[i]) if pond.size else 0.0
                members[s][p.point_id] = PointForecast(
                    p.point_id,
                    _first_at(res.times, pond, p.threshold_m),
                    res.times[i] if peak > 0 else None,
                    peak,
                )
            if central:
                for n, d in res.all_max.items():
                    pm = float(self.model.ponding_m(n, d))
                    if pm > 0.01:
                        flood_nodes[n] = pm
        return Prediction(
            t,
            members,
            now_m,
            observed_ponding(observed, self.sensors, self.points, t),
            bias,
            level_factor,
            factor,
            flood_nodes,
            max_mm_h,
            ran,
        )


def observed_ponding(
    observed: ObservedData,
    sensors: Sequence[Sensor],
    points: Sequence[Point],
    t: pd.Timestamp,
    max_age_min: int = 10,
) -> dict[str, float]:
    """Latest ponding (m) read by a ``depth_m`` gauge on each point's node, at most
    ``max_age_min`` old at ``t``; NaN for points without a (recent) reading."""
    out = {p.point_id: float("nan") for p in points}
    if observed.levels.empty:
        return out
    lv = observed.levels
    recent = lv[(lv.index > t - pd.Timedelta(minutes=max_age_min)) & (lv.index <= t)]
    for s in sensors:
        if s.quantity != "depth_m" or s.sensor_id not in recent.columns:
            continue
        vals = recent[s.sensor_id].dropna()
        if vals.empty:
            continue
        for p in points:
            if p.node == s.node:
                out[p.point_id] = float(vals.iloc[-1])
    return out


@dataclass(frozen=True)
class FloodNode:
    """A node predicted to pond: ``peak_m`` above its rim at (``x``, ``y``) in model units (m);
    ``points``: the waterlogging points on it."""

    node: str
    peak_m: float
    x: float | None
    y: float | None
    points: tuple[str, ...]


def flood_area(
    pred: Prediction, model: NetworkModel, points: Sequence[Point] = (), min_m: float = 0.05
) -> list[FloodNode]:
    """The nodes the central forecast member predicts to pond at least ``min_m`` (m), deepest
    first, with coordinates — the predicted flood area for response plans (road closures,
    pump trucks, assets and customers in the area)."""
    on_node: dict[str, list[str]] = {}
    for p in points:
        on_node.setdefault(p.node, []).append(p.point_id)
    out = []
    for node, peak in pred.flood_nodes.items():
        if peak < min_m:
            continue
        xy = model.coords.get(node)
        out.append(
            FloodNode(
                node,
                round(float(peak), 3),
                xy[0] if xy else None,
                xy[1] if xy else None,
                tuple(on_node.get(node, ())),
            )
        )
    return sorted(out, key=lambda f: -f.peak_m)
