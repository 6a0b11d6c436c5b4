"""Live push: SSE framing, district filtering, resume by Last-Event-ID, publishers."""

from __future__ import annotations

import json

import pandas as pd

from tests.api.conftest import Api


def _read_events(resp: object, n: int) -> list[dict]:  # type: ignore[type-arg]
    out: list[dict] = []  # type: ignore[type-arg]
    event = None
    for line in resp.iter_lines():  # type: ignore[attr-defined]
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            d = json.loads(line[6:])
            assert d["type"] == event
            out.append(d)
            if len(out) == n:
                break
    return out


def test_sse_delivers_events_and_filters_by_district(api: Api) -> None:
    with api.client.stream(
        "GET", "/api/events", params={"token": api.tokens["op_d1"], "limit": 2}
    ) as resp:
        assert resp.status_code == 200 and resp.headers["content-type"].startswith(
            "text/event-stream"
        )
        api.ctx.bus.publish("alarm", {"n": 1}, "D2")  # not visible to a D1 operator
        api.ctx.bus.publish("alarm", {"n": 2}, "D1")
        api.ctx.bus.publish("incident", {"n": 3}, None)  # district-less: visible to all
        evs = _read_events(resp, 2)
    assert [e["data"]["n"] for e in evs] == [2, 3]
    assert api.ctx.bus.n_subscribers == 0, "the subscriber is removed when the stream ends"


def test_sse_resumes_after_last_event_id(api: Api) -> None:
    first = api.ctx.bus.publish("alarm", {"n": 1})
    api.ctx.bus.publish("alarm", {"n": 2})
    api.ctx.bus.publish("readings", {"n": 3})
    with api.client.stream(
        "GET",
        "/api/events",
        params={"token": api.tokens["viewer"], "limit": 1, "types": "alarm"},
        headers={"Last-Event-ID": str(first.id)},
    ) as resp:
        evs = _read_events(resp, 1)
    assert [e["data"]["n"] for e in evs] == [2]


def test_writes_publish_events(api: Api) -> None:
    ts = pd.Timestamp("2026-07-15T08:00:00Z").isoformat()
    api.client.post(
        "/api/readings",
        json=[{"sensor_id": "water:p:J1", "ts": ts, "value": 40.0}],
        headers=api.h("operator"),
    )
    a = api.client.post(
        "/api/alarms",
        json={"ts": ts, "utility": "water", "sensors": ["water:p:J1"]},
        headers=api.h("operator"),
    ).json()
    inc = api.client.post(
        "/api/incidents", json={"alarm_ids": [a["alarm_id"]]}, headers=api.h("operator")
    ).json()
    api.client.post(
        f"/api/incidents/{inc['incident_id']}/confirm", json={}, headers=api.h("operator")
    )
    recent = api.client.get("/api/events/recent", headers=api.h("viewer")).json()
    types = [e["type"] for e in recent]
    assert types == ["readings", "alarm", "incident", "incident"]
    assert recent[1]["data"]["alarm_id"] == a["alarm_id"] and recent[1]["district_id"] == "D1"
    assert [e["data"]["action"] for e in recent[2:]] == ["open_incident", "confirm"]
    assert recent[3]["data"]["state"] == "confirmed"
    d2 = api.client.get("/api/events/recent", headers=api.h("disp_d2")).json()
    assert [e["type"] for e in d2] == ["readings"], "D1 alarm and incident are hidden from D2"


def test_closing_the_bus_ends_open_streams(api: Api) -> None:
    with api.client.stream("GET", "/api/events", params={"token": api.tokens["viewer"]}) as resp:
        api.ctx.bus.publish("alarm", {"n": 1})
        api.ctx.bus.close()  # server shutdown
        lines = list(resp.iter_lines())  # returns only because the stream ended
    assert any(line.startswith("event: alarm") for line in lines)
    assert api.ctx.bus.n_subscribers == 0
