"""Power detectors on the test city: supply loss, overload, voltage band and outage inference."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from lifeline.detect.registry import build_detectors
from tests.detect.city import DAY3
from tests.power.nets import by_name


def _at(h: float) -> pd.Timestamp:
    return DAY3 + pd.Timedelta(hours=h)


def _alarms(name: str, city: Any, data: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(day-3 scores, day-3 alarm rows with every change) of a registered detector."""
    from lifeline.detect.episodes import EpisodeTracker

    inst = build_detectors(city, [name])[0]
    mine = data if inst.spec.inputs == "events" else data[data["sensor_id"].isin(inst.sensor_ids)]
    inst.detector.learn(mine[mine["ts"] < DAY3])
    scores = inst.detector.score(mine[mine["ts"] >= DAY3])
    return scores, EpisodeTracker(inst.policy, name, "power").update(scores).frame()


def test_supply_loss_on_the_tripped_feeder(detect_city: Any, detect_data: Any) -> None:
    _, al = _alarms("power_supply_loss", detect_city, detect_data[0])
    assert sorted(json.loads(s)[0] for s in al["sensors"]) == [
        "power:current:a",
        "power:voltage:a2",
    ]
    assert (al["ts"] == _at(15 + 40 / 60)).all()
    assert (al["severity"] == 3).all()
    assert (al["ended_at"] == _at(17 + 40 / 60)).all()  # back over half of normal
    d = json.loads(al["detail"].iloc[0])
    assert d["deenergised"] and d["normal"] > 0


def test_overload_against_the_cable_rating(detect_city: Any, detect_data: Any) -> None:
    from lifeline.detect.readings import SensorArrays
    from lifeline.power.detectors import ratings

    net = detect_city.power
    arr = SensorArrays.from_table(detect_city.sensors)
    rated, _ = ratings(net, arr)
    i = list(arr.ids).index("power:current:b")
    assert rated[i] == 220.0  # NA2XS2Y 1x70: max_i_ka 0.22
    _, al = _alarms("power_overload", detect_city, detect_data[0])
    assert {json.loads(s)[0] for s in al["sensors"]} == {"power:current:b", "power:p:b"}
    assert (al["ts"] == _at(19 + 5 / 60)).all()  # two readings in a row over 100 %


def test_voltage_band_uses_gbt12325_for_20kv(detect_city: Any, detect_data: Any) -> None:
    _, al = _alarms("power_voltage_band", detect_city, detect_data[0])
    assert {json.loads(s)[0] for s in al["sensors"]} == {"power:voltage:b1"}
    d = json.loads(al["detail"].iloc[0])
    assert d["band"] == [0.93, 1.07] and "GB/T 12325" in d["source"]
    # the de-energised bus a2 (0 pu) is a supply loss, not a band violation
    _, th = _alarms("threshold", detect_city, detect_data[0])
    assert not any("voltage" in s for s in th["sensors"])


def test_outage_inference_names_device_and_fault_section(
    detect_city: Any, detect_data: Any
) -> None:
    net = detect_city.power
    scores, al = _alarms("power_outage", detect_city, detect_data[1])
    feeder = al[al["sensors"].str.contains(f'power:switch:{by_name(net.switch, "Sa0up")}"')]
    assert len(feeder) >= 1
    last = json.loads(feeder["detail"].iloc[-1])
    assert last["outage_device"] == {"element": "switch", "index": by_name(net.switch, "Sa0up")}
    assert last["source"] == "trip" and last["customers_out"] == 12
    # indicators fired up to Sa2up: the fault lies beyond it, on La2 or La3
    assert last["fault_section"]["lines"] == [by_name(net.line, "La2"), by_name(net.line, "La3")]
    assert {c["asset_id"] for c in last["location"]} == {"power:line:2", "power:line:3"}
    assert feeder["ended_at"].iloc[-1] == _at(17 + 40 / 60)  # the breaker closed
    # the LV outage seen by two meters only: the device that cuts load b2 alone
    b2 = int(net.load.index[net.load.name == "load_b2"][0])
    lv = [json.loads(d) for d in al["detail"] if json.loads(d).get("loads_out") == [b2]]
    assert lv and lv[0]["source"] == "meters" and lv[0]["customers_out"] == 3
    assert len(al["alarm_id"].unique()) == 2  # day 1's single last gasp was noise
    assert scores["ts"].min() >= _at(11)


def test_outage_decisions_do_not_depend_on_batching(detect_city: Any, detect_data: Any) -> None:
    from lifeline.detect.checks import assert_same_scores
    from lifeline.power.outage import build

    events = detect_data[1]
    whole = build(detect_city, detect_city.sensors).score(events)
    det = build(detect_city, detect_city.sensors)
    per_time = pd.concat([det.score(g) for _, g in events.groupby("ts", sort=True)])
    assert_same_scores(whole, per_time, "all events vs one event time per batch")
    # one event per batch cuts the indicators of 15:40:01 apart: that time is decided again
    # as each arrives, and the alarms (episodes, places) come out the same
    det = build(detect_city, detect_city.sensors)
    one = pd.concat([det.score(events.iloc[[i]]) for i in range(len(events))])
    assert len(one) > len(whole)
    policy = build_detectors(detect_city, ["power_outage"])[0].policy
    a = policy.alarms(whole, "power_outage", "power")
    b = policy.alarms(one, "power_outage", "power")
    assert a["alarm_id"].tolist() == b["alarm_id"].tolist()
    from lifeline.detect.episodes import EpisodeTracker

    fa = EpisodeTracker(policy, "o", "power").update(whole).frame()
    fb = EpisodeTracker(policy, "o", "power").update(one).frame()
    assert fa["detail"].tolist() == fb["detail"].tolist()
