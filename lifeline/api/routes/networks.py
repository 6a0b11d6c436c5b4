"""GeoJSON layers of the networks (lon/lat, from the city's CRS) and the live state."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi import APIRouter, Response

from lifeline.api import incident_ops as ops
from lifeline.api.areas import incident_areas
from lifeline.api.deps import Ctx, CurrentUser
from lifeline.api.geo import dumps, extent, incident_overlay, network_layer, sensors_geojson
from lifeline.errors import NotFoundError

router = APIRouter(prefix="/api/networks", tags=["networks"])

UTILS = ("water", "power", "gas", "drainage")


@router.get(
    "",
    summary="Utilities with asset counts per kind; the city's name, CRS and time zone; the map's "
    "extent and centre (lon/lat)",
)
def networks(user: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """``timezone`` is the IANA zone the dashboard shows local times in (timestamps in the API
    stay UTC); ``center`` is the middle of ``focus_bbox`` (the town, without long rural feeders)."""
    a = ctx.store.read_table("asset")
    if user.district_id:
        a = a[a["district_id"] == user.district_id]
    out: dict[str, Any] = {
        "utilities": {},
        "crs": ctx.crs,
        "timezone": ctx.timezone,
        "bbox": None,
        "focus_bbox": None,
        "center": None,
        "tile_url": ctx.tile_url,
        "city": None,
    }
    for u, g in a.groupby("utility"):
        out["utilities"][str(u)] = {str(k): int(v) for k, v in g["kind"].value_counts().items()}
    out.update(extent(a, ctx.crs))
    d = ctx.store.read_table("district")
    city = d[d["level"] == "city"]
    if len(city):
        out["city"] = {
            k: (None if pd.isna(city.iloc[0][k]) else str(city.iloc[0][k]))
            for k in ("district_id", "name", "name_zh")
        }
    out["districts"] = (
        d[["district_id", "name", "name_zh"]]
        .astype(object)
        .where(d[["district_id", "name", "name_zh"]].notna(), None)
        .to_dict("records")
    )
    return out


@router.get(
    "/state",
    summary="Live overlay: sensors (latest value, alarm), isolated assets, hazard zones, crews",
)
def state(user: CurrentUser, ctx: Ctx, alarm_window_h: float = 6.0) -> Response:
    s = ctx.store.read_table("sensor")
    if user.district_id:
        sd = ctx.sensor_districts()
        s = s[s["sensor_id"].astype(str).map(sd) == user.district_id]
    latest = ctx.store.latest_readings()
    al = ctx.store.list_alarms()
    in_alarm: set[str] = set()
    if len(al):
        cutoff = al["ts"].max() - pd.Timedelta(hours=alarm_window_h)
        from lifeline.api.context import _json_list

        for v in al.loc[al["ts"] >= cutoff, "sensors"]:
            in_alarm.update(str(x) for x in _json_list(v))
    incs = ops.list_frame(ctx, district=user.district_id)
    crew_xy: dict[str, tuple[float, float]] = {}
    if ctx.crews is not None:
        cr = ctx.crews.crews
        crew_xy = {
            str(c): (float(x), float(y))
            for c, x, y in zip(cr["crew_id"], cr["x_m"], cr["y_m"], strict=True)
        }
    overlay = incident_overlay(incs, crew_xy, ctx.crs)
    overlay["areas"] = incident_areas(ctx, incs)
    overlay["sensors"] = sensors_geojson(s, latest, in_alarm, ctx.crs)
    overlay["incidents"] = [
        ops.summary(i, ctx.crs) for i in incs if i.state not in ("closed", "reviewed")
    ]
    return Response(dumps(overlay), media_type="application/json")


@router.get("/{utility}", summary="One utility's assets as a GeoJSON FeatureCollection (lon/lat)")
def layer(
    utility: str,
    user: CurrentUser,
    ctx: Ctx,
    exclude_kinds: str = "",
) -> Response:
    """``exclude_kinds`` (comma-separated, e.g. ``junction,bus,load``) leaves kinds out."""
    known = set(ctx.store.read_table("asset")["utility"].dropna().astype(str)) | set(UTILS)
    if utility not in known:
        raise NotFoundError(
            f"no network {utility!r}; networks are {', '.join(sorted(known))}", where="utility"
        )
    gj = network_layer(ctx, utility, user.district_id)
    skip = {k for k in exclude_kinds.split(",") if k}
    if skip:
        gj = {**gj, "features": [f for f in gj["features"] if f["properties"]["kind"] not in skip]}
    return Response(dumps(gj), media_type="application/geo+json")
