"""Structured fields the dashboard needs to show an incident's plan in any language.

The plan filler (:mod:`lifeline.respond.fill`) writes each action's text in zh-CN and en and
carries most of its parameters (crew, operation, customers, zone). What is only in the text is
added here as codes, so the dashboard renders every action from its catalogues:

* ``step_text``: the plan step's own text (zh-CN, en) from the plan library, for manual and
  restore actions (their ``text`` adds a reason or a list of valves);
* ``reason``: why a step stayed manual, as a code of :data:`MANUAL_REASONS` (``reason_text``
  keeps the filler's words when the reason is not a known one);
* ``operation.label``: what is operated, as ``{"kind": valve|switch|tie|reclose|squeeze_off|…,
  "ref": id}`` (the filler's names are bilingual strings such as ``阀门/valve WV30``);
* ``operation.why`` for de-energising: ``outside_zone`` or ``before_flooding``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

#: the filler's reasons for a manual step (its English words) → code in the UI catalogues
MANUAL_REASONS: dict[str, str] = {
    "no crew roster/street graph": "no_crews",
    "incident not located": "not_located",
    "no isolation capability": "no_isolation_capability",
    "nothing to operate": "nothing_to_operate",
    "no impact capability": "no_impact_capability",
    "no critical site without supply": "no_critical_site_out",
    "no tie restoration capability": "no_tie_capability",
    "no tie can restore the healthy sections": "no_tie_restores",
    "no hazard-zone capability": "no_hazard_capability",
    "no hazard zone computed": "no_hazard_zone",
    "no power asset at risk": "no_power_at_risk",
}
#: reasons that come from an exception of the crew search (their start) → code
_REASON_PREFIXES: tuple[tuple[str, str], ...] = (("no available ", "no_crew_available"),)
_CREW_UNREACHABLE = re.compile(r"crew can reach .* on the street graph")
#: the English half of an operated asset's bilingual name → label kind
_NAME_KINDS = {
    "valve": "valve",
    "switch": "switch",
    "tie": "tie",
    "re-close": "reclose",
    "squeeze-off pipe": "squeeze_off",
}
_BILINGUAL = re.compile(r"^[^/]*/(?P<en>.+?)\s+(?P<ref>\S+)$")


@lru_cache(maxsize=1)
def _steps() -> dict[tuple[str, str], dict[str, str]]:
    """(plan id, step id) → the step's text {zh-CN, en} from the plan library."""
    from lifeline.respond.library import load_plans

    try:
        plans = load_plans()
    except Exception:  # a broken plan file is reported where plans are used, not here
        return {}
    return {
        (str(p["id"]), str(s["id"])): {"zh-CN": str(s["zh-CN"]), "en": str(s["en"])}
        for p in plans
        for s in p["steps"]
    }


def reason_code(why: str) -> str | None:
    """The code of a manual step's reason (None when it is not a known one)."""
    if why in MANUAL_REASONS:
        return MANUAL_REASONS[why]
    if _CREW_UNREACHABLE.search(why):
        return "crew_unreachable"
    for prefix, code in _REASON_PREFIXES:
        if why.startswith(prefix):
            return code
    return None


def op_label(op: dict[str, Any]) -> dict[str, str]:
    """``{"kind", "ref"}`` of an operated asset: from its bilingual name when it has one
    (``联络开关/tie 5`` → tie, 5), else from its asset id (``power:switch:5`` → switch, 5)."""
    parts = str(op.get("asset_id") or "").split(":")
    kind, ref = (parts[1], parts[-1]) if len(parts) >= 3 else ("asset", parts[-1])
    m = _BILINGUAL.match(str(op.get("name") or ""))
    if m and m.group("en").lower() in _NAME_KINDS:
        return {"kind": _NAME_KINDS[m.group("en").lower()], "ref": m.group("ref")}
    return {"kind": kind, "ref": ref}


def _why(action: dict[str, Any], step: dict[str, str] | None) -> str:
    """The filler's parenthesised reason after the step text in the English text ('' if none)."""
    en = str((action.get("text") or {}).get("en") or "")
    base = (step or {}).get("en", "")
    if base and en.startswith(base + " (") and en.endswith(")"):
        return en[len(base) + 2 : -1]
    return ""


def enrich_actions(actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of ``actions`` with the display codes described in the module docstring."""
    steps = _steps()
    out = []
    for a in actions:
        b = dict(a)
        step = steps.get((str(a.get("plan_id")), str(a.get("step"))))
        if step is not None and a.get("kind") in ("manual", "restore"):
            b["step_text"] = step
        if a.get("kind") == "manual":
            why = _why(a, step)
            if why:
                code = reason_code(why)
                b["reason"] = code or "other"
                if code is None:
                    b["reason_text"] = why
        op = a.get("operation")
        if isinstance(op, dict):
            op = {**op, "label": op_label(op)}
            if op.get("operation") == "deenergise":
                en = str((a.get("text") or {}).get("en") or "")
                op["why"] = "before_flooding" if "before the water" in en else "outside_zone"
            b["operation"] = op
        out.append(b)
    return out


def present(detail: dict[str, Any]) -> dict[str, Any]:
    """``detail`` (an incident's JSON) with its actions enriched for display; the plan's own
    operations get labels too."""
    out = {**detail, "actions": enrich_actions(list(detail.get("actions") or []))}
    plan = detail.get("plan") or {}
    if plan.get("plans"):
        plans = []
        for p in plan["plans"]:
            ops = [
                {**o, "label": op_label(o)}
                for o in (p.get("operations") or [])
                if isinstance(o, dict)
            ]
            plans.append({**p, "operations": ops})
        out["plan"] = {**plan, "plans": plans}
    return out
