"""From correlated incident to graded incident with a checked plan (the lead's demo uses this).

``assess(incident, …)``: infer the incident type, compute the cascade from the dependency table,
retrieve and fill plans, grade from the impact, route by grade and location, and run the
safety review. Each step is optional when its input is missing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from lifeline.incidents.correlate import infer_kind
from lifeline.incidents.grading import GradingRules, district_at, grade, load_rules, route
from lifeline.incidents.lifecycle import Incident


def assess(
    incident: Incident,
    adapters: dict[str, Any],
    dependencies: pd.DataFrame | None = None,
    districts: pd.DataFrame | None = None,
    crews: Any = None,
    rules: GradingRules | None = None,
    inoperable: set[str] | None = None,
    extra_impact: dict[str, Any] | None = None,
) -> Incident:
    """Type, cascade, plan, grade, routing and safety review for ``incident`` (in place; returned).

    ``adapters`` maps utility -> :class:`lifeline.respond.adapters.ResponseAdapter`;
    ``extra_impact`` adds impact fields the adapters cannot know (duration_h, deaths, evacuated…).
    """
    from lifeline.respond.adapters import has
    from lifeline.respond.cascade import cascade_chain
    from lifeline.respond.fill import recommend
    from lifeline.respond.safety import review

    if not incident.kind:
        incident.kind = infer_kind(incident)
    ad: Any = adapters.get(incident.utility)
    affected: list[str] = []
    hazard = (
        ad.hazard_zone(incident) if has(ad, "hazard_zone") and incident.utility == "gas" else None
    )
    if has(ad, "affected_assets"):
        affected = list(ad.affected_assets(incident))
    else:
        best = (incident.location or {}).get("best_candidate") or {}
        affected = (
            [best["asset_id"]]
            if best.get("asset_id")
            else sorted({a for e in incident.evidence for a in e.asset_ids})
        )
    if dependencies is not None:
        incident.cascade = cascade_chain(incident, dependencies, affected, adapters, hazard)
    recommend(incident, adapters, crews)
    if extra_impact:
        incident.impact.update(extra_impact)
    if not incident.district_id:
        incident.district_id = district_at(districts, incident.x_m, incident.y_m)
    rules = rules or load_rules()
    g = grade(incident.impact, incident.utility, rules)
    incident.grade, incident.grading = g["grade"], g
    incident.routing = route(
        g["grade"], incident.district_id, districts, incident.x_m, incident.y_m, rules
    )
    inop = set(inoperable or set())
    if has(ad, "inoperable_assets"):
        inop |= set(ad.inoperable_assets())
    review(incident, inop)
    return incident
