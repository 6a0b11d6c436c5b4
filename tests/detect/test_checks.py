"""The conformance checks catch detectors that break the protocol (each check can fail)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifeline.detect import checks
from lifeline.detect.base import DetectorStatus, ThresholdPolicy, empty_scores
from lifeline.detect.checks import Case
from lifeline.detect.registry import DetectorSpec


class Toy:
    """A per-sensor running mean detector with switchable faults."""

    name = "toy"
    utility = "water"
    inputs = "readings"

    def __init__(self, fault: str = "") -> None:
        self.fault = fault
        self.mean: dict[str, float] = {}

    def learn(self, batch: pd.DataFrame) -> None:
        self.score(batch)

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        if batch.empty:
            return empty_scores() if self.fault != "columns" else pd.DataFrame({"x": []})
        rows = []
        ref = float(batch["value"].mean()) if self.fault == "batch" else None
        for sid, ts, v in zip(batch["sensor_id"], batch["ts"], batch["value"], strict=True):
            m = self.mean.get(sid, v) if ref is None else ref
            s = abs(v - m) / (abs(m) * 0.01 + 1e-9)
            self.mean[sid] = 0.9 * self.mean.get(sid, v) + 0.1 * v
            if self.fault == "negative":
                s = -s
            rows.append({"key": sid, "ts": ts, "score": float(s), "detail": {"location": []}})
        return pd.DataFrame(rows)

    def status(self) -> DetectorStatus:
        return DetectorStatus(self.name, ready=True)

    def get_state(self) -> dict[str, Any]:
        if self.fault == "forget":
            return {}
        if self.fault == "nan":
            return {"mean": {k: float("nan") for k in self.mean}}
        return {"mean": dict(self.mean)}

    def set_state(self, state: dict[str, Any]) -> None:
        self.mean = dict(state.get("mean", {}))


def _case(fault: str, city: Any, data: tuple[pd.DataFrame, pd.DataFrame]) -> Case:
    spec = DetectorSpec(
        name="toy",
        description="test detector",
        build=lambda c, s: Toy(fault),
        policy=ThresholdPolicy(threshold=5.0, source="test"),
        warmup="none",
        utility="water",
        quantities=("pressure_m",),
    )
    return Case.of(city, spec, data[0], data[1])


def test_a_conforming_toy_passes(detect_city: Any, detect_data: Any) -> None:
    case = _case("", detect_city, detect_data)
    for check in checks.yield_checks():
        check(case)


@pytest.mark.parametrize(
    ("fault", "check", "message"),
    [
        ("batch", checks.check_split_invariance, "scores differ"),
        ("forget", checks.check_checkpoint_round_trip, "restored vs uninterrupted"),
        ("nan", checks.check_checkpoint_round_trip, "not JSON compliant"),
        ("negative", checks.check_score_schema, "negative"),
        ("columns", checks.check_empty_batch, "columns"),
    ],
)
def test_a_faulty_detector_fails_its_check(
    fault: str, check: Any, message: str, detect_city: Any, detect_data: Any
) -> None:
    with pytest.raises((AssertionError, ValueError), match=message):
        check(_case(fault, detect_city, detect_data))


def test_split_batches_cover_the_day_in_96_windows(detect_data: Any) -> None:
    day = detect_data[0][detect_data[0]["ts"] >= detect_data[0]["ts"].max().floor("D")]
    parts = list(checks.batches(day))
    assert len(parts) == 96
    assert sum(len(p) for p in parts) == len(day)
    assert np.all(
        [
            p["ts"].min() < q["ts"].min()
            for p, q in zip(parts[:-1], parts[1:], strict=True)
            if len(p) and len(q)
        ]
    )
