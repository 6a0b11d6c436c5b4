"""Issue 18, "Drainage in the platform": a storm drilled on a city with a drainage network yields
a waterlogging warning before the flooding, an incident with its plan, and a flooding cascade to
power. The city (tests/drainage/city.py) and its SWMM model are built here; the drill runs
SWMM for the truth and the live engine's detectors on the published readings and nowcasts. The
dashboard's API then shows the ponding at the points and the rain, nowcast and level at one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.drainage.city import build


@pytest.fixture(scope="module")
def drilled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from lifeline.model.city import load_city
    from lifeline.scenarios.drill import drill_day, parse_events
    from lifeline.scenarios.inprocess import run_in_process

    root = build(tmp_path_factory.mktemp("drain-city") / "city")
    city = load_city(root, cache_dir=tmp_path_factory.mktemp("drain-cache"))
    day = pd.Timestamp("2026-07-15")
    events = parse_events(["storm:30y@14:00"], city, day)
    data = drill_day(city, events, day=day)
    db = tmp_path_factory.mktemp("drain-db") / "drill.duckdb"
    summary = run_in_process(city, data, db=f"duckdb://{db}", quiet=True)
    return {"city": city, "data": data, "summary": summary, "db": db}


def _first_at_or_above(data: Any, sensor: str, level: float) -> pd.Timestamp:
    r = data.readings[data.readings.sensor_id == sensor].sort_values("ts")
    hit = r[r.value >= level]
    assert len(hit), f"the storm never brought {sensor} to {level} m"
    return pd.Timestamp(hit.ts.iloc[0])


def test_the_storm_is_warned_before_the_underpass_floods(drilled: dict[str, Any]) -> None:
    s, data = drilled["summary"], drilled["data"]
    assert s["ingest"]["rejected"] == {}, s["ingest"]["rejected"]
    assert len(data.forecasts) and data.forecasts.issued_at.nunique() >= 8  # every 15 min
    flood = _first_at_or_above(data, "DP-UP", 0.27)  # the truth: the depth gauge in the underpass
    storm = pd.Timestamp("2026-07-15 14:00", tz="Asia/Shanghai").tz_convert("UTC")
    assert storm < flood < storm + pd.Timedelta(hours=2)
    inc = next(i for i in s["incidents"] if i["kind"] == "waterlogging")
    warned = pd.Timestamp(inc["opened_at"])
    assert warned < flood - pd.Timedelta(minutes=15), (warned, flood)
    assert warned >= storm - pd.Timedelta(hours=3)
    assert s["alarms"].get("drainage_warning", 0) >= 1


def test_the_incident_has_its_plan_and_the_flooding_cascade_to_power(
    drilled: dict[str, Any],
) -> None:
    inc = next(i for i in drilled["summary"]["incidents"] if i["kind"] == "waterlogging")
    assert inc["utility"] == "drainage"
    assert inc["plans"][0] == "drainage_waterlogging"
    kinds = {a["kind"] for a in inc["actions"]}
    assert {"operate", "pump_truck"} <= kinds
    closures = [a for a in inc["actions"] if a["id"].startswith("drainage_waterlogging:close")]
    assert any("Hospital underpass" in a["text"] for a in closures)
    link = next(c for c in inc["cascade"] if c["kind"] == "substation_flooding")
    assert link["to_asset"] == "power:trafo:2" and link["to_utility"] == "power"
    # the transformer out cuts the hospital (load 18 on its LV bus)
    assert link["customers_affected"] >= 1
    assert "cascade_substation_flooding" in inc["plans"]
    assert inc["impact"]["waterlogging_points"] >= 1


def test_a_dry_day_raises_no_drainage_alarm(tmp_path: Path) -> None:
    from lifeline.detect.registry import build_detectors
    from lifeline.model.city import load_city
    from lifeline.scenarios.day_drainage import simulate_drainage

    city = load_city(build(tmp_path / "city"), cache_dir=tmp_path / "cache")
    start = pd.Timestamp("2026-07-14 16:00", tz="UTC")
    import numpy as np

    readings, forecasts = simulate_drainage(city, start, np.random.default_rng(0), [])
    assert len(readings) and forecasts.empty
    names = ("drainage_warning", "sewer_blockage", "pump_failure")
    insts = {i.spec.name: i for i in build_detectors(city, list(names))}
    assert set(insts) == set(names)
    rich = readings.merge(
        city.sensors[["sensor_id", "utility", "quantity", "element", "asset_id", "x_m", "y_m"]],
        on="sensor_id",
    )
    for name, inst in insts.items():
        sc = inst.detector.score(rich[rich.sensor_id.isin(inst.sensor_ids)].reset_index(drop=True))
        assert len(sc) == 0 or float(sc.score.max()) < 1.0, name


def test_the_dashboard_api_shows_ponding_and_the_point_chart(drilled: dict[str, Any]) -> None:
    from fastapi.testclient import TestClient

    from lifeline.api.app import create_app

    app = create_app(f"duckdb://{drilled['db']}", secret="test-secret")
    ctx = app.state.ctx
    ctx.city = drilled["city"]
    ctx.users.add("op", "test-password-1", "operator", None)
    h = {"Authorization": f"Bearer {ctx.signer.issue('op')[0]}"}
    data = drilled["data"]
    with TestClient(app) as client:
        pts = client.get("/api/drainage/points", headers=h).json()
        by_id = {p["point_id"]: p for p in pts["points"]}
        assert set(by_id) == {"WP-UP", "WP-J2"}
        up = by_id["WP-UP"]
        gauge = data.readings[data.readings.sensor_id == "DP-UP"].sort_values("ts")
        assert up["observed"]["sensor_id"] == "DP-UP"
        assert up["observed"]["value"] == round(float(gauge.value.iloc[-1]), 3)
        assert up["warning"]["warning_level"] in ("blue", "yellow", "orange", "red")
        assert up["warning"]["expected_peak_m"] >= up["threshold_m"]
        assert up["lon"] is not None and 0 < abs(up["lat"]) < 90
        series = client.get(
            "/api/drainage/series", params={"point_id": "WP-UP", "hours": 24}, headers=h
        ).json()
        assert set(series["levels"]) == {"DP-UP"}
        peak = max(v for _, v in series["levels"]["DP-UP"])
        assert peak == round(float(gauge.value.max()), 3) and peak >= series["threshold_m"]
        rain = data.readings[data.readings.sensor_id == "RG1"]
        assert max(v for _, v in series["rain"]) == round(float(rain.value.max()), 3)
        assert series["issued_at"] is not None and len(series["forecast"]) >= 12
        miss = client.get("/api/drainage/series", params={"point_id": "nope"}, headers=h)
        assert miss.status_code == 404
