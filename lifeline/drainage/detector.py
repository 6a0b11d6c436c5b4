"""The live waterlogging warning detector: the nowcast of ``lifeline drainage warn`` in the loop.

It watches the drainage readings (rain gauges ``rain_mm_h``, manhole levels ``level_m``, road
depth gauges ``depth_m``, flows ``flow_m3s``) and takes the rainfall nowcasts the engine hands it
(``take_forecasts``). Every 15 minutes of event time (issue times on the quarter hour) it asks
the :class:`~lifeline.drainage.ponding.PondingForecaster` — SWMM on the city's drainage model,
driven by the observed rain up to the issue time and the bias-corrected nowcast after it — for
the ponding at each waterlogging point, lets the
:class:`~lifeline.drainage.warn.WarningPolicy` decide (as ``lifeline drainage warn`` does) and
scores each point in warning levels (:mod:`lifeline.drainage.levels`): 1 blue … 4 red.

Issue time ``T`` is decided when the first reading after ``T`` arrives, so every observation
at or before ``T`` is in — the same whether a day comes in one batch or in many. While it is
dry (no rain in the last 3 h, no nowcast of rain, no water on a depth gauge) no SWMM run is
made and the points score 0; the forecaster starts 2 h before the first wet issue time and is
dropped after 6 dry hours. Its checkpoint carries the SWMM hotstart file (base64), the rain
and nowcasts it still needs and the policy's state, so a restored detector continues exactly.

Times: the engine works in UTC; the SWMM model and the drainage package in the city's local
time without a zone, so times are converted at this boundary.
"""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.detect.base import DetectorStatus, empty_scores
from lifeline.drainage.levels import WarningLevels

if TYPE_CHECKING:
    from lifeline.drainage.io import Forecast, Point, Sensor
    from lifeline.drainage.ponding import PondingForecaster
    from lifeline.model.city import City

ISSUE = pd.Timedelta(minutes=15)
KEEP = pd.Timedelta(hours=6)  # observations kept for the forecaster (bias, catch ratios)
SPIN_UP = pd.Timedelta(hours=2)
DRY_DROP = pd.Timedelta(hours=6)
WET_MM_H = 0.5  # rain this intense (mm/h) at any gauge makes an issue time wet
#: the closure threshold of a depth gauge's point when the city lists no waterlogging points
DEFAULT_THRESHOLD_M = 0.15


def city_points(city: City, sensors: pd.DataFrame | None = None) -> list[Point]:
    """The city's waterlogging points (``waterlogging_points.csv``), else one point per
    ``depth_m`` gauge at its node with the 15 cm lane threshold of GB 51222-2017."""
    from lifeline.drainage.io import Point

    pts = getattr(city, "waterlogging_points", None)
    if pts is not None and len(pts):
        return [
            Point(str(r.point_id), str(r.node), float(r.threshold_m), str(r.name or ""))
            for r in pts.itertuples(index=False)
        ]
    s = city.sensors if sensors is None else sensors
    el = s.loc[s.quantity.astype(str) == "depth_m", "element"].fillna("").astype(str)
    nodes = sorted({e.split(":", 1)[1] for e in el if e.startswith("node:")})
    return [Point(f"WP-{n}", n, DEFAULT_THRESHOLD_M, n) for n in nodes]


def drainage_sensors(sensors: pd.DataFrame) -> list[Sensor]:
    """The drainage package's sensors (level, depth, flow) of a city sensor table."""
    from lifeline.drainage.io import Sensor

    out = []
    for r in sensors.itertuples(index=False):
        q, el = str(r.quantity), str(r.element or "")
        if q in ("level_m", "depth_m", "flow_m3s") and ":" in el:
            out.append(Sensor(str(r.sensor_id), el.split(":", 1)[1], q))
    return out


class DrainageWarningDetector:
    """Waterlogging warnings at the city's points, every 15 min of event time (module doc)."""

    name = "drainage_warning"
    utility = "drainage"
    inputs = "readings"

    def __init__(self, city: City, sensors: pd.DataFrame) -> None:
        from lifeline.drainage.model import load_network

        self.city = city
        self.tz = city.timezone
        self.model = load_network(city.drainage_inp_path)
        self.points = city_points(city, city.sensors)
        self.sensors = drainage_sensors(sensors)
        self.levels = WarningLevels.of(city.policies)
        s = sensors.assign(element=sensors.element.fillna("").astype(str))
        self.gauge_of = {
            str(r.sensor_id): r.element.split(":", 1)[1]
            for r in s.itertuples(index=False)
            if r.quantity == "rain_mm_h" and r.element.startswith("gauge:")
        }
        self.kind_of = {str(r.sensor_id): str(r.quantity) for r in s.itertuples(index=False)}
        self.depth_ids = [x.sensor_id for x in self.sensors if x.quantity == "depth_m"]
        self._xy = {
            str(a): (float(x), float(y))
            for a, x, y in zip(city.assets.asset_id, city.assets.x_m, city.assets.y_m, strict=True)
            if str(a).startswith("drainage:node:")
        }
        self._names = {}
        pts = getattr(city, "waterlogging_points", None)
        if pts is not None and len(pts):
            self._names = {
                str(r.point_id): (str(r.name or ""), str(r.name_zh or ""))
                for r in pts.itertuples(index=False)
            }
        self._reset()

    def _reset(self) -> None:
        from lifeline.drainage.warn import WarningPolicy

        self.rain: list[tuple[pd.Timestamp, str, float]] = []  # (local ts, gauge, mm/h)
        self.obs: list[tuple[pd.Timestamp, str, float]] = []  # (local ts, sensor, value)
        self.forecasts: dict[pd.Timestamp, pd.DataFrame] = {}  # local issue time -> wide
        self.next_issue: pd.Timestamp | None = None  # UTC
        self.last_wet: pd.Timestamp | None = None  # UTC
        self.policy = WarningPolicy(self.points)
        self.fc: PondingForecaster | None = None
        self.runs = 0

    # ---- time ------------------------------------------------------------------------------
    def _local(self, t: pd.Timestamp) -> pd.Timestamp:
        return pd.Timestamp(t).tz_convert(self.tz).tz_localize(None)

    def _utc(self, t: pd.Timestamp) -> pd.Timestamp:
        return pd.Timestamp(t).tz_localize(self.tz).tz_convert("UTC")

    # ---- protocol --------------------------------------------------------------------------
    def learn(self, batch: pd.DataFrame) -> None:
        """Nothing to learn: the network model is the prior (the level sensors correct it)."""

    def take_forecasts(self, rows: pd.DataFrame) -> None:
        """Nowcast rows from the engine (``issued_at``, ``ts`` UTC, ``gauge_id``,
        ``rain_mm_h``); kept by local issue time."""
        if rows is None or len(rows) == 0:
            return
        for issued, part in rows.groupby("issued_at", sort=True):
            wide = part.pivot_table(
                index="ts", columns="gauge_id", values="rain_mm_h", aggfunc="last"
            ).sort_index()
            wide.index = pd.DatetimeIndex([self._local(t) for t in wide.index], name="ts")
            wide.columns.name = None
            local = self._local(pd.Timestamp(issued))
            self.forecasts[local] = wide[wide.index > local].astype(float)

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Absorb readings in time order; decide every issue time passed (module doc)."""
        if batch is None or len(batch) == 0:
            return empty_scores()
        b = batch.sort_values("ts", kind="stable")
        rows: list[dict[str, Any]] = []
        for ts, grp in b.groupby("ts", sort=True):
            ts = pd.Timestamp(ts)
            if self.next_issue is None:
                self.next_issue = ts.ceil(ISSUE)
            while self.next_issue < ts:
                rows.extend(self._issue(self.next_issue))
                self.next_issue += ISSUE
            lt = self._local(ts)
            for sid, v in zip(
                grp["sensor_id"].astype(str), grp["value"].astype(float), strict=True
            ):
                if not np.isfinite(v):
                    continue
                if sid in self.gauge_of:
                    self.rain.append((lt, self.gauge_of[sid], float(v)))
                elif sid in self.kind_of:
                    self.obs.append((lt, sid, float(v)))
        if not rows:
            return empty_scores()
        out = pd.DataFrame(rows)
        out["ts"] = pd.to_datetime(out["ts"], utc=True)
        out["score"] = out["score"].astype(float)
        return out[["key", "ts", "score", "detail"]]

    # ---- one issue time --------------------------------------------------------------------
    def _trim(self, lt: pd.Timestamp) -> None:
        lo = lt - KEEP
        self.rain = [r for r in self.rain if r[0] > lo]
        self.obs = [r for r in self.obs if r[0] > lo]
        self.forecasts = {k: v for k, v in self.forecasts.items() if k > lt - pd.Timedelta(hours=3)}

    def _wet(self, lt: pd.Timestamp) -> bool:
        lo = lt - pd.Timedelta(hours=3)
        if any(r[0] > lo and r[2] >= WET_MM_H for r in self.rain):
            return True
        if any(
            k <= lt and len(v) and float(np.nanmax(v.to_numpy())) >= WET_MM_H
            for k, v in self.forecasts.items()
            if k > lt - pd.Timedelta(hours=2)
        ):
            return True
        depth = set(self.depth_ids)
        return any(
            r[0] > lt - pd.Timedelta(minutes=30) and r[2] > 0.01 for r in self.obs if r[1] in depth
        )

    def _observed(self, lt: pd.Timestamp) -> Any:
        from lifeline.drainage.io import ObservedData

        def wide(recs: list[tuple[pd.Timestamp, str, float]]) -> pd.DataFrame:
            recs = [r for r in recs if r[0] <= lt]
            if not recs:
                return pd.DataFrame(dtype=float)
            df = pd.DataFrame(recs, columns=["ts", "key", "value"])
            df = df.drop_duplicates(["ts", "key"], keep="last")
            w = df.pivot(index="ts", columns="key", values="value").sort_index()
            w.columns.name = None
            return w.astype(float)

        return ObservedData(wide(self.rain), wide(self.obs), tuple(self.sensors))

    def _forecast_list(self, lt: pd.Timestamp) -> list[Forecast]:
        from lifeline.drainage.io import Forecast

        return [Forecast(k, v) for k, v in sorted(self.forecasts.items()) if k <= lt]

    def _issue(self, t: pd.Timestamp) -> list[dict[str, Any]]:
        from lifeline.drainage.ponding import PondingForecaster

        lt = self._local(t)
        self._trim(lt)
        wet = self._wet(lt)
        if wet:
            self.last_wet = t
        elif self.fc is not None and self.last_wet is not None and t - self.last_wet > DRY_DROP:
            self.fc.close()
            self.fc = None
        if self.fc is None and not wet:
            return [self._row(t, p, None, None) for p in self.points]
        if self.fc is None:
            self.fc = PondingForecaster(self.model, self.points, self.sensors, start=lt - SPIN_UP)
        pred = self.fc.update(lt, self._observed(lt), self._forecast_list(lt))
        self.runs += 1
        lines = {ln.point_id: ln for ln in self.policy.decide(pred)}
        return [self._row(t, p, pred, lines.get(p.point_id)) for p in self.points]

    def _row(self, t: pd.Timestamp, p: Point, pred: Any, line: Any) -> dict[str, Any]:
        member = None
        if pred is not None:
            member = (pred.members.get(1.0) or next(iter(pred.members.values())))[p.point_id]
        obs = float(pred.observed_m.get(p.point_id, np.nan)) if pred is not None else np.nan
        peak = float(member.peak_m) if member is not None else 0.0
        if line is not None:
            depth = max(float(line.expected_peak_m), p.threshold_m)
            score = max(self.levels.score(depth, p.threshold_m), 1.0)
        else:
            depth = max(peak, obs if np.isfinite(obs) else 0.0)
            score = min(self.levels.score(depth, p.threshold_m), 0.99)
        score = round(float(score), 4)
        x, y = self._xy.get(f"drainage:node:{p.node}", (np.nan, np.nan))
        name, name_zh = self._names.get(p.point_id, (p.name, ""))
        detail: dict[str, Any] = {
            "utility": "drainage",
            "point_id": p.point_id,
            "name": name,
            "name_zh": name_zh,
            "node": p.node,
            "threshold_m": p.threshold_m,
            "issued_at": t.isoformat(),
            "warning_level": self.levels.level(depth, p.threshold_m) if line is not None else "",
            "expected_peak_m": round(depth, 3),
            "observed_m": round(obs, 3) if np.isfinite(obs) else None,
            "sensors": [s.sensor_id for s in self.sensors if s.node == p.node] or [p.point_id],
            "location": [
                {
                    "asset_id": f"drainage:node:{p.node}",
                    "confidence": 0.9,
                    "x_m": x if np.isfinite(x) else None,
                    "y_m": y if np.isfinite(y) else None,
                }
            ],
        }
        if line is not None:
            detail["expected_start"] = self._utc(line.expected_start).isoformat()
            detail["level_source"] = self.levels.sources[detail["warning_level"]]
        if pred is not None:
            detail["now_m"] = round(float(pred.now_m.get(p.point_id, 0.0)), 3)
            detail["forecast_mm_h"] = round(float(pred.forecast_mm_h), 2)
            detail["rain_factor"] = round(float(pred.rain_factor), 3)
            if line is not None:
                detail["flood_nodes"] = self._flood(pred)
        return {"key": p.point_id, "ts": t, "score": score, "detail": detail}

    def _flood(self, pred: Any) -> list[dict[str, Any]]:
        from lifeline.drainage.ponding import flood_area

        out = []
        for f in flood_area(pred, self.model, self.points)[:30]:
            out.append(
                {
                    "node": f.node,
                    "asset_id": f"drainage:node:{f.node}",
                    "peak_m": f.peak_m,
                    "x_m": f.x,
                    "y_m": f.y,
                    "points": list(f.points),
                }
            )
        return out

    # ---- status and checkpoints ------------------------------------------------------------
    def status(self) -> DetectorStatus:
        """Ready at once: the network model is the prior."""
        return DetectorStatus(
            self.name,
            True,
            sensors=len(self.sensors) + len(self.gauge_of),
            sensors_ready=len(self.sensors) + len(self.gauge_of),
            warmup="none (the SWMM model is the prior)",
            detail={"points": len(self.points), "swmm_updates": self.runs},
        )

    def get_state(self) -> dict[str, Any]:
        """Observations, nowcasts, policy and the forecaster (hotstart as base64), JSON-able."""
        st: dict[str, Any] = {
            "rain": [[r[0].isoformat(), r[1], r[2]] for r in self.rain],
            "obs": [[r[0].isoformat(), r[1], r[2]] for r in self.obs],
            "forecasts": {
                k.isoformat(): [[t.isoformat(), g, float(v)] for (t, g), v in w.stack().items()]
                for k, w in self.forecasts.items()
            },
            "next_issue": self.next_issue.isoformat() if self.next_issue is not None else None,
            "last_wet": self.last_wet.isoformat() if self.last_wet is not None else None,
            "policy": {k: dataclasses.asdict(v) for k, v in self.policy._state.items()},
            "runs": self.runs,
            "forecaster": _forecaster_state(self.fc) if self.fc is not None else None,
        }
        return st

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`."""
        from lifeline.drainage.ponding import PondingForecaster
        from lifeline.drainage.warn import _PointState

        if self.fc is not None:
            self.fc.close()
        self._reset()
        self.rain = [(pd.Timestamp(a), str(g), float(v)) for a, g, v in state.get("rain", [])]
        self.obs = [(pd.Timestamp(a), str(g), float(v)) for a, g, v in state.get("obs", [])]
        for k, rows in state.get("forecasts", {}).items():
            df = pd.DataFrame(rows, columns=["ts", "gauge", "v"])
            df["ts"] = pd.to_datetime(df["ts"])
            w = df.pivot(index="ts", columns="gauge", values="v").sort_index() if len(df) else df
            if len(df):
                w.columns.name = None
                w.index.name = "ts"
            self.forecasts[pd.Timestamp(k)] = w.astype(float) if len(df) else pd.DataFrame()
        ni, lw = state.get("next_issue"), state.get("last_wet")
        self.next_issue = pd.Timestamp(ni) if ni else None
        self.last_wet = pd.Timestamp(lw) if lw else None
        self.policy._state = {k: _PointState(**v) for k, v in state.get("policy", {}).items()}
        self.runs = int(state.get("runs", 0))
        fs = state.get("forecaster")
        if fs:
            self.fc = PondingForecaster(self.model, self.points, self.sensors)
            _restore_forecaster(self.fc, fs)


def _forecaster_state(fc: PondingForecaster) -> dict[str, Any]:
    """What a :class:`PondingForecaster` needs to continue (its clock, hotstart file, the rain
    it has filled and the last analysis depths)."""
    hot = Path(fc._hotstart) if fc._hotstart is not None else None
    filled = fc._filled
    depth = fc.analysis_depth.tail(1)
    return {
        "t": fc._t.isoformat() if fc._t is not None else None,
        "n": fc._n,
        "hotstart": base64.b64encode(hot.read_bytes()).decode() if hot and hot.exists() else None,
        "filled": {
            "index": [t.isoformat() for t in filled.index],
            "columns": [str(c) for c in filled.columns],
            "values": filled.to_numpy(float).tolist(),
        },
        "depth": {
            "index": [t.isoformat() for t in depth.index],
            "columns": [str(c) for c in depth.columns],
            "values": depth.to_numpy(float).tolist(),
        },
    }


def _restore_forecaster(fc: PondingForecaster, st: dict[str, Any]) -> None:
    """Inverse of :func:`_forecaster_state` on a fresh forecaster of the same model."""

    def frame(d: dict[str, Any]) -> pd.DataFrame:
        idx = pd.DatetimeIndex([pd.Timestamp(t) for t in d["index"]])
        return pd.DataFrame(
            np.array(d["values"], dtype=float).reshape(len(idx), -1), idx, d["columns"]
        )

    fc._t = pd.Timestamp(st["t"]) if st.get("t") else None
    fc._n = int(st.get("n", 0))
    if st.get("hotstart"):
        path = fc.workdir / f"analysis_{fc._n % 2}.hsf"
        path.write_bytes(base64.b64decode(st["hotstart"]))
        fc._hotstart = path
    fc._filled = frame(st["filled"])
    fc.analysis_depth = frame(st["depth"])


def build(city: City, sensors: pd.DataFrame) -> DrainageWarningDetector:
    """The warning detector for ``city`` (needs its drainage network)."""
    return DrainageWarningDetector(city, sensors)
