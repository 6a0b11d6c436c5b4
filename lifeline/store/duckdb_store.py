"""The embedded DuckDB store (the default): one file under the data directory, or ``:memory:``."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from lifeline.errors import StoreError
from lifeline.model.schema import TABLES
from lifeline.store.base import PRIMARY_KEYS, Store

_TYPES: Final = {
    "string": "VARCHAR",
    "float64": "DOUBLE",
    "int64": "BIGINT",
    "bool": "BOOLEAN",
    "datetime64[ns, UTC]": "TIMESTAMPTZ",
}


class DuckDBStore(Store):
    """Store in a DuckDB database file (``path``) or in memory (``":memory:"``).

    Bulk writes register the DataFrame with DuckDB (zero-copy via Arrow) and insert it in one
    statement; readings use ``INSERT OR IGNORE`` on the (sensor_id, ts) primary key. One
    connection, guarded by a lock, so the store may be shared by threads (MQTT ingestion)."""

    kind = "duckdb"

    def __init__(self, path: str | Path = ":memory:") -> None:
        import duckdb

        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open DuckDB database: {exc}", where=self.path) from exc
        self._con.execute("SET TimeZone = 'UTC'")
        self._lock = threading.RLock()
        self._n = 0

    def __repr__(self) -> str:
        return f"DuckDBStore({self.path!r})"

    def _ddl_type(self, dtype: str) -> str:
        return _TYPES[dtype]

    def _query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        import duckdb

        with self._lock:
            try:
                return self._con.execute(sql, list(params)).df()
            except duckdb.Error as exc:
                raise StoreError(f"query failed: {exc}", where=self.path) from exc

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        import duckdb

        with self._lock:
            try:
                row = self._con.execute(sql, list(params)).fetchone()
            except duckdb.Error as exc:
                raise StoreError(f"statement failed: {exc}", where=self.path) from exc
        return int(row[0]) if row and isinstance(row[0], int | np.integer) else 0

    def init_schema(self) -> None:
        """Create the tables of :mod:`lifeline.model.schema` and their indexes if missing."""
        with self._lock:
            for name in TABLES:
                self._execute(self._create_table_sql(name))
            for sql in self._migrate_sql():
                self._execute(sql)
            for sql in self._index_sql():
                self._execute(sql)

    def _insert(self, table: str, df: pd.DataFrame, on_conflict: str = "error") -> int:
        import duckdb

        verb = {"error": "INSERT", "ignore": "INSERT OR IGNORE", "replace": "INSERT OR REPLACE"}[
            on_conflict
        ]
        if on_conflict == "replace" and table in PRIMARY_KEYS:
            df = df.drop_duplicates(list(PRIMARY_KEYS[table]), keep="last")
        cols = ", ".join(TABLES[table])
        with self._lock:
            self._n += 1
            view = f"_lifeline_batch_{self._n}"
            self._con.register(view, df)
            try:
                row = self._con.execute(
                    f"{verb} INTO {table} ({cols}) SELECT {cols} FROM {view}"
                ).fetchone()
            except duckdb.Error as exc:
                raise StoreError(f"insert into {table} failed: {exc}", where=self.path) from exc
            finally:
                self._con.unregister(view)
        return int(row[0]) if row else 0

    def replace_table(self, name: str, df: pd.DataFrame) -> int:
        """Replace a reference table's content in one transaction; returns the row count."""
        from lifeline.store.base import frame

        self._check_reference(name)
        data = frame(name, df)
        with self._lock:
            self._con.execute("BEGIN TRANSACTION")
            try:
                self._con.execute(f"DELETE FROM {name}")
                n = self._insert(name, data)
                self._con.execute("COMMIT")
            except Exception:
                self._con.execute("ROLLBACK")
                raise
        return n

    def _existing_join(self, keys: pd.DataFrame) -> np.ndarray:
        keys = keys.assign(_i=np.arange(len(keys)))
        with self._lock:
            self._n += 1
            view = f"_lifeline_keys_{self._n}"
            self._con.register(view, keys)
            try:
                hit = self._con.execute(
                    f"SELECT k._i FROM {view} k SEMI JOIN reading r ON r.sensor_id = k.sensor_id AND r.ts = k.ts"
                ).fetchnumpy()["_i"]
            finally:
                self._con.unregister(view)
        mask = np.zeros(len(keys), dtype=bool)
        mask[np.asarray(hit, dtype=np.int64)] = True
        return mask

    def close(self) -> None:
        """Close the DuckDB connection (idempotent)."""
        with self._lock, contextlib.suppress(Exception):  # already closed
            self._con.close()
