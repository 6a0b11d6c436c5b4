"""Generic detectors on the test city's days: each finds its anomaly and stays quiet otherwise."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifeline.detect.readings import SensorArrays
from lifeline.detect.registry import build_detectors, specs
from tests.detect.city import DAY3


def _run(name: str, city: Any, readings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores of day 3, alarms opened on day 3) of one registered detector, history learnt."""
    inst = build_detectors(city, [name])[0]
    mine = readings[readings["sensor_id"].isin(inst.sensor_ids)]
    inst.detector.learn(mine[mine["ts"] < DAY3])
    scores = inst.detector.score(mine[mine["ts"] >= DAY3])
    return scores, inst.policy.alarms(scores, name, "any")


def _sensors(alarms: pd.DataFrame) -> set[str]:
    return {s.strip('[]"') for s in alarms["sensors"]}


def _at(h: float) -> pd.Timestamp:
    return DAY3 + pd.Timedelta(hours=h)


def test_threshold_bands() -> None:
    from lifeline.detect import threshold

    sensors = pd.DataFrame(
        {
            "sensor_id": ["v", "m", "i", "x"],
            "quantity": ["voltage_pu", "methane_pct_lel", "current_a", "level_m"],
            "valid_min": [0.0, 0.0, 0.0, np.nan],
            "valid_max": [1.2, 100.0, 800.0, np.nan],
        }
    )
    det = threshold.build(None, sensors)  # type: ignore[arg-type]
    t = pd.Timestamp("2026-01-01", tz="UTC")
    batch = pd.DataFrame(
        {
            "sensor_id": ["v", "v", "v", "m", "m", "i", "i", "x"],
            "ts": [t + pd.Timedelta(minutes=k) for k in range(8)],
            "value": [0.88, 1.0, 0.02, 30.0, 10.0, 0.0, 900.0, 5.0],
        }
    )
    s = det.score(batch)["score"].round(6).tolist()
    # 0.88 pu: 1.2 half-widths (EN 50160 ±10 %); 0.02 pu is an interruption, not a band case
    assert s[:3] == [1.2, 0.0, 0.0]
    assert s[3:5] == [1.5, 0.5]  # 30 %LEL against the 20 %LEL early warning
    # a valid range holds its edges; 900 A is 100 A outside an 800 A range of half-width 400
    assert s[5:7] == [0.0, 1.25]
    assert s[7] == 0.0  # no band, no open range judged


def test_cusum_finds_the_burst_and_leaves_quiet_sensors(detect_city: Any, detect_data: Any) -> None:
    scores, alarms = _run("cusum", detect_city, detect_data[0])
    burst = alarms[alarms["ts"] == _at(3 + 10 / 60)]
    assert _sensors(burst) >= {"water:flow:p0", "water:pressure:j5"}
    quiet = {"power:voltage:busbar", "gas:methane:S1", "water:pressure:j3"} & _sensors(
        alarms[alarms["ts"] > _at(9)]
    )
    assert "power:voltage:busbar" not in quiet and "gas:methane:S1" not in quiet
    # the burst ends at 07:10: within 12 readings the score is back under h (FIR restart)
    p0 = scores[(scores["key"] == "water:flow:p0") & (scores["ts"] >= _at(7 + 10 / 60))]
    assert (p0["score"].iloc[:12] < 10).all()


def test_cusum_warms_up_for_two_days_and_accepts_a_lasting_shift() -> None:
    from lifeline.detect import cusum

    sensors = pd.DataFrame({"sensor_id": ["s"], "quantity": ["flow_m3h"], "interval_s": [300]})
    det = cusum.build(None, sensors)  # type: ignore[arg-type]
    t = pd.date_range("2026-01-01", periods=288 * 4, freq="5min", tz="UTC")
    rng = np.random.default_rng(3)
    v = 50 + 10 * np.sin(2 * np.pi * np.arange(len(t)) / 288) + rng.normal(0, 1, len(t))
    v[288 * 2 :] += 8.0  # a lasting shift from day 3
    scores = det.score(pd.DataFrame({"sensor_id": "s", "ts": t, "value": v}))
    sc = scores["score"].to_numpy()
    assert (sc[: 2 * 288 - 1] == 0).all()  # not ready during the first two days
    assert det.status().ready
    assert sc[288 * 2 : 288 * 2 + 3].max() >= 10  # the shift signals at once
    assert sc[-270:].max() < 10  # a day later it is the new normal
    from lifeline.detect.episodes import EpisodeTracker

    policy = next(s for s in specs() if s.name == "cusum").policy
    frame = EpisodeTracker(policy, "cusum", "water").update(scores).frame()
    assert len(frame) == 1  # one episode for the whole shift, closed when accepted
    assert frame["ts"][0] <= t[288 * 2 + 2]
    assert t[-288] <= frame["ended_at"][0] <= t[-270]


def test_stuck_sensor_fires_on_the_stuck_meter_not_on_an_outage(
    detect_city: Any, detect_data: Any
) -> None:
    scores, alarms = _run("stuck_sensor", detect_city, detect_data[0])
    assert _sensors(alarms) == {"water:flow:p6"}
    ts = alarms["ts"].iloc[0]
    assert _at(12.5) <= ts <= _at(13.5)  # stuck from 12:00; an hour makes it improbable
    # feeder a reads 0 A and bus a2 0 pu for two hours: an outage, not a stuck sensor
    dead = scores[
        scores["key"].isin(["power:current:a", "power:voltage:a2"])
        & (scores["ts"] >= _at(15 + 40 / 60))
        & (scores["ts"] < _at(17 + 40 / 60))
    ]
    assert len(dead) == 48 and dead["score"].max() == 0.0


def test_rate_of_change_finds_steps(detect_city: Any, detect_data: Any) -> None:
    _, alarms = _run("rate_of_change", detect_city, detect_data[0])
    at_burst = _sensors(alarms[alarms["ts"] == _at(3 + 10 / 60)])
    assert "water:flow:p0" in at_burst
    assert {"power:current:a", "power:voltage:a2"} <= _sensors(
        alarms[alarms["ts"] == _at(15 + 40 / 60)]
    )
    assert "power:voltage:busbar" not in _sensors(alarms)


@pytest.mark.parametrize("name", ["cusum", "stuck_sensor", "rate_of_change"])
def test_late_readings_are_ignored_not_learnt(name: str) -> None:
    spec = next(s for s in specs() if s.name == name)
    sensors = pd.DataFrame({"sensor_id": ["s"], "quantity": ["pressure_m"], "interval_s": [300]})
    det = spec.build(None, sensors)  # type: ignore[arg-type]
    t = pd.date_range("2026-01-01", periods=300, freq="5min", tz="UTC")
    b = pd.DataFrame({"sensor_id": "s", "ts": t, "value": np.linspace(40, 45, len(t))})
    det.score(b)
    state = det.get_state()
    again = det.score(b.iloc[100:110])
    assert again.empty
    assert det.get_state() == state


def test_sensor_arrays_keep_the_event_time_order() -> None:
    sensors = pd.DataFrame({"sensor_id": ["a", "b"], "quantity": ["x", "x"]})
    arr = SensorArrays.from_table(sensors)
    t = pd.Timestamp("2026-01-01", tz="UTC")
    batch = pd.DataFrame(
        {
            "sensor_id": ["b", "a", "zz", "a"],
            "ts": [t + pd.Timedelta(minutes=m) for m in (2, 1, 0, 2)],
            "value": [1.0, 2.0, 3.0, float("nan")],
        }
    )
    pos, ts, val = arr.take(batch)
    assert pos.tolist() == [0, 1] and val.tolist() == [2.0, 1.0]  # unknown and NaN dropped
    assert (np.diff(ts) > 0).all()


def test_rate_of_change_learns_a_daily_schedule() -> None:
    from lifeline.detect import rate

    sensors = pd.DataFrame({"sensor_id": ["f"], "quantity": ["flow_m3h"], "interval_s": [300]})
    det = rate.build(None, sensors)  # type: ignore[arg-type]
    t = pd.date_range("2026-01-01", periods=288 * 3, freq="5min", tz="UTC")
    rng = np.random.default_rng(5)
    v = 30 + rng.normal(0, 0.3, len(t))
    pump = np.asarray((t.hour == 7) & (t.minute >= 35) | (t.hour == 8) & (t.minute < 35))
    v[pump] += 20.0  # a pump runs 07:35-08:35 every day
    v[288 * 2 + 150 :] -= 15.0  # and on day 3 at 12:30 something else happens
    sc = det.score(pd.DataFrame({"sensor_id": "f", "ts": t, "value": v}))
    on = sc[sc["ts"].dt.strftime("%H:%M") == "07:35"]
    assert on["score"].iloc[0] >= 1.0  # the first day: a step like any other
    assert (on["score"].iloc[1:] <= 0.9).all()  # later days: the pump's schedule
    assert all(d["scheduled"] for d in on["detail"].iloc[1:])
    other = sc[sc["ts"] == t[288 * 2 + 150]]
    assert other["score"].iloc[0] >= 1.0 and not other["detail"].iloc[0]["scheduled"]
