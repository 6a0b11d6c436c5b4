"""Fixtures of the reliability suite: the API's purpose-made town (tests/api) on DuckDB, with
cheap password hashing so that tests stay fast (production parameters are tested separately)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.conftest import Api, build_api


@pytest.fixture
def fast_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters (the hash is still argon2id)."""
    from lifeline.api import auth

    monkeypatch.setattr(
        auth, "HASH_PARAMS", {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    )


@pytest.fixture
def api(fast_hash: None) -> Iterator[Api]:
    """The API on an in-memory DuckDB store with the tests/api town and one user per role."""
    a = build_api(":memory:")
    with a.client:
        yield a
