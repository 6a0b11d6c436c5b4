"""Every registered detector passes every conformance check (lifeline/detect/checks.py), after
river's ``test_estimators.py``: one suite over the registry, no ignore list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from lifeline.detect.checks import Case, yield_checks
from lifeline.detect.registry import specs

CHECKS = list(yield_checks())
SPECS = specs()


def test_the_registry_holds_every_builtin_detector() -> None:
    names = {s.name for s in SPECS}
    assert names >= {
        "threshold",
        "cusum",
        "stuck_sensor",
        "rate_of_change",
        "methane",
        "gas_pressure_drop",
        "power_supply_loss",
        "power_overload",
        "power_voltage_band",
        "power_outage",
        "water-leaks",
    }
    for s in SPECS:
        assert s.policy.source, f"{s.name}: the default policy names no source"
        assert s.warmup, f"{s.name}: no warm-up text"
        assert s.inputs in ("readings", "events")
        assert (s.inputs == "events") == bool(s.event_kinds)


@pytest.mark.parametrize(
    ("name", "check"),
    [pytest.param(s.name, c, id=f"{s.name}:{c.__name__}") for s in SPECS for c in CHECKS],
)
def test_conformance(
    name: str,
    check: Callable[[Case], Any],
    detect_city: Any,
    detect_data: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    spec = next(s for s in SPECS if s.name == name)
    readings, events = detect_data
    check(Case.of(detect_city, spec, readings, events))
