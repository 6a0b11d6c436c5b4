"""The three demo incidents end to end on purpose-made data (fake utility adapters):
a burst main with complaints, a gas leak seeping into a power cable well, and a feeder fault
that stops the water pumping station. Each is found, correlated with its complaints, graded and
given a plan that passes the safety rules."""

from __future__ import annotations

import json

import pandas as pd

from lifeline.incidents.correlate import Correlator
from lifeline.incidents.pipeline import assess
from lifeline.incidents.summary import incident_json
from lifeline.respond.safety import approve
from tests.incidents.helpers import alarm, complaint
from tests.respond.fakes import FakeGas, FakePower, FakeWater, crews

DEPS = pd.DataFrame(
    {
        "asset_id": ["water:pump:PS1", "p:cable:K7"],
        "utility": ["water", "power"],
        "depends_on_asset_id": ["p:switch:S1", "g:pipe:GP1"],
        "depends_on_utility": ["power", "gas"],
        "kind": ["supply", "proximity"],
        "distance_m": [0.0, 1.5],
    }
)


def test_three_incidents_found_correlated_graded_and_safe() -> None:
    ev = [
        # burst main at (0, 0), two complaints nearby, one unrelated far-away water complaint
        alarm(
            "w-a1",
            0,
            utility="water",
            x=0,
            y=0,
            zone="DMA1",
            asset="w:pipe:P5",
            conf=0.7,
            detector="pressure_drop",
        ),
        complaint(
            "w-k1", 6, utility="water", x=60, y=20, category="burst_flooding", customer_id="c1"
        ),
        complaint("w-k2", 14, utility="water", x=-90, y=40, category="no_water", customer_id="c2"),
        complaint(
            "w-k9",
            20,
            utility="water",
            x=5000,
            y=5000,
            category="discoloured_water",
            customer_id="c9",
        ),
        # gas leak at (2000, 0): methane in a cable well + a smell report
        alarm(
            "g-a1",
            30,
            utility="gas",
            x=2000,
            y=0,
            zone="GD1",
            asset="g:pipe:GP1",
            conf=0.8,
            detector="methane_manhole",
        ),
        complaint("g-k1", 41, utility="gas", x=2050, y=30, category="gas_smell", customer_id="c3"),
        # feeder fault at (0, 3000), outage calls
        alarm(
            "p-a1",
            60,
            utility="power",
            x=0,
            y=3000,
            zone="F1",
            asset="p:switch:S1",
            conf=0.9,
            detector="feeder_fault",
        ),
        complaint(
            "p-k1", 63, utility="power", x=100, y=3050, category="no_power", customer_id="c4"
        ),
        complaint(
            "p-k2", 65, utility="power", x=-150, y=2950, category="no_power", customer_id="c5"
        ),
    ]
    cor = Correlator(max_distance_m=400)
    cor.add_all(ev)
    main = {i.utility: i for i in cor.incidents if len(i.evidence) > 1}
    assert set(main) == {"water", "gas", "power"}
    assert len(cor.incidents) == 4  # the far discoloured-water report stays apart
    assert main["water"].evidence_ids() == {"w-a1", "w-k1", "w-k2"}
    assert main["gas"].evidence_ids() == {"g-a1", "g-k1"}
    assert main["power"].evidence_ids() == {"p-a1", "p-k1", "p-k2"}

    adapters = {"water": FakeWater(), "power": FakePower(), "gas": FakeGas()}
    for inc in main.values():
        assess(inc, adapters, DEPS, crews=crews(), extra_impact={"duration_h": 4})
        assert inc.grade in ("I", "II", "III", "IV")
        assert inc.actions and all(a["cites"] for a in inc.actions)
        assert all(r["passed"] for r in inc.safety), (inc.utility, inc.safety)
        approve(inc, "duty officer")
    assert main["water"].kind == "water_main_burst"
    assert main["gas"].kind == "gas_leak_confined"
    assert [c["kind"] for c in main["gas"].cascade][0] == "ignition_risk"
    assert any(a["text"]["en"].startswith("De-energise p:cable:K7") for a in main["gas"].actions)
    assert main["power"].kind == "power_feeder_fault"
    assert [c["kind"] for c in main["power"].cascade] == ["pumping_station_power_loss"]
    out = json.loads(json.dumps([incident_json(i) for i in main.values()]))
    assert {o["utility"] for o in out} == {"water", "gas", "power"}
    assert all(o["safety"] and o["plans"] for o in out)


def test_correlate_and_assess_from_tables() -> None:
    from lifeline.incidents.pipeline import correlate_and_assess

    alarms = pd.DataFrame(
        [
            {
                "alarm_id": "A1",
                "ts": "2026-06-01T08:00Z",
                "utility": "water",
                "detector": "pressure_drop",
                "severity": 3,
                "sensors": "[]",
                "score": 4.0,
                "location": json.dumps(
                    [{"asset_id": "w:pipe:P5", "confidence": 0.7, "x_m": 0.0, "y_m": 0.0}]
                ),
                "detail": "{}",
            },
        ]
    )
    complaints = pd.DataFrame(
        [
            {
                "complaint_id": "K1",
                "ts": "2026-06-01T08:10Z",
                "channel": "hotline",
                "text": "停水",
                "utility": "water",
                "category": "no_water",
                "x_m": 50.0,
                "y_m": 0.0,
                "customer_id": "c1",
            },
            {
                "complaint_id": "K2",
                "ts": "2026-06-01T08:12Z",
                "channel": "app",
                "text": "路灯坏了",
                "utility": "other",
                "category": "other",
                "x_m": 50.0,
                "y_m": 0.0,
                "customer_id": "c1",
            },
        ]
    )
    incs = correlate_and_assess(
        alarms, complaints, adapters={"water": FakeWater()}, crews=crews(), min_evidence=2
    )
    assert len(incs) == 1
    inc = incs[0]
    assert inc.evidence_ids() == {"A1", "K1"} and inc.kind == "water_main_burst"
    assert (
        inc.impact["duration_h"] == 6.0 and inc.grade == "III"
    )  # hospital cut (critical_sites_out)
    assert all(r["passed"] for r in inc.safety)
    assert (
        "供水" in inc.narrative and "water_main_burst" in inc.narrative
    )  # template (no LLM configured)
