"""ThresholdPolicy turns scores into one alarm per episode, with severity by score."""

from __future__ import annotations

import json

import pandas as pd

from lifeline.detect.base import ThresholdPolicy
from lifeline.model.schema import ALARM


def _scores(values: list[float], sensor: str = "s1") -> pd.DataFrame:
    ts = pd.date_range("2026-01-01", periods=len(values), freq="5min", tz="UTC")
    return pd.DataFrame({"sensor_id": sensor, "ts": ts, "score": values})


def test_one_alarm_per_episode() -> None:
    scores = _scores([0, 2, 2, 0, 0, 3, 0])
    alarms = ThresholdPolicy(threshold=1.0).alarms(scores, "cusum", "water")
    assert list(alarms.columns) == list(ALARM)
    assert len(alarms) == 2
    assert alarms["ts"].tolist() == [scores["ts"][1], scores["ts"][5]]
    assert json.loads(alarms["sensors"][0]) == ["s1"]


def test_min_consecutive_suppresses_single_spikes() -> None:
    scores = _scores([0, 5, 0, 5, 5, 0])
    alarms = ThresholdPolicy(threshold=1.0, min_consecutive=2).alarms(scores, "d", "gas")
    assert len(alarms) == 1
    assert alarms["ts"][0] == scores["ts"][4]


def test_severity_steps_up_with_score() -> None:
    policy = ThresholdPolicy(threshold=1.0, severity_steps=(1.0, 2.0, 4.0))
    low = policy.alarms(_scores([1.5]), "d", "power")
    mid = policy.alarms(_scores([2.5]), "d", "power")
    high = policy.alarms(_scores([9.0]), "d", "power")
    assert (low["severity"][0], mid["severity"][0], high["severity"][0]) == (1, 2, 3)


def test_no_scores_no_alarms() -> None:
    empty = pd.DataFrame({"sensor_id": [], "ts": pd.to_datetime([], utc=True), "score": []})
    assert ThresholdPolicy().alarms(empty, "d", "water").empty
    assert ThresholdPolicy(threshold=1.0).alarms(_scores([0.1, 0.5]), "d", "water").empty


def test_an_episode_is_republished_when_its_place_narrows() -> None:
    from lifeline.detect.episodes import EpisodeTracker

    ts = pd.date_range("2026-01-01", periods=4, freq="1min", tz="UTC")
    wide = {"location": [{"asset_id": "line:1"}, {"asset_id": "line:2"}]}
    narrow = {"location": [{"asset_id": "line:2"}]}
    scores = pd.DataFrame(
        {
            "key": "sw:0",
            "ts": ts,
            "score": [3.0, 3.0, 3.0, 2.0],
            "detail": [wide, narrow, narrow, wide],
        }
    )
    ch = EpisodeTracker(ThresholdPolicy(threshold=1.0), "outage", "power").update(scores)
    kinds = [r["_change"] for r in ch.rows]
    assert kinds == ["opened", "updated"]  # the same place again, or a lower score: no update
    assert json.loads(ch.frame()["location"][0]) == narrow["location"]
