"""Login, tokens, roles, rate limit, user administration, audit of writes."""

from __future__ import annotations

import pytest

from tests.api.conftest import PASSWORD, Api


def test_login_returns_a_token_that_identifies_the_user(api: Api) -> None:
    r = api.client.post("/api/auth/login", json={"username": "op_d1", "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    me = api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"username": "op_d1", "role": "operator", "district_id": "D1"}
    audit = api.ctx.store.list_audit("user:op_d1")
    assert "login" in set(audit["action"])


def test_wrong_password_is_401_and_audited_and_rate_limited(api: Api) -> None:
    for _ in range(5):
        r = api.client.post("/api/auth/login", json={"username": "viewer", "password": "nope-nope"})
        assert r.status_code == 401
        assert r.json()["detail"] == "wrong user name or password"
    r = api.client.post("/api/auth/login", json={"username": "viewer", "password": PASSWORD})
    assert r.status_code == 429, "the right password is refused while rate-limited"
    assert int(r.headers["retry-after"]) > 0
    assert (api.ctx.store.list_audit("user:viewer")["action"] == "login_failed").sum() == 5


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/readings"),
        ("post", "/api/alarms"),
        ("post", "/api/complaints"),
        ("post", "/api/incidents"),
        ("post", "/api/incidents/X/confirm"),
        ("post", "/api/scenarios/replay"),
        ("post", "/api/users"),
        ("get", "/api/incidents"),
        ("get", "/api/events"),
    ],
)
def test_no_endpoint_without_a_token(api: Api, method: str, path: str) -> None:
    r = getattr(api.client, method)(path, **({"json": {}} if method == "post" else {}))
    assert r.status_code == 401
    assert "token" in r.json()["detail"]


def test_forged_and_expired_tokens_are_refused(api: Api) -> None:
    tok = api.tokens["admin"]
    body, _, sig = tok.partition(".")
    forged = body + "." + ("0" if sig[0] != "0" else "1") + sig[1:]
    assert (
        api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"}).status_code
        == 401
    )
    old, _ = api.ctx.signer.issue("admin", now=0)
    assert (
        api.client.get("/api/auth/me", headers={"Authorization": f"Bearer {old}"}).status_code
        == 401
    )


def test_roles_gate_writes(api: Api) -> None:
    batch = {"readings": [{"sensor_id": "water:p:J1", "ts": "2026-07-15T00:00:00Z", "value": 40.0}]}
    assert api.client.post("/api/readings", json=batch, headers=api.h("viewer")).status_code == 403
    assert (
        api.client.post("/api/readings", json=batch, headers=api.h("operator")).status_code == 200
    )
    user = {"username": "new", "password": "long-enough-1", "role": "viewer"}
    assert api.client.post("/api/users", json=user, headers=api.h("dispatcher")).status_code == 403
    r = api.client.post("/api/users", json=user, headers=api.h("admin"))
    assert r.status_code == 201
    names = [u["username"] for u in api.client.get("/api/users", headers=api.h("admin")).json()]
    assert "new" in names
    assert "add_user" in set(api.ctx.store.list_audit("user:new")["action"])


def test_bad_user_input_is_a_clear_json_error(api: Api) -> None:
    r = api.client.post(
        "/api/users",
        json={"username": "x y", "password": "long-enough-1", "role": "viewer"},
        headers=api.h("admin"),
    )
    assert r.status_code == 422
    assert r.json()["where"] == "username"
    r = api.client.post(
        "/api/users",
        json={"username": "ok", "password": "short", "role": "viewer"},
        headers=api.h("admin"),
    )
    assert r.status_code == 422 and "password" in r.json()["detail"]
    r = api.client.post(
        "/api/users",
        json={"username": "ok", "password": "long-enough-1", "role": "god"},
        headers=api.h("admin"),
    )
    assert r.status_code == 422 and "role" in r.json()["detail"]
