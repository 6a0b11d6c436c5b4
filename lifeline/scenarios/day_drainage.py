"""A drill day of the drainage network: a storm's rain at the gauges, SWMM for the truth, the
sensors' readings and the radar nowcasts issued while it rains.

The rain of each :class:`~lifeline.scenarios.events.Storm` is a Chicago hyetograph of the
Chongqing storm-intensity formula moving across the gauges (:mod:`lifeline.drainage.storm`);
the truth is the city's own SWMM model driven by it (dynamic wave, the real SWMM 5.2 engine),
over the whole day in the city's local time. Readings every sensor interval: rain as a 0.2 mm
tipping bucket sees it, manhole levels (offset and noise, 1 mm), road depth gauges (1 cm), pump
status (running when the pump moves water), conduit flow (±5 %). Nowcasts: the truth's noisy
forecast issued every 15 min from 2 h before the rain (:func:`lifeline.drainage.storm.nowcasts`).
A day without a storm is dry: no SWMM run, zeros.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifeline.scenarios.events import Storm


def _gauge_xy(city: Any, gauges: list[str]) -> dict[str, tuple[float, float]]:
    s = city.sensors
    r = s[(s.quantity == "rain_mm_h") & s.element.fillna("").str.startswith("gauge:")]
    xy = {
        str(e).split(":", 1)[1]: (float(x), float(y))
        for e, x, y in zip(r.element, r.x_m, r.y_m, strict=True)
        if np.isfinite(x) and np.isfinite(y)
    }
    a = city.assets[city.assets.utility == "drainage"]
    centre = (float(a.x_m.mean()), float(a.y_m.mean())) if len(a) else (0.0, 0.0)
    return {g: xy.get(g, centre) for g in gauges}


def simulate_drainage(
    city: Any, start: pd.Timestamp, rng: np.random.Generator, events: list[Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(readings ``sensor_id, ts, value``, nowcasts ``issued_at, ts, gauge_id, rain_mm_h``) of
    the city's drainage sensors over the 24 h from ``start`` (UTC)."""
    from lifeline.drainage.model import load_network
    from lifeline.drainage.storm import chicago, nowcasts, rain_field

    s = city.sensors[city.sensors.utility == "drainage"].copy()
    s["element"] = s.element.fillna("").astype(str)
    if s.empty:
        return _empty_readings(), _empty_forecasts()
    tz = city.timezone
    t0 = start.tz_convert(tz).tz_localize(None)
    idx = pd.date_range(t0 + pd.Timedelta(minutes=5), t0 + pd.Timedelta(days=1), freq="5min")
    model = load_network(city.drainage_inp_path)
    gauges = list(model.gauges)
    storms = [e for e in events if isinstance(e, Storm)]
    rain = pd.DataFrame(0.0, index=idx, columns=gauges)
    gxy = _gauge_xy(city, gauges)
    for ev in storms:
        t = pd.Timestamp(ev.start).tz_convert(tz).tz_localize(None)
        hy = chicago(ev.p_years, ev.duration_min, ev.peak_r)
        rain += rain_field(hy, t, gxy, heading_deg=ev.heading_deg, index=idx)
    node_s = {
        r.sensor_id: r.element.split(":", 1)[1]
        for r in s.itertuples()
        if r.element.startswith("node:")
    }
    link_s = {
        r.sensor_id: r.element.split(":", 1)[1]
        for r in s.itertuples()
        if r.element.startswith("link:")
    }
    depth: dict[str, np.ndarray] = {}
    flow: dict[str, np.ndarray] = {}
    if storms:
        import tempfile
        from pathlib import Path

        from lifeline.drainage.model import SwmmRunner, write_run_copy
        from lifeline.drainage.ponding import FAST_OPTIONS

        with tempfile.TemporaryDirectory(prefix="lifeline-drill-swmm-") as tmp:
            inp = write_run_copy(model, Path(tmp), dict(FAST_OPTIONS))
            res = SwmmRunner(
                inp, gauges, sorted(set(node_s.values())), sorted(set(link_s.values()))
            ).run(t0, t0 + pd.Timedelta(days=1), rain, record_s=300)
        depth, flow = res.node_depth, res.link_flow
    n = len(idx)
    parts = []
    ts_utc = idx.tz_localize(tz).tz_convert("UTC")
    ts_all = ts_utc.insert(0, ts_utc[0] - pd.Timedelta(minutes=5))
    for r in s.itertuples():
        q = r.quantity
        if q == "rain_mm_h":
            g = r.element.split(":", 1)[1]
            mm = rain[g].to_numpy() * 5 / 60 if g in rain else np.zeros(n)
            tips = np.floor(np.cumsum(mm) / 0.2)
            v = np.asarray(np.diff(np.concatenate([[0.0], tips])) * 0.2 * 12, float)  # bucket tips
        elif q in ("level_m", "depth_m"):
            node = r.element.split(":", 1)[1]
            d = depth.get(node, np.zeros(n))
            if q == "depth_m":
                v = np.round(np.asarray(model.ponding_m(node, d)), 2)
            else:
                v = np.round(
                    np.maximum(np.asarray(d, float) + rng.normal(0.0, 0.005, n) + 0.01, 0.0), 3
                )
        elif q == "pump_on":
            v = (np.abs(flow.get(r.element.split(":", 1)[1], np.zeros(n))) > 1e-4).astype(float)
        elif q == "flow_m3s":
            f = flow.get(r.element.split(":", 1)[1], np.zeros(n))
            v = np.round(f * (1 + rng.normal(0.0, 0.05, n)), 4)
        else:
            continue
        # the state at midnight (the run's start) opens the day: no rain yet, the initial level
        v = np.concatenate([[0.0 if q == "rain_mm_h" else float(v[0])], v])
        step = max(1, int(r.interval_s or 300) // 300)
        parts.append(
            pd.DataFrame({"sensor_id": r.sensor_id, "ts": ts_all[::step], "value": v[::step]})
        )
    readings = pd.concat(parts, ignore_index=True) if parts else _empty_readings()
    readings = readings[readings.ts < start + pd.Timedelta(days=1)].reset_index(drop=True)
    fc_rows = []
    seed = int(rng.integers(0, 2**31 - 1))
    for issued, w in nowcasts(rain, seed=seed).items():
        long = w.stack().rename("rain_mm_h").reset_index()
        long.columns = ["ts", "gauge_id", "rain_mm_h"]
        long["issued_at"] = issued
        fc_rows.append(long)
    if not fc_rows:
        return readings, _empty_forecasts()
    fc = pd.concat(fc_rows, ignore_index=True)
    for c in ("ts", "issued_at"):
        fc[c] = pd.DatetimeIndex(fc[c]).tz_localize(tz).tz_convert("UTC")
    fc = fc[(fc.issued_at >= start) & (fc.issued_at < start + pd.Timedelta(days=1))]
    return readings, fc[["issued_at", "ts", "gauge_id", "rain_mm_h"]].reset_index(drop=True)


def _empty_readings() -> pd.DataFrame:
    return pd.DataFrame({"sensor_id": [], "ts": pd.to_datetime([], utc=True), "value": []})


def _empty_forecasts() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "issued_at": pd.to_datetime([], utc=True),
            "ts": pd.to_datetime([], utc=True),
            "gauge_id": pd.Series([], dtype=str),
            "rain_mm_h": pd.Series([], dtype=float),
        }
    )
