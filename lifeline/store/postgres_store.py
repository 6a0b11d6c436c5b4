"""The PostgreSQL/PostGIS store (``LIFELINE_DB=postgresql://…``), with psycopg 3.

Assets, customers and sensors get a PostGIS point column ``geom`` generated from ``x_m``/``y_m``
in the city's CRS (``?srid=`` in the URL or the ``srid`` argument, e.g. from ``lifeline city
import``; a store opened without one keeps the SRID its columns have, 25832 when new) with a
GiST index. Readings are written with ``COPY`` into a temporary table and then
``INSERT … ON CONFLICT DO NOTHING`` into ``reading``. ``?schema=name`` in the URL (or the
``schema`` argument) puts every table into that schema (created if missing).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
import pandas as pd

from lifeline.errors import ConfigError, StoreError
from lifeline.model.schema import TABLES
from lifeline.store.base import POINT_TABLES, PRIMARY_KEYS, Store, frame

_TYPES: Final = {
    "string": "TEXT",
    "float64": "DOUBLE PRECISION",
    "int64": "BIGINT",
    "bool": "BOOLEAN",
    "datetime64[ns, UTC]": "TIMESTAMPTZ",
}
#: SRID of a new store's geometry columns without ``?srid=`` (the demo town's ETRS89 / UTM 32N)
DEFAULT_SRID: Final = 25832
_IDENT: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _split_url(url: str) -> tuple[str, dict[str, str]]:
    """Remove lifeline's own query parameters (schema, srid) from a libpq URL."""
    parts = urlsplit(url)
    q = dict(parse_qsl(parts.query))
    own: dict[str, str] = {k: q.pop(k) for k in ("schema", "srid") if k in q}
    return urlunsplit(parts._replace(query=urlencode(q))), own


class PostgresStore(Store):
    """Store in PostgreSQL with PostGIS (see module doc for URL parameters)."""

    kind = "postgresql"

    def __init__(self, url: str, schema: str | None = None, srid: int | None = None) -> None:

        dsn, own = _split_url(url)
        self.schema = schema or own.get("schema")
        #: an SRID asked for (argument or ``?srid=``) is applied to existing geometry columns;
        #: without one the store keeps the SRID its columns have (25832 for a new store)
        self.srid_explicit = srid is not None or "srid" in own
        try:
            self.srid = int(srid if srid is not None else own.get("srid", DEFAULT_SRID))
        except ValueError as exc:
            raise ConfigError(
                f"srid must be an integer, got {own.get('srid')!r}", where="LIFELINE_DB"
            ) from exc
        if self.schema is not None and not _IDENT.match(self.schema):
            raise ConfigError(f"invalid schema name {self.schema!r}", where="LIFELINE_DB")
        u = urlsplit(dsn)
        self._where = u._replace(netloc=f"{u.hostname or ''}:{u.port or 5432}").geturl()
        self._dsn = dsn
        # one connection shared by threads (API requests, MQTT): one operation at a time
        self._lock = threading.RLock()
        self._con = self._connect()

    def _connect(self) -> Any:
        import psycopg

        try:
            con = psycopg.connect(self._dsn, autocommit=True)
            if self.schema:
                con.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
                con.execute(f'SET search_path TO "{self.schema}", public')
            con.execute("SET TIME ZONE 'UTC'")
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL: {exc}".strip(), where=self._where
            ) from exc
        return con

    def _alive(self) -> Any:
        """The connection, re-opened if the server dropped it (restart, network) since the
        last call; the call that saw the failure has already raised StoreError."""
        if self._con.closed or self._con.broken:
            self._con = self._connect()
        return self._con

    def __repr__(self) -> str:
        return f"PostgresStore({self._where!r}, schema={self.schema!r})"

    def _ddl_type(self, dtype: str) -> str:
        return _TYPES[dtype]

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("%", "%%").replace("?", "%s")

    def _query_unlocked(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        self._alive()
        import psycopg

        try:
            with self._con.cursor() as cur:
                cur.execute(self._sql(sql), list(params))
                cols = [d.name for d in cur.description or []]
                return pd.DataFrame(cur.fetchall(), columns=cols)
        except psycopg.Error as exc:
            raise StoreError(f"query failed: {exc}", where=self._where) from exc

    def _execute_unlocked(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._alive()
        import psycopg

        try:
            with self._con.cursor() as cur:
                cur.execute(self._sql(sql), list(params))
                return max(cur.rowcount, 0)
        except psycopg.Error as exc:
            raise StoreError(f"statement failed: {exc}", where=self._where) from exc

    def _init_schema_unlocked(self) -> None:
        """Create PostGIS (if allowed), the tables, geometry columns and indexes if missing."""
        self._alive()
        import psycopg

        try:
            self._con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.Error as exc:
            raise StoreError(
                f"PostGIS is not available and cannot be created ({exc}); install postgis or ask the DBA",
                where=self._where,
            ) from exc
        with self._con.transaction():
            for name in TABLES:
                self._execute(self._create_table_sql(name))
            for sql in self._migrate_sql():
                self._execute(sql)
            self._align_srid()
            for name in POINT_TABLES:
                self._execute(
                    f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS geom geometry(Point, {self.srid}) "
                    f"GENERATED ALWAYS AS (CASE WHEN x_m IS NULL OR y_m IS NULL THEN NULL "
                    f"ELSE ST_SetSRID(ST_MakePoint(x_m, y_m), {self.srid}) END) STORED"
                )
                self._execute(
                    f"CREATE INDEX IF NOT EXISTS {name}_geom_idx ON {name} USING GIST (geom)"
                )
            for sql in self._index_sql():
                self._execute(sql)

    def geometry_srid(self, table: str = "asset") -> int | None:
        """SRID of ``table``'s PostGIS ``geom`` column (None when it has none yet)."""
        df = self._query_unlocked(
            "SELECT srid FROM geometry_columns WHERE f_table_schema = current_schema() "
            "AND f_table_name = ? AND f_geometry_column = 'geom'",
            [table],
        )
        return int(df.iloc[0, 0]) if len(df) else None

    def _align_srid(self) -> None:
        """Make the geometry columns follow :attr:`srid` when it was asked for (a city with
        another EPSG code: the generated column is dropped and re-created); otherwise adopt the
        SRID the columns already have."""
        for name in POINT_TABLES:
            have = self.geometry_srid(name)
            if have is None or have == self.srid:
                continue
            if not self.srid_explicit:
                self.srid = have
                continue
            self._execute(f"DROP INDEX IF EXISTS {name}_geom_idx")
            self._execute(f"ALTER TABLE {name} DROP COLUMN geom")

    @staticmethod
    def _rows(df: pd.DataFrame) -> list[tuple[Any, ...]]:
        cols = []
        for c in df.columns:
            s = df[c]
            if isinstance(s.dtype, pd.DatetimeTZDtype):
                vals = [None if pd.isna(v) else v.to_pydatetime() for v in s]
            else:
                vals = [
                    None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v
                    for v in s.astype(object).tolist()
                ]
                vals = [v.item() if isinstance(v, np.generic) else v for v in vals]
            cols.append(vals)
        return list(zip(*cols, strict=True)) if cols else []

    def _copy_into(self, cur: Any, target: str, df: pd.DataFrame) -> None:
        cols = ", ".join(df.columns)
        if target == "reading" or target.startswith(
            "_tmp_reading"
        ):  # the hot path: binary COPY with fixed types
            ts = pd.DatetimeIndex(df["ts"]).tz_convert("UTC").to_pydatetime().tolist()
            rows = zip(
                df["sensor_id"].astype(str).tolist(),
                ts,
                df["value"].astype(float).tolist(),
                df["quality"].fillna(0).astype(np.int64).tolist(),
                strict=True,
            )
            with cur.copy(f"COPY {target} ({cols}) FROM STDIN (FORMAT BINARY)") as cp:
                cp.set_types(["text", "timestamptz", "float8", "int8"])
                for row in rows:
                    cp.write_row(row)
            return
        with cur.copy(f"COPY {target} ({cols}) FROM STDIN") as cp:
            for row in self._rows(df):
                cp.write_row(row)

    def _insert_unlocked(self, table: str, df: pd.DataFrame, on_conflict: str = "error") -> int:
        self._alive()
        import psycopg

        cols = list(TABLES[table])
        df = df[cols]
        pk = PRIMARY_KEYS.get(table)
        if pk and on_conflict != "error":
            df = df.drop_duplicates(list(pk), keep="last" if on_conflict == "replace" else "first")
        if table == "reading":
            df = df.assign(sensor_id=df["sensor_id"].astype(str))
        try:
            with self._con.transaction(), self._con.cursor() as cur:
                if not pk or on_conflict == "error":
                    self._copy_into(cur, table, df)
                    return len(df)
                tmp = f"_tmp_{table}"
                cur.execute(
                    f"CREATE TEMP TABLE IF NOT EXISTS {tmp} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
                )
                cur.execute(f"ALTER TABLE {tmp} DROP COLUMN IF EXISTS geom")
                self._copy_into(cur, tmp, df)
                names = ", ".join(cols)
                if on_conflict == "ignore":
                    action = "DO NOTHING"
                else:
                    sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in pk)
                    action = f"DO UPDATE SET {sets}"
                cur.execute(
                    f"INSERT INTO {table} ({names}) SELECT {names} FROM {tmp} ON CONFLICT ({', '.join(pk)}) {action}"
                )
                return max(cur.rowcount, 0)
        except psycopg.Error as exc:
            raise StoreError(f"insert into {table} failed: {exc}", where=self._where) from exc

    def _replace_table_unlocked(self, name: str, df: pd.DataFrame) -> int:
        """Replace a reference table's content in one transaction (TRUNCATE + COPY)."""
        self._alive()
        import psycopg

        self._check_reference(name)
        data = frame(name, df)
        try:
            with self._con.transaction(), self._con.cursor() as cur:
                cur.execute(f"TRUNCATE {name}")
                self._copy_into(cur, name, data[list(TABLES[name])])
        except psycopg.Error as exc:
            raise StoreError(f"replace {name} failed: {exc}", where=self._where) from exc
        return len(data)

    def _existing_join_unlocked(self, keys: pd.DataFrame) -> np.ndarray:
        self._alive()
        import psycopg

        k = pd.DataFrame(
            {"sensor_id": keys["sensor_id"].astype(str), "ts": pd.to_datetime(keys["ts"], utc=True)}
        )
        k["i"] = np.arange(len(k))
        try:
            with self._con.transaction(), self._con.cursor() as cur:
                cur.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS _tmp_keys (sensor_id TEXT, ts TIMESTAMPTZ, i BIGINT) ON COMMIT DELETE ROWS"
                )
                rows = zip(
                    k["sensor_id"].tolist(),
                    pd.DatetimeIndex(k["ts"]).to_pydatetime().tolist(),
                    k["i"].tolist(),
                    strict=True,
                )
                with cur.copy("COPY _tmp_keys (sensor_id, ts, i) FROM STDIN (FORMAT BINARY)") as cp:
                    cp.set_types(["text", "timestamptz", "int8"])
                    for row in rows:
                        cp.write_row(row)
                cur.execute(
                    "SELECT k.i FROM _tmp_keys k JOIN reading r ON r.sensor_id = k.sensor_id AND r.ts = k.ts"
                )
                hit = [r[0] for r in cur.fetchall()]
        except psycopg.Error as exc:
            raise StoreError(f"duplicate check failed: {exc}", where=self._where) from exc
        mask = np.zeros(len(k), dtype=bool)
        mask[np.asarray(hit, dtype=np.int64)] = True
        return mask

    def _query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        with self._lock:
            return self._query_unlocked(sql, params)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._lock:
            return self._execute_unlocked(sql, params)

    def _insert(self, table: str, df: pd.DataFrame, on_conflict: str = "error") -> int:
        with self._lock:
            return self._insert_unlocked(table, df, on_conflict)

    def replace_table(self, name: str, df: pd.DataFrame) -> int:
        """Replace a reference table's content in one transaction (TRUNCATE + COPY)."""
        with self._lock:
            return self._replace_table_unlocked(name, df)

    def _existing_join(self, keys: pd.DataFrame) -> np.ndarray:
        with self._lock:
            return self._existing_join_unlocked(keys)

    def init_schema(self) -> None:
        """Create PostGIS (if allowed), the tables, geometry columns and indexes if missing."""
        with self._lock:
            self._init_schema_unlocked()

    def drop_schema(self) -> None:
        """Drop this store's schema with every table in it (tests use a schema per test)."""
        if self.schema:
            self._con.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._con.close()
