"""The second city package (tests/data/cities/ykt, made by scripts/make_test_city.py)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_DATA

YKT = TEST_DATA / "cities" / "ykt"


@pytest.fixture(scope="session")
def ykt_dir() -> Path:
    """The package folder (read only: copy it before changing anything)."""
    return YKT


@pytest.fixture
def ykt_copy(tmp_path: Path) -> Path:
    """A private copy of the package to break."""
    dst = tmp_path / "ykt"
    shutil.copytree(YKT, dst)
    return dst


@pytest.fixture(scope="session")
def ykt(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The city read through load_city (derived tables cached in a session temp folder)."""
    from lifeline.model.city import load_city

    return load_city(YKT, cache_dir=tmp_path_factory.mktemp("ykt-cache"))
