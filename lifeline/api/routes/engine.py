"""The live engine: its state, and smart-meter / SCADA events as input."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from lifeline.api.deps import Ctx, CurrentUser, Operator
from lifeline.errors import InputError, StateError

router = APIRouter(prefix="/api", tags=["engine"])

MAX_BODY = 20 * 1024 * 1024


@router.get("/engine", summary="The live engine: watermark, pending input, detectors")
def engine_status(_: CurrentUser, ctx: Ctx) -> dict[str, Any]:
    """``{"watermark": ISO time of the latest event time fully processed, "pending": readings,
    events and complaints received but not yet processed, "detectors": [...]}`` — each detector
    with its readiness (``ready``, ``sensors_ready`` of ``sensors``) and what its warm-up needs."""
    if ctx.engine is None:
        return {"watermark": None, "pending": 0, "detectors": [], "running": False}
    return {**ctx.engine.status(), "running": True}


@router.post("/meter-events", status_code=202, summary="Smart-meter and SCADA events (operator)")
async def post_meter_events(request: Request, user: Operator, ctx: Ctx) -> dict[str, Any]:
    """Body ``{"events": [{"ts", "kind", …}, …]}`` or a bare list: ``last_gasp`` | ``restore``
    with ``customer_id``; ``breaker_trip`` | ``breaker_close`` | ``fpi`` with ``"element":
    "switch:<idx>"``; ``zero_consumption`` | ``reverse_flow`` with ``customer_id`` (and
    ``utility`` water|gas). Good events are stored and go to the live engine; every rejected one
    is kept in ``rejected`` with its reason."""
    import uuid

    from starlette.concurrency import run_in_threadpool

    from lifeline.ingest.events import EventIndex, ingest_events, parse_event_body

    body = await request.body()
    if len(body) > MAX_BODY:
        raise InputError(f"batch too large ({len(body)} bytes > {MAX_BODY})", where="body")
    if ctx.city is None:
        raise StateError(
            "the server serves no city: start it with `lifeline serve`", where="events"
        )
    batch = uuid.uuid4().hex[:12]
    city = ctx.city
    switches = city.power.switch.index if city.has("power") else []
    index = EventIndex.of(city.customers, switches)
    items = parse_event_body(body, f"http:{batch}")
    out = await run_in_threadpool(ingest_events, ctx.store, items, index, feed=ctx.engine)
    ctx.audit(user, "ingest_events", f"batch:{batch}", out)
    ctx.metrics.count_ingest({"per_utility": {}, "rejected": out["rejected"]}, "http-events")
    return {"batch_id": batch, **out}
