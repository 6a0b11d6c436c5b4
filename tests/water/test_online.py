"""The online water-leak detector passes the detector conformance checks of
lifeline/detect/checks.py (empty batch, split invariance, determinism, JSON checkpoint round
trip, score schema, alarms, status) on a simulated Net3 month whose last day holds a burst."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from lifeline.detect.base import Detector, ThresholdPolicy
from lifeline.detect.checks import Case, yield_checks
from lifeline.detect.registry import DetectorSpec
from lifeline.water.online import WaterLeakDetector

from .sim import simulate
from .test_leaks import _long

DAYS = 23
BURST_HOUR = 24 * (DAYS - 1) + 9  # the last day, 09:00


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> Case:
    tmp = tmp_path_factory.mktemp("online")
    inp, scada, _ = simulate(tmp, "251", BURST_HOUR, days=DAYS, seed=2)
    readings = _long(scada)
    ids = sorted(readings["sensor_id"].astype(str).unique())
    sensors = pd.DataFrame(
        {"sensor_id": ids, "utility": "water", "quantity": "pressure_m", "element": ""}
    )
    city: Any = SimpleNamespace(sensors=sensors)
    spec = DetectorSpec(
        name=WaterLeakDetector.name,
        description="water leaks (burst channel of `lifeline water leaks`)",
        build=lambda _city, _sensors: WaterLeakDetector(inp),
        policy=ThresholdPolicy(threshold=1.0, source="the batch command's learnt thresholds"),
        warmup="21 days",
        utility="water",
    )
    return Case.of(city, spec, readings, readings.iloc[0:0])


@pytest.mark.slow
@pytest.mark.parametrize("check", list(yield_checks()), ids=lambda c: c.__name__)
def test_conformance(case: Case, check: Any) -> None:
    check(case)


def test_protocol_and_warm_up(case: Case) -> None:
    det = case.spec.build(case.city, case.city.sensors)
    assert isinstance(det, Detector)
    det.learn(case.history[case.history["ts"] < case.history["ts"].min() + pd.Timedelta(days=5)])
    assert not det.status().ready  # five days are not enough to calibrate
    assert det.score(case.day.iloc[:50]).empty
