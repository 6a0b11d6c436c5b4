"""Coordinate reference systems of the demo town and helpers to move between them.

The town lives in ETRS89 / UTM zone 32N (EPSG:25832, metres). Sources come in WGS84 lon/lat
(pandapower GeoJSON, EPSG:4326) and Gauss-Krüger zone 3 (pandapipes, EPSG:31467); the web
wants lon/lat again.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from lifeline.model.geo import WGS84, line_coords, point_xy, transform, wkt_line, wkt_point

__all__ = [
    "GK3",
    "TOWN_CRS",
    "from_lonlat",
    "geojson_to_town",
    "line_coords",
    "point_xy",
    "transform",
    "wkt_line",
    "wkt_point",
]

TOWN_CRS = "EPSG:25832"
GK3 = "EPSG:31467"


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
