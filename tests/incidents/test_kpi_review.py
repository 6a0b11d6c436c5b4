"""KPI arithmetic on a constructed timeline; the review report with its plot; narrative fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifeline.incidents.kpi import customer_minutes_lost, incident_kpis, kpi_summary
from lifeline.incidents.lifecycle import Incident, advance
from lifeline.incidents.narrative import narrative
from lifeline.incidents.review import findings, write_review
from tests.incidents.helpers import alarm, complaint, ts


def _timeline() -> Incident:
    inc = Incident(
        "INC-K",
        "water",
        ts(5),
        onset_at=ts(0),
        district_id="D1",
        kind="water_main_burst",
        grade="III",
    )
    inc.evidence = [
        complaint("k1", 5),
        alarm("a1", 12, detector="pressure_drop"),
        complaint("k2", 20),
    ]
    inc.impact = {"customers_out": ["c1", "c2", "c3", "c4"]}
    for state, minute in (
        ("confirmed", 15),
        ("dispatched", 20),
        ("on_site", 35),
        ("isolated", 50),
        ("repaired", 170),
        ("restored", 185),
    ):
        advance(inc, state, "op", state, ts=ts(minute))
    return inc


def test_incident_kpis() -> None:
    k = incident_kpis(_timeline())
    assert k["time_to_detect_min"] == 5.0
    assert (
        k["time_to_confirm_min"],
        k["time_to_dispatch_min"],
        k["time_to_isolate_min"],
        k["time_to_restore_min"],
    ) == (10.0, 15.0, 45.0, 180.0)
    assert k["customer_minutes_lost"] == 4 * 185.0  # from onset to restoration


def test_customer_minutes_with_segments_and_open_incident() -> None:
    inc = _timeline()
    inc.impact["outage_segments"] = [
        {"customers": 3, "start": ts(0), "end": ts(60)},
        {"customers": 1, "start": ts(0)},
    ]
    assert customer_minutes_lost(inc) == 3 * 60 + 1 * 185
    open_inc = Incident("INC-O", "power", ts(0), impact={"households_out": 10})
    assert customer_minutes_lost(open_inc) is None
    assert customer_minutes_lost(open_inc, now=ts(30)) == 300.0
    assert incident_kpis(open_inc)["time_to_restore_min"] is None


def test_kpi_summary_per_day_and_district() -> None:
    a, b = _timeline(), _timeline()
    b.incident_id, b.district_id = "INC-K2", "D2"
    s = kpi_summary([a, b], freq="D")
    assert sorted(s["district_id"]) == ["D1", "D2"] and s["incidents"].sum() == 2
    s2 = kpi_summary([a, b], freq="D", by_district=False)
    assert s2.loc[0, "customer_minutes_lost"] == 2 * 740.0
    assert s2.loc[0, "mean_time_to_restore_min"] == 180.0


def test_review_report_written_with_plot(tmp_path: Path) -> None:
    inc = _timeline()
    f = findings(inc, expected_detectors=["pressure_drop", "flow_balance"])
    assert f["first"]["kind"] == "complaint" and f["first_alarm"]["source"] == "pressure_drop"
    assert f["lead_over_alarm_min"] == 7.0
    assert any("flow_balance" in m for m in f["missed"]) and not any(
        "pressure_drop covers" in m for m in f["missed"]
    )
    paths = write_review(inc, tmp_path, ["flow_balance"])
    png = paths["plot"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "## What was missed" in md and "flow_balance" in md and "INC-K-timeline.png" in md
    html = paths["html"].read_text(encoding="utf-8")
    assert '<img src="INC-K-timeline.png"' in html and "<table>" in html


def test_narrative_falls_back_to_template(monkeypatch: pytest.MonkeyPatch) -> None:
    from lifeline.config import get_settings

    inc = _timeline()
    assert narrative(inc, "en")["source"] == "template"
    monkeypatch.setenv(
        "LIFELINE_LLM_URL", "http://127.0.0.1:9"
    )  # nothing listens on the discard port
    get_settings.cache_clear()
    out = narrative(inc, "zh-CN", timeout_s=1.0)
    assert out["source"] == "template" and "error" in out and "供水" in out["text"]
