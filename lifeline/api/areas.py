"""Isolation areas of incidents for the map: which assets an incident puts out of service.

:func:`isolation_area` is computed when an incident is assessed and kept in its plan
(``plan["isolation_area"]``): for water the pipes of the isolated segment (the WNTR isolation
the plan's valve operations come from), for gas the pipes the shut-off isolates, for power the
faulted line and the buses without supply (or, for a low-voltage outage, the reporting
customers' loads) — from the response adapters. :func:`incident_areas` turns the active
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


def isolation_area(ctx: ApiContext, inc: Any) -> dict[str, Any] | None:
    """``{"utility", "assets": [asset ids], "method"}`` of what ``inc`` isolates or leaves
    without supply, from the attached response adapters; None when no adapter can say."""
    from lifeline.respond.adapters import has

    ad: Any = ctx.adapters.get(inc.utility)
    if ad is None or inc.x_m is None or inc.y_m is None:
        return None
    try:
        iso = getattr(ad, "_iso", None)  # water: the segment behind the valve operations
        if inc.utility == "water" and callable(iso):
            seg = iso(inc).get("segment") or {}
            ids = [f"water:pipe:{p}" for p in seg.get("pipes", [])]
            return {"utility": "water", "assets": ids, "method": "isolated segment (WNTR)"}
        if has(ad, "affected_assets"):
            ids = [str(a) for a in ad.affected_assets(inc)]
            return {"utility": inc.utility, "assets": ids, "method": "adapter affected assets"}
    except Exception as exc:  # the map is a view: an area that cannot be computed is left out
        log.warning("isolation area of %s: %s", inc.incident_id, exc)
    return None


def _outline(xy: np.ndarray) -> list[list[float]] | None:
    """Convex hull of points (town metres) widened by :data:`OUTLINE_MARGIN_M`, as a lon/lat ring."""
    if len(xy) == 0:
        return None
    from shapely.geometry import MultiPoint

    hull = MultiPoint([tuple(p) for p in xy]).convex_hull.buffer(OUTLINE_MARGIN_M, quad_segs=4)
    ring = np.asarray(hull.exterior.coords)
    lon, lat = to_lonlat(ring[:, 0], ring[:, 1])
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
            lines = [c for c in _line_coords(sel["geometry_wkt"].reset_index(drop=True)) if c]
            is_line = (
                sel["geometry_wkt"].fillna("").astype(str).str.upper().str.startswith("LINESTRING")
            )
            pts = sel[~is_line.to_numpy()][["x_m", "y_m"]].dropna().to_numpy(float)
            plon, plat = to_lonlat(pts[:, 0], pts[:, 1])
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
                    "outline": _outline(xy),
                },
            )
        out.append(ctx.cache[key][1])
    return out
