"""Drainage in the incident loop, found on the demo town's storm drill: one storm's warnings at
points far apart make one waterlogging incident (their forecast flood areas overlap); customers
warned in a flood area are not customers cut off (the hospital-supply safety rule); a road
closure is labelled as a road on the dashboard."""

from __future__ import annotations

import dataclasses
from typing import Any

from lifeline.incidents.correlate import Correlator
from lifeline.incidents.evidence import Evidence
from tests.incidents.helpers import alarm


def _warning(aid: str, minutes: float, x: float, node: str, flood: list[str]) -> Evidence:
    """A drainage_warning alarm at point node ``node`` whose forecast floods ``flood``."""
    ev = alarm(aid, minutes, utility="drainage", x=x, y=0.0, zone="", detector="drainage_warning")
    detail = {
        "point_id": f"WP-{node}",
        "node": node,
        "flood_nodes": [{"node": n, "peak_m": 0.3} for n in flood],
    }
    return dataclasses.replace(ev, detail=detail)


def test_warnings_of_one_storm_far_apart_make_one_incident() -> None:
    cor = Correlator(max_distance_m=400)
    cor.add(_warning("w1", 0, 0.0, "A", ["A", "B", "C"]))
    cor.add(_warning("w2", 0, 1500.0, "C", ["C", "D"]))  # 1.5 km away, shares node C
    assert len(cor.incidents) == 1
    g = cor.incidents[0].grouping[1]
    assert g["rule"] == "same_flood_area" and g["nodes"] == ["C"]


def test_warnings_with_disjoint_flood_areas_stay_apart() -> None:
    cor = Correlator(max_distance_m=400)
    cor.add(_warning("w1", 0, 0.0, "A", ["A", "B"]))
    cor.add(_warning("w2", 0, 1500.0, "C", ["C", "D"]))
    cor.add(alarm("x", 0, utility="water", x=0.0, y=0.0, zone=""))  # another utility
    assert len(cor.incidents) == 3


def _incident(plan_impact: dict[str, Any]) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(
        plan={"plans": [{"plan_id": "p", "impact": plan_impact}]}, cascade=[], actions=[]
    )


def test_a_hospital_in_a_flood_area_is_warned_not_cut_off() -> None:
    from lifeline.respond.safety import rule_hospital_supply

    hosp = [{"customer_id": "H1", "category": "hospital", "critical": True}]
    warned = rule_hospital_supply(_incident({"customers": hosp, "supply_lost": False}))
    assert warned["passed"] and warned["hospitals_out"] == []
    cut = rule_hospital_supply(_incident({"customers": hosp}))
    assert not cut["passed"] and cut["uncovered"] == ["H1"]


def test_road_closure_label() -> None:
    from lifeline.api.present import op_label

    op = {"asset_id": "drainage:node:UP1", "kind": "road_closure", "name": "下穿/Underpass (0.4 m)"}
    assert op_label(op) == {"kind": "road", "ref": "UP1"}
    assert op_label({"asset_id": "water:valve:V3", "name": "阀门/valve V3"}) == {
        "kind": "valve",
        "ref": "V3",
    }
