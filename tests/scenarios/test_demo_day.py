"""The main job end to end, headless, on the real demo town: the scripted day's three events are
found, each as one incident correlated with its complaints, graded, and given a plan that passes
safety; anything else the day raises (a single call, an unconfirmed alarm) stays a grade IV
check."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def summary(headless_day: dict[str, Any]) -> dict[str, Any]:
    """The headless run of the scripted day (tests/scenarios/conftest.py, once per session)."""
    return headless_day


def test_every_reading_is_stored_or_rejected_with_a_reason(summary: dict[str, Any]) -> None:
    from lifeline.scenarios.day import BAD_RECORD_REASONS
    from lifeline.scenarios.demo import HISTORY_DAYS

    ingest = summary["ingest"]
    assert ingest["rejected_total"] == len(BAD_RECORD_REASONS)
    # the day's readings and its quiet history days (as many readings each: every sensor)
    assert summary["readings_in_store"] == ingest["stored"] * (1 + HISTORY_DAYS)
    assert ingest["stored"] > 100_000
    assert set(ingest["per_utility"]) >= {"water", "power", "gas"}


SCRIPTED = {"water": "water_main_burst", "gas": "gas_leak_confined", "power": "power_feeder_fault"}


def _checks(inc: dict[str, Any]) -> bool:
    """An incident still to verify: only verification plans (evidence too weak to act on)."""
    return all(p.startswith("verify_") for p in inc["plans"])


def _scripted(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The incident of each scripted event: its kind, confirmed (a plan beyond verifying)."""
    out: dict[str, dict[str, Any]] = {}
    for inc in summary["incidents"]:
        if inc["kind"] == SCRIPTED.get(inc["utility"]) and not _checks(inc):
            assert inc["utility"] not in out, ("one incident per scripted event", inc)
            out[inc["utility"]] = inc
    return out


def test_one_incident_per_scripted_event(summary: dict[str, Any]) -> None:
    assert sorted(_scripted(summary)) == ["gas", "power", "water"]


def test_everything_else_is_a_proportionate_check(summary: dict[str, Any]) -> None:
    scripted = {i["incident_id"] for i in _scripted(summary).values()}
    others = [i for i in summary["incidents"] if i["incident_id"] not in scripted]
    for inc in others:
        assert _checks(inc) and inc["grade"] == "IV", inc
        assert inc["evidence_counts"].get("complaint", 0) <= 1, inc
    assert len(others) <= 4, [(i["incident_id"], i["kind"]) for i in others]


def test_each_incident_has_sensor_evidence_and_its_complaints(summary: dict[str, Any]) -> None:
    for inc in _scripted(summary).values():
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
    by = _scripted(summary)
    power_cascade = {c["kind"] for c in by["power"]["cascade"]}
    assert "pumping_station_power_loss" in power_cascade
    gas_cascade = by["gas"]["cascade"]
    assert any(
        c["kind"] == "ignition_risk" and str(c["to_asset"]).startswith("power:manhole:")
        for c in gas_cascade
    )


def test_unrelated_calls_stay_apart(summary: dict[str, Any]) -> None:
    scripted = _scripted(summary).values()
    grouped = sum(i["evidence_counts"].get("complaint", 0) for i in scripted)
    assert grouped < summary["complaints"], "the unrelated calls must not join a scripted incident"


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
    power = _scripted(summary)["power"]
    tankers = [a["text"] for a in power["actions"] if a["kind"] == "alternative_supply"]
    assert any("water tanker" in t for t in tankers), "the hospital and schools still get one"
    assert not any("water tanker" in t and "pumping_station" in t for t in tankers), tankers
