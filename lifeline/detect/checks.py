"""Conformance checks every registered detector must pass (after river's ``river/checks``).

:func:`yield_checks` gives the checks; each takes a :class:`Case` — a city, the registered
spec, a day of history (learnt) and a day to score, as readings and meter events — and fails
with an ``AssertionError`` saying what broke. ``tests/detect/test_conformance.py`` runs every
check on every detector of the registry, with no ignore list.

* empty batch → an empty score frame with the ``key, ts, score, detail`` columns;
* split invariance: the day in one batch or in 96 batches of 15 minutes → identical scores;
* determinism: two fresh detectors → identical scores;
* checkpoint round trip: score half the day, ``get_state`` → ``json.dumps`` (strict JSON: no
  NaN) → ``json.loads`` → a fresh detector's ``set_state`` → the second half scores as the
  uninterrupted detector's;
* score schema: finite floats ≥ 0, string keys, UTC times, JSON-able dict details with
  ``location`` candidates;
* alarms: scores through the default policy's :class:`EpisodeTracker` give ``schema.ALARM``
  frames, and the day's anomaly raises at least one alarm;
* status: a :class:`DetectorStatus` named after the detector, ready after the history.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from lifeline.detect.base import SCORE_COLUMNS, Detector, DetectorStatus
from lifeline.detect.episodes import EpisodeTracker
from lifeline.detect.registry import DetectorSpec

if TYPE_CHECKING:
    from lifeline.model.city import City


@dataclass
class Case:
    """What the checks run on: a city, one day of history and the day to score."""

    city: City
    spec: DetectorSpec
    history: pd.DataFrame  # readings (or events for event detectors) before the day
    day: pd.DataFrame  # the day's readings (or events), sorted by ts

    def fresh(self) -> Detector:
        """A new instance of the detector for the city, with the history learnt."""
        spec = self.spec
        sensors = self.city.sensors
        watched = sensors[spec.watches(sensors)] if spec.inputs == "readings" else sensors[:0]
        assert spec.inputs == "events" or len(watched), f"{spec.name}: nothing to watch"
        det = spec.build(self.city, watched)
        det.learn(self.history)
        return det

    @classmethod
    def of(
        cls, city: City, spec: DetectorSpec, readings: pd.DataFrame, events: pd.DataFrame
    ) -> Case:
        """Split ``readings`` or ``events`` (by the spec's inputs) into the last day and what
        comes before, keeping only what the detector watches."""
        if spec.inputs == "events":
            data = events[events["kind"].astype(str).isin(spec.event_kinds)]
        else:
            watched = set(city.sensors.loc[spec.watches(city.sensors), "sensor_id"].astype(str))
            data = readings[readings["sensor_id"].astype(str).isin(watched)]
        data = data.sort_values("ts", kind="stable").reset_index(drop=True)
        start = pd.Timestamp(readings["ts"].max()).floor("D")
        return cls(city, spec, data[data["ts"] < start], data[data["ts"] >= start])


def _sorted(scores: pd.DataFrame) -> pd.DataFrame:
    s = scores.assign(_k=scores["key"].astype(str))
    return s.sort_values(["ts", "_k"], kind="stable").drop(columns="_k").reset_index(drop=True)


def assert_same_scores(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    """Identical keys, times, scores (exactly) and details."""
    a, b = _sorted(a), _sorted(b)
    assert len(a) == len(b), f"{what}: {len(a)} rows against {len(b)}"
    assert a["key"].astype(str).tolist() == b["key"].astype(str).tolist(), f"{what}: keys differ"
    assert (a["ts"].to_numpy() == b["ts"].to_numpy()).all(), f"{what}: times differ"
    diff = (a["score"].to_numpy(float) != b["score"].to_numpy(float)).sum()
    assert diff == 0, f"{what}: {diff} scores differ"
    da = [json.dumps(d, sort_keys=True, default=str) for d in a["detail"]]
    db = [json.dumps(d, sort_keys=True, default=str) for d in b["detail"]]
    bad = sum(x != y for x, y in zip(da, db, strict=True))
    assert bad == 0, f"{what}: {bad} details differ"


def batches(day: pd.DataFrame, freq: str = "15min") -> Iterator[pd.DataFrame]:
    """The day cut into event-time windows of ``freq`` (empty windows included)."""
    start = pd.Timestamp(day["ts"].min()).floor("D")
    edges = pd.date_range(start, start + pd.Timedelta(days=1), freq=freq)
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        yield day[(day["ts"] >= a) & (day["ts"] < b)]


def check_empty_batch(case: Case) -> None:
    """An empty batch gives an empty score frame with the score columns."""
    det = case.fresh()
    out = det.score(case.day.iloc[0:0])
    assert out.empty, "an empty batch scored rows"
    assert tuple(out.columns) == SCORE_COLUMNS, f"columns {list(out.columns)}"


def check_split_invariance(case: Case) -> None:
    """One batch or 96 batches of 15 minutes give the same scores."""
    whole = case.fresh().score(case.day)
    assert len(whole), "the day scored no rows"
    det = case.fresh()
    parts = [det.score(b) for b in batches(case.day)]
    assert len(parts) == 96
    assert_same_scores(whole, pd.concat(parts, ignore_index=True), "1 batch vs 96 batches")


def check_determinism(case: Case) -> None:
    """Two fresh detectors score the same day identically."""
    assert_same_scores(case.fresh().score(case.day), case.fresh().score(case.day), "two runs")


def check_checkpoint_round_trip(case: Case) -> None:
    """A detector restored from a JSON checkpoint at midday continues like the original."""
    mid = pd.Timestamp(case.day["ts"].min()).floor("D") + pd.Timedelta(hours=12)
    first, second = case.day[case.day["ts"] < mid], case.day[case.day["ts"] >= mid]
    a = case.fresh()
    a.score(first)
    text = json.dumps(a.get_state(), allow_nan=False)
    b = case.fresh()
    b.set_state(json.loads(text))
    expected = a.score(second)
    assert len(expected), "the second half scored no rows"
    assert_same_scores(expected, b.score(second), "restored vs uninterrupted")


def check_score_schema(case: Case) -> None:
    """Finite scores ≥ 0, string keys, UTC times, JSON-able details with location lists."""
    out = case.fresh().score(case.day)
    assert tuple(out.columns) == SCORE_COLUMNS, f"columns {list(out.columns)}"
    assert str(out["ts"].dtype) == "datetime64[ns, UTC]", f"ts dtype {out['ts'].dtype}"
    sc = out["score"]
    assert sc.dtype == float, f"score dtype {sc.dtype}"
    assert all(math.isfinite(v) and v >= 0 for v in sc), "a score is negative or not finite"
    assert all(isinstance(k, str) and k for k in out["key"]), "a key is not a non-empty str"
    for d in out["detail"]:
        assert isinstance(d, dict), f"detail {d!r} is not a dict"
        json.dumps(d, allow_nan=False)
        locs = d.get("location", [])
        assert isinstance(locs, list), "location is not a list"
        for c in locs:
            assert {"asset_id", "confidence"} <= set(c), f"location candidate {c}"
            assert 0 <= c["confidence"] <= 1


def check_alarms(case: Case) -> None:
    """The default policy turns the day's scores into ALARM frames, at least one alarm."""
    from lifeline.model.schema import ALARM

    scores = case.fresh().score(case.day)
    tracker = EpisodeTracker(case.spec.policy, case.spec.name, case.spec.utility or "any")
    changes = tracker.update(scores)
    frame, opened = changes.frame(), changes.opened()
    assert list(frame.columns) == list(ALARM), f"alarm columns {list(frame.columns)}"
    assert list(opened.columns) == list(ALARM)
    assert len(opened) >= 1, "the day's anomaly raised no alarm"
    assert opened["alarm_id"].is_unique
    assert (opened["detector"] == case.spec.name).all()
    json.dumps(tracker.get_state(), allow_nan=False)
    batch = case.spec.policy.alarms(scores, case.spec.name, case.spec.utility or "any")
    assert sorted(batch["alarm_id"]) == sorted(opened["alarm_id"])


def check_status(case: Case) -> None:
    """``status()`` is a DetectorStatus named after the detector, ready after the history."""
    st = case.fresh().status()
    assert isinstance(st, DetectorStatus), type(st)
    assert st.name == case.spec.name, st.name
    assert st.ready, f"not ready after the history: {st.as_dict()}"
    json.dumps(st.as_dict(), allow_nan=False)


def yield_checks() -> Iterator[Callable[[Case], Any]]:
    """Every conformance check."""
    yield check_empty_batch
    yield check_split_invariance
    yield check_determinism
    yield check_checkpoint_round_trip
    yield check_score_schema
    yield check_alarms
    yield check_status
