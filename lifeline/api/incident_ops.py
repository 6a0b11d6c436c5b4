"""Thin layer between the API and lifeline.incidents / lifeline.respond.

Every incident action goes through the lifecycle (``lifeline.incidents.lifecycle.advance``) or
the safety review (``lifeline.respond.safety``); each one is saved, audited in the store's audit
table and published on the event bus. If the incident pipeline changes its signatures, only
this module needs adapting.
"""

from __future__ import annotations

import hashlib
import logging
import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from lifeline.errors import InputError, StateError

if TYPE_CHECKING:
    from lifeline.api.auth import User
    from lifeline.api.context import ApiContext
    from lifeline.incidents.lifecycle import Incident

log = logging.getLogger(__name__)

#: actions exposed by the API and the state each one moves to (None: no state change)
ACTIONS: dict[str, str | None] = {
    "confirm": "confirmed",
    "approve": None,
    "dispatch": "dispatched",
    "advance": None,
    "close": "closed",
}


def load(ctx: ApiContext, incident_id: str) -> Incident:
    """The stored incident (NotFoundError if absent)."""
    from lifeline.incidents.lifecycle import Incident

    return Incident.from_row(ctx.store.get_incident(incident_id))


def save(
    ctx: ApiContext, inc: Incident, actor: str, action: str, detail: dict[str, Any] | None = None
) -> None:
    """Store ``inc``, audit ``action`` and publish an ``incident`` event."""
    ctx.store.upsert_incident(inc.to_row())
    ctx.audit(actor, action, inc.incident_id, detail or {})
    ctx.metrics.actions.labels(action).inc()
    ctx.bus.publish(
        "incident",
        {"action": action, "actor": actor, **summary(inc, ctx.crs)},
        district_id=inc.district_id or None,
    )


def summary(inc: Incident, crs: str) -> dict[str, Any]:
    """The list-view fields of an incident (JSON-able); lon/lat from its position in ``crs``."""
    from lifeline.incidents.lifecycle import TRANSITIONS

    lon, lat = lonlat(inc.x_m, inc.y_m, crs)
    return {
        "incident_id": inc.incident_id,
        "state": inc.state,
        "utility": inc.utility,
        "kind": inc.kind,
        "grade": inc.grade or "",
        "opened_at": inc.opened_at.isoformat(),
        "updated_at": (inc.updated_at or inc.opened_at).isoformat(),
        "district_id": inc.district_id or None,
        "x_m": inc.x_m,
        "y_m": inc.y_m,
        "lon": lon,
        "lat": lat,
        "n_evidence": len(inc.evidence),
        "approved": bool(inc.approval),
        "next_states": list(TRANSITIONS.get(inc.state, ())),
    }


def detail(inc: Incident, crs: str) -> dict[str, Any]:
    """Everything about an incident (summary plus body) as JSON-able dict."""
    row = inc.to_row()
    import json

    from lifeline.api.present import present

    body = json.loads(row["body"])
    return present({**summary(inc, crs), **body, "safety": inc.safety, "approval": inc.approval})


def lonlat(x_m: float | None, y_m: float | None, crs: str) -> tuple[float | None, float | None]:
    """WGS84 (lon, lat) of a point in metres in ``crs`` (None for a missing point)."""
    if x_m is None or y_m is None or not (math.isfinite(x_m) and math.isfinite(y_m)):
        return None, None
    from lifeline.model.geo import to_lonlat

    lon, lat = to_lonlat([x_m], [y_m], crs)
    return round(float(lon[0]), 7), round(float(lat[0]), 7)


def _evidence(ctx: ApiContext, alarm_ids: list[str], complaint_ids: list[str]) -> list[Any]:
    from lifeline.incidents.evidence import Evidence

    out: list[Any] = []
    if alarm_ids:
        al = ctx.store.list_alarms()
        al = al[al["alarm_id"].isin(alarm_ids)]
        missing = sorted(set(alarm_ids) - set(al["alarm_id"].astype(str)))
        if missing:
            raise InputError(f"unknown alarm ids {missing}", where="alarm_ids")
        for r in al.to_dict("records"):
            e = Evidence.from_alarm(r)
            e.district_id = e.district_id or ctx.alarm_district(r) or ""
            out.append(e)
    if complaint_ids:
        co = ctx.store.list_complaints()
        co = co[co["complaint_id"].isin(complaint_ids)]
        missing = sorted(set(complaint_ids) - set(co["complaint_id"].astype(str)))
        if missing:
            raise InputError(f"unknown complaint ids {missing}", where="complaint_ids")
        complaints = [Evidence.from_complaint(r) for r in co.to_dict("records")]
        off = sorted(e.evidence_id for e in complaints if e.off_lifeline)
        if off:
            raise InputError(
                f"complaints {off} are classified 'other' (not about a lifeline) and cannot be "
                "evidence of an incident",
                where="complaint_ids",
            )
        out += complaints
    return sorted(out, key=lambda e: e.ts)


def create(ctx: ApiContext, user: User, req: dict[str, Any]) -> Incident:
    """Open an incident from alarms and complaints (or a manual report at x/y), assess it (type,
    cascade, plan, grade, safety review) and store it."""
    from lifeline.incidents.lifecycle import Incident

    ev = _evidence(ctx, list(req.get("alarm_ids") or []), list(req.get("complaint_ids") or []))
    utility = req.get("utility") or (ev[0].utility if ev else "")
    if utility not in ("water", "power", "gas", "drainage"):
        raise InputError(
            f"utility must be water, power, gas or drainage, not {utility!r}", where="utility"
        )
    x, y = req.get("x_m"), req.get("y_m")
    if (x is None or y is None) and req.get("lon") is not None and req.get("lat") is not None:
        from lifeline.api.geo import from_lonlat

        xs, ys = from_lonlat([req["lon"]], [req["lat"]], ctx.crs)
        x, y = float(xs[0]), float(ys[0])
    located = [e for e in ev if e.located]
    if (x is None or y is None) and located:
        w = sum(e.weight for e in located)
        x = sum(e.x_m * e.weight for e in located) / w  # type: ignore[operator]
        y = sum(e.y_m * e.weight for e in located) / w  # type: ignore[operator]
    now = ctx.now().to_pydatetime()
    opened = min([e.ts for e in ev], default=now)
    district = req.get("district_id") or next((e.district_id for e in ev if e.district_id), "")
    if not district:
        district = (
            next(
                (ctx.asset_district(a) for e in ev for a in e.asset_ids if ctx.asset_district(a)),
                "",
            )
            or ""
        )
    if user.district_id and district and district != user.district_id:
        raise InputError(
            f"you may only open incidents in district {user.district_id}", where="district_id"
        )
    if not district and x is not None and y is not None:
        district = nearest_district(ctx, float(x), float(y)) or ""
    district = district or (user.district_id or "")
    seed = f"{utility}|{x}|{y}|{opened.isoformat()}|{now.timestamp()}"
    iid = (
        req.get("incident_id")
        or f"INC-{opened:%Y%m%d-%H%M}-{hashlib.sha1(seed.encode()).hexdigest()[:6]}"
    )
    inc = Incident(
        incident_id=iid,
        utility=utility,
        opened_at=opened,
        kind=req.get("kind") or "",
        district_id=district,
        x_m=x,
        y_m=y,
        evidence=ev,
    )
    inc.narrative = str(req.get("note") or "")
    if x is not None and y is not None:
        inc.location = {
            "method": "reported" if not located else "evidence_centroid",
            "x_m": x,
            "y_m": y,
        }
    assess(ctx, inc)
    if req.get("grade"):
        inc.grade = str(req["grade"])
    save(
        ctx,
        inc,
        user.username,
        "open_incident",
        {"evidence": [e.evidence_id for e in ev], "kind": inc.kind},
    )
    return inc


def nearest_district(ctx: ApiContext, x_m: float, y_m: float, max_m: float = 500.0) -> str | None:
    """District of the asset nearest to (x_m, y_m) within ``max_m`` metres."""
    a = ctx.store.read_table("asset")[["x_m", "y_m", "district_id"]].dropna()
    if a.empty:
        return None
    d2 = (a["x_m"] - x_m) ** 2 + (a["y_m"] - y_m) ** 2
    i = d2.idxmin()
    return str(a.at[i, "district_id"]) if d2[i] <= max_m**2 else None


def attach_town(ctx: ApiContext, town: Any) -> None:
    """Use ``town``'s (any city's) network models for plans: response adapters (isolation,
    impact, hazard zone via WNTR, pandapower, pandapipes/HyRAM) and crews on the street graph.
    Without a city the API still plans, but network-specific steps become manual actions."""
    from lifeline.respond.adapters import city_adapters
    from lifeline.respond.crews import city_street_graph, default_crews
    from lifeline.respond.fill import CrewContext

    ctx.adapters = city_adapters(town)
    try:
        crews = town.crews if len(getattr(town, "crews", ())) else default_crews(town)
        ctx.crews = CrewContext(city_street_graph(town), crews)
    except Exception as exc:  # crews are optional for planning
        log.warning("crew context unavailable: %s", exc)


#: the same for any city
attach_city = attach_town


def assess(ctx: ApiContext, inc: Incident) -> None:
    """Run the incident pipeline's assessment (type, cascade, plan, grade, safety) with the
    store's dependency and district tables and the attached town's adapters and crews (see
    :func:`attach_town`)."""
    from lifeline.incidents.pipeline import assess as _assess

    deps = ctx.store.read_table("dependency")
    districts = ctx.store.read_table("district")
    try:
        _assess(
            inc,
            adapters=ctx.adapters,
            crews=ctx.crews,
            dependencies=deps if len(deps) else None,
            districts=districts if len(districts) else None,
        )
    except Exception as exc:  # an assessment failure must not lose the incident
        log.warning("incident assessment failed for %s: %s", inc.incident_id, exc)
        inc.plan = {**inc.plan, "error": f"assessment failed: {exc}"}


def act(
    ctx: ApiContext,
    user: User,
    inc: Incident,
    action: str,
    note: str = "",
    to_state: str | None = None,
) -> dict[str, Any]:
    """Apply ``action`` (confirm, approve, dispatch, advance, close) to ``inc`` as ``user``.

    Role rules (checked here as well as by the router): confirm and advance need ``operator``;
    approve, dispatch and close need ``dispatcher``. Dispatch requires an approved plan when the
    incident has plan actions. Raises StateError for a transition the lifecycle refuses.
    """
    from lifeline.incidents.lifecycle import TRANSITIONS, advance
    from lifeline.respond.safety import approve, review

    need = "dispatcher" if action in ("approve", "dispatch", "close") else "operator"
    if not user.at_least(need):
        raise PermissionError(f"role {user.role!r} may not {action}; needs {need} or above")
    why = note.strip() or f"{action} via dashboard"
    ts = _not_before(ctx, inc)
    result: dict[str, Any]
    if action == "approve":
        if inc.approval:
            raise StateError("the plan is already approved", where=inc.incident_id)
        if not inc.safety:
            review(inc)
        result = approve(inc, user.username, ts=ts, note=note)
    elif action == "advance":
        nxt = [s for s in TRANSITIONS.get(inc.state, ()) if s != "closed"] or list(
            TRANSITIONS.get(inc.state, ())
        )
        target = to_state or (nxt[0] if nxt else "")
        if not target:
            raise StateError(f"no state follows {inc.state}", where=inc.incident_id)
        if target == "dispatched" and inc.actions and not inc.approval:
            raise StateError("approve the plan before dispatching", where=inc.incident_id)
        result = advance(inc, target, user.username, why, ts=ts)
    else:
        target = ACTIONS[action] or ""
        if action == "dispatch" and inc.actions and not inc.approval:
            raise StateError("approve the plan before dispatching", where=inc.incident_id)
        result = advance(inc, target, user.username, why, ts=ts)
    save(ctx, inc, user.username, action, {"state": inc.state, "note": note, "result": result})
    return result


def _not_before(ctx: ApiContext, inc: Incident) -> datetime:
    """Now (the replay's simulated time while one runs), or the last transition time if that
    lies ahead."""
    from lifeline.incidents.evidence import to_utc

    now = to_utc(ctx.now())
    last = max((to_utc(t) for t in inc.timeline.values()), default=inc.opened_at)
    return max(now, last)


def list_frame(
    ctx: ApiContext, state: str | None = None, district: str | None = None
) -> list[Incident]:
    """Stored incidents (optionally of a state and district), newest first."""
    from lifeline.incidents.lifecycle import Incident

    df = ctx.store.list_incidents(state=state, district=district)
    out = [
        Incident.from_row({k: (None if _na(v) else v) for k, v in r.items()})
        for r in df.to_dict("records")
    ]
    return sorted(out, key=lambda i: i.opened_at, reverse=True)


def _na(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
