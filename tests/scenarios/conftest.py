"""The demo town, built (or read from the shared cache) once per test session."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def town() -> Any:
    from lifeline.datasets.town import load_town

    return load_town()
