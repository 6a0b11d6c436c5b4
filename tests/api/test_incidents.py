"""Incidents: open from evidence, plan, lifecycle actions by role and district, audit, KPIs."""

from __future__ import annotations

import pandas as pd

from tests.api.conftest import X0, Y0, Api

T = pd.Timestamp("2026-07-15T08:00:00Z")


def _open_water(api: Api, who: str = "operator", district_pipe: str = "P1") -> dict:  # type: ignore[type-arg]
    x = X0 + (100 if district_pipe == "P1" else 1100)
    alarm = {
        "ts": T.isoformat(),
        "utility": "water",
        "detector": "pressure_drop",
        "severity": 3,
        "sensors": ["water:p:J1" if district_pipe == "P1" else "water:p:J2"],
        "location": [
            {
                "asset_id": f"water:pipe:{district_pipe}",
                "x_m": x,
                "y_m": Y0,
                "confidence": 0.8,
                "zone_id": "DMA1",
            }
        ],
    }
    a = api.client.post("/api/alarms", json=alarm, headers=api.h("operator")).json()
    r = api.client.post(
        "/api/incidents",
        json={"alarm_ids": [a["alarm_id"]], "kind": "water_main_burst"},
        headers=api.h(who),
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_open_incident_from_an_alarm_gets_a_plan_and_is_listed(api: Api) -> None:
    inc = _open_water(api)
    assert inc["state"] == "detected" and inc["utility"] == "water" and inc["district_id"] == "D1"
    assert inc["evidence"][0]["kind"] == "alarm" and abs(inc["x_m"] - (X0 + 100)) < 1e-6
    assert inc["actions"], "the plan library fills actions for a water main burst"
    assert {r["rule"] for r in inc["safety"]} >= {"hospital_supply", "ignition_sources"}
    lst = api.client.get("/api/incidents", headers=api.h("viewer")).json()
    assert [i["incident_id"] for i in lst] == [inc["incident_id"]]
    assert lst[0]["next_states"] == ["confirmed", "closed"]
    assert api.client.get("/api/incidents", headers=api.h("disp_d2")).json() == []
    r = api.client.post(
        "/api/incidents", json={"alarm_ids": ["missing"]}, headers=api.h("operator")
    )
    assert r.status_code == 422 and r.json()["where"] == "alarm_ids"


def test_lifecycle_by_role_with_audit(api: Api) -> None:
    iid = _open_water(api)["incident_id"]

    def act(who: str, action: str, **body: str) -> object:
        return api.client.post(f"/api/incidents/{iid}/{action}", json=body, headers=api.h(who))

    assert act("viewer", "confirm").status_code == 403
    r = act("operator", "confirm", note="pressure drop confirmed by field call")
    assert r.status_code == 200 and r.json()["incident"]["state"] == "confirmed"  # type: ignore[attr-defined]
    assert act("operator", "approve").status_code == 403
    r = act("dispatcher", "dispatch")
    assert r.status_code == 409 and "approve" in r.json()["detail"]  # type: ignore[attr-defined]
    r = act("dispatcher", "approve", note="ok")
    assert r.status_code == 200 and r.json()["incident"]["approval"]["by"] == "dispatcher"  # type: ignore[attr-defined]
    assert act("dispatcher", "approve").status_code == 409
    assert act("dispatcher", "dispatch").json()["incident"]["state"] == "dispatched"  # type: ignore[attr-defined]
    for expect in ("on_site", "isolated", "repaired", "restored"):
        r = act("operator", "advance")
        assert r.status_code == 200 and r.json()["incident"]["state"] == expect  # type: ignore[attr-defined]
    assert act("operator", "close").status_code == 403
    assert act("dispatcher", "close").json()["incident"]["state"] == "closed"  # type: ignore[attr-defined]
    r = act("dispatcher", "advance", to_state="confirmed")
    assert r.status_code == 409 and "cannot go from closed" in r.json()["detail"]  # type: ignore[attr-defined]
    audit = api.client.get(f"/api/incidents/{iid}/audit", headers=api.h("viewer")).json()
    actions = [a["action"] for a in audit]
    assert actions[0] == "open_incident" and actions.count("advance") == 4
    assert {"confirm", "approve", "dispatch", "close"} <= set(actions)
    detail = api.client.get(f"/api/incidents/{iid}", headers=api.h("viewer")).json()
    assert set(detail["timeline"]) >= {"detected", "confirmed", "dispatched", "restored", "closed"}


def test_district_scope_on_incident_actions(api: Api) -> None:
    iid = _open_water(api)["incident_id"]  # in D1
    assert api.client.get(f"/api/incidents/{iid}", headers=api.h("disp_d2")).status_code == 404
    assert (
        api.client.post(
            f"/api/incidents/{iid}/confirm", json={}, headers=api.h("disp_d2")
        ).status_code
        == 404
    )
    assert (
        api.client.post(
            f"/api/incidents/{iid}/confirm", json={}, headers=api.h("op_d1")
        ).status_code
        == 200
    )
    r = api.client.post(
        "/api/incidents",
        json={"utility": "power", "x_m": X0 + 1000, "y_m": Y0 + 100, "district_id": "D2"},
        headers=api.h("op_d1"),
    )
    assert r.status_code == 422 and r.json()["where"] == "district_id"


def test_manual_report_at_lonlat(api: Api) -> None:
    from lifeline.api.geo import to_lonlat

    lon, lat = to_lonlat([X0 + 1100], [Y0 + 200], api.ctx.crs)
    r = api.client.post(
        "/api/incidents",
        json={
            "utility": "gas",
            "kind": "gas_leak_confined",
            "lon": float(lon[0]),
            "lat": float(lat[0]),
            "district_id": "D2",
            "note": "smell of gas",
        },
        headers=api.h("operator"),
    )
    assert r.status_code == 201, r.text
    inc = r.json()
    assert abs(inc["x_m"] - (X0 + 1100)) < 0.01 and abs(inc["y_m"] - (Y0 + 200)) < 0.01
    assert inc["grade"] in ("I", "II", "III", "IV")


def test_kpis_follow_the_lifecycle(api: Api) -> None:
    k = api.client.get("/api/kpis", headers=api.h("viewer")).json()
    assert k["incidents"] == 0
    iid = _open_water(api)["incident_id"]
    api.client.post(f"/api/incidents/{iid}/confirm", json={}, headers=api.h("operator"))
    k = api.client.get("/api/kpis", headers=api.h("viewer")).json()
    assert k["incidents"] == 1 and k["open"] == 1 and k["by_state"] == {"confirmed": 1}
    assert (
        k["mean_minutes"]["time_to_confirm"] is not None
        and k["mean_minutes"]["time_to_confirm"] > 0
    )
    assert k["mean_minutes"]["time_to_restore"] is None
    assert api.client.get("/api/kpis", headers=api.h("disp_d2")).json()["incidents"] == 0


def test_a_complaint_classified_other_cannot_be_evidence(api: Api) -> None:
    body = {
        "ts": T.isoformat(),
        "text": "路灯坏了，晚上很黑",
        "utility": "other",
        "category": "other",
        "complaint_id": "C-LAMP",
        "x_m": X0 + 100,
        "y_m": Y0,
    }
    r = api.client.post("/api/complaints", json=body, headers=api.h("operator"))
    assert r.status_code == 201, r.text
    r = api.client.post(
        "/api/incidents",
        json={"complaint_ids": ["C-LAMP"], "utility": "water", "kind": "water_main_burst"},
        headers=api.h("operator"),
    )
    assert r.status_code >= 400 and "classified 'other'" in r.text, r.text
