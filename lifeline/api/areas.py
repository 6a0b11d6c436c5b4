"""Isolation areas of incidents for the map: which assets an incident puts out of service.

:func:`lifeline.respond.areas.isolation_area` is computed when an incident is assessed and
kept in its plan (``plan["isolation_area"]``). :func:`incident_areas` turns the active
incidents' areas into lon/lat lines, points and an outline for the dashboard's big-screen view.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.api.geo import ACTIVE_STATES, _line_coords, to_lonlat

if TYPE_CHECKING:
    from lifeline.api.context import ApiContext

log = logging.getLogger(__name__)

#: margin (m) around an area's assets for its outline
OUTLINE_MARGIN_M = 25.0


def _outline(xy: np.ndarray, crs: str) -> list[list[float]] | None:
    """Convex hull of points (city metres in ``crs``) widened by :data:`OUTLINE_MARGIN_M`, as a
    lon/lat ring."""
    if len(xy) == 0:
        return None
    from shapely.geometry import MultiPoint

    hull = MultiPoint([tuple(p) for p in xy]).convex_hull.buffer(OUTLINE_MARGIN_M, quad_segs=4)
    ring = np.asarray(hull.exterior.coords)
    lon, lat = to_lonlat(ring[:, 0], ring[:, 1], crs)
    return [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]


def incident_areas(ctx: ApiContext, incidents: list[Any]) -> list[dict[str, Any]]:
    """For each active incident with an isolation area: ``{"incident_id", "grade", "utility",
    "kind", "state", "lines": [lon/lat polylines], "points": [[lon, lat]], "outline": ring}``.
    Cached per incident and update time."""
    active = [
        i
        for i in incidents
        if i.state in ACTIVE_STATES and (i.plan or {}).get("isolation_area", {}).get("assets")
    ]
    if not active:
        return []
    out: list[dict[str, Any]] = []
    assets: pd.DataFrame | None = None
    for inc in active:
        key, stamp = ("area", inc.incident_id), (str(inc.updated_at), inc.grade, inc.state)
        if ctx.cache.get(key, (None,))[0] != stamp:
            if assets is None:
                assets = ctx.store.read_table("asset").set_index("asset_id", drop=False)
            ids = [a for a in inc.plan["isolation_area"]["assets"] if a in assets.index]
            sel = assets.loc[ids]
            lines = [
                c for c in _line_coords(sel["geometry_wkt"].reset_index(drop=True), ctx.crs) if c
            ]
            is_line = (
                sel["geometry_wkt"].fillna("").astype(str).str.upper().str.startswith("LINESTRING")
            )
            pts = sel[~is_line.to_numpy()][["x_m", "y_m"]].dropna().to_numpy(float)
            plon, plat = to_lonlat(pts[:, 0], pts[:, 1], ctx.crs)
            xy = sel[["x_m", "y_m"]].dropna().to_numpy(float)
            ctx.cache[key] = (
                stamp,
                {
                    "incident_id": inc.incident_id,
                    "grade": inc.grade or "",
                    "utility": inc.utility,
                    "kind": inc.kind,
                    "state": inc.state,
                    "lines": lines,
                    "points": [
                        [round(float(a), 6), round(float(b), 6)]
                        for a, b in zip(plon, plat, strict=True)
                    ],
                    "outline": _outline(xy, ctx.crs),
                },
            )
        out.append(ctx.cache[key][1])
    return out
