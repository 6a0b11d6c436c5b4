"""Server-Sent Events: new alarms, incident changes, readings batches and replay progress."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse

from lifeline.api.deps import Ctx, CurrentUser

router = APIRouter(prefix="/api", tags=["events"])

HEARTBEAT_S = 15.0


@router.get("/events", summary="Live push (text/event-stream); token as ?token= for EventSource")
async def events(
    request: Request,
    user: CurrentUser,
    ctx: Ctx,
    types: Annotated[
        str | None, Query(description="comma-separated event types (default: all)")
    ] = None,
    limit: Annotated[
        int | None, Query(ge=1, description="close after this many events (tests, polling clients)")
    ] = None,
    last_event_id: Annotated[int | None, Header()] = None,
) -> StreamingResponse:
    """Each event: ``id``, ``event`` (alarm | incident | readings | complaint | replay) and JSON
    ``data``. A district-scoped user receives only its district's events. Reconnecting with
    ``Last-Event-ID`` replays the events missed since (bounded history)."""
    wanted = tuple(t.strip() for t in types.split(",")) if types else None
    sub = ctx.bus.subscribe(user.district_id)
    ctx.metrics.sse_clients.set(ctx.bus.n_subscribers)

    async def stream() -> AsyncIterator[str]:
        sent = 0
        try:
            yield "retry: 3000\n: connected\n\n"
            if last_event_id:
                for ev in ctx.bus.recent(last_event_id, user.district_id, wanted):
                    yield ev.sse()
                    sent += 1
            while limit is None or sent < limit:
                try:
                    ev = await asyncio.wait_for(sub.queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        break
                    yield ": heartbeat\n\n"
                    continue
                if ev.type == "_close":
                    break
                if wanted is None or ev.type in wanted:
                    yield ev.sse()
                    sent += 1
        finally:
            ctx.bus.unsubscribe(sub)
            ctx.metrics.sse_clients.set(ctx.bus.n_subscribers)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/events/recent", summary="The most recent events (polling fallback)")
def recent(
    user: CurrentUser, ctx: Ctx, after: int = 0, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[dict]:  # type: ignore[type-arg]
    return [e.as_dict() for e in ctx.bus.recent(after, user.district_id)][-limit:]
