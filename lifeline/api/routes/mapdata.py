"""The base map (streets, WGS84 GeoJSON) and the map's search box."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from lifeline.api.deps import Ctx, CurrentUser
from lifeline.api.geo import dumps
from lifeline.api.mapdata import search, streets_geojson

router = APIRouter(prefix="/api", tags=["map"])


@router.get(
    "/streets",
    summary="The street graph (the one crews are routed on) as GeoJSON LineStrings (lon/lat)",
)
def streets(_: CurrentUser, ctx: Ctx) -> Response:
    """An offline base map: ``properties.name`` is the street name where the city has one."""
    return Response(dumps(streets_geojson(ctx)), media_type="application/geo+json")


@router.get(
    "/search",
    summary="Find a street, address, customer, sensor, asset or district by id or name",
)
def find(
    user: CurrentUser,
    ctx: Ctx,
    q: Annotated[str, Query(min_length=1, max_length=100)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    """Case-insensitive substring match on ids, names and addresses; exact and prefix matches
    first. Each hit: ``type``, ``id``, ``label``, ``kind``, ``utility``, ``lon``, ``lat``."""
    return search(ctx, q, limit, user.district_id)
