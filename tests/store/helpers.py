"""Open a fresh store of either kind for a test (PostgreSQL: a schema per test, dropped after)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import pytest

from lifeline.store import Store

KINDS = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.services),
]


@contextmanager
def fresh_store(kind: str, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A new empty store: DuckDB in memory, or PostgreSQL in a new schema t_<uuid>."""
    if kind == "duckdb":
        from lifeline.store import open_store

        store = open_store(":memory:")
        try:
            yield store
        finally:
            store.close()
        return
    from lifeline.store.postgres_store import PostgresStore

    url = request.getfixturevalue("pg_url")
    pg = PostgresStore(url, schema=f"t_{uuid.uuid4().hex[:12]}")
    try:
        pg.init_schema()
        yield pg
    finally:
        pg.drop_schema()
        pg.close()


def sensors_frame(n: int = 3) -> pd.DataFrame:
    """A small sensor table: s0 water pressure (0..100 m), s1 gas (0..10 bar), s2 power."""
    utilities = ["water", "gas", "power"]
    return pd.DataFrame(
        {
            "sensor_id": [f"s{i}" for i in range(n)],
            "asset_id": [f"{utilities[i % 3]}:junction:J{i}" for i in range(n)],
            "utility": [utilities[i % 3] for i in range(n)],
            "quantity": ["pressure_m", "pressure_bar", "voltage_pu"][:n] + ["x"] * max(0, n - 3),
            "unit": ["m", "bar", "pu"][:n] + [""] * max(0, n - 3),
            "interval_s": [60] * n,
            "valid_min": [0.0] * n,
            "valid_max": [100.0, 10.0, 2.0][:n] + [1.0] * max(0, n - 3),
            "x_m": [414000.0 + i for i in range(n)],
            "y_m": [5369000.0 + i for i in range(n)],
            "element": [
                f"{'node' if i % 3 == 0 else 'junction' if i % 3 == 1 else 'bus'}:J{i}"
                for i in range(n)
            ],
            "host": [""] * n,
        }
    )
