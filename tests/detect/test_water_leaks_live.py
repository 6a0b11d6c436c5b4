"""The live engine runs the leak detector of `lifeline water leaks` (registered as
``water-leaks``) on what arrives: on the test city's water chain (EPANET readings of
tests/detect/city.py: 22 quiet days, then a 130 m³/h burst at j5 on day 3, 03:10-07:10) it
learns on the stored weeks, then raises one alarm within the burst's first hour, located on a
pipe at j5, and an incident opens from it; the located alarm is the same whether the day arrives
in 5-minute or hourly batches."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from lifeline.engine import Engine, EngineConfig
from lifeline.store import open_store
from tests.detect.city import DAY3


def _live(city: Any, readings: pd.DataFrame, freq: str) -> tuple[pd.DataFrame, list[Any], Any]:
    """(alarms, incident bodies, detector status) of an engine that learnt the water readings
    before day 3 and was then fed day 3 in ``freq`` batches."""
    from lifeline.ingest.service import ingest_frame
    from lifeline.model.store_io import import_city

    water = readings[readings["sensor_id"].astype(str).str.startswith("water:")]
    with open_store(":memory:") as store:
        import_city(store, city)
        eng = Engine(city, store, config=EngineConfig(assess=False), detectors=["water-leaks"])
        eng.learn(water[water["ts"] < DAY3])
        day = water[water["ts"] >= DAY3]
        for _, b in day.groupby(day["ts"].dt.floor(freq)):
            ingest_frame(store, b, source="test", sensors=city.sensors, progress=False, feed=eng)
            eng.advance()
        eng.flush()
        alarms = store.list_alarms()
        bodies = [json.loads(b) for b in store.list_incidents()["body"]]
        status = eng.instances[0].detector.status()
    return alarms, bodies, status


@pytest.fixture(scope="module")
def live(detect_city: Any, detect_data: Any) -> dict[str, Any]:
    return {f: _live(detect_city, detect_data[0], f) for f in ("5min", "1h")}


def test_the_live_engine_alarms_at_the_burst_and_opens_an_incident(live: dict[str, Any]) -> None:
    alarms, bodies, status = live["5min"]
    assert status.ready, status.as_dict()
    assert status.detail["thresholds"]["step_gate"]["value"] >= 3.0  # learnt on the weeks
    assert len(alarms) == 1, alarms
    a = alarms.iloc[0]
    assert a["detector"] == "water-leaks" and a["utility"] == "water"
    # the hour 03:00-04:00 holds the burst's onset (03:10): reported when that hour completes
    assert pd.Timestamp(a["ts"]) == DAY3 + pd.Timedelta(hours=3)
    located = [c["asset_id"] for c in json.loads(a["location"])]
    assert located[0] in {"water:pipe:p4", "water:pipe:p5"}  # the two pipes at j5
    assert len(bodies) == 1
    best = bodies[0]["location"]["best_candidate"]
    assert best["asset_id"] == located[0]


def test_batching_does_not_move_the_alarm(live: dict[str, Any]) -> None:
    cols = ["alarm_id", "ts", "location"]
    assert live["1h"][0][cols].equals(live["5min"][0][cols])


def test_the_city_sensors_map_to_the_network_by_element(detect_city: Any) -> None:
    from lifeline.water.online import build, sensor_map

    s = detect_city.sensors
    odd = pd.DataFrame(
        {
            "sensor_id": ["w:x", "w:y", "w:z", "w:q"],
            "quantity": ["pressure_m", "flow_m3h", "level_m", "pressure_m"],
            "element": ["node:nowhere", "node:j3", "node:j3", ""],
        }
    )
    m = sensor_map(pd.concat([s[s["utility"] == "water"], odd]), detect_city.water)
    assert m == {
        "water:pressure:j3": ("pressure", "j3"),
        "water:pressure:j5": ("pressure", "j5"),
        "water:pressure:j7": ("pressure", "j7"),
        "water:flow:p0": ("flow", "p0"),
        "water:flow:p6": ("flow", "p6"),
    }  # a node the model lacks, a flow on a node, a level off a tank, no element: left out
    det = build(detect_city, s[s["utility"] == "water"])
    t = pd.Timestamp("2026-01-01", tz="UTC")
    det.learn(pd.DataFrame({"sensor_id": ["w:x", "water:pressure:j3"], "ts": [t, t], "value": [1.0, 2.0]}))  # fmt: skip
    assert list(det._buf.columns) == ["P:j3"]  # the unmapped sensor's reading is left alone


def test_too_few_pressure_sensors_say_why_they_never_get_ready(
    detect_city: Any, detect_data: Any
) -> None:
    from lifeline.water.online import build

    s = detect_city.sensors
    one = s[s["sensor_id"].isin(["water:pressure:j5", "water:flow:p0"])]
    det = build(detect_city, one)
    r = detect_data[0]
    det.learn(r[r["sensor_id"].isin(one["sensor_id"]) & (r["ts"] < DAY3)])
    st = det.status()
    assert not st.ready and "fewer than 2 pressure sensors" in st.detail["problem"]
    assert det.score(r[r["sensor_id"].isin(one["sensor_id"]) & (r["ts"] >= DAY3)]).empty


def test_incidents_are_assessed_on_a_city_without_valve_layers(detect_city: Any) -> None:
    from lifeline.respond.adapters import city_adapters

    assert detect_city.water_valves.empty and detect_city.gas_valves.empty
    assert {"water", "gas"} <= set(city_adapters(detect_city))
