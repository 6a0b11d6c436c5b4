"""Compact JSON view of an incident (what ``lifeline demo --headless --json`` prints)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from lifeline.incidents.lifecycle import Incident


def incident_json(inc: Incident, lang: str = "en") -> dict[str, Any]:
    """id, utility, kind, state, grade, location, evidence (with grouping rule), cascade, plan
    actions (text in ``lang`` + cites), safety results and approval."""
    rule_of = {g.get("evidence_id"): g.get("rule") for g in inc.grouping}
    return {
        "incident_id": inc.incident_id,
        "utility": inc.utility,
        "kind": inc.kind,
        "state": inc.state,
        "grade": inc.grade,
        "grade_name": {
            "zh-CN": inc.grading.get("name_zh", ""),
            "en": inc.grading.get("name_en", ""),
        },
        "grade_basis": inc.grading.get("deciding", []),
        "routing": inc.routing,
        "opened_at": inc.opened_at.isoformat(),
        "location": {
            "x_m": inc.x_m,
            "y_m": inc.y_m,
            "district_id": inc.district_id,
            "method": inc.location.get("method"),
            "spread_m": inc.location.get("spread_m"),
            "best_candidate": (inc.location.get("best_candidate") or {}).get("asset_id"),
        },
        "evidence_counts": dict(Counter(e.kind for e in inc.evidence)),
        "evidence": [
            {
                "kind": e.kind,
                "id": e.evidence_id,
                "ts": e.ts.isoformat(),
                "source": e.source,
                "category": e.category,
                "rule": rule_of.get(e.evidence_id),
            }
            for e in inc.evidence
        ],
        "impact": {k: (len(v) if isinstance(v, list) else v) for k, v in inc.impact.items()},
        "cascade": [
            {
                k: c.get(k)
                for k in (
                    "kind",
                    "from_utility",
                    "from_asset",
                    "to_utility",
                    "to_asset",
                    "customers_affected",
                    "critical_sites",
                )
            }
            for c in inc.cascade
        ],
        "plans": [p["plan_id"] for p in inc.plan.get("plans", [])],
        "actions": [
            {
                "id": a["action_id"],
                "kind": a["kind"],
                "text": a["text"].get(lang, a["text"].get("en")),
                "cites": a.get("cites", []),
            }
            for a in inc.actions
        ],
        "safety": [
            {"rule": r["rule"], "passed": r["passed"], "detail": r["detail"]} for r in inc.safety
        ],
        "approval": inc.approval or None,
        "narrative": inc.narrative,
    }
