"""Security: every write route refuses anonymous (401) and under-privileged (403) callers — the
routes are enumerated from the OpenAPI schema so that a new route cannot escape —, district scope
on writes, login rate limit, argon2 hashes, no secrets in logs, CORS closed, body size limit."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import pytest

from tests.api.conftest import PASSWORD, X0, Y0, Api

WRITE = ("post", "put", "patch", "delete")
PUBLIC_WRITES = {("post", "/api/auth/login")}
# the least role each write route admits; a new write route must be added here (and get a check)
LEAST_ROLE = {
    ("post", "/api/readings"): "operator",
    ("post", "/api/meter-events"): "operator",
    ("post", "/api/alarms"): "operator",
    ("post", "/api/complaints"): "operator",
    ("post", "/api/incidents"): "operator",
    ("post", "/api/incidents/{incident_id}/{action}"): "operator",
    ("post", "/api/users"): "admin",
    ("post", "/api/scenarios/replay"): "admin",
    ("delete", "/api/scenarios/replay"): "admin",
}
BELOW = {"operator": "viewer", "dispatcher": "operator", "admin": "dispatcher"}


def _write_routes(api: Api) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) of every write in the OpenAPI schema."""
    spec = api.client.get("/openapi.json").json()
    out = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method in WRITE and (method, path) not in PUBLIC_WRITES:
                out.append((method, path, op))
    return out


def _urls(path: str, op: dict[str, Any]) -> list[str]:
    """Concrete URLs for a path template: every enum value of an enumerated path parameter."""
    urls = [path]
    for p in op.get("parameters", []):
        if p.get("in") != "path":
            continue
        schema = p.get("schema", {})
        values = schema.get("enum") or [
            v for s in schema.get("anyOf", []) for v in s.get("enum", [])
        ]
        values = values or ["does-not-exist"]
        urls = [u.replace("{" + p["name"] + "}", str(v)) for u in urls for v in values]
    return urls


def _send(api: Api, method: str, url: str, headers: dict[str, str] | None = None) -> Any:
    if method == "delete":
        return api.client.delete(url, headers=headers or {})
    return api.client.request(method.upper(), url, json={}, headers=headers or {})


def test_every_write_route_is_classified(api: Api) -> None:
    """The table above lists exactly the API's write routes (a new one fails here first)."""
    assert {(m, p) for m, p, _ in _write_routes(api)} == set(LEAST_ROLE)


def test_every_write_refuses_without_token_and_with_a_bad_token(api: Api) -> None:
    n = 0
    for method, path, op in _write_routes(api):
        for url in _urls(path, op):
            for headers in (None, {"Authorization": "Bearer forged.token"}):
                r = _send(api, method, url, headers)
                assert r.status_code == 401, (method, url, headers, r.status_code, r.text)
                n += 1
    assert n >= 2 * len(LEAST_ROLE)
    # nothing was written
    assert api.ctx.store.read_table("reading").empty


def test_every_write_refuses_the_role_below(api: Api) -> None:
    for method, path, op in _write_routes(api):
        below = BELOW[LEAST_ROLE[(method, path)]]
        for url in _urls(path, op):
            r = _send(api, method, url, api.h(below))
            assert r.status_code == 403, (method, url, below, r.status_code, r.text)
    assert api.ctx.store.read_table("reading").empty


def _open_manual(api: Api, who: str, x: float, y: float, district: str) -> str:
    r = api.client.post(
        "/api/incidents",
        json={"utility": "water", "x_m": x, "y_m": y, "district_id": district},
        headers=api.h(who),
    )
    assert r.status_code in (200, 201), r.text
    return str(r.json()["incident_id"])


def test_dispatcher_actions_refuse_operators(api: Api) -> None:
    iid = _open_manual(api, "operator", X0 + 100, Y0, "D1")
    assert (
        api.client.post(f"/api/incidents/{iid}/confirm", json={}, headers=api.h("viewer"))
    ).status_code == 403
    for action in ("approve", "dispatch", "close"):
        r = api.client.post(f"/api/incidents/{iid}/{action}", json={}, headers=api.h("operator"))
        assert r.status_code == 403, (action, r.text)


def test_district_scope_on_writes(api: Api) -> None:
    """A D1 operator cannot write readings of D2 sensors, nor act on or open D2 incidents."""
    ts = pd.Timestamp("2026-07-15T08:00:00Z").isoformat()
    r = api.client.post(
        "/api/readings",
        json={"readings": [{"sensor_id": "water:p:J2", "ts": ts, "value": 40.0}]},
        headers=api.h("op_d1"),
    )
    assert r.status_code == 200 and r.json()["stored"] == 0
    assert r.json()["rejected"] == {"unknown_sensor": 1}
    r = api.client.post(
        "/api/readings",
        json={"readings": [{"sensor_id": "water:p:J1", "ts": ts, "value": 40.0}]},
        headers=api.h("op_d1"),
    )
    assert r.json()["stored"] == 1
    iid = _open_manual(api, "operator", X0 + 1100, Y0, "D2")
    for action in ("confirm", "advance"):
        r = api.client.post(f"/api/incidents/{iid}/{action}", json={}, headers=api.h("op_d1"))
        assert r.status_code == 404, r.text
    r = api.client.post(
        "/api/incidents",
        json={"utility": "water", "x_m": X0 + 1100, "y_m": Y0, "district_id": "D2"},
        headers=api.h("op_d1"),
    )
    assert r.status_code in (403, 404, 422)


def test_login_rate_limited(api: Api) -> None:
    bad = {"username": "viewer", "password": "wrong-password"}
    codes = [api.client.post("/api/auth/login", json=bad).status_code for _ in range(8)]
    assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}
    r = api.client.post("/api/auth/login", json={"username": "viewer", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_passwords_stored_as_argon2_never_plain(api: Api) -> None:
    api.client.post(
        "/api/users",
        json={"username": "newbie", "password": "s3cret-Newbie!", "role": "viewer"},
        headers=api.h("admin"),
    )
    df = api.ctx.store._query("SELECT username, password_hash FROM app_user")
    assert len(df) >= 7
    for h in df["password_hash"].astype(str):
        assert h.startswith("$argon2id$"), h
        assert PASSWORD not in h and "s3cret-Newbie!" not in h
    dump = df.to_csv()
    assert PASSWORD not in dump and "s3cret-Newbie!" not in dump


def test_no_token_or_password_in_logs(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    r = api.client.post("/api/auth/login", json={"username": "operator", "password": PASSWORD})
    token = r.json()["access_token"]
    api.client.post("/api/auth/login", json={"username": "operator", "password": "Wrong-pass-9"})
    ts = pd.Timestamp("2026-07-15T08:00:00Z").isoformat()
    api.client.post(
        "/api/readings",
        json=[{"sensor_id": "water:p:J1", "ts": ts, "value": 3.0}, {"sensor_id": "x", "ts": ts}],
        headers={"Authorization": f"Bearer {token}"},
    )
    api.client.get("/api/events/recent", params={"token": token})
    # the test's own HTTP client (httpx) logs its request URLs; the server's records must be clean
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "".join(r.getMessage() + str(r.__dict__) for r in server)
    assert token not in text and token.split(".")[-1] not in text
    assert PASSWORD not in text and "Wrong-pass-9" not in text


def test_cors_closed_by_default(api: Api) -> None:
    evil = {"Origin": "https://evil.example"}
    r = api.client.get("/api/config", headers=evil)
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}
    r = api.client.options(
        "/api/readings",
        headers={**evil, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in {k.lower() for k in r.headers}
    assert r.status_code >= 400


def test_batch_size_limited_and_parsed_safely(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifeline.api.routes import readings

    monkeypatch.setattr(readings, "MAX_BODY", 1000)
    big = [{"sensor_id": "water:p:J1", "ts": "2026-07-15T08:00:00Z", "value": 1.0}] * 100
    r = api.client.post("/api/readings", json=big, headers=api.h("operator"))
    assert r.status_code == 422 and r.json()["where"] == "body"
    assert api.ctx.store.read_table("reading").empty
    monkeypatch.setattr(readings, "MAX_BODY", 1_000_000)
    # hostile but small bodies: deep nesting, huge numbers, bad UTF-8 → counted, never a 5xx
    for body in (b"[" * 5000 + b"]" * 5000, b'{"readings": [1e999999]}', b"\xff\xfe{", b"null"):
        r = api.client.post("/api/readings", content=body, headers=api.h("operator"))
        assert r.status_code == 200, (body[:20], r.status_code, r.text)
        assert r.json()["stored"] == 0
