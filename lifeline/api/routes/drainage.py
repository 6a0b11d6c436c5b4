"""Drainage: rainfall nowcasts into the live loop, and the waterlogging picture for the map.

* ``POST /api/forecasts`` (operator): ``{"issued_at", "rows": [{"ts", "gauge_id", "rain_mm_h"},
  …]}`` — one rainfall nowcast (times ISO 8601 with an offset, or the city's local time without
  one). Stored and handed to the engine (:mod:`lifeline.ingest.forecasts`).
* ``GET /api/drainage/points``: every waterlogging point with its threshold, the latest
  reading of its depth gauge (``observed``: the ponding now), the latest warning (level blue/yellow/orange/red, expected start and peak ponding, observed depth) and
  the predicted flood area (nodes predicted to pond, with depth), positions in WGS 84.
* ``GET /api/drainage/series?point_id=…``: rain (observed, gauge mean), the latest nowcast
  and the level / depth readings at a point, for the chart.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request

from lifeline.api.deps import Ctx, CurrentUser, Operator
from lifeline.errors import InputError, NotFoundError

router = APIRouter(prefix="/api", tags=["drainage"])


def _utc(v: Any, tz: str, where: str) -> pd.Timestamp:
    try:
        t = pd.Timestamp(v)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{v!r} is not an ISO 8601 time", where=where) from exc
    if t is pd.NaT:
        raise InputError(f"{v!r} is not an ISO 8601 time", where=where)
    return t.tz_localize(tz).tz_convert("UTC") if t.tzinfo is None else t.tz_convert("UTC")


@router.post("/forecasts", status_code=202, summary="A rainfall nowcast (operator)")
async def post_forecast(request: Request, user: Operator, ctx: Ctx) -> dict[str, Any]:
    """Store one nowcast and feed it to the live engine; returns ``{"stored", "rejected"}``."""
    from starlette.concurrency import run_in_threadpool

    from lifeline.ingest.forecasts import city_gauges, ingest_forecasts

    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise InputError(f"body is not JSON: {exc}", where="POST /api/forecasts") from exc
    if not isinstance(body, dict) or "issued_at" not in body or "rows" not in body:
        raise InputError('expected {"issued_at": …, "rows": [...]}', where="POST /api/forecasts")
    tz = ctx.timezone
    issued = _utc(body["issued_at"], tz, "issued_at")
    rows = []
    for i, r in enumerate(body["rows"]):
        if not isinstance(r, dict) or not {"ts", "gauge_id", "rain_mm_h"} <= set(r):
            raise InputError("each row needs ts, gauge_id, rain_mm_h", where=f"rows[{i}]")
        rows.append(
            {
                "issued_at": issued,
                "ts": _utc(r["ts"], tz, f"rows[{i}].ts"),
                "gauge_id": str(r["gauge_id"]),
                "rain_mm_h": r["rain_mm_h"],
            }
        )
    if not rows:
        return {"stored": 0, "rejected": {}}
    gauges = city_gauges(ctx.city) if ctx.city is not None else set()
    rep = await run_in_threadpool(
        ingest_forecasts,
        ctx.store,
        pd.DataFrame(rows),
        gauges,
        ctx.engine,
        f"http:{user.username}",
    )
    return {"stored": rep.stored, "rejected": rep.rejected}


def _points(ctx: Any) -> pd.DataFrame:
    city = ctx.city
    pts = getattr(city, "waterlogging_points", None)
    if city is None or pts is None or not len(pts):
        return pd.DataFrame(columns=["point_id", "node", "threshold_m", "name", "name_zh"])
    return pts


def _observed_depth(ctx: Any, pts: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Latest reading of the depth gauge (``depth_m``) at each point's node:
    ``{node: {"sensor_id", "ts", "value"}}`` (points without a gauge are left out)."""
    if not len(pts):
        return {}
    s = ctx.store.read_table("sensor")
    if not len(s):
        return {}
    nodes = {f"drainage:node:{n}": str(n) for n in pts.node.astype(str)}
    gauges = s[(s.quantity.astype(str) == "depth_m") & s.asset_id.astype(str).isin(list(nodes))]
    if gauges.empty:
        return {}
    latest = ctx.store.latest_readings(gauges.sensor_id.astype(str).tolist())
    node_of = dict(zip(gauges.sensor_id.astype(str), gauges.asset_id.astype(str), strict=True))
    out: dict[str, dict[str, Any]] = {}
    for r in latest.to_dict("records") if len(latest) else []:
        if r["value"] is None or r["value"] != r["value"]:
            continue
        out[nodes[node_of[str(r["sensor_id"])]]] = {
            "sensor_id": str(r["sensor_id"]),
            "ts": pd.Timestamp(r["ts"]).isoformat(),
            "value": round(float(r["value"]), 3),
        }
    return out


@router.get("/drainage/points", summary="Waterlogging points, warnings and flood areas")
def drainage_points(_: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """Points with their latest warning and observed depth; the predicted flood area."""
    from lifeline.api.geo import to_lonlat as to_wgs84

    pts = _points(ctx)
    alarms = ctx.store.list_alarms(utility="drainage")
    warn = alarms[alarms["detector"] == "drainage_warning"] if len(alarms) else alarms
    latest: dict[str, dict[str, Any]] = {}
    for r in warn.sort_values("updated_at").to_dict("records") if len(warn) else []:
        d = json.loads(r["detail"] or "{}")
        latest[str(d.get("point_id", ""))] = {**d, "state": r["state"], "alarm_id": r["alarm_id"]}
    assets = ctx.city.assets if ctx.city is not None else pd.DataFrame()
    xy = (
        {
            str(a): (float(x), float(y))
            for a, x, y in zip(assets.asset_id, assets.x_m, assets.y_m, strict=True)
        }
        if len(assets)
        else {}
    )
    crs = ctx.crs
    depth = _observed_depth(ctx, pts)
    out = []
    flood: dict[str, dict[str, Any]] = {}
    for p in pts.to_dict("records"):
        x, y = xy.get(f"drainage:node:{p['node']}", (float("nan"), float("nan")))
        lon, lat = to_wgs84([x], [y], crs) if x == x else ([None], [None])
        w = latest.get(str(p["point_id"]), {})
        out.append(
            {
                "point_id": p["point_id"],
                "node": p["node"],
                "name": p.get("name", ""),
                "name_zh": p.get("name_zh", ""),
                "threshold_m": float(p["threshold_m"]),
                "observed": depth.get(str(p["node"])),
                "lon": lon[0],
                "lat": lat[0],
                "warning": {
                    k: w.get(k)
                    for k in (
                        "warning_level",
                        "expected_start",
                        "expected_peak_m",
                        "observed_m",
                        "now_m",
                        "issued_at",
                        "state",
                        "alarm_id",
                    )
                }
                if w
                else None,
            }
        )
        if w.get("state") == "open":
            for f in w.get("flood_nodes", []):
                if f.get("x_m") is None:
                    continue
                if f["node"] not in flood or flood[f["node"]]["peak_m"] < f["peak_m"]:
                    lo, la = to_wgs84([f["x_m"]], [f["y_m"]], crs)
                    flood[f["node"]] = {
                        "node": f["node"],
                        "peak_m": f["peak_m"],
                        "lon": lo[0],
                        "lat": la[0],
                    }
    return {"points": out, "flood_area": sorted(flood.values(), key=lambda f: -f["peak_m"])}


@router.get("/drainage/series", summary="Rain, nowcast and level at a waterlogging point")
def drainage_series(_: CurrentUser, ctx: Ctx, point_id: str, hours: float = 6.0) -> dict[str, Any]:
    """``{"rain": [[ts, mm/h]], "forecast": [[ts, mm/h]], "issued_at", "levels": {sensor:
    [[ts, m]]}, "threshold_m"}`` over the last ``hours`` of event time (gauge means)."""
    pts = _points(ctx)
    hit = pts[pts.point_id.astype(str) == point_id]
    if hit.empty:
        raise NotFoundError(f"no waterlogging point {point_id!r}", where="point_id")
    node = str(hit.node.iloc[0])
    s = ctx.store.read_table("sensor")
    dr = s[s.utility.astype(str) == "drainage"]
    rain_ids = dr[dr.quantity.astype(str) == "rain_mm_h"].sensor_id.astype(str).tolist()
    at_point = dr[
        dr.quantity.astype(str).isin(["level_m", "depth_m"])
        & (dr.asset_id.astype(str) == f"drainage:node:{node}")
    ]
    ids = rain_ids + at_point.sensor_id.astype(str).tolist()
    latest = ctx.store.latest_readings(ids)
    if latest.empty:
        return {"rain": [], "forecast": [], "levels": {}, "threshold_m": float(hit.threshold_m)}
    end = pd.Timestamp(latest["ts"].max())
    r = ctx.store.read_readings(ids, end - pd.Timedelta(hours=hours), None)

    def pairs(df: pd.DataFrame) -> list[list[Any]]:
        return [[t.isoformat(), round(float(v), 3)] for t, v in zip(df.ts, df.value, strict=True)]

    rain = r[r.sensor_id.astype(str).isin(rain_ids)].groupby("ts", as_index=False)["value"].mean()
    levels = {
        sid: pairs(r[r.sensor_id.astype(str) == sid].sort_values("ts"))
        for sid in at_point.sensor_id.astype(str)
    }
    fc = ctx.store.list_forecasts(since=end - pd.Timedelta(hours=hours))
    fc_out: list[list[Any]] = []
    issued = None
    if len(fc):
        issued = fc.issued_at.max()
        last = fc[fc.issued_at == issued].groupby("ts", as_index=False)["rain_mm_h"].mean()
        fc_out = [
            [t.isoformat(), round(float(v), 2)]
            for t, v in zip(last.ts, last.rain_mm_h, strict=True)
        ]
    return {
        "rain": pairs(rain),
        "forecast": fc_out,
        "issued_at": issued.isoformat() if issued is not None else None,
        "levels": levels,
        "threshold_m": float(hit.threshold_m.iloc[0]),
    }
