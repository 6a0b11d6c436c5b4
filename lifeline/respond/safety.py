"""Safety review: rules a filled plan must pass before a human may approve it.

1. ``hospital_supply`` — no hospital is left without supply (by the plan's own operations or by
   the incident and its cascade; a plan whose impact says ``supply_lost: false``, such as a
   drainage flood area whose customers are warned, cuts nobody off) unless the plan sends an alternative supply to it or restores it
   through ties.
2. ``inoperable_valve`` — no action operates an asset marked inoperable (by the adapter's
   ``operable: false`` on the operation or the ``inoperable`` set, e.g. assets whose
   ``operable`` column is false).
3. ``ignition_sources`` — inside a gas hazard zone nothing is switched or (re-)energised (only
   ``deenergise`` from outside is allowed), and every power asset in the zone or linked by an
   ``ignition_risk`` cascade (a cable in an affected well) is de-energised by the plan.

``approve`` records who approved what (plan ids, action ids, the safety results) and refuses
while any rule fails.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from lifeline.errors import StateError
from lifeline.incidents.evidence import to_utc

SWITCHING = ("close", "open", "energise", "reenergise", "switch")


def _hospitals_out(incident: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for p in incident.plan.get("plans", []):
        impact = p.get("impact") or {}
        if impact.get("supply_lost") is False:  # customers warned (a flood area), not cut off
            continue
        for c in impact.get("customers", []):
            if c.get("category") == "hospital":
                out[str(c["customer_id"])] = {**c, "via": p["plan_id"]}
    for link in incident.cascade:
        for c in link.get("customers") or []:
            if c.get("category") == "hospital":
                out.setdefault(str(c["customer_id"]), {**c, "via": f"cascade:{link['kind']}"})
    return out


def rule_hospital_supply(incident: Any) -> dict[str, Any]:
    """Every hospital without supply has an alternative supply or a tie restoration in the plan."""
    hospitals = _hospitals_out(incident)
    covered: set[str] = set()
    for a in incident.actions:
        if a.get("kind") == "alternative_supply" and a.get("target_customer_id"):
            covered.add(str(a["target_customer_id"]))
        covered.update(str(c) for c in a.get("restored_customer_ids", []))
    missing = sorted(set(hospitals) - covered)
    return {
        "rule": "hospital_supply",
        "passed": not missing,
        "detail": f"hospitals without supply and without alternative: {missing}"
        if missing
        else f"{len(hospitals)} hospital(s) without supply, all covered",
        "hospitals_out": sorted(hospitals),
        "uncovered": missing,
    }


def rule_inoperable_valve(incident: Any, inoperable: Iterable[str] = ()) -> dict[str, Any]:
    """No action operates an asset that is marked inoperable."""
    bad_set = set(inoperable)
    bad = []
    for a in incident.actions:
        op = a.get("operation") or {}
        if op and (op.get("operable") is False or op.get("asset_id") in bad_set):
            bad.append({"action_id": a["action_id"], "asset_id": op.get("asset_id")})
    return {
        "rule": "inoperable_valve",
        "passed": not bad,
        "detail": f"plan operates inoperable assets: {bad}"
        if bad
        else "no inoperable asset is operated",
        "violations": bad,
    }


def _zones(incident: Any) -> list[dict[str, Any]]:
    zones = []
    for p in incident.plan.get("plans", []):
        h = p.get("hazard")
        if h and h.get("radius_m") is not None:
            zones.append(h)
    return zones


def _inside(op: dict[str, Any], zone: dict[str, Any]) -> bool:
    ids = {a.get("asset_id") for a in zone.get("assets", [])}
    if op.get("asset_id") in ids:
        return True
    if op.get("x_m") is None or op.get("y_m") is None:
        return False
    return math.hypot(
        float(op["x_m"]) - float(zone["x_m"]), float(op["y_m"]) - float(zone["y_m"])
    ) <= float(zone["radius_m"])


def rule_ignition_sources(incident: Any) -> dict[str, Any]:
    """No switching/energising inside a hazard zone; power assets at risk must be de-energised."""
    zones = _zones(incident)
    at_risk: set[str] = {
        link["to_asset"] for link in incident.cascade if link.get("kind") == "ignition_risk"
    }
    for z in zones:
        at_risk.update(a["asset_id"] for a in z.get("assets", []) if a.get("utility") == "power")
    deenergised = {
        (a.get("operation") or {}).get("asset_id")
        for a in incident.actions
        if (a.get("operation") or {}).get("operation") == "deenergise"
    }
    switching_inside = []
    for a in incident.actions:
        op = a.get("operation") or {}
        if not op or op.get("operation") not in SWITCHING:
            continue
        if op.get("utility", a.get("utility")) != "power" and op.get("operation") not in (
            "energise",
            "reenergise",
        ):
            continue  # closing a gas/water valve is not an ignition source
        if any(_inside(op, z) for z in zones) or op.get("asset_id") in at_risk:
            switching_inside.append(
                {
                    "action_id": a["action_id"],
                    "asset_id": op.get("asset_id"),
                    "operation": op.get("operation"),
                }
            )
    not_off = sorted(at_risk - deenergised)
    passed = not switching_inside and not not_off
    parts = []
    if switching_inside:
        parts.append(f"switching inside the hazard zone: {switching_inside}")
    if not_off:
        parts.append(f"power assets at ignition risk not de-energised: {not_off}")
    return {
        "rule": "ignition_sources",
        "passed": passed,
        "detail": "; ".join(parts)
        or f"{len(zones)} hazard zone(s); {len(at_risk)} power asset(s) at risk, all de-energised",
        "violations": switching_inside,
        "not_deenergised": not_off,
    }


def review(incident: Any, inoperable: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Run every rule; stores and returns the results (``incident.safety``)."""
    results = [
        rule_hospital_supply(incident),
        rule_inoperable_valve(incident, inoperable),
        rule_ignition_sources(incident),
    ]
    incident.safety = results
    return results


def approve(incident: Any, actor: str, ts: Any = None, note: str = "") -> dict[str, Any]:
    """Record a human approval of the current plan; StateError while a safety rule fails.

    Returns the approval ``{"by", "at", "plan_ids", "action_ids", "safety", "note"}`` and appends
    an audit entry to ``incident.audit``.
    """
    if not actor.strip():
        raise StateError("approval needs the approver's name", where=incident.incident_id)
    if not incident.safety:
        raise StateError("run the safety review before approval", where=incident.incident_id)
    failed = [r["rule"] for r in incident.safety if not r["passed"]]
    if failed:
        raise StateError(
            f"plan fails safety rules {failed}; cannot approve", where=incident.incident_id
        )
    when = to_utc(ts) if ts is not None else datetime.now(UTC)
    approval = {
        "by": actor,
        "at": when.isoformat(),
        "plan_ids": [p["plan_id"] for p in incident.plan.get("plans", [])],
        "action_ids": [a["action_id"] for a in incident.actions],
        "safety": {r["rule"]: r["passed"] for r in incident.safety},
        "note": note,
    }
    incident.approval = approval
    incident.audit.append(
        {
            "ts": when.isoformat(),
            "actor": actor,
            "action": "approve_plan",
            "object_id": incident.incident_id,
            "detail": approval,
        }
    )
    return approval
