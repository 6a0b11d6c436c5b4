"""Fixtures of the detector tests: the small test city and three days of its data."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from tests.detect.city import build_city, simulate


@pytest.fixture(scope="session")
def detect_city(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The test city of :mod:`tests.detect.city`."""
    return build_city(tmp_path_factory.mktemp("detect-city"))


@pytest.fixture(scope="session")
def detect_data(detect_city: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(readings, meter events) of the test city's three days."""
    return simulate(detect_city)
