"""The town adapters on the real demo town (WNTR, pandapower, pandapipes + HyRAM): the three
demo incidents get plans that pass the safety rules. Slow: builds/loads the town."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from lifeline.incidents.correlate import Correlator
from lifeline.incidents.evidence import Evidence
from lifeline.incidents.pipeline import assess
from lifeline.respond.adapters import town_adapters
from lifeline.respond.crews import default_crews, street_graph_from_pipes
from lifeline.respond.fill import CrewContext

pytestmark = pytest.mark.slow


def _alarm(
    assets: pd.DataFrame, aid: str, asset: str, minutes: int, utility: str, detector: str
) -> Evidence:
    r = assets.loc[asset]
    loc = [
        {
            "asset_id": asset,
            "confidence": 0.8,
            "x_m": float(r.x_m),
            "y_m": float(r.y_m),
            "zone_id": r.zone_id,
        }
    ]
    return Evidence.from_alarm(
        {
            "alarm_id": aid,
            "ts": pd.Timestamp("2026-06-01T08:00Z") + pd.Timedelta(minutes=minutes),
            "utility": utility,
            "detector": detector,
            "severity": 3,
            "location": json.dumps(loc),
        }
    )


def test_three_demo_incidents_on_the_town() -> None:
    from lifeline.datasets.town import load_town
    from lifeline.power.topology import build_sections

    town = load_town()
    a = town.assets.set_index("asset_id")
    deps = town.dependencies
    wpipe = deps[deps.kind == "flooding"].depends_on_asset_id.iloc[-1]
    gpipe = deps[deps.kind == "proximity"].depends_on_asset_id.iloc[0]
    g = build_sections(town.power)
    pumps = town.assets[(town.assets.utility == "water") & (town.assets.kind == "pump")]
    station_bus = town.supply_bus(str(pumps.asset_id.iloc[0]))
    line = g.section_lines[g.bus_section[station_bus]][0]
    cor = Correlator()
    cor.add(_alarm(a, "w1", wpipe, 0, "water", "pressure_drop"))
    cor.add(_alarm(a, "g1", gpipe, 30, "gas", "methane_manhole"))
    cor.add(_alarm(a, "p1", f"power:line:{line}", 60, "power", "feeder_fault"))
    assert len(cor.incidents) == 3
    ads = town_adapters(town)
    crews = CrewContext(street_graph_from_pipes(town.assets), default_crews(town))
    got = {}
    for inc in cor.incidents:
        assess(inc, ads, deps, town.districts, crews, extra_impact={"duration_h": 2})
        got[inc.utility] = inc
        assert all(r["passed"] for r in inc.safety), (inc.utility, inc.safety)
        assert inc.grade in ("I", "II", "III", "IV") and inc.district_id.startswith("schutterwald")
        assert any(x["kind"] == "dispatch" for x in inc.actions)
    assert any(c["kind"] == "substation_flooding" for c in got["water"].cascade)
    assert any(
        c["kind"] == "ignition_risk" and c["to_asset"].startswith("power:manhole:")
        for c in got["gas"].cascade
    )
    pump = [c for c in got["power"].cascade if c["kind"] == "pumping_station_power_loss"]
    assert (
        pump
        and sorted(pump[0]["to_assets"]) == ["water:pump:PU1", "water:pump:PU2"]
        and pump[0]["customers_affected"] > 0
    )
    assert any(
        x["kind"] == "operate" and x["operation"]["operation"] == "close"
        for x in got["water"].actions
    )
    assert any(x["kind"] == "evacuate" for x in got["gas"].actions)
