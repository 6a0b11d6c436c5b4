"""GeoJSON for the dashboard: network layers per utility and the live state overlay.

Assets are stored in the city's CRS (metres, ``x_m``/``y_m`` and ``geometry_wkt``; the API
context's ``crs``, set from the city package); the web map wants WGS84 lon/lat, so everything is
reprojected here with pyproj. Every conversion takes the CRS it converts from or to.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.model.geo import WGS84, transform
from lifeline.model.geo import from_lonlat as _from_lonlat
from lifeline.model.geo import to_lonlat as _to_lonlat

if TYPE_CHECKING:
    from lifeline.api.context import ApiContext

__all__ = [
    "ACTIVE_STATES",
    "WGS84",
    "assets_geojson",
    "dumps",
    "extent",
    "from_lonlat",
    "incident_overlay",
    "network_layer",
    "sensors_geojson",
    "to_lonlat",
]

#: the demo town's time zone (Schutterwald, Germany): the API keeps UTC, the dashboard shows
#: local time in the served city's zone (``ApiContext.timezone``); this is the fallback
CITY_TIMEZONE = "Europe/Berlin"
#: incident states in which its isolation, hazard zone and crews are shown on the map
ACTIVE_STATES = ("detected", "confirmed", "dispatched", "on_site", "isolated", "repaired")


def to_lonlat(x_m: Any, y_m: Any, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """City metres in ``crs`` → WGS84 (lon, lat) degrees."""
    return _to_lonlat(x_m, y_m, crs)


def from_lonlat(lon: Any, lat: Any, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 (lon, lat) degrees → city metres in ``crs``."""
    return _from_lonlat(lon, lat, crs)


def extent(assets: pd.DataFrame, crs: str) -> dict[str, Any]:
    """The map's view of a city's assets in lon/lat: ``bbox`` of every asset, ``focus_bbox``
    (1–99 % quantiles of the water and gas networks, where the city lives; long rural power
    feeders would otherwise shrink it on the screen) and its ``center`` [lon, lat]."""
    out: dict[str, Any] = {"bbox": None, "focus_bbox": None, "center": None}
    xy = assets[["x_m", "y_m"]].dropna()
    if not len(xy):
        return out
    lon, lat = to_lonlat(xy["x_m"].to_numpy(), xy["y_m"].to_numpy(), crs)
    out["bbox"] = [float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())]
    core = assets[assets["utility"].isin(["water", "gas"])][["x_m", "y_m"]].dropna()
    core = core if len(core) else xy
    clon, clat = to_lonlat(core["x_m"].to_numpy(), core["y_m"].to_numpy(), crs)
    fb = [
        float(np.quantile(clon, 0.01)),
        float(np.quantile(clat, 0.01)),
        float(np.quantile(clon, 0.99)),
        float(np.quantile(clat, 0.99)),
    ]
    out["focus_bbox"] = fb
    out["center"] = [round((fb[0] + fb[2]) / 2, 6), round((fb[1] + fb[3]) / 2, 6)]
    return out


def _clean(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(float(v)) else round(float(v), 4)
    if isinstance(v, np.integer):
        return int(v)
    return v


def _line_coords(wkts: pd.Series, crs: str) -> list[list[list[float]] | None]:
    """LINESTRING WKT (metres in ``crs``) → lists of [lon, lat]; None where not a line."""
    import shapely

    out: list[list[list[float]] | None] = [None] * len(wkts)
    is_line = (
        wkts.fillna("").astype(str).str.upper().str.startswith(("LINESTRING", "MULTILINESTRING"))
    )
    idx = np.flatnonzero(is_line.to_numpy())
    if len(idx) == 0:
        return out
    geoms = shapely.from_wkt(wkts.iloc[idx].astype(str).to_numpy(), on_invalid="ignore")
    for k, g in zip(idx, geoms, strict=True):
        if g is None or g.is_empty:
            continue
        if g.geom_type == "MultiLineString":
            g = max(g.geoms, key=lambda p: p.length)
        xy = np.asarray(g.coords)[:, :2]
        lon, lat = transform(xy[:, 0], xy[:, 1], crs, WGS84)
        out[k] = [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]
    return out


def assets_geojson(assets: pd.DataFrame, crs: str) -> dict[str, Any]:
    """A FeatureCollection of ``assets`` (metres in ``crs``) in lon/lat (LineString where
    ``geometry_wkt`` is a line, else Point)."""
    a = assets.reset_index(drop=True)
    lines = _line_coords(a["geometry_wkt"], crs) if len(a) else []
    lon, lat = (
        to_lonlat(a["x_m"].to_numpy(float), a["y_m"].to_numpy(float), crs)
        if len(a)
        else (np.array([]), np.array([]))
    )
    props = [
        "asset_id",
        "utility",
        "kind",
        "name",
        "zone_id",
        "district_id",
        "diameter_m",
        "length_m",
        "material",
    ]
    feats = []
    recs = a[props].to_dict("records")
    for i, p in enumerate(recs):
        if lines[i] is not None:
            geom: dict[str, Any] = {"type": "LineString", "coordinates": lines[i]}
        elif math.isfinite(lon[i]) and math.isfinite(lat[i]):
            geom = {
                "type": "Point",
                "coordinates": [round(float(lon[i]), 6), round(float(lat[i]), 6)],
            }
        else:
            continue
        feats.append(
            {
                "type": "Feature",
                "id": p["asset_id"],
                "geometry": geom,
                "properties": {k: _clean(v) for k, v in p.items()},
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def sensors_geojson(
    sensors: pd.DataFrame, latest: pd.DataFrame, in_alarm: set[str], crs: str
) -> dict[str, Any]:
    """Sensors (metres in ``crs``) as lon/lat Points with their latest value, its position in
    the valid range (0–1) and whether the sensor is in a recent alarm."""
    s = sensors.reset_index(drop=True)
    lv = latest.set_index("sensor_id") if len(latest) else pd.DataFrame(columns=["ts", "value"])
    lon, lat = (
        to_lonlat(s["x_m"].to_numpy(float), s["y_m"].to_numpy(float), crs)
        if len(s)
        else (np.array([]), np.array([]))
    )
    feats = []
    for i, r in enumerate(s.to_dict("records")):
        if not (math.isfinite(lon[i]) and math.isfinite(lat[i])):
            continue
        sid = str(r["sensor_id"])
        val = lv["value"].get(sid) if sid in lv.index else None
        ts = lv["ts"].get(sid) if sid in lv.index else None
        lo, hi = _clean(r.get("valid_min")), _clean(r.get("valid_max"))
        frac = None
        if val is not None and lo is not None and hi is not None and hi > lo:
            frac = round(min(max((float(val) - lo) / (hi - lo), 0.0), 1.0), 3)
        feats.append(
            {
                "type": "Feature",
                "id": sid,
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(lon[i]), 6), round(float(lat[i]), 6)],
                },
                "properties": {
                    "sensor_id": sid,
                    "asset_id": _clean(r.get("asset_id")),
                    "utility": _clean(r.get("utility")),
                    "quantity": _clean(r.get("quantity")),
                    "unit": _clean(r.get("unit")),
                    "value": _clean(val),
                    "ts": pd.Timestamp(ts).isoformat()
                    if ts is not None and not pd.isna(ts)
                    else None,
                    "range_frac": frac,
                    "in_alarm": sid in in_alarm,
                },
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def _pt(x: Any, y: Any, crs: str) -> list[float] | None:
    try:
        xf, yf = float(x), float(y)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(xf) and math.isfinite(yf)):
        return None
    lon, lat = to_lonlat([xf], [yf], crs)
    return [round(float(lon[0]), 6), round(float(lat[0]), 6)]


def _op(inc: Any, o: dict[str, Any], crs: str) -> dict[str, Any]:
    return {
        "incident_id": inc.incident_id,
        "grade": inc.grade or "",
        "asset_id": o.get("asset_id"),
        "operation": o.get("operation"),
        "utility": o.get("utility"),
        "position": _pt(o.get("x_m"), o.get("y_m"), crs),
    }


def incident_overlay(
    incidents: list[Any], crew_xy: dict[str, tuple[float, float]] | None, crs: str
) -> dict[str, Any]:
    """Isolated / de-energised assets (with their position), hazard zones and crews of the
    active incidents, in lon/lat (from metres in ``crs``). A crew is drawn at its depot
    (``crew_xy``, city metres) until the incident is on site, then at the incident."""
    isolated: list[dict[str, Any]] = []
    hazards: list[dict[str, Any]] = []
    crews: list[dict[str, Any]] = []
    for inc in incidents:
        if inc.state not in ACTIVE_STATES:
            continue
        ops = [o for p in inc.plan.get("plans", []) for o in (p.get("operations") or [])]
        ops += [a["operation"] for a in inc.actions if isinstance(a.get("operation"), dict)]
        seen: set[str] = set()
        for o in ops:
            if o.get("asset_id") and o["asset_id"] not in seen:
                seen.add(o["asset_id"])
                isolated.append(_op(inc, o, crs))
        zones = [p.get("hazard") for p in inc.plan.get("plans", [])]
        zones += [a.get("zone") for a in inc.actions]
        for z in zones:
            if isinstance(z, dict) and _pt(z.get("x_m"), z.get("y_m"), crs):
                hazards.append(
                    {
                        "incident_id": inc.incident_id,
                        "grade": inc.grade or "",
                        "center": _pt(z["x_m"], z["y_m"], crs),
                        "radius_m": float(z.get("radius_m") or 0),
                    }
                )
                break
        for a in inc.actions:
            c = a.get("crew")
            if not isinstance(c, dict):
                continue
            on_site = inc.state in ("on_site", "isolated", "repaired")
            depot = (crew_xy or {}).get(str(c.get("crew_id")))
            pos = _pt(inc.x_m, inc.y_m, crs) if on_site else (_pt(*depot, crs) if depot else None)
            crews.append(
                {
                    "incident_id": inc.incident_id,
                    "crew_id": c.get("crew_id"),
                    "eta_min": _clean(c.get("eta_min")),
                    "position": pos,
                    "dispatched": inc.state not in ("detected", "confirmed"),
                    "on_site": on_site,
                }
            )
    return {"isolated": isolated, "hazards": hazards, "crews": crews}


def network_layer(ctx: ApiContext, utility: str, district_id: str | None = None) -> dict[str, Any]:
    """The cached GeoJSON of one utility's assets (optionally one district's)."""
    key = ("net", utility, district_id, ctx.ref_version(), ctx.crs)
    if key in ctx.cache:
        return ctx.cache[key]  # type: ignore[no-any-return]
    a = ctx.store.read_table("asset")
    a = a[a["utility"] == utility]
    if district_id:
        a = a[a["district_id"] == district_id]
    gj = assets_geojson(a, ctx.crs)
    ctx.cache[key] = gj
    return gj


def dumps(obj: Any) -> str:
    """Compact JSON."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)
