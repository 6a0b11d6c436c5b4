from __future__ import annotations

from collections.abc import Iterator

import pytest

from lifeline.store import Store
from tests.store.helpers import KINDS, fresh_store


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """Each test of the suite runs on DuckDB and on PostgreSQL/PostGIS."""
    with fresh_store(request.param, request) as s:
        yield s
