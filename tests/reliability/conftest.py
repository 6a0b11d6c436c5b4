"""Fixtures of the reliability suite: the API's purpose-made town (tests/api) on DuckDB, with
cheap password hashing so that tests stay fast (production parameters are tested separately)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from lifeline.store import Store
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


@pytest.fixture
def pg_schema(pg_url: str, request: pytest.FixtureRequest) -> Iterator[tuple[str, Store]]:
    """A fresh PostgreSQL schema with the tables, named after the test module: its URL and a
    store on it for the test's own reads. Dropped afterwards unless ``KEEP_SCHEMA`` is set
    (then its name is printed, for debugging)."""
    from lifeline.store.postgres_store import PostgresStore

    prefix = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    url = f"{pg_url}{'&' if '?' in pg_url else '?'}schema={schema}"
    pg = PostgresStore(url)
    try:
        pg.init_schema()
        yield url, pg
    finally:
        if not os.environ.get("KEEP_SCHEMA"):
            pg.drop_schema()
        else:
            print("SCHEMA", schema)
        pg.close()
