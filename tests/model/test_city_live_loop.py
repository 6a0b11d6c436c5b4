"""The second city through the whole loop: validated, imported, served with the live engine;
readings posted over HTTP raise an alarm that opens a located incident with its plan; a
complaint posted with city-CRS coordinates joins it; the incident list gives event time and
city coordinates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.api.conftest import _fast_hash  # noqa: F401  (cheap password hashing)

T0 = pd.Timestamp("2026-08-03T01:00:00Z")


@pytest.fixture
def served(ykt: Any) -> Any:
    from fastapi.testclient import TestClient

    from lifeline.api.app import create_app
    from lifeline.api.server import attach_city

    app = create_app(":memory:", secret="test-secret")
    attach_city(app, ykt, resume=False, idle_flush_s=None)
    ctx = app.state.ctx
    ctx.users.add("op", "test-password-1", "operator", None)
    token = ctx.signer.issue("op")[0]
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {token}"}, ctx


def test_the_second_city_runs_the_whole_loop(ykt: Any, ykt_dir: Any, served: Any) -> None:
    from lifeline.model.build import build_city
    from lifeline.model.package import read_package

    pkg = read_package(ykt_dir)
    build_city(pkg)
    assert not pkg.report.errors  # validated
    client, h, ctx = served
    assert ctx.store.get_meta()["city.crs"] == "EPSG:32648"  # imported
    s = ykt.sensors.set_index("sensor_id")
    mx, my = float(s.at["GM-MH1", "x_m"]), float(s.at["GM-MH1", "y_m"])
    ts = pd.date_range(T0, periods=40, freq="1min")
    lel = np.where(ts >= T0 + pd.Timedelta("20min"), 55.0, 0.3)  # gas reaches the cable well
    body = {
        "readings": [
            {"sensor_id": "GM-MH1", "ts": t.isoformat(), "value": float(v)}
            for t, v in zip(ts, lel, strict=True)
        ]
    }
    r = client.post("/api/readings", json=body, headers=h)
    assert r.status_code == 200 and r.json()["stored"] == 40, r.text
    ctx.engine.engine.flush()
    incs = client.get("/api/incidents", headers=h).json()
    gas = [i for i in incs if i["utility"] == "gas"]
    assert len(gas) == 1, incs
    inc = gas[0]
    assert inc["kind"] == "gas_leak_confined"
    assert inc["opened_at"].startswith("2026-08-03T01:2")  # event time of the alarm
    assert np.hypot(inc["x_m"] - mx, inc["y_m"] - my) < 150  # city CRS metres near the well
    detail = client.get(f"/api/incidents/{inc['incident_id']}", headers=h).json()
    assert detail["confirmation"]["confirmed"], detail["confirmation"]
    kinds = {a["kind"] for a in detail["actions"]}
    assert {"dispatch", "operate"} <= kinds, kinds  # a crew and the shut-off valves
    assert detail["grade"] in ("I", "II", "III", "IV") and detail["safety"]
    # a hotline call at the well (city CRS coordinates) joins the incident live
    call = {
        "ts": (T0 + pd.Timedelta("42min")).isoformat(),
        "text": "井盖旁边有很浓的煤气味",
        "x_m": mx + 20.0,
        "y_m": my - 10.0,
    }
    r = client.post("/api/complaints", json=call, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["utility"] == "gas"
    ctx.engine.engine.flush()
    detail = client.get(f"/api/incidents/{inc['incident_id']}", headers=h).json()
    assert {e["kind"] for e in detail["evidence"]} == {"alarm", "complaint"}
    eng = client.get("/api/engine", headers=h).json()
    assert eng["watermark"] >= (T0 + pd.Timedelta("42min")).isoformat() and eng["pending"] == 0
