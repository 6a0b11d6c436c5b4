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


NIGHT_END = DAY3 + pd.Timedelta(hours=10)  # the end of the (stand-in) night after the burst


def _hidden_supply(monkeypatch: pytest.MonkeyPatch, night_z: float) -> None:
    """Make the test city's burst one whose supply step the day hid (0.5 σ), so that only the
    night after it can confirm it: that night is in the data from ``NIGHT_END`` on and stands
    ``night_z`` σ above the nights before."""
    from dataclasses import replace

    import numpy as np

    from lifeline.water import rawstep

    orig = rawstep.refine_onset

    def refine(det: Any, raw: pd.DataFrame, model: Any, tanks: Any = None, **kw: Any) -> Any:
        d2, st = orig(det, raw, model, tanks, **kw)
        burst = DAY3.tz_convert(None) + pd.Timedelta(hours=3)
        if np.isfinite(st.z) and burst <= d2.time <= burst + pd.Timedelta(hours=1):
            seen = raw.index[-1] >= NIGHT_END.tz_convert(None)
            end = NIGHT_END.tz_convert(None) if seen else None
            st = replace(st, supply_z=0.5, night_z=night_z if seen else np.nan, night_end=end)
        return d2, st

    monkeypatch.setattr(rawstep, "refine_onset", refine)


def _day_hour_by_hour(
    city: Any, readings: pd.DataFrame, cut: pd.Timestamp | None = None, reported: Any = ()
) -> Any:
    """The water-leaks detector learnt on the weeks before day 3 (with a night gate of 3 σ),
    then fed day 3 hour by hour; with ``cut``, checkpointed there and resumed in a fresh
    detector (strict JSON in between); ``reported``: leaks it reported before day 3. Returns
    (scores of day 3, the last detector)."""
    from dataclasses import replace

    from lifeline.water.online import build

    s = city.sensors[city.sensors["utility"] == "water"]
    water = readings[readings["sensor_id"].isin(s["sensor_id"])]
    det = build(city, s)
    det.learn(water[water["ts"] < DAY3])
    det.model.params = replace(det.model.params, night_z=3.0)
    det.state.dets.extend(reported)
    day = water[water["ts"] >= DAY3]
    out = []
    for t, b in day.groupby(day["ts"].dt.floor("1h")):
        if cut is not None and t == cut:
            state = json.loads(json.dumps(det.get_state(), allow_nan=False))
            det = build(city, s)
            det.set_state(state)
        out.append(det.score(b))
    return pd.concat(out, ignore_index=True), det


def test_live_a_burst_waits_for_the_night_that_confirms_it(
    detect_city: Any, detect_data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hidden_supply(monkeypatch, night_z=10.0)
    scores, det = _day_hour_by_hour(detect_city, detect_data[0])
    reports = scores[scores["score"] >= 1.0]
    assert len(reports) == 1, reports  # not at 03:00 (the day hid its supply step)...
    r = reports.iloc[0]
    assert r["ts"] == NIGHT_END  # ...but once the night after it is in the data
    assert r["detail"]["start"] == str((DAY3 + pd.Timedelta("3h15min")).tz_convert(None))
    assert r["detail"]["location"][0]["asset_id"] in {"water:pipe:p4", "water:pipe:p5"}
    assert det.pending == []
    # checkpointed while it waits, a fresh detector reports it at the same hour
    resumed, _ = _day_hour_by_hour(detect_city, detect_data[0], cut=DAY3 + pd.Timedelta(hours=6))
    assert resumed.loc[resumed["score"] >= 1.0, "ts"].tolist() == [NIGHT_END]


def test_live_a_burst_the_night_confirms_is_placed_with_the_network_model_where_it_places_bursts(
    detect_city: Any, detect_data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the network model places bursts (forced here: the test city's leak response is the
    same at every hour, so the hour test keeps the linear signatures), a burst its night
    confirms is placed with the model from the residuals of its change, as the batch loop places
    it, not left where the linear signatures put it."""
    from lifeline.water import locate, pipeline

    _hidden_supply(monkeypatch, night_z=10.0)
    decide = pipeline.burst_refiner
    monkeypatch.setattr(
        pipeline,
        "burst_refiner",
        lambda net, sens, graph, _, rep: decide(net, sens, graph, True, rep),
    )
    placed: list[tuple[Any, Any]] = []
    place = locate.refine_burst

    def spy(det: Any, **kw: Any) -> Any:
        out = place(det, **kw)
        placed.append((det, out))
        return out

    monkeypatch.setattr(locate, "refine_burst", spy)
    scores, det = _day_hour_by_hour(detect_city, detect_data[0])
    reports = scores[scores["score"] >= 1.0]
    assert reports["ts"].tolist() == [NIGHT_END]
    assert len(placed) == 1, placed  # the confirmed burst, placed once, when its night came
    before, after = placed[0]
    assert before.time == (DAY3 + pd.Timedelta("3h15min")).tz_convert(None)  # the step
    assert before.alarm_time == NIGHT_END.tz_convert(None)  # reported when its night came
    detail = reports.iloc[0]["detail"]
    assert detail["pipe"] == after.pipe and after.pipe in {"p4", "p5"}
    assert det.status().detail["burst_placement"].startswith("network model")


def test_live_a_burst_the_night_confirms_where_a_report_is_open_is_that_leak(
    detect_city: Any, detect_data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the batch loop decides: a verified burst put where a leak reported in the
    ``merge_days`` before it (after the baseline absorbed that one's step) was put is that leak
    growing, not a new one."""
    from lifeline.water.leaks import Detection, LeakParams
    from lifeline.water.repeats import absorb_time

    _hidden_supply(monkeypatch, night_z=10.0)
    prm = LeakParams()
    burst = (DAY3 + pd.Timedelta("3h15min")).tz_convert(None)
    earlier = burst - absorb_time(prm) - pd.Timedelta(days=1)
    assert burst - earlier < pd.Timedelta(days=prm.merge_days)
    there = Detection("p4", earlier, earlier, 0.9, ["p4", "p5"])
    scores, det = _day_hour_by_hour(detect_city, detect_data[0], reported=[there])
    assert (scores["score"] < 1.0).all()
    assert det.pending == []


def test_live_a_burst_the_night_turns_down_is_not_reported(
    detect_city: Any, detect_data: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hidden_supply(monkeypatch, night_z=0.0)
    scores, det = _day_hour_by_hour(detect_city, detect_data[0])
    assert (scores["score"] < 1.0).all()
    assert det.pending == []


def test_labelled_history_is_learnt_as_the_batch_command_learns_it(
    detect_city: Any, detect_data: Any
) -> None:
    """With the leaks known in its history (the city's ``known_leaks.csv`` table, the labels
    of the engine's ``water-leaks``), the online detector fits its model on the hours without
    them, as ``lifeline water leaks --history-truth`` does; it still reports the day's burst at
    the same place."""
    from dataclasses import replace

    import numpy as np

    from lifeline.water.online import build

    s = detect_city.sensors[detect_city.sensors["utility"] == "water"]
    r = detect_data[0]
    water = r[r["sensor_id"].isin(s["sensor_id"])]
    a = (DAY3 - pd.Timedelta(days=12)).tz_convert(None)
    known = pd.DataFrame(
        {"pipe": ["p3"], "start": [a], "end": [a + pd.Timedelta(days=4)], "kind": ["abrupt"]}
    )
    known["peak"], known["note"] = pd.NaT, ""
    found = {}
    for name, city in (
        ("plain", detect_city),
        ("labelled", replace(detect_city, known_leaks=known)),
    ):
        det = build(city, s)
        det.learn(water[water["ts"] < DAY3])
        sc = det.score(water[water["ts"] >= DAY3])
        found[name] = (det.model, sc[sc["score"] >= 1.0])
    (m0, rep0), (m1, rep1) = found["plain"], found["labelled"]
    assert not np.allclose(m0.theta, m1.theta)  # four days fewer in the fit
    assert rep1["ts"].tolist() == rep0["ts"].tolist() == [DAY3 + pd.Timedelta(hours=3)]
