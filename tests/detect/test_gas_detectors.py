"""Gas detectors on the test city: the pressure-drop scan and the methane grading and cause."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from lifeline.detect.registry import build_detectors
from tests.detect.city import DAY3, LEAK_J, LEAK_KG_S


def _at(h: float) -> pd.Timestamp:
    return DAY3 + pd.Timedelta(hours=h)


def _run(name: str, city: Any, readings: pd.DataFrame, day: int = 3) -> tuple[Any, pd.DataFrame]:
    inst = build_detectors(city, [name])[0]
    mine = readings[readings["sensor_id"].isin(inst.sensor_ids)]
    start = DAY3 - pd.Timedelta(days=3 - day)
    inst.detector.learn(mine[mine["ts"] < start])
    day_r = mine[(mine["ts"] >= start) & (mine["ts"] < start + pd.Timedelta(days=1))]
    return inst, inst.detector.score(day_r)


def test_pressure_drop_finds_and_places_the_leak(detect_city: Any, detect_data: Any) -> None:
    inst, scores = _run("gas_pressure_drop", detect_city, detect_data[0])
    assert (scores["ts"].diff().dropna() == pd.Timedelta(minutes=15)).all()  # every 15 min
    al = inst.policy.alarms(scores, "gas_pressure_drop", "gas")
    assert len(al) >= 1
    first = al.iloc[0]
    assert _at(9 + 20 / 60) < first["ts"] <= _at(11)  # within 100 min of the onset
    d = json.loads(first["detail"])
    assert d["junction"] == LEAK_J
    assert json.loads(first["location"])[0]["asset_id"] == f"gas:junction:{LEAK_J}"
    assert abs(d["rate_kg_s"] - LEAK_KG_S) < 0.3 * LEAK_KG_S
    onset = pd.Timestamp(d["onset"])
    assert abs(onset - _at(9 + 20 / 60)) <= pd.Timedelta(minutes=30)


def test_pressure_drop_is_quiet_on_a_quiet_day(detect_city: Any, detect_data: Any) -> None:
    inst, scores = _run("gas_pressure_drop", detect_city, detect_data[0], day=2)
    assert len(scores) == 96
    assert scores["score"].max() < 0.5


def test_methane_grades_and_explains(detect_city: Any, detect_data: Any) -> None:
    inst, scores = _run("methane", detect_city, detect_data[0])
    al = inst.policy.alarms(scores, "methane", "gas")
    assert {json.loads(s)[0] for s in al["sensors"]} == {"gas:methane:CW1", "gas:methane:T1"}
    graded = scores[scores["score"] >= 1.0]
    cw1 = graded[graded["key"] == "gas:methane:CW1"]["detail"].iloc[-1]
    assert cw1["level"] == 2 and cw1["cause"] == "gas_leak" and cw1["near_main"]
    assert cw1["neighbours"] == ["gas:methane:T1"]  # rising together: gas from a main
    loc = cw1["location"][0]
    assert loc["asset_id"] == "power:manhole:CW1" and loc["zone_id"] == "gas:d1"
    assert (loc["x_m"], loc["y_m"]) == (304.0, 102.0)
    # bounded state: at most 12 h of 1-min readings per sensor
    state = inst.detector.get_state()
    assert max(len(b["v"]) for b in state["buffers"].values()) <= 12 * 60 + 1
    json.dumps(state, allow_nan=False)
