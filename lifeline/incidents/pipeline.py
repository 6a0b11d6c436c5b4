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
    Proportionate response (:mod:`lifeline.incidents.confirm`): while the evidence does not
    confirm the incident, it gets a verification plan and the lowest grade — no isolation, no
    cascade, no notification.
    """
    from lifeline.incidents.confirm import confirmation
    from lifeline.respond.adapters import has
    from lifeline.respond.cascade import cascade_chain
    from lifeline.respond.fill import recommend
    from lifeline.respond.safety import review

    if not incident.kind:
        incident.kind = infer_kind(incident)
    conf = confirmation(incident)
    incident.confirmation = conf
    rules = rules or load_rules()
    if not incident.district_id:
        incident.district_id = district_at(districts, incident.x_m, incident.y_m)
    if not conf["confirmed"]:
        incident.cascade = []
        incident.impact = {}
        recommend(incident, adapters, crews, plan_kind=f"verify_{incident.utility}")
        if extra_impact:
            incident.impact.update(extra_impact)
        lowest = rules.default
        incident.grade = lowest
        incident.grading = {"grade": lowest, "rule": "to_verify", "why": conf["rule"]}
        incident.routing = route(
            lowest, incident.district_id, districts, incident.x_m, incident.y_m, rules
        )
        review(incident, set(inoperable or set()))
        return incident
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
    g = grade(incident.impact, incident.utility, rules)
    incident.grade, incident.grading = g["grade"], g
    incident.routing = route(
        g["grade"], incident.district_id, districts, incident.x_m, incident.y_m, rules
    )
    inop = set(inoperable or set())
    if has(ad, "inoperable_assets"):
        inop |= set(ad.inoperable_assets())
    review(incident, inop)
    from lifeline.respond.areas import isolation_area

    area = isolation_area(adapters, incident)
    if area is not None:
        incident.plan = {**incident.plan, "isolation_area": area}
    return incident


#: expected outage duration (hours) per incident type, used for household-hours while an
#: incident is open (demo planning figures; a restored incident uses its actual duration)
ESTIMATED_DURATION_H = {
    "water_main_burst": 6.0,
    "water_quality": 12.0,
    "power_feeder_fault": 2.0,
    "power_lv_outage": 3.0,
    "gas_leak_confined": 4.0,
    "gas_pressure_loss": 4.0,
    "waterlogging": 3.0,
    "pump_station_failure": 4.0,
    "sewer_blockage": 6.0,
}


def outage_duration_h(inc: Incident) -> float:
    """Outage duration (h) for grading: onset (or detection) → restored when restored, else
    :data:`ESTIMATED_DURATION_H` of the incident type (4 h for a type without one)."""
    restored = inc.state_time("restored")
    if restored:
        return (restored - (inc.onset_at or inc.opened_at)).total_seconds() / 3600.0
    return ESTIMATED_DURATION_H.get(inc.kind, 4.0)


def correlate_and_assess(
    alarms: pd.DataFrame | None = None,
    complaints: pd.DataFrame | None = None,
    meter_events: pd.DataFrame | None = None,
    town: Any = None,
    adapters: dict[str, Any] | None = None,
    crews: Any = None,
    correlator: Any = None,
    min_evidence: int = 1,
    rules: GradingRules | None = None,
    with_narrative: bool = True,
    assets: pd.DataFrame | None = None,
) -> list[Incident]:
    """Correlate the evidence into incidents and assess each one with ``min_evidence`` or more items.

    With ``town`` (a :class:`lifeline.model.city.City`, e.g. the demo town) the zone adapter,
    utility adapters, street graph, crews, grading table, dependencies and districts come from
    it; any of them can be passed instead.
    ``duration_h`` for grading is the actual outage (onset or detection → restored) when
    restored, else :data:`ESTIMATED_DURATION_H` of the incident type. ``with_narrative`` adds the
    summary (template, or the LLM when ``LIFELINE_LLM_URL`` is set). ``assets`` (default: the
    town's) resolves bare asset ids in alarm locations to positions and zones.
    """
    from lifeline.incidents.correlate import Correlator, ZoneArea
    from lifeline.incidents.evidence import evidence_from_frames

    deps = districts = None
    if town is not None:
        from lifeline.incidents.grading import city_rules
        from lifeline.respond.adapters import city_adapters
        from lifeline.respond.crews import city_street_graph, default_crews
        from lifeline.respond.fill import CrewContext

        correlator = correlator or Correlator(
            area=ZoneArea.from_tables(town.assets, town.customers)
        )
        adapters = adapters or city_adapters(town)
        crews = crews or CrewContext(
            city_street_graph(town),
            town.crews if len(getattr(town, "crews", ())) else default_crews(town),
        )
        rules = rules or city_rules(town)
        deps, districts = town.dependencies, town.districts
    correlator = correlator or Correlator()
    assets = assets if assets is not None else (town.assets if town is not None else None)
    sensors = town.sensors if town is not None else None
    correlator.add_all(
        evidence_from_frames(alarms, complaints, meter_events, assets=assets, sensors=sensors)
    )
    out = []
    for inc in correlator.incidents:
        if len(inc.evidence) < min_evidence:
            continue
        if not inc.kind:
            inc.kind = infer_kind(inc)
        dur = outage_duration_h(inc)
        assess(
            inc,
            adapters or {},
            deps,
            districts,
            crews,
            rules,
            extra_impact={"duration_h": round(dur, 2)},
        )
        if with_narrative:
            from lifeline.incidents.narrative import narrative

            inc.narrative = narrative(inc)["text"]
        out.append(inc)
    return out
