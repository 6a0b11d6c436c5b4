"""Sensors with their latest value, and one sensor's recent readings with its thresholds."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, Query

from lifeline.api.deps import Ctx, CurrentUser, check_scope
from lifeline.api.models import Page, ReadingOut, SensorOut, SensorReadingsOut, Threshold
from lifeline.api.routes.assets import records
from lifeline.errors import NotFoundError

router = APIRouter(prefix="/api/sensors", tags=["sensors"])


def _sensors(ctx: Ctx, district: str | None) -> pd.DataFrame:
    s = ctx.store.read_table("sensor")
    s["district_id"] = s["sensor_id"].astype(str).map(ctx.sensor_districts())
    return s[s["district_id"] == district] if district else s


@router.get("", response_model=Page[SensorOut], summary="List sensors with their latest reading")
def list_sensors(
    user: CurrentUser,
    ctx: Ctx,
    utility: str | None = None,
    quantity: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[SensorOut]:
    s = _sensors(ctx, user.district_id)
    if utility:
        s = s[s["utility"] == utility]
    if quantity:
        s = s[s["quantity"] == quantity]
    page = s.iloc[offset : offset + limit]
    latest = (
        ctx.store.latest_readings(page["sensor_id"].astype(str).tolist()) if len(page) else None
    )
    recs = records(page, ctx.crs)
    if latest is not None and len(latest):
        lv = latest.set_index("sensor_id")
        for r in recs:
            if r["sensor_id"] in lv.index:
                r["last_ts"] = lv.at[r["sensor_id"], "ts"]
                r["last_value"] = float(lv.at[r["sensor_id"], "value"])
    return Page[SensorOut](total=len(s), items=[SensorOut(**r) for r in recs])


def thresholds(sensor: dict, readings: pd.DataFrame) -> list[Threshold]:  # type: ignore[type-arg]
    """The sensor's valid range and its alarm band: median ± 4 × 1.4826 × MAD of the shown
    readings (the robust threshold a static detector would use), never outside the valid range."""
    out: list[Threshold] = []
    lo, hi = sensor.get("valid_min"), sensor.get("valid_max")
    if lo is not None:
        out.append(Threshold(name="valid_min", value=float(lo), kind="valid_range"))
    if hi is not None:
        out.append(Threshold(name="valid_max", value=float(hi), kind="valid_range"))
    import numpy as np

    v = readings["value"].dropna().to_numpy(float) if len(readings) else np.zeros(0)
    if len(v) >= 8:
        med = float(np.median(v))
        mad = float(np.median(np.abs(v - med))) * 1.4826
        if mad > 0:
            low, high = med - 4 * mad, med + 4 * mad
            if lo is not None:
                low = max(low, float(lo))
            if hi is not None:
                high = min(high, float(hi))
            out += [
                Threshold(name="low", value=round(low, 4)),
                Threshold(name="high", value=round(high, 4)),
            ]
    return out


@router.get(
    "/{sensor_id}/readings",
    response_model=SensorReadingsOut,
    summary="A sensor's recent readings and thresholds",
)
def sensor_readings(
    sensor_id: str,
    user: CurrentUser,
    ctx: Ctx,
    hours: Annotated[float, Query(gt=0, le=24 * 31)] = 24.0,
    end: datetime | None = None,
    max_points: Annotated[int, Query(ge=10, le=100000)] = 2000,
) -> SensorReadingsOut:
    """Readings in the ``hours`` before ``end`` (default: the sensor's latest reading)."""
    s = ctx.store.read_table("sensor")
    s = s[s["sensor_id"] == sensor_id]
    if s.empty:
        raise NotFoundError(f"no sensor {sensor_id!r}", where="sensor_id")
    check_scope(user, ctx.sensor_district(sensor_id), f"sensor {sensor_id}")
    rec = records(s, ctx.crs)[0]
    rec["district_id"] = ctx.sensor_district(sensor_id)
    if end is None:
        last = ctx.store.latest_readings([sensor_id])
        end_ts = (
            pd.Timestamp(last["ts"].iloc[0]) + pd.Timedelta(seconds=1)
            if len(last)
            else pd.Timestamp.now("UTC")
        )
    else:
        end_ts = pd.Timestamp(end)
        end_ts = end_ts.tz_localize("UTC") if end_ts.tzinfo is None else end_ts
    r = ctx.store.read_readings([sensor_id], end_ts - timedelta(hours=hours), end_ts)
    if len(r) > max_points:
        r = r.iloc[:: int(len(r) // max_points) + 1]
    pts = [
        ReadingOut(ts=t, value=float(v), quality=int(q))
        for t, v, q in zip(r["ts"], r["value"], r["quality"].fillna(0), strict=True)
    ]
    return SensorReadingsOut(sensor=SensorOut(**rec), readings=pts, thresholds=thresholds(rec, r))
