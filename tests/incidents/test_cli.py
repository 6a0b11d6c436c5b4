"""`lifeline incidents list|show|advance|review` and `lifeline complaints ingest` over the DuckDB store."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lifeline.cli import app as main_app
from lifeline.incidents.cli import app
from lifeline.incidents.lifecycle import Incident
from tests.incidents.helpers import alarm, complaint, customers, ts

runner = CliRunner()


def _seed() -> str:
    from lifeline.store import open_store

    inc = Incident(
        "INC-CLI-1",
        "water",
        ts(0),
        district_id="D1",
        grade="IV",
        kind="water_main_burst",
        evidence=[alarm("a1", 0), complaint("k1", 5)],
    )
    inc.grouping = [
        {"evidence_id": "a1", "kind": "alarm", "rule": "opened"},
        {"evidence_id": "k1", "kind": "complaint", "rule": "within_distance", "distance_m": 50.0},
    ]
    with open_store() as st:
        st.upsert_incident(inc.to_row())
    return inc.incident_id


def test_list_show_advance_review(tmp_path: Path) -> None:
    iid = _seed()
    r = runner.invoke(app, ["list", "--json"])
    assert r.exit_code == 0, r.output
    assert [x["incident_id"] for x in json.loads(r.output)] == [iid]
    r = runner.invoke(app, ["show", iid])
    assert r.exit_code == 0 and "within_distance" in r.output
    r = runner.invoke(
        app,
        [
            "advance",
            iid,
            "confirmed",
            "--actor",
            "op1",
            "--why",
            "pressure drop + call",
            "--at",
            "2026-06-01T08:10:00Z",
        ],
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["advance", iid, "restored", "--actor", "op1", "--why", "skip"])
    assert r.exit_code != 0 and "cannot go from confirmed to restored" in str(r.exception)
    r = runner.invoke(app, ["show", iid, "--json"])
    body = json.loads(r.output)["body"]
    assert json.loads(r.output)["state"] == "confirmed" and body["audit"][0]["actor"] == "op1"
    from lifeline.store import open_store

    with open_store() as st:
        audit = st.list_audit(iid)
    assert audit["actor"].tolist() == ["op1"]
    r = runner.invoke(app, ["review", iid, "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / f"{iid}.md").exists() and (tmp_path / f"{iid}-timeline.png").exists()


def test_complaints_ingest(tmp_path: Path) -> None:
    cust = tmp_path / "customers.csv"
    customers().to_csv(cust, index=False)
    f = tmp_path / "tickets.csv"
    f.write_text(
        "complaint_id,ts,channel,text,address,x_m,y_m\n"
        "T1,2026-06-01T08:05:00Z,hotline,市民来电反映：和平路12号从早上开始停水了,和平路12号,,\n"
        "T2,2026-06-01T08:07:00Z,app,Strong smell of gas near the cable pit,,195,5\n"
        "T3,2026-06-01T08:09:00Z,app,停电了,火星路1号,,\n",
        encoding="utf-8",
    )
    r = runner.invoke(
        main_app, ["complaints", "ingest", str(f), "--customers", str(cust), "--json"]
    )
    assert r.exit_code == 0, r.output
    rows = {x["complaint_id"]: x for x in json.loads(r.output)}
    assert (rows["T1"]["utility"], rows["T1"]["category"], rows["T1"]["customer_id"]) == (
        "water",
        "no_water",
        "c1",
    )
    assert (rows["T2"]["category"], rows["T2"]["customer_id"], rows["T2"]["place_method"]) == (
        "gas_smell",
        "c3",
        "xy",
    )
    assert rows["T3"]["place_method"] == "unplaced" and "火星路1号" in rows["T3"]["place_reason"]
    from lifeline.store import open_store

    with open_store() as st:
        stored = st.list_complaints()
    assert sorted(stored["complaint_id"]) == ["T1", "T2", "T3"]
    assert stored.set_index("complaint_id").loc["T1", "category"] == "no_water"


def test_complaints_ingest_bad_file(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("ts,body\n2026-06-01,x\n", encoding="utf-8")
    r = runner.invoke(main_app, ["complaints", "ingest", str(f), "--no-store"])
    assert r.exit_code != 0 and "missing column 'text'" in str(r.exception)


def test_approve_and_kpis() -> None:
    from lifeline.respond.fill import recommend
    from lifeline.store import open_store
    from tests.respond.fakes import FakeWater

    good = Incident(
        "INC-OK",
        "water",
        ts(0),
        kind="water_main_burst",
        x_m=0.0,
        y_m=0.0,
        district_id="D1",
        evidence=[alarm("a1", 0)],
    )
    recommend(good, {"water": FakeWater()})
    bad = Incident(
        "INC-BAD",
        "water",
        ts(0),
        kind="water_main_burst",
        x_m=0.0,
        y_m=0.0,
        district_id="D1",
        evidence=[alarm("a2", 0)],
    )
    recommend(bad, {"water": FakeWater(inoperable=True)})
    with open_store() as st:
        st.upsert_incident(good.to_row())
        st.upsert_incident(bad.to_row())
    r = runner.invoke(app, ["approve", "INC-OK", "--actor", "值班长"])
    assert r.exit_code == 0, r.output
    assert "approved by 值班长" in r.output
    r = runner.invoke(app, ["approve", "INC-BAD", "--actor", "值班长"])
    assert r.exit_code != 0 and "inoperable_valve" in str(r.exception)
    with open_store() as st:
        assert Incident.from_row(st.get_incident("INC-OK")).approval["by"] == "值班长"
        assert not Incident.from_row(st.get_incident("INC-BAD")).approval
        assert st.list_audit("INC-OK")["action"].tolist() == ["approve_plan"]
    r = runner.invoke(app, ["kpis", "--per-incident"])
    assert r.exit_code == 0 and "INC-OK" in r.output and "INC-BAD" in r.output


def _feeder_fault() -> Incident:
    """A feeder fault with 300 smart-meter events, a pumping-station cascade and a plan."""
    from lifeline.incidents.evidence import Evidence

    meters = [
        Evidence("meter_event", f"M{i:03d}@x", ts(5), "power", "last_gasp", zone_ids=["F1"])
        for i in range(300)
    ]
    inc = Incident(
        "INC-CLI-F",
        "power",
        ts(0),
        kind="power_feeder_fault",
        evidence=[alarm("a1", 0, utility="power"), complaint("k1", 9, utility="power"), *meters],
    )
    inc.grouping = [
        {"evidence_id": e.evidence_id, "kind": e.kind, "rule": "same_area", "areas": ["F1"]}
        for e in inc.evidence
    ]
    inc.cascade = [
        {
            "kind": "pumping_station_power_loss",
            "from_utility": "power",
            "from_asset": "power:bus:103016",
            "to_utility": "water",
            "to_asset": "water:pump:PU1",
            "to_assets": ["water:pump:PU1", "water:pump:PU2"],
            "customers_affected": 12,
        }
    ]
    inc.actions = [
        {
            "action_id": "power_feeder_fault:isolate:0",
            "kind": "operate",
            "text": {"zh-CN": "断开 S1", "en": "Open S1"},
            "cites": ["capability:power.isolate"],
        }
    ]
    return inc


def test_show_puts_the_plan_first_and_summarises_evidence() -> None:
    from lifeline.store import open_store

    inc = _feeder_fault()
    with open_store() as st:
        st.upsert_incident(inc.to_row())
    r = runner.invoke(app, ["show", inc.incident_id, "--lang", "en"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert len(lines) < 30, "300 meter events are summarised, not listed"
    assert "meter_event 300" in r.output and "places: F1 (302)" in r.output
    assert "M123@x" not in r.output
    first_action = next(i for i, x in enumerate(lines) if "Open S1" in x)
    evidence = next(i for i, x in enumerate(lines) if x.startswith("evidence:"))
    assert first_action < evidence
    cascade = next(x for x in lines if x.startswith("cascade:"))
    assert "power:power:" not in cascade and "water:water:" not in cascade
    assert "power:bus:103016 -> water:pump:PU1, water:pump:PU2" in cascade
    assert "CEST" in r.output  # local time of the demo town with its zone
    kpis = next(x for x in lines if x.startswith("kpis:"))
    assert "time_to_confirm_min: not confirmed yet (state detected)" in kpis
    assert "time_to_detect_min: onset not known" in kpis
    full = runner.invoke(app, ["show", inc.incident_id, "--evidence"])
    assert full.exit_code == 0 and "M123@x" in full.output and "rule=same_area" in full.output


def test_kpis_print_values_once_states_are_reached() -> None:
    from lifeline.incidents.kpi import kpi_reasons
    from lifeline.incidents.lifecycle import advance

    inc = _feeder_fault()
    inc.onset_at = ts(-4)
    advance(inc, "confirmed", "op", "seen", ts=ts(6).isoformat())
    got = {name: (v, why) for name, v, why in kpi_reasons(inc)}
    assert got["time_to_detect_min"] == (4.0, "")
    assert got["time_to_confirm_min"] == (6.0, "")
    assert got["time_to_dispatch_min"][1] == "not dispatched yet (state confirmed)"
