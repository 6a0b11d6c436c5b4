"""Assets of the three networks (read only), filtered by utility, kind, zone and district."""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query

from lifeline.api.deps import Ctx, CurrentUser, check_scope
from lifeline.api.geo import to_lonlat
from lifeline.api.models import AssetOut, Page
from lifeline.errors import NotFoundError

router = APIRouter(prefix="/api/assets", tags=["assets"])


def records(df: pd.DataFrame, crs: str) -> list[dict[str, Any]]:
    """Rows as dicts with NaN/NA as None and lon/lat added (from x_m/y_m, metres in ``crs``)."""
    if df.empty:
        return []
    lon, lat = to_lonlat(df["x_m"].to_numpy(float), df["y_m"].to_numpy(float), crs)
    out = df.astype(object).where(df.notna(), None)
    out["lon"], out["lat"] = lon.round(7), lat.round(7)
    recs = out.to_dict("records")
    for r in recs:
        for k in ("lon", "lat"):
            if r[k] is not None and r[k] != r[k]:
                r[k] = None
    return recs


@router.get("", response_model=Page[AssetOut], summary="List assets")
def list_assets(
    user: CurrentUser,
    ctx: Ctx,
    utility: str | None = None,
    kind: str | None = None,
    zone_id: str | None = None,
    district_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AssetOut]:
    """A district-scoped user only sees assets of their district."""
    a = ctx.store.read_table("asset")
    for col, v in (
        ("utility", utility),
        ("kind", kind),
        ("zone_id", zone_id),
        ("district_id", district_id or user.district_id),
    ):
        if v:
            a = a[a[col] == v]
    if user.district_id and district_id and district_id != user.district_id:
        a = a.iloc[0:0]
    page = a.iloc[offset : offset + limit]
    return Page[AssetOut](total=len(a), items=[AssetOut(**r) for r in records(page, ctx.crs)])


@router.get("/{asset_id}", response_model=AssetOut, summary="One asset")
def get_asset(asset_id: str, user: CurrentUser, ctx: Ctx) -> AssetOut:
    a = ctx.store.read_table("asset")
    a = a[a["asset_id"] == asset_id]
    if a.empty:
        raise NotFoundError(f"no asset {asset_id!r}", where="asset_id")
    r = records(a, ctx.crs)[0]
    check_scope(user, r.get("district_id"), f"asset {asset_id}")
    return AssetOut(**r)
