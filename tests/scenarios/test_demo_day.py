"""The main job end to end, headless, on the real demo town: the scripted day's three incidents
are found, each correlated with its complaints, graded, and given a plan that passes safety."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from lifeline.scenarios.demo import run_demo

    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    return run_demo(db=f"duckdb://{db}", quiet=True)


def test_every_reading_is_stored_or_rejected_with_a_reason(summary: dict[str, Any]) -> None:
    from lifeline.scenarios.day import BAD_RECORD_REASONS

    ingest = summary["ingest"]
    assert ingest["rejected_total"] == len(BAD_RECORD_REASONS)
    assert summary["readings_in_store"] == ingest["stored"] > 100_000
    assert set(ingest["per_utility"]) >= {"water", "power", "gas"}


def test_three_incidents_one_per_scripted_event(summary: dict[str, Any]) -> None:
    incidents = summary["incidents"]
    assert sorted(i["utility"] for i in incidents) == ["gas", "power", "water"]
    kinds = {i["utility"]: i["kind"] for i in incidents}
    assert kinds == {
        "water": "water_main_burst",
        "gas": "gas_leak_confined",
        "power": "power_feeder_fault",
    }


def test_each_incident_has_sensor_evidence_and_its_complaints(summary: dict[str, Any]) -> None:
    for inc in summary["incidents"]:
        counts = inc["evidence_counts"]
        assert counts.get("complaint", 0) >= 2, (inc["utility"], counts)
        assert counts.get("alarm", 0) >= 1, (inc["utility"], counts)
        assert all(e["rule"] for e in inc["evidence"]), "every item says why it was grouped"


def test_graded_planned_and_safe(summary: dict[str, Any]) -> None:
    for inc in summary["incidents"]:
        assert inc["grade"] in ("I", "II", "III", "IV")
        assert inc["actions"], inc["utility"]
        assert any(a["kind"] == "dispatch" for a in inc["actions"])
        assert inc["safety"] and all(r["passed"] for r in inc["safety"]), inc["safety"]


def test_cascades_cross_utilities(summary: dict[str, Any]) -> None:
    by = {i["utility"]: i for i in summary["incidents"]}
    power_cascade = {c["kind"] for c in by["power"]["cascade"]}
    assert "pumping_station_power_loss" in power_cascade
    gas_cascade = by["gas"]["cascade"]
    assert any(
        c["kind"] == "ignition_risk" and str(c["to_asset"]).startswith("power:manhole:")
        for c in gas_cascade
    )


def test_unrelated_calls_stay_apart(summary: dict[str, Any]) -> None:
    grouped = sum(i["evidence_counts"].get("complaint", 0) for i in summary["incidents"])
    assert grouped < summary["complaints"], "the two unrelated calls must not join an incident"


def test_incident_table_keeps_ids_and_kinds_whole_at_120_columns(
    summary: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from lifeline.scenarios.demo import print_summary

    print_summary(summary, width=120)
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 120
    for inc in summary["incidents"]:
        assert inc["incident_id"] in out and inc["kind"] in out


def test_no_water_tanker_is_sent_to_the_pumping_station(summary: dict[str, Any]) -> None:
    power = next(i for i in summary["incidents"] if i["utility"] == "power")
    tankers = [a["text"] for a in power["actions"] if a["kind"] == "alternative_supply"]
    assert any("water tanker" in t for t in tankers), "the hospital and schools still get one"
    assert not any("water tanker" in t and "pumping_station" in t for t in tankers), tankers
