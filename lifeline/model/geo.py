"""Coordinates: every city keeps its assets in its own projected CRS (metres, the city package's
``crs``); the web map wants WGS84 longitude/latitude. Transforms go through pyproj.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import numpy as np

WGS84 = "EPSG:4326"


@lru_cache(maxsize=16)
def _transformer(src: str, dst: str) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(src, dst, always_xy=True)


def check_crs(crs: str) -> str:
    """The CRS's name if pyproj knows ``crs`` and it is projected in metres; else ValueError
    with the reason (unknown code, geographic degrees, other units)."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        c = CRS.from_user_input(crs)
    except CRSError as exc:
        raise ValueError(f"unknown CRS {crs!r} ({exc})") from exc
    if not c.is_projected:
        raise ValueError(f"CRS {crs!r} ({c.name}) is not projected: coordinates must be in metres")
    units = {a.unit_name for a in c.axis_info}
    if not units <= {"metre", "meter"}:
        raise ValueError(f"CRS {crs!r} ({c.name}) has axis units {sorted(units)}, not metres")
    return str(c.name)


def epsg_code(crs: str) -> int | None:
    """The EPSG code of ``crs`` (e.g. 32648 for ``EPSG:32648``); None when it has none."""
    from pyproj import CRS

    code = CRS.from_user_input(crs).to_epsg()
    return int(code) if code is not None else None


def transform(x: Any, y: Any, src: str, dst: str) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinate arrays ``x``, ``y`` from CRS ``src`` to ``dst`` (x/east first)."""
    tx, ty = _transformer(src, dst).transform(
        np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    )
    return np.asarray(tx), np.asarray(ty)


def to_lonlat(x_m: Any, y_m: Any, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """City metres in ``crs`` to WGS84 longitude/latitude in degrees."""
    return transform(x_m, y_m, crs, WGS84)


def from_lonlat(lon: Any, lat: Any, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude in degrees to city metres in ``crs``."""
    return transform(lon, lat, WGS84, crs)


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
