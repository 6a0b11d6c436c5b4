"""One sensor sending 100× its rate is throttled to its allowance; the others are unaffected."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifeline.ingest.throttle import SensorThrottle, throttled_rejects


def test_flooding_sensor_throttled_others_unaffected() -> None:
    sensors = pd.DataFrame({"sensor_id": ["flood", "a", "b"], "interval_s": [60, 60, 900]})
    th = SensorThrottle.from_sensors(sensors, factor=10, burst=20)
    admitted = {"flood": 0, "a": 0, "b": 0}
    sent = {"flood": 0, "a": 0, "b": 0}
    # one simulated hour in 1-minute batches: "flood" sends 100 readings a minute (100× its
    # rate), "a" one a minute, "b" one per 15 minutes
    for minute in range(60):
        ids = ["flood"] * 100 + ["a"] + (["b"] if minute % 15 == 0 else [])
        mask = th.admit(ids, now=60.0 * minute)
        for s, ok in zip(ids, mask, strict=True):
            sent[s] += 1
            admitted[s] += int(ok)
    assert admitted["a"] == sent["a"] == 60 and admitted["b"] == sent["b"] == 4
    # allowance: burst + 10 per minute for 59 minutes
    assert admitted["flood"] == 20 + 10 * 59
    assert th.throttled == {"flood": 6000 - admitted["flood"]}


def test_burst_after_gap_and_order_within_batch() -> None:
    th = SensorThrottle({"s": 60.0}, factor=2, burst=5)
    mask = th.admit(["x", "s", "s", "s", "s", "s", "s", "s"], now=0.0)
    assert mask.tolist() == [True] + [True] * 5 + [False, False]  # first five of "s" admitted
    assert th.admit(["s"], now=1.0).tolist() == [False]  # 2/60 of a token after 1 s
    assert th.admit(["s"] * 10, now=1000.0).sum() == 5  # refilled to the burst, not beyond


def test_throttled_rejects_frame() -> None:
    recs = pd.DataFrame({"sensor_id": ["s", "s"], "ts": ["t1", "t2"], "value": [1.0, 2.0]})
    rej = throttled_rejects(recs, np.array([True, False]), "mqtt:lifeline/readings/#")
    assert list(rej["reason"]) == ["throttled"] and '"t2"' in rej["raw"].iloc[0]
