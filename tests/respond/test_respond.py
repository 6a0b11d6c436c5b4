"""Plan library, filling with computed actions, crews along streets, cascades."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from lifeline.errors import NotFoundError
from lifeline.incidents.lifecycle import Incident
from lifeline.incidents.pipeline import assess
from lifeline.respond.cascade import cascade_chain
from lifeline.respond.crews import nearest_crew
from lifeline.respond.fill import recommend
from lifeline.respond.library import load_plans, retrieve
from tests.incidents.helpers import alarm, ts
from tests.respond.fakes import FakeGas, FakePower, FakeWater, crews


def _inc(utility: str = "water", kind: str = "water_main_burst") -> Incident:
    inc = Incident(
        "INC-T",
        utility,
        ts(0),
        kind=kind,
        x_m=0.0,
        y_m=0.0,
        evidence=[alarm("a1", 0, utility=utility)],
    )
    inc.location = {
        "method": "best_candidate",
        "best_candidate": {"from": "a1", "asset_id": "w:p1"},
    }
    return inc


def test_library_loads_bilingual_plans_and_retrieves() -> None:
    plans = load_plans()
    ids = {p["id"] for p in plans}
    assert {
        "water_main_burst",
        "water_quality",
        "power_feeder_fault",
        "power_lv_outage",
        "gas_leak_confined",
        "gas_pressure_loss",
        "cascade_pumping_station_power_loss",
        "cascade_substation_flooding",
    } <= ids
    got = retrieve("power", ["power_feeder_fault", "pumping_station_power_loss"], plans)
    assert [p["id"] for p in got] == ["power_feeder_fault", "cascade_pumping_station_power_loss"]
    assert retrieve("water", ["nothing"], plans) == []


def test_nearest_crew_by_street_not_straight_line() -> None:
    c = crews()
    r = nearest_crew(c.graph, c.crews, 0.0, 0.0, "water", 30.0)
    # A is 600 m away in a straight line but 800 m by street; B is 1000 m by street; C unavailable
    assert r["crew_id"] == "A" and r["distance_m"] == 800.0
    assert r["eta_min"] == pytest.approx(800 / 1000 / 30 * 60, abs=0.1)
    assert [x["crew_id"] for x in r["candidates"]] == ["A", "B"]
    with pytest.raises(NotFoundError):
        nearest_crew(c.graph, c.crews, 0.0, 0.0, "gas")


def test_fill_water_burst_actions_cite_their_source() -> None:
    inc = _inc()
    recommend(inc, {"water": FakeWater()}, crews())
    kinds = [a["kind"] for a in inc.actions]
    assert kinds[0] == "dispatch" and inc.actions[0]["crew"]["crew_id"] == "A"
    ops = [a for a in inc.actions if a["kind"] == "operate"]
    assert [o["operation"]["asset_id"] for o in ops] == ["w:valve:V1", "w:valve:V2"]
    tankers = [a for a in inc.actions if a["kind"] == "alternative_supply"]
    assert [t["target_customer_id"] for t in tankers] == ["h1"] and "水车" in tankers[0]["text"][
        "zh-CN"
    ]
    assert all(a["cites"] for a in inc.actions)
    assert "evidence:a1" in ops[0]["cites"]
    assert inc.impact["critical_sites_out"] == 1 and len(inc.impact["customers_out"]) == 6


def test_ties_restore_before_alternative_supply() -> None:
    inc = _inc("power", "power_feeder_fault")
    recommend(inc, {"power": FakePower()}, crews())
    tie = [a for a in inc.actions if a["step"] == "restore_ties"]
    assert tie and tie[0]["operation"]["asset_id"] == "p:switch:T1"
    notify = next(a for a in inc.actions if a["kind"] == "notify")
    assert sorted(notify["customer_ids"]) == ["c4", "c5", "h1"]  # c1..c3 restored through the tie


def test_missing_capability_becomes_manual_step() -> None:
    inc = _inc()
    recommend(inc, {}, None)
    assert all(a["kind"] == "manual" for a in inc.actions)
    assert any("no crew roster" in a["text"]["en"] for a in inc.actions)


def test_cascade_chain_from_dependencies() -> None:
    deps = pd.DataFrame(
        {
            "asset_id": ["water:pump:PS1", "power:cable:K7", "power:trafo:T9"],
            "utility": ["water", "power", "power"],
            "depends_on_asset_id": ["power:bus:B3", "gas:pipe:GP1", "water:pipe:P5"],
            "depends_on_utility": ["power", "gas", "water"],
            "kind": ["supply", "proximity", "flooding"],
            "distance_m": [0.0, 2.0, 15.0],
        }
    )
    p = Incident("I1", "power", ts(0))
    links = cascade_chain(p, deps, ["power:bus:B3"], {"water": FakeWater()})
    assert [(lk["kind"], lk["to_asset"]) for lk in links] == [
        ("pumping_station_power_loss", "water:pump:PS1")
    ]
    assert (
        links[0]["customers_affected"] == 3 and links[0]["critical_sites"][0]["customer_id"] == "h1"
    )
    g = Incident("I2", "gas", ts(0))
    assert [lk["kind"] for lk in cascade_chain(g, deps, ["gas:pipe:GP1"], {})] == ["ignition_risk"]
    w = Incident("I3", "water", ts(0))
    assert [lk["to_asset"] for lk in cascade_chain(w, deps, ["water:pipe:P5"], {})] == [
        "power:trafo:T9"
    ]
    assert cascade_chain(w, deps, ["water:pipe:OTHER"], {}) == []


def test_assess_power_fault_with_pump_cascade_passes_safety() -> None:
    deps = pd.DataFrame(
        {
            "asset_id": ["water:pump:PS1"],
            "utility": ["water"],
            "depends_on_asset_id": ["p:switch:S1"],
            "depends_on_utility": ["power"],
            "kind": ["supply"],
            "distance_m": [0.0],
        }
    )
    inc = _inc("power", "power_feeder_fault")
    inc.location["best_candidate"]["asset_id"] = "p:switch:S1"
    assess(inc, {"power": FakePower(), "water": FakeWater()}, deps, crews=crews())
    assert [c["kind"] for c in inc.cascade] == ["pumping_station_power_loss"]
    assert [p["plan_id"] for p in inc.plan["plans"]] == [
        "power_feeder_fault",
        "cascade_pumping_station_power_loss",
    ]
    assert any(
        a["kind"] == "alternative_supply"
        and a["utility"] == "water"
        and a["target_customer_id"] == "h1"
        for a in inc.actions
    )
    assert inc.grade == "III"  # hospital out of power (critical_sites_out >= 1)
    assert all(r["passed"] for r in inc.safety), inc.safety


def test_assess_gas_leak_deenergises_cable_and_evacuates() -> None:
    inc = _inc("gas", "gas_leak_confined")
    assess(
        inc,
        {"gas": FakeGas()},
        pd.DataFrame(
            columns=[
                "asset_id",
                "utility",
                "depends_on_asset_id",
                "depends_on_utility",
                "kind",
                "distance_m",
            ]
        ),
        crews=None,
    )
    de = [a for a in inc.actions if (a.get("operation") or {}).get("operation") == "deenergise"]
    assert [a["operation"]["asset_id"] for a in de] == ["p:cable:K7"]
    assert any(a["kind"] == "evacuate" and a["persons"] == 6 for a in inc.actions)
    assert all(r["passed"] for r in inc.safety), inc.safety


def test_plan_validation_catches_unquoted_commas(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from lifeline.errors import ConfigError

    (tmp_path / "p.yaml").write_text(
        "id: x\nutility: water\nkinds: [x]\ntitle: {zh-CN: 甲, en: A}\nsteps:\n"
        "  - {id: s, action: manual, zh-CN: 冲洗, en: Flush, disinfect}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="quote texts"):
        load_plans(tmp_path)
    for plan in load_plans():
        assert all(len(s["en"]) > 3 and s["zh-CN"] for s in plan["steps"])


class _WaterWithStation(FakeWater):
    """A pump-off simulation whose customers include the pumping station itself."""

    def outage_impact(self, asset_ids: list[str]) -> dict[str, Any]:
        station = {
            "customer_id": "w1",
            "name": "Waterworks pumping station",
            "category": "pumping_station",
            "critical": True,
            "x_m": 300.0,
            "y_m": 0.0,
        }
        imp = super().outage_impact(asset_ids)
        return {**imp, "customers": [*imp["customers"], station]}


def test_no_water_tanker_to_the_pumping_station_itself() -> None:
    deps = pd.DataFrame(
        {
            "asset_id": ["water:pump:PS1"],
            "utility": ["water"],
            "depends_on_asset_id": ["p:switch:S1"],
            "depends_on_utility": ["power"],
            "kind": ["supply"],
            "distance_m": [0.0],
        }
    )
    inc = _inc("power", "power_feeder_fault")
    inc.location["best_candidate"]["asset_id"] = "p:switch:S1"
    assess(inc, {"power": FakePower(), "water": _WaterWithStation()}, deps, crews=crews())
    tankers = [
        a for a in inc.actions if a["kind"] == "alternative_supply" and a["utility"] == "water"
    ]
    assert [a["target_customer_id"] for a in tankers] == ["h1"]
    assert any(c["customer_id"] == "w1" for c in inc.cascade[0]["customers"])  # out, no tanker
