"""Each safety rule passes and fails; approval records who approved what."""

from __future__ import annotations

import pytest

from lifeline.errors import StateError
from lifeline.incidents.lifecycle import Incident
from lifeline.respond.fill import recommend
from lifeline.respond.safety import (
    approve,
    review,
    rule_hospital_supply,
    rule_ignition_sources,
    rule_inoperable_valve,
)
from tests.incidents.helpers import alarm, ts
from tests.respond.fakes import FakeGas, FakeWater


def _water(**kw: bool) -> Incident:
    inc = Incident(
        "INC-S",
        "water",
        ts(0),
        kind="water_main_burst",
        x_m=0.0,
        y_m=0.0,
        evidence=[alarm("a1", 0)],
    )
    recommend(inc, {"water": FakeWater(**kw)})
    return inc


def test_hospital_rule_pass_and_fail() -> None:
    inc = _water()
    assert rule_hospital_supply(inc)["passed"]
    inc.actions = [a for a in inc.actions if a["kind"] != "alternative_supply"]  # drop the tanker
    r = rule_hospital_supply(inc)
    assert not r["passed"] and r["uncovered"] == ["h1"]
    assert rule_hospital_supply(_water(hospital_cut=False))["passed"]


def test_hospital_rule_counts_cascade_hospitals() -> None:
    inc = _water(hospital_cut=False)
    inc.cascade = [
        {
            "kind": "pumping_station_power_loss",
            "customers": [{"customer_id": "h2", "category": "hospital"}],
        }
    ]
    assert rule_hospital_supply(inc)["uncovered"] == ["h2"]


def test_inoperable_valve_rule_pass_and_fail() -> None:
    assert rule_inoperable_valve(_water())["passed"]
    r = rule_inoperable_valve(_water(inoperable=True))
    assert not r["passed"] and r["violations"][0]["asset_id"] == "w:valve:V1"
    r2 = rule_inoperable_valve(_water(), inoperable={"w:valve:V2"})
    assert not r2["passed"] and r2["violations"][0]["asset_id"] == "w:valve:V2"


def _gas() -> Incident:
    inc = Incident(
        "INC-G",
        "gas",
        ts(0),
        kind="gas_leak_confined",
        x_m=100.0,
        y_m=0.0,
        evidence=[alarm("m1", 0, utility="gas")],
    )
    recommend(inc, {"gas": FakeGas()})
    return inc


def test_ignition_rule_pass_and_fail() -> None:
    inc = _gas()
    assert rule_ignition_sources(inc)["passed"]
    # fail 1: the plan does not de-energise the cable inside the zone
    inc.actions = [
        a for a in inc.actions if (a.get("operation") or {}).get("operation") != "deenergise"
    ]
    r = rule_ignition_sources(inc)
    assert not r["passed"] and r["not_deenergised"] == ["p:cable:K7"]
    # fail 2: re-energising/switching power equipment inside the zone
    inc = _gas()
    inc.actions.append(
        {
            "action_id": "x:1",
            "kind": "operate",
            "utility": "power",
            "operation": {
                "asset_id": "p:switch:Q",
                "operation": "close",
                "utility": "power",
                "x_m": 120.0,
                "y_m": 10.0,
            },
        }
    )
    r = rule_ignition_sources(inc)
    assert not r["passed"] and r["violations"][0]["asset_id"] == "p:switch:Q"
    # switching outside the zone is fine
    inc.actions[-1]["operation"].update(x_m=500.0, y_m=0.0)
    assert rule_ignition_sources(inc)["passed"]


def test_ignition_rule_cascade_cable_in_well() -> None:
    inc = _water(hospital_cut=False)
    inc.cascade = [{"kind": "ignition_risk", "to_asset": "p:cable:W1"}]
    assert rule_ignition_sources(inc)["not_deenergised"] == ["p:cable:W1"]


def test_approval_refused_when_failing_and_recorded_when_passing() -> None:
    bad = _water(inoperable=True)
    review(bad)
    with pytest.raises(StateError, match="inoperable_valve"):
        approve(bad, "值班长 李")
    good = _water()
    with pytest.raises(StateError, match="safety review"):
        approve(good, "值班长 李")
    review(good)
    a = approve(good, "值班长 李", ts=ts(30), note="ok")
    assert a["by"] == "值班长 李" and a["action_ids"] == [x["action_id"] for x in good.actions]
    assert a["safety"] == {
        "hospital_supply": True,
        "inoperable_valve": True,
        "ignition_sources": True,
    }
    assert good.audit[-1]["action"] == "approve_plan" and good.audit[-1]["actor"] == "值班长 李"
    with pytest.raises(StateError, match="approver"):
        approve(good, "")
