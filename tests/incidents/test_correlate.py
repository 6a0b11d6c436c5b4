"""Correlation: what merges, what stays apart, and why."""

from __future__ import annotations

from lifeline.incidents.correlate import Correlator, ZoneArea, infer_kind
from tests.incidents.helpers import alarm, complaint


def test_alarm_and_complaints_in_same_zone_merge_with_reasons() -> None:
    area = ZoneArea.from_tables(customers=None)
    area.customer_zone = {("c2", "water"): "Z1"}
    cor = Correlator(area=area, max_distance_m=50)
    cor.add(alarm("a1", 0, x=50, y=0, zone="Z1"))
    cor.add(complaint("k1", 20, x=900, y=0, customer_id="c2"))  # far but same zone via its customer
    assert len(cor.incidents) == 1
    inc = cor.incidents[0]
    rules = {g["evidence_id"]: g["rule"] for g in inc.grouping}
    assert rules == {"a1": "opened", "k1": "same_area"}
    g = inc.grouping[1]
    assert g["areas"] == ["Z1"] and g["time_gap_s"] == 20 * 60


def test_within_distance_merges_and_location_refines() -> None:
    cor = Correlator(max_distance_m=300, candidate_min_confidence=0.9)
    cor.add(complaint("k1", 0, x=0, y=0))
    cor.add(complaint("k2", 10, x=200, y=0))
    assert len(cor.incidents) == 1
    inc = cor.incidents[0]
    assert inc.grouping[1]["rule"] == "within_distance" and inc.grouping[1]["distance_m"] == 200.0
    assert inc.location["method"] == "weighted_centroid" and inc.x_m == 100.0
    cor.add(alarm("a1", 15, x=150, y=0, conf=0.95, zone=""))
    assert inc.location["method"] == "best_candidate" and inc.x_m == 150.0
    assert inc.location["best_candidate"]["from"] == "a1"


def test_unrelated_coincidences_stay_apart() -> None:
    cor = Correlator(max_distance_m=300, window_s=3600)
    cor.add(alarm("a1", 0, x=0, y=0, zone="Z1"))
    cor.add(alarm("a2", 5, x=2000, y=0, zone="Z2"))  # same time, other zone, far
    cor.add(
        alarm("p1", 5, utility="power", x=0, y=0, zone="Z1", asset="p:l1")
    )  # same place, other utility
    cor.add(alarm("a3", 200, x=0, y=0, zone="Z1"))  # same place, outside the window
    assert len(cor.incidents) == 4
    assert sorted(len(i.evidence) for i in cor.incidents) == [1, 1, 1, 1]


def test_upstream_downstream_relation_merges() -> None:
    area = ZoneArea(links={("Z1", "Z2")})
    cor = Correlator(area=area, max_distance_m=10)
    cor.add(alarm("a1", 0, x=0, y=0, zone="Z1"))
    cor.add(alarm("a2", 5, x=3000, y=0, zone="Z2"))
    assert len(cor.incidents) == 1
    assert cor.incidents[0].grouping[1]["rule"] == "downstream"


def test_duplicates_merge_through_bridging_evidence() -> None:
    cor = Correlator(max_distance_m=300)
    cor.add(complaint("k1", 0, x=0, y=0))
    cor.add(complaint("k2", 1, x=500, y=0))
    assert len(cor.incidents) == 2
    cor.add(complaint("k3", 2, x=250, y=0))  # within 300 m of both
    assert len(cor.incidents) == 1
    inc = cor.incidents[0]
    assert inc.evidence_ids() == {"k1", "k2", "k3"}
    assert any(g["rule"] == "merged_duplicate" for g in inc.grouping)
    assert len(inc.merged_from) == 1


def test_other_utility_complaint_unassigned_and_kinds() -> None:
    cor = Correlator()
    assert cor.add(complaint("k9", 0, utility="other", category="other")) is None
    assert cor.unassigned[0]["evidence_id"] == "k9"
    cor.add(complaint("q1", 0, category="discoloured_water"))
    cor.add(complaint("q2", 5, x=120, category="discoloured_water"))
    assert infer_kind(cor.incidents[0]) == "water_quality"
    cor.add(
        alarm("m1", 0, utility="gas", x=5000, y=5000, detector="methane_manhole", asset="g:mh1")
    )
    assert infer_kind(cor.incidents[-1]) == "gas_leak_confined"


def test_meter_events_join_through_the_customers_feeder() -> None:
    import pandas as pd

    from lifeline.incidents.evidence import evidence_from_frames
    from tests.incidents.helpers import customers, ts

    assets = pd.DataFrame({"asset_id": ["p:l1", "p:l2", "p:l9"], "zone_id": ["F1", "F1", "F2"]})
    area = ZoneArea.from_tables(assets, customers())
    meters = pd.DataFrame(
        {
            "ts": [ts(1), ts(2), ts(3)],
            "utility": ["power"] * 3,
            "event": ["last_gasp"] * 3,
            "customer_id": ["c1", "c3", "c4"],
            "x_m": [0.0, 200.0, 1000.0],
            "y_m": [0.0, 0.0, 1000.0],
        }
    )
    ev = evidence_from_frames(meter_events=meters)
    cor = Correlator(area=area, max_distance_m=50)
    cor.add_all(ev)
    groups = sorted(sorted(e.customer_id for e in i.evidence) for i in cor.incidents)
    assert groups == [["c1", "c3"], ["c4"]]  # c1 and c3 share feeder F1 although 200 m apart
    inc = next(i for i in cor.incidents if len(i.evidence) == 2)
    assert inc.grouping[1]["rule"] == "same_area" and inc.grouping[1]["areas"] == ["F1"]
    assert inc.evidence[0].source == "last_gasp"


def test_same_large_zone_but_far_apart_stays_apart() -> None:
    cor = Correlator(max_distance_m=100, area_max_distance_m=1000)
    cor.add(alarm("a1", 0, x=0, y=0, zone="DMA1"))
    cor.add(alarm("a2", 5, x=1500, y=0, zone="DMA1"))
    cor.add(alarm("a3", 6, x=300, y=0, zone="DMA1"))  # same zone, 300 m from a1, 1200 m from a2
    assert sorted(sorted(i.evidence_ids()) for i in cor.incidents) == [["a1", "a3"], ["a2"]]
    joined = next(i for i in cor.incidents if "a3" in i.evidence_ids())
    assert joined.grouping[-1]["rule"] == "same_area"


def test_bare_asset_ids_in_alarm_locations_are_resolved() -> None:
    import pandas as pd

    from lifeline.incidents.evidence import evidence_from_frames

    assets = pd.DataFrame(
        {
            "asset_id": ["water:pipe:P83", "power:load:1", "power:load:2"],
            "utility": ["water", "power", "power"],
            "ref": ["P83", "1", "2"],
            "x_m": [10.0, 100.0, 300.0],
            "y_m": [20.0, 0.0, 0.0],
            "zone_id": ["DMA1", "F1", "F1"],
        }
    )
    alarms = pd.DataFrame(
        [
            {
                "alarm_id": "w",
                "ts": "2026-06-01T08:00Z",
                "utility": "water",
                "detector": "leak",
                "location": '["P83"]',
            },
            {
                "alarm_id": "p",
                "ts": "2026-06-01T08:01Z",
                "utility": "power",
                "detector": "monitor",
                "location": '["power:load:1", "power:load:2"]',
            },
            {
                "alarm_id": "u",
                "ts": "2026-06-01T08:02Z",
                "utility": "power",
                "detector": "monitor",
                "location": '["power:load:999"]',
            },
        ]
    )
    w, p, u = evidence_from_frames(alarms, assets=assets)
    assert (w.x_m, w.y_m, w.zone_ids, w.asset_ids, w.confidence) == (
        10.0,
        20.0,
        ["DMA1"],
        ["water:pipe:P83"],
        0.6,
    )
    assert (p.x_m, p.zone_ids, p.confidence) == (
        200.0,
        ["F1"],
        0.3,
    )  # centroid of equally likely loads
    assert not u.located and u.asset_ids == ["power:load:999"]
    cor = Correlator()
    cor.add(w)
    assert cor.incidents[0].location["method"] == "best_candidate"
    assert cor.incidents[0].location["best_candidate"]["asset_id"] == "water:pipe:P83"


def test_power_kind_from_alarm_detail_and_load_count() -> None:
    import json

    from lifeline.incidents.evidence import Evidence
    from lifeline.incidents.lifecycle import Incident

    def inc_with(detail: dict, location: list) -> Incident:
        ev = Evidence.from_alarm(
            {
                "alarm_id": "x",
                "ts": "2026-06-01T08:00Z",
                "utility": "power",
                "detector": "power_grid",
                "location": json.dumps(location),
                "detail": json.dumps(detail),
            }
        )
        return Incident("I", "power", ev.ts, evidence=[ev])

    assert infer_kind(inc_with({}, ["power:load:1"])) == "power_lv_outage"
    assert infer_kind(inc_with({"fault_section": {"lines": [3]}}, [])) == "power_feeder_fault"
    assert (
        infer_kind(inc_with({"kind": "no_supply"}, [f"power:load:{i}" for i in range(12)]))
        == "power_feeder_fault"
    )


def test_alarm_without_location_placed_at_its_sensor() -> None:
    import pandas as pd

    from lifeline.incidents.evidence import evidence_from_frames

    assets = pd.DataFrame(
        {
            "asset_id": ["power:manhole:CW4"],
            "utility": ["power"],
            "ref": ["CW4"],
            "x_m": [50.0],
            "y_m": [60.0],
            "zone_id": ["gas:district:G1"],
        }
    )
    sensors = pd.DataFrame(
        {
            "sensor_id": ["CH4-7"],
            "asset_id": ["power:manhole:CW4"],
            "x_m": [float("nan")],
            "y_m": [float("nan")],
        }
    )
    alarms = pd.DataFrame(
        [
            {
                "alarm_id": "m",
                "ts": "2026-06-01T08:00Z",
                "utility": "gas",
                "detector": "methane",
                "sensors": '["CH4-7"]',
                "location": "[]",
            }
        ]
    )
    (ev,) = evidence_from_frames(alarms, assets=assets, sensors=sensors)
    assert (ev.x_m, ev.y_m, ev.zone_ids, ev.asset_ids, ev.confidence) == (
        50.0,
        60.0,
        ["gas:district:G1"],
        ["power:manhole:CW4"],
        0.4,
    )
    cor = Correlator()
    cor.add(ev)
    assert (
        cor.incidents[0].location["method"] == "weighted_centroid"
    )  # a sensor is near, not at, the leak


def test_a_complaint_classified_other_never_opens_or_joins_an_incident() -> None:
    """A water-company bill or a street light (category ``other``) is not evidence, even when
    its utility names a lifeline company and it sits right on an open incident."""
    cor = Correlator()
    inc = cor.add(alarm("a1", 0))
    assert inc is not None
    bill = complaint("bill", 3, utility="water", category="other")  # at the alarm, same zone
    assert bill.off_lifeline
    assert cor.add(bill) is None
    assert cor.add(complaint("lamp", 4, utility="other", category="other", x=5000)) is None
    assert inc.evidence_ids() == {"a1"} and len(cor.incidents) == 1
    reasons = {u["evidence_id"]: u["reason"] for u in cor.unassigned}
    assert reasons["bill"] == "complaint classified 'other': not about a lifeline"
    assert cor.add(complaint("real", 5, utility="water", category="no_water")) is inc


def test_classified_other_end_to_end_from_text() -> None:
    """Texts the classifier calls ``other`` (street light, bill, air-conditioning) stay out of the
    incident a real complaint next to them joins."""
    import pandas as pd

    from lifeline.incidents.complaints.classifier import classify
    from lifeline.incidents.evidence import evidence_from_frames
    from tests.incidents.helpers import ts

    texts = [
        "和平路12号停水了，一滴水都没有",
        "和平路12号的路灯不亮了",
        "这个月水费太高了，要求核实水表",
        "空调不制冷",
    ]
    pred = classify(texts)
    assert pred["category"].tolist() == ["no_water", "other", "other", "other"]
    rows = pd.DataFrame(
        {
            "complaint_id": [f"k{i}" for i in range(4)],
            "ts": [ts(i) for i in range(4)],
            "channel": "hotline",
            "text": texts,
            "x_m": 100.0,
            "y_m": 0.0,
            "utility": pred["utility"],
            "category": pred["category"],
            "customer_id": "c2",
        }
    )
    cor = Correlator()
    cor.add(alarm("a1", 0))
    for ev in evidence_from_frames(complaints=rows):
        cor.add(ev)
    assert len(cor.incidents) == 1 and cor.incidents[0].evidence_ids() == {"a1", "k0"}


def test_the_location_comes_from_the_incidents_own_utility_and_specific_detectors() -> None:
    """A generic detector's sensor loses to a utility-specific locate result of lower
    confidence, and another utility's cascade evidence (a pump without power) never locates."""
    from lifeline.incidents.correlate import refine_location

    cor = Correlator(max_distance_m=5000)
    cor.add(alarm("g1", 0, x=900, y=0, conf=0.9, detector="cusum"))
    inc = cor.incidents[0]
    assert inc.x_m == 900.0
    cor.add(alarm("s1", 5, x=100, y=0, conf=0.6, detector="power_outage", utility="water"))
    assert inc.x_m == 100.0 and inc.location["best_candidate"]["from"] == "s1"
    inc.evidence.append(alarm("p1", 6, x=3000, y=0, conf=0.99, utility="power"))
    refine_location(inc)
    assert inc.x_m == 100.0
