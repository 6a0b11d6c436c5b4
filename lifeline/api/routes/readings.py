"""HTTP batch ingestion through the shared validator (rejected records are kept), and reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query, Request

from lifeline.api.deps import Ctx, CurrentUser, Operator, check_scope
from lifeline.api.models import IngestOut, ReadingOut
from lifeline.errors import InputError

router = APIRouter(prefix="/api/readings", tags=["readings"])

MAX_BODY = 20 * 1024 * 1024


def ingest_json(
    ctx: Any, body: bytes, source_user: str, district_id: str | None = None, now: Any = None
) -> dict[str, Any]:
    """Validate and store one JSON batch; returns counts. Sensors outside ``district_id`` (when
    given) are unknown to the validator. Publishes a ``readings`` event and counts metrics."""
    from lifeline.ingest.jsonin import parse_http_batch
    from lifeline.ingest.validate import SensorIndex

    sensors = ctx.store.read_table("sensor")
    if district_id:
        sd = ctx.sensor_districts()
        sensors = sensors[sensors["sensor_id"].astype(str).map(sd) == district_id]
    batch_id = uuid.uuid4().hex[:12]
    feed = ctx.engine
    good, rejected = parse_http_batch(
        body,
        SensorIndex(sensors),
        now,
        ctx.store.existing_readings_mask,
        batch_id=batch_id,
        not_before=feed.not_before() if feed is not None else None,
    )
    stored = ctx.store.write_readings(good) if len(good) else 0
    if len(rejected):
        ctx.store.write_rejected(rejected)
    if feed is not None and len(good):
        feed.submit_readings(good)
    reasons = rejected["reason"].astype(str).value_counts().to_dict() if len(rejected) else {}
    if stored < len(good):
        reasons["duplicate"] = reasons.get("duplicate", 0) + len(good) - stored
    util = sensors.set_index("sensor_id")["utility"].astype(str)
    per_util = good["sensor_id"].astype(str).map(util).value_counts().to_dict() if len(good) else {}
    ctx.metrics.count_ingest(
        {"per_utility": {u: {"stored": n} for u, n in per_util.items()}, "rejected": reasons},
        "http",
    )
    latest: list[dict[str, Any]] = []
    if len(good):
        last = good.sort_values("ts").groupby("sensor_id", observed=True).tail(1).head(200)
        latest = [
            {"sensor_id": str(s), "ts": pd.Timestamp(t).isoformat(), "value": float(v)}
            for s, t, v in zip(last["sensor_id"], last["ts"], last["value"], strict=True)
        ]
    ctx.bus.publish(
        "readings",
        {
            "batch_id": batch_id,
            "stored": stored,
            "rejected": int(sum(reasons.values())),
            "latest": latest,
        },
        district_id,
    )
    return {
        "batch_id": batch_id,
        "stored": int(stored),
        "rejected": {str(k): int(v) for k, v in reasons.items()},
        "rejected_total": int(sum(reasons.values())),
    }


@router.post("", response_model=IngestOut, summary="Ingest a JSON batch of readings (operator)")
async def post_readings(request: Request, user: Operator, ctx: Ctx) -> IngestOut:
    """Body: ``{"readings": [{"sensor_id", "ts", "value"[, "quality"]}, …]}`` or a bare list.
    Good readings are stored even when others are rejected; every rejected record is kept in the
    store's ``rejected`` table with its reason. A district-scoped operator may only send readings
    of its district's sensors."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise InputError(f"batch too large ({len(body)} bytes > {MAX_BODY})", where="body")
    from starlette.concurrency import run_in_threadpool

    out = await run_in_threadpool(ingest_json, ctx, body, user.username, user.district_id)
    ctx.audit(
        user,
        "ingest_readings",
        f"batch:{out['batch_id']}",
        {"stored": out["stored"], "rejected": out["rejected"]},
    )
    return IngestOut(**out)


@router.get("", response_model=list[ReadingOut], summary="Readings of one sensor in a time window")
def get_readings(
    user: CurrentUser,
    ctx: Ctx,
    sensor_id: str,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=100000)] = 10000,
) -> list[ReadingOut]:
    check_scope(user, ctx.sensor_district(sensor_id), f"sensor {sensor_id}")
    r = ctx.store.read_readings([sensor_id], start, end).tail(limit)
    return [
        ReadingOut(ts=t, value=float(v), quality=int(q))
        for t, v, q in zip(r["ts"], r["value"], r["quality"].fillna(0), strict=True)
    ]


@router.get(
    "/rejected", summary="Rejected records: counts per reason and the most recent ones (operator)"
)
def get_rejected(
    _: Operator, ctx: Ctx, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> dict[str, Any]:
    counts = ctx.store.rejected_counts()
    df = ctx.store.read_table("rejected")
    recent = df.sort_values("received_at").tail(limit)
    recent = recent.astype(object).where(recent.notna(), None)
    return {
        "counts": counts,
        "total": int(sum(counts.values())),
        "recent": recent.to_dict("records"),
    }
