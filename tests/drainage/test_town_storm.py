"""Issue 18's done-when on the demo town itself: a drilled 30-year storm yields a waterlogging
warning before the points flood, one incident with its plan, and a flooding cascade to power.
Slow (the town's whole day: water, power, gas and drainage through the engine, ~2-4 min on 2
cores); the fast version on a purpose-made city is tests/drainage/test_storm_drill.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest


@pytest.mark.slow
def test_demo_town_storm_drill(tmp_path: Path) -> None:
    from lifeline.datasets.town import load_town
    from lifeline.scenarios.drill import drill_day, parse_events
    from lifeline.scenarios.inprocess import run_in_process

    city = load_town()
    day = pd.Timestamp("2026-07-15")
    data = drill_day(city, parse_events(["storm:30y@14:00"], city, day), day=day)
    s = run_in_process(city, data, db=f"duckdb://{tmp_path / 'drill.duckdb'}", quiet=True)
    assert s["ingest"]["rejected"] == {}
    pts = city.waterlogging_points
    r = data.readings.merge(
        city.sensors[["sensor_id", "quantity", "asset_id"]], on="sensor_id"
    ).query("quantity == 'depth_m'")
    floods = {}
    for p in pts.itertuples(index=False):
        g = r[(r.asset_id == f"drainage:node:{p.node}") & (r.value >= p.threshold_m)]
        if len(g):
            floods[p.point_id] = pd.Timestamp(g.ts.min())
    assert floods, "the 30-year storm floods at least one waterlogging point"
    inc = [i for i in s["incidents"] if i["kind"] == "waterlogging"]
    assert len(inc) == 1, [i["incident_id"] for i in inc]  # one storm, one incident
    inc0 = inc[0]
    warned = pd.Timestamp(inc0["opened_at"])
    storm = pd.Timestamp("2026-07-15 14:00", tz=city.timezone).tz_convert("UTC")
    assert warned >= storm - pd.Timedelta(hours=3)
    assert warned < min(floods.values()) - pd.Timedelta(minutes=15), (warned, floods)
    assert inc0["plans"][0] == "drainage_waterlogging"
    assert {"operate", "pump_truck", "pump_station", "notify"} <= {
        a["kind"] for a in inc0["actions"]
    }
    link = next(c for c in inc0["cascade"] if c["kind"] == "substation_flooding")
    assert link["to_utility"] == "power" and link["to_asset"].startswith("power:trafo:")
    assert "cascade_substation_flooding" in inc0["plans"]
    assert all(r["passed"] for r in inc0["safety"]), inc0["safety"]
