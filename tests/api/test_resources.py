"""Routers for assets, sensors, readings, alarms, complaints, networks, KPIs and metrics, with
district scoping."""

from __future__ import annotations

import pandas as pd

from tests.api.conftest import X0, Y0, Api, readings_at

T = pd.Timestamp("2026-07-15T08:00:00Z")


def test_assets_are_filtered_and_scoped(api: Api) -> None:
    r = api.client.get("/api/assets", params={"utility": "water"}, headers=api.h("viewer")).json()
    assert r["total"] == 5 and {a["utility"] for a in r["items"]} == {"water"}
    j1 = next(a for a in r["items"] if a["asset_id"] == "water:junction:J1")
    assert 7.0 < j1["lon"] < 9.0 and 48.0 < j1["lat"] < 49.0  # UTM 32N near Offenburg
    r = api.client.get("/api/assets", headers=api.h("op_d1")).json()
    assert r["total"] > 0 and {a["district_id"] for a in r["items"]} == {"D1"}
    assert api.client.get("/api/assets/power:bus:B2", headers=api.h("op_d1")).status_code == 404
    assert (
        api.client.get("/api/assets/power:bus:B2", headers=api.h("viewer")).json()["district_id"]
        == "D2"
    )
    r = api.client.get("/api/assets/nope", headers=api.h("viewer"))
    assert r.status_code == 404 and r.json()["error"] == "NotFoundError"


def test_http_ingestion_stores_good_and_keeps_rejected(api: Api) -> None:
    batch = readings_at(T, {"water:p:J1": 41.5, "water:p:J2": 38.0}) + [
        {"sensor_id": "water:p:J1", "ts": T.isoformat(), "value": 41.5},  # duplicate of the first
        {"sensor_id": "nope", "ts": T.isoformat(), "value": 1.0},
        {"sensor_id": "water:p:J2", "ts": "yesterday", "value": 1.0},
        {
            "sensor_id": "water:p:J2",
            "ts": (T + pd.Timedelta(minutes=15)).isoformat(),
            "value": 500.0,
        },
    ]
    r = api.client.post("/api/readings", json={"readings": batch}, headers=api.h("operator"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["stored"] == 2
    assert (
        out["rejected"]["unknown_sensor"] == 1
        and out["rejected"]["bad_timestamp"] == 1
        and out["rejected"]["out_of_range"] == 1
    )
    assert api.ctx.store.count("reading") == 2
    rej = api.client.get("/api/readings/rejected", headers=api.h("operator")).json()
    assert rej["total"] >= 3 and "unknown_sensor" in rej["counts"]
    r = api.client.post(
        "/api/readings",
        content=b"{not json",
        headers={**api.h("operator"), "Content-Type": "application/json"},
    )
    assert r.status_code == 200 and r.json()["rejected"] == {"malformed_json": 1}
    got = api.client.get(
        "/api/readings", params={"sensor_id": "water:p:J1"}, headers=api.h("viewer")
    ).json()
    assert [g["value"] for g in got] == [41.5]
    metrics = api.client.get("/metrics").text
    assert 'lifeline_readings_ingested_total{source="http",utility="water"} 2.0' in metrics
    assert 'lifeline_readings_rejected_total{reason="unknown_sensor",source="http"}' in metrics


def test_district_operator_cannot_ingest_other_districts_sensors(api: Api) -> None:
    batch = readings_at(T, {"water:p:J1": 40.0, "water:p:J2": 40.0})
    out = api.client.post("/api/readings", json=batch, headers=api.h("op_d1")).json()
    assert out["stored"] == 1 and out["rejected"] == {"unknown_sensor": 1}


def test_sensor_readings_with_thresholds(api: Api) -> None:
    vals = [40.0 + (i % 5) * 0.2 for i in range(40)]
    batch = [
        {
            "sensor_id": "water:p:J1",
            "ts": (T + pd.Timedelta(minutes=15 * i)).isoformat(),
            "value": v,
        }
        for i, v in enumerate(vals)
    ]
    api.client.post("/api/readings", json=batch, headers=api.h("operator"))
    r = api.client.get(
        "/api/sensors/water:p:J1/readings", params={"hours": 24}, headers=api.h("viewer")
    ).json()
    assert len(r["readings"]) == 40
    th = {t["name"]: t["value"] for t in r["thresholds"]}
    assert th["valid_min"] == 0.0 and th["valid_max"] == 120.0
    assert th["low"] < min(vals) and th["high"] > max(vals) and th["high"] < 120.0
    lst = api.client.get(
        "/api/sensors", params={"utility": "water"}, headers=api.h("viewer")
    ).json()
    j1 = next(s for s in lst["items"] if s["sensor_id"] == "water:p:J1")
    assert j1["last_value"] == vals[-1] and j1["district_id"] == "D1"
    assert (
        api.client.get("/api/sensors/water:p:J2/readings", headers=api.h("op_d1")).status_code
        == 404
    )
    assert [
        s["sensor_id"]
        for s in api.client.get("/api/sensors", headers=api.h("op_d1")).json()["items"]
    ] == ["water:p:J1"]


def test_alarms_post_list_scope_and_metrics(api: Api) -> None:
    body = {
        "ts": T.isoformat(),
        "utility": "gas",
        "detector": "methane",
        "severity": 3,
        "sensors": ["gas:ch4:M2"],
        "score": 9.0,
        "location": [
            {"asset_id": "gas:manhole:M2", "x_m": X0 + 1100, "y_m": Y0 + 200, "confidence": 0.9}
        ],
    }
    r = api.client.post("/api/alarms", json=body, headers=api.h("operator"))
    assert r.status_code == 201, r.text
    a = r.json()
    assert a["district_id"] == "D2" and a["sensors"] == ["gas:ch4:M2"]
    assert (
        api.client.post(
            "/api/alarms", json={**body, "alarm_id": a["alarm_id"]}, headers=api.h("operator")
        ).status_code
        == 422
    )
    assert (
        api.client.post("/api/alarms", json=body, headers=api.h("op_d1")).status_code == 422
    )  # outside D1
    assert [
        x["alarm_id"] for x in api.client.get("/api/alarms", headers=api.h("viewer")).json()
    ] == [a["alarm_id"]]
    assert api.client.get("/api/alarms", headers=api.h("op_d1")).json() == []
    m = api.client.get("/metrics").text
    assert (
        'lifeline_alarms_total{utility="gas"} 1.0' in m
        and "lifeline_alarm_latency_seconds_count 1.0" in m
    )
    assert "add_alarm" in set(api.ctx.store.list_audit(a["alarm_id"])["action"])
    r = api.client.post("/api/alarms", json={**body, "utility": "steam"}, headers=api.h("operator"))
    assert r.status_code == 422 and r.json()["where"].endswith("utility")


def test_complaints(api: Api) -> None:
    body = {
        "text": "停水了",
        "utility": "water",
        "category": "no_water",
        "customer_id": "C2",
        "ts": T.isoformat(),
    }
    r = api.client.post("/api/complaints", json=body, headers=api.h("operator"))
    assert r.status_code == 201 and r.json()["district_id"] == "D2"
    assert api.client.post("/api/complaints", json=body, headers=api.h("op_d1")).status_code == 422
    assert len(api.client.get("/api/complaints", headers=api.h("viewer")).json()) == 1
    assert api.client.get("/api/complaints", headers=api.h("op_d1")).json() == []
    assert api.client.post("/api/complaints", json=body, headers=api.h("viewer")).status_code == 403


def test_networks_geojson_in_lonlat(api: Api) -> None:
    meta = api.client.get("/api/networks", headers=api.h("viewer")).json()
    assert meta["utilities"]["water"] == {"pipe": 2, "valve": 1, "junction": 2}
    lon0, lat0, lon1, lat1 = meta["bbox"]
    assert 7 < lon0 < lon1 < 9 and 48 < lat0 < lat1 < 49
    gj = api.client.get("/api/networks/water", headers=api.h("viewer")).json()
    assert gj["type"] == "FeatureCollection"
    p1 = next(f for f in gj["features"] if f["id"] == "water:pipe:P1")
    assert p1["geometry"]["type"] == "LineString" and len(p1["geometry"]["coordinates"]) == 2
    (a_lon, a_lat), (b_lon, _) = p1["geometry"]["coordinates"]
    assert 0.002 < b_lon - a_lon < 0.004  # 200 m east at 48.4° N ≈ 0.0027°
    assert (
        next(f for f in gj["features"] if f["id"] == "water:valve:V1")["geometry"]["type"]
        == "Point"
    )
    d1 = api.client.get("/api/networks/water", headers=api.h("op_d1")).json()
    assert {f["properties"]["district_id"] for f in d1["features"]} == {"D1"}
    assert api.client.get("/api/networks/steam", headers=api.h("viewer")).status_code == 404


def test_network_state_marks_sensors_in_alarm(api: Api) -> None:
    api.client.post(
        "/api/readings",
        json=readings_at(T, {"gas:ch4:M2": 35.0, "water:p:J1": 60.0}),
        headers=api.h("operator"),
    )
    api.client.post(
        "/api/alarms",
        json={"ts": T.isoformat(), "utility": "gas", "sensors": ["gas:ch4:M2"]},
        headers=api.h("operator"),
    )
    st = api.client.get("/api/networks/state", headers=api.h("viewer")).json()
    feats = {f["id"]: f["properties"] for f in st["sensors"]["features"]}
    assert feats["gas:ch4:M2"]["in_alarm"] is True and feats["gas:ch4:M2"]["value"] == 35.0
    assert feats["water:p:J1"]["in_alarm"] is False and feats["water:p:J1"]["range_frac"] == 0.5
    assert feats["water:p:J2"]["value"] is None


def test_openapi_docs_list_every_router(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    tags = {t for p in spec["paths"].values() for op in p.values() for t in op.get("tags", [])}
    assert {
        "assets",
        "sensors",
        "readings",
        "alarms",
        "complaints",
        "incidents",
        "kpis",
        "networks",
        "scenarios",
        "events",
        "auth",
    } <= tags
    assert api.client.get("/docs").status_code == 200
