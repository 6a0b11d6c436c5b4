"""Map data for the dashboard: the street graph as an offline base map, and a search over
addresses, streets and asset ids.

The streets are the graph crews drive on (:class:`lifeline.respond.crews.StreetGraph`): the one
attached to the API for dispatch, else one derived from the gas mains of the asset table
(:func:`lifeline.respond.crews.street_graph_from_pipes`), which follow the streets. An edge
carries a street name when the graph's edge table has a ``name`` column (a city with street
names); the demo town has none. Everything leaves the API in WGS84 lon/lat.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.api.geo import to_lonlat

if TYPE_CHECKING:
    from lifeline.api.context import ApiContext

#: what the search looks in, in this order of preference for equal matches
SEARCH_TYPES = ("district", "street", "customer", "sensor", "asset")
#: asset kinds too numerous and anonymous to search by name (found by id only)
_QUIET_KINDS = ("junction", "bus", "sink", "load", "sgen")
#: a dead-end street-graph edge shorter than this (m) is a house connection, not a street
SERVICE_MAX_M = 40.0


def _street_graph(ctx: ApiContext) -> Any:
    """The crews' street graph, or one derived from the stored gas mains (None without)."""
    graph = getattr(ctx.crews, "graph", None)
    if graph is not None:
        return graph
    from lifeline.respond.crews import street_graph_from_pipes

    a = ctx.store.read_table("asset")
    if not ((a["utility"] == "gas") & (a["kind"] == "pipe")).any():
        return None
    try:
        return street_graph_from_pipes(a)
    except Exception:  # no usable pipe geometry: no base map, the rest of the map still works
        return None


def streets_geojson(ctx: ApiContext) -> dict[str, Any]:
    """The street graph as a GeoJSON FeatureCollection of LineStrings (lon/lat), consecutive
    edges merged into polylines; ``properties.name`` is the street name where known."""
    key = ("streets", ctx.ref_version(), id(getattr(ctx.crews, "graph", None)))
    if key in ctx.cache:
        return ctx.cache[key]  # type: ignore[no-any-return]
    import shapely
    from shapely.geometry import LineString, MultiLineString

    g = _street_graph(ctx)
    feats: list[dict[str, Any]] = []
    if g is not None and len(g.edges):
        pos = {
            str(n): (float(x), float(y))
            for n, x, y in zip(g.nodes["node"], g.nodes["x_m"], g.nodes["y_m"], strict=True)
        }
        names = (
            g.edges["name"].astype(object).where(g.edges["name"].notna(), None)
            if "name" in g.edges.columns
            else pd.Series([None] * len(g.edges), index=g.edges.index)
        )
        uu, vv = g.edges["u"].astype(str), g.edges["v"].astype(str)
        degree = pd.concat([uu, vv]).value_counts()
        length = pd.to_numeric(g.edges["length_m"], errors="coerce").fillna(0.0)
        leaf = (uu.map(degree) == 1) | (vv.map(degree) == 1)
        keep = ~(leaf & (length < SERVICE_MAX_M))
        by_name: dict[Any, list[LineString]] = {}
        for u, v, name, ok in zip(uu, vv, names, keep, strict=True):
            a, b = pos.get(u), pos.get(v)
            if not ok or a is None or b is None or a == b:
                continue
            by_name.setdefault(name or None, []).append(LineString([a, b]))
        for name, lines in by_name.items():
            merged = shapely.line_merge(MultiLineString(lines))
            parts = list(merged.geoms) if hasattr(merged, "geoms") else [merged]
            for part in parts:
                xy = np.asarray(part.coords)[:, :2]
                lon, lat = to_lonlat(xy[:, 0], xy[:, 1], ctx.crs)
                coords = [
                    [round(float(x), 6), round(float(y), 6)] for x, y in zip(lon, lat, strict=True)
                ]
                feats.append(
                    {
                        "type": "Feature",
                        "geometry": {"type": "LineString", "coordinates": coords},
                        "properties": {"name": name, "length_m": round(float(part.length), 1)},
                    }
                )
    gj = {"type": "FeatureCollection", "features": feats}
    ctx.cache[key] = gj
    return gj


def _index(ctx: ApiContext) -> pd.DataFrame:
    """One row per searchable thing: type, id, label, text (lower-case haystack), kind,
    utility, district_id, x_m, y_m (cached per reference-table version)."""
    key = ("search-index", ctx.ref_version())
    if key in ctx.cache:
        return ctx.cache[key]  # type: ignore[no-any-return]
    parts: list[pd.DataFrame] = []

    def add(
        kind: str,
        df: pd.DataFrame,
        ident: str,
        label: pd.Series,
        text: pd.Series,
        sub: pd.Series,
        utility: pd.Series | None = None,
    ) -> None:
        if df.empty:
            return
        parts.append(
            pd.DataFrame(
                {
                    "type": kind,
                    "id": df[ident].astype(str).to_numpy(),
                    "label": label.astype(str).to_numpy(),
                    "text": text.fillna("").astype(str).str.lower().to_numpy(),
                    "kind": sub.fillna("").astype(str).to_numpy(),
                    "utility": (utility if utility is not None else pd.Series([""] * len(df)))
                    .fillna("")
                    .astype(str)
                    .to_numpy(),
                    "district_id": df.get("district_id", pd.Series([None] * len(df)))
                    .astype(object)
                    .to_numpy(),
                    "x_m": pd.to_numeric(df["x_m"], errors="coerce").to_numpy(float),
                    "y_m": pd.to_numeric(df["y_m"], errors="coerce").to_numpy(float),
                }
            )
        )

    d = ctx.store.read_table("district")
    if len(d):
        import shapely

        geoms = shapely.from_wkt(d["geometry_wkt"].fillna("").astype(str), on_invalid="ignore")
        cx = [g.centroid.x if g is not None and not g.is_empty else math.nan for g in geoms]
        cy = [g.centroid.y if g is not None and not g.is_empty else math.nan for g in geoms]
        d = d.assign(x_m=cx, y_m=cy)
        add(
            "district",
            d,
            "district_id",
            d["name"].fillna(d["district_id"]),
            d["district_id"] + " " + d["name"].fillna("") + " " + d["name_zh"].fillna(""),
            d["level"],
        )
    c = ctx.store.read_table("customer")
    if len(c):
        add(
            "customer",
            c,
            "customer_id",
            c["name"].fillna(c["customer_id"]),
            c["customer_id"] + " " + c["name"].fillna("") + " " + c["address"].fillna(""),
            c["category"],
        )
    s = ctx.store.read_table("sensor")
    if len(s):
        s = s.assign(district_id=s["sensor_id"].astype(str).map(ctx.sensor_districts()))
        add("sensor", s, "sensor_id", s["sensor_id"], s["sensor_id"], s["quantity"], s["utility"])
    a = ctx.store.read_table("asset")
    if len(a):
        loud = ~a["kind"].isin(_QUIET_KINDS)
        text = a["asset_id"] + " " + a["ref"].fillna("")
        text = text.where(~loud, text + " " + a["name"].fillna(""))
        add("asset", a, "asset_id", a["asset_id"], text, a["kind"], a["utility"])
    idx = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    ctx.cache[key] = idx
    return idx


def _named_streets(ctx: ApiContext) -> pd.DataFrame:
    """Streets with a name: one row per name at the middle of its longest piece (lon/lat)."""
    rows = []
    for f in streets_geojson(ctx)["features"]:
        name = f["properties"].get("name")
        if name:
            co = f["geometry"]["coordinates"]
            lon, lat = co[len(co) // 2]
            rows.append((str(name), float(f["properties"]["length_m"]), lon, lat))
    df = pd.DataFrame(rows, columns=["name", "length_m", "lon", "lat"])
    return df.sort_values("length_m", ascending=False).drop_duplicates("name")


def search(
    ctx: ApiContext, q: str, limit: int = 20, district_id: str | None = None
) -> list[dict[str, Any]]:
    """Things whose id, name or address contains ``q`` (case-insensitive), exact and prefix
    matches first; each with ``type`` (district, street, customer, sensor, asset), ``id``,
    ``label``, ``kind``, ``utility`` and its position (lon, lat). A district-scoped user finds
    only what lies in their district (streets are shared)."""
    needle = q.strip().lower()
    if not needle:
        return []
    out: list[dict[str, Any]] = []
    st = _named_streets(ctx)
    if len(st):
        hit = st[st["name"].str.lower().str.contains(needle, regex=False)]
        for r in hit.itertuples(index=False):
            rank = 0 if r.name.lower() == needle else 1 if r.name.lower().startswith(needle) else 2
            out.append(
                {
                    "type": "street",
                    "id": r.name,
                    "label": r.name,
                    "kind": "street",
                    "utility": "",
                    "lon": r.lon,
                    "lat": r.lat,
                    "_rank": rank,
                }
            )
    idx = _index(ctx)
    if len(idx):
        m = idx[idx["text"].str.contains(needle, regex=False)]
        if district_id:
            m = m[(m["district_id"] == district_id) | (m["type"] == "district")]
        m = m[np.isfinite(m["x_m"]) & np.isfinite(m["y_m"])]
        ids = m["id"].str.lower()
        tail = ids.str.rsplit(":", n=1).str[-1]
        ranks = np.where(
            (ids == needle) | (tail == needle),
            0,
            np.where(ids.str.startswith(needle) | tail.str.startswith(needle), 1, 2),
        )
        order = pd.Series([SEARCH_TYPES.index(t) for t in m["type"]], index=m.index)
        m = m.assign(_rank=ranks, _order=order).sort_values(["_rank", "_order", "id"])
        m = m.head(limit)
        if len(m):
            lon, lat = to_lonlat(m["x_m"].to_numpy(float), m["y_m"].to_numpy(float), ctx.crs)
            for r, lo, la in zip(m.to_dict("records"), lon, lat, strict=True):
                out.append(
                    {
                        "type": r["type"],
                        "id": r["id"],
                        "label": r["label"],
                        "kind": r["kind"],
                        "utility": r["utility"],
                        "lon": round(float(lo), 7),
                        "lat": round(float(la), 7),
                        "_rank": int(r["_rank"]),
                    }
                )
    out.sort(key=lambda h: (h["_rank"], SEARCH_TYPES.index(h["type"])))
    for h in out:
        del h["_rank"]
    return out[:limit]
