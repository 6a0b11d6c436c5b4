"""Coordinate reference systems of the demo town and helpers to move between them.

The town lives in ETRS89 / UTM zone 32N (EPSG:25832, metres). Sources come in WGS84 lon/lat
(pandapower GeoJSON, EPSG:4326) and Gauss-Krüger zone 3 (pandapipes, EPSG:31467); the web
wants lon/lat again.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np

TOWN_CRS = "EPSG:25832"
WGS84 = "EPSG:4326"
GK3 = "EPSG:31467"


@lru_cache(maxsize=8)
def _transformer(src: str, dst: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def transform(x: Any, y: Any, src: str, dst: str) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinate arrays ``x``, ``y`` from CRS ``src`` to ``dst`` (axis order x/east first)."""
    tx, ty = _transformer(src, dst).transform(
        np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    )
    return np.asarray(tx), np.asarray(ty)


def to_lonlat(x_m: Any, y_m: Any) -> tuple[np.ndarray, np.ndarray]:
    """Town metres (EPSG:25832) to WGS84 longitude/latitude in degrees, e.g. for the web map."""
    return transform(x_m, y_m, TOWN_CRS, WGS84)


def from_lonlat(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude in degrees to town metres (EPSG:25832)."""
    return transform(lon, lat, WGS84, TOWN_CRS)


def geojson_to_town(geo: str | None) -> str | None:
    """Reproject one pandapower GeoJSON string (Point or LineString, lon/lat) to town metres."""
    if not isinstance(geo, str):
        return geo
    g = json.loads(geo)
    if g["type"] == "Point":
        x, y = from_lonlat([g["coordinates"][0]], [g["coordinates"][1]])
        g["coordinates"] = [round(float(x[0]), 3), round(float(y[0]), 3)]
    else:
        c = np.asarray(g["coordinates"], dtype=float)
        x, y = from_lonlat(c[:, 0], c[:, 1])
        g["coordinates"] = [
            [round(float(a), 3), round(float(b), 3)] for a, b in zip(x, y, strict=True)
        ]
    return json.dumps(g)


def point_xy(geo: str | None) -> tuple[float, float]:
    """(x, y) of a GeoJSON Point string; NaNs when missing."""
    if not isinstance(geo, str):
        return (float("nan"), float("nan"))
    c = json.loads(geo)["coordinates"]
    return (float(c[0]), float(c[1]))


def line_coords(geo: str | None) -> list[list[float]] | None:
    """Coordinates of a GeoJSON LineString string, or None."""
    if not isinstance(geo, str):
        return None
    return json.loads(geo)["coordinates"]  # type: ignore[no-any-return]


def wkt_point(x: float, y: float) -> str:
    """WKT of a point (metres)."""
    return f"POINT ({x:.2f} {y:.2f})"


def wkt_line(coords: Any) -> str:
    """WKT of a line string from a sequence of (x, y) pairs (metres)."""
    return "LINESTRING (" + ", ".join(f"{float(a):.2f} {float(b):.2f}" for a, b in coords) + ")"
