"""The demo town, built (or read from the shared cache) once per test session, and its scripted
day run headless once (several modules check that run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="session")
def town() -> Any:
    from lifeline.datasets.town import load_town

    return load_town()


@pytest.fixture(scope="session")
def headless_day(town: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The summary of ``run_demo`` (the main job, headless) on its own embedded store. Read
    only: tests must not change it."""
    from lifeline.scenarios.demo import run_demo

    db = tmp_path_factory.mktemp("headless-day") / "demo.duckdb"
    return run_demo(db=f"duckdb://{db}", quiet=True, town=town)


#: the second test city (WNTR Net3, CIGRE MV, a small pandapipes net; EPSG:32648, Asia/Shanghai)
YKT = Path(__file__).resolve().parents[1] / "data" / "cities" / "ykt"


@pytest.fixture(scope="session")
def ykt() -> Any:
    from lifeline.model.city import load_city

    return load_city(YKT)
