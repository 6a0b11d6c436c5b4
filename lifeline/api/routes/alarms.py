"""Alarms: list (by time, utility, district) and post (detectors running elsewhere)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query

from lifeline.api.deps import Ctx, CurrentUser, Operator
from lifeline.api.models import AlarmIn, AlarmOut
from lifeline.errors import InputError

router = APIRouter(prefix="/api/alarms", tags=["alarms"])


def _j(v: Any, default: Any) -> Any:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return default
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def alarm_out(ctx: Any, r: dict[str, Any]) -> dict[str, Any]:
    """A stored alarm row as the API's JSON shape (with its district)."""
    sens = _j(r.get("sensors"), [])
    return {
        "alarm_id": str(r["alarm_id"]),
        "ts": r["ts"],
        "utility": r.get("utility"),
        "detector": r.get("detector"),
        "severity": None if pd.isna(r.get("severity")) else int(r["severity"]),
        "sensors": [str(s) for s in (sens if isinstance(sens, list) else [sens])],
        "score": None if pd.isna(r.get("score")) else float(r["score"]),
        "location": _j(r.get("location"), None),
        "detail": _j(r.get("detail"), None),
        "district_id": ctx.alarm_district(r),
        "state": r.get("state") or None,
        "updated_at": None if pd.isna(r.get("updated_at")) else r.get("updated_at"),
        "ended_at": None if pd.isna(r.get("ended_at")) else r.get("ended_at"),
    }


def publish_alarms(ctx: Any, df: pd.DataFrame) -> None:
    """Publish stored alarms on the bus and count them (latency: now − alarm ts)."""
    now = pd.Timestamp.now("UTC")
    for r in df.to_dict("records"):
        a = alarm_out(ctx, r)
        ctx.metrics.alarms.labels(str(a["utility"])).inc()
        lat = (now - pd.Timestamp(a["ts"])).total_seconds()
        if lat >= 0:
            ctx.metrics.alarm_latency.observe(lat)
        ctx.bus.publish("alarm", {**a, "ts": pd.Timestamp(a["ts"]).isoformat()}, a["district_id"])


@router.get("", response_model=list[AlarmOut], summary="Alarms, newest first")
def list_alarms(
    user: CurrentUser,
    ctx: Ctx,
    since: datetime | None = None,
    utility: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 200,
) -> list[AlarmOut]:
    df = ctx.store.list_alarms(since=since, utility=utility)
    out = [alarm_out(ctx, r) for r in df.iloc[::-1].to_dict("records")]
    if user.district_id:
        out = [a for a in out if a["district_id"] == user.district_id]
    return [AlarmOut(**a) for a in out[:limit]]


@router.post("", response_model=AlarmOut, status_code=201, summary="Record an alarm (operator)")
def post_alarm(body: AlarmIn, user: Operator, ctx: Ctx) -> AlarmOut:
    """For detectors running outside lifeline. The alarm is stored, audited and pushed to SSE."""
    ts = pd.Timestamp(body.ts)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    aid = (
        body.alarm_id
        or "A-"
        + hashlib.sha1(f"{body.detector}|{ts.isoformat()}|{body.sensors}".encode()).hexdigest()[:10]
    )
    row = {
        "alarm_id": aid,
        "ts": ts,
        "utility": body.utility,
        "detector": body.detector,
        "severity": body.severity,
        "sensors": json.dumps(body.sensors),
        "score": body.score,
        "location": json.dumps(body.location, ensure_ascii=False),
        "detail": json.dumps(body.detail, ensure_ascii=False),
    }
    district = ctx.alarm_district(row)
    if user.district_id and district != user.district_id:
        raise InputError(f"alarm lies outside your district {user.district_id}", where="sensors")
    df = pd.DataFrame([row])
    if ctx.store.add_alarms(df) == 0:
        raise InputError(f"alarm {aid!r} already exists", where="alarm_id")
    ctx.audit(user, "add_alarm", aid, {"utility": body.utility, "detector": body.detector})
    publish_alarms(ctx, df)
    return AlarmOut(**alarm_out(ctx, row))
