"""Incidents: list by grade and state, detail, open, and the lifecycle actions
(confirm, approve plan, dispatch, advance, close), each audited and pushed over SSE."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status

from lifeline.api import incident_ops as ops
from lifeline.api.deps import Ctx, CurrentUser, Operator, check_scope
from lifeline.api.models import ActionIn, ActionOut, IncidentDetail, IncidentIn, IncidentSummary

router = APIRouter(prefix="/api/incidents", tags=["incidents"])

_GRADE_ORDER = {"I": 0, "II": 1, "III": 2, "IV": 3}


@router.get(
    "",
    response_model=list[IncidentSummary],
    summary="Incidents (most severe grade first, then newest)",
)
def list_incidents(
    user: CurrentUser,
    ctx: Ctx,
    state: str | None = None,
    utility: str | None = None,
    grade: str | None = None,
    active: bool = False,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[IncidentSummary]:
    """``active`` keeps incidents that are not closed or reviewed."""
    incs = ops.list_frame(ctx, state=state, district=user.district_id)
    if utility:
        incs = [i for i in incs if i.utility == utility]
    if grade:
        incs = [i for i in incs if i.grade == grade]
    if active:
        incs = [i for i in incs if i.state not in ("closed", "reviewed")]
    incs.sort(
        key=lambda i: (
            i.state in ("closed", "reviewed"),
            _GRADE_ORDER.get(i.grade, 9),
            -i.opened_at.timestamp(),
        )
    )
    return [IncidentSummary(**ops.summary(i, ctx.crs)) for i in incs[:limit]]


def _load_scoped(ctx: Ctx, user: CurrentUser, incident_id: str):  # type: ignore[no-untyped-def]
    inc = ops.load(ctx, incident_id)
    check_scope(user, inc.district_id or None, f"incident {incident_id}")
    return inc


@router.get(
    "/{incident_id}",
    response_model=IncidentDetail,
    summary="One incident with evidence, cascade, plan, timeline",
)
def get_incident(incident_id: str, user: CurrentUser, ctx: Ctx) -> IncidentDetail:
    return IncidentDetail(**ops.detail(_load_scoped(ctx, user, incident_id), ctx.crs))


@router.get("/{incident_id}/audit", summary="The incident's audit trail from the store")
def get_audit(incident_id: str, user: CurrentUser, ctx: Ctx) -> list[dict]:  # type: ignore[type-arg]
    _load_scoped(ctx, user, incident_id)
    df = ctx.store.list_audit(incident_id)
    df = df.astype(object).where(df.notna(), None)
    return df.to_dict("records")  # type: ignore[no-any-return]


@router.post(
    "", response_model=IncidentDetail, status_code=201, summary="Open an incident (operator)"
)
def open_incident(body: IncidentIn, user: Operator, ctx: Ctx) -> IncidentDetail:
    """From alarm and complaint ids, or a manual report at x/y (town metres) or lon/lat. The
    incident is assessed (type, cascade, plan, grade, safety review) before it is stored."""
    inc = ops.create(ctx, user, body.model_dump())
    return IncidentDetail(**ops.detail(inc, ctx.crs))


@router.post("/{incident_id}/{action}", response_model=ActionOut, summary="Act on an incident")
def act(
    incident_id: str,
    action: Literal["confirm", "approve", "dispatch", "advance", "close"],
    user: Operator,
    ctx: Ctx,
    body: ActionIn | None = None,
) -> ActionOut:
    """confirm / advance: operator or above; approve (the plan, after the safety review),
    dispatch (needs an approved plan) and close: dispatcher or above. A district-scoped user acts
    only on its district's incidents."""
    b = body or ActionIn()
    with ctx.incident_lock:  # the live engine may be updating the same incident
        inc = _load_scoped(ctx, user, incident_id)
        try:
            result = ops.act(ctx, user, inc, action, b.note, b.to_state)
        except PermissionError as exc:
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=str(exc)) from None
    return ActionOut(incident=IncidentDetail(**ops.detail(inc, ctx.crs)), result=result)
