"""The demo town, built (or read from the shared cache) once per test session."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def town() -> Any:
    from lifeline.datasets.town import load_town

    return load_town()


#: the second test city (WNTR Net3, CIGRE MV, a small pandapipes net; EPSG:32648, Asia/Shanghai)
YKT = Path(__file__).resolve().parents[1] / "data" / "cities" / "ykt"


@pytest.fixture(scope="session")
def ykt() -> Any:
    from lifeline.model.city import load_city

    return load_city(YKT)
