"""Scenarios: start, watch and stop the live accelerated replay of a simulated day (admin)."""

from __future__ import annotations

from fastapi import APIRouter

from lifeline.api.deps import Admin, Ctx, CurrentUser
from lifeline.api.models import ReplayIn, ReplayOut

router = APIRouter(prefix="/api/scenarios", tags=["scenarios"])


@router.get("/replay", response_model=ReplayOut, summary="Status of the replay")
def replay_status(_: CurrentUser, ctx: Ctx) -> ReplayOut:
    if ctx.replay is None:
        return ReplayOut(running=False, phase="idle")
    return ReplayOut(**ctx.replay.status.as_dict())


@router.post(
    "/replay",
    response_model=ReplayOut,
    status_code=202,
    summary="Start a replay of a simulated day (admin)",
)
def start_replay(body: ReplayIn, admin: Admin, ctx: Ctx) -> ReplayOut:
    from lifeline.api.replay import ReplayRunner, SimulatedDay

    if ctx.replay is not None and ctx.replay.status.running:
        from lifeline.errors import StateError

        raise StateError("a replay is already running; stop it first", where="replay")
    source = (
        ctx.replay_source(date=body.date, seed=body.seed)
        if ctx.replay_source is not None
        else SimulatedDay(date=body.date, seed=body.seed, city=ctx.city)
    )
    runner = ReplayRunner(
        ctx,
        source,
        speed=body.speed,
        step_s=body.step_s,
        date=body.date,
        actor=f"replay:{admin.username}",
    )
    ctx.replay = runner
    ctx.audit(admin, "start_replay", f"replay:{body.date}", body.model_dump())
    runner.start()
    return ReplayOut(**runner.status.as_dict())


@router.delete("/replay", response_model=ReplayOut, summary="Stop the replay (admin)")
def stop_replay(admin: Admin, ctx: Ctx) -> ReplayOut:
    if ctx.replay is None:
        return ReplayOut(running=False, phase="idle")
    ctx.replay.stop()
    ctx.audit(admin, "stop_replay", "replay", {})
    return ReplayOut(**ctx.replay.status.as_dict())
