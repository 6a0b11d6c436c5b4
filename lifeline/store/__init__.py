"""lifeline.store: one Store interface, two back ends (DuckDB embedded default, PostgreSQL/PostGIS).

from lifeline.store import open_store
with open_store() as store:            # settings.db, or the DuckDB file under the data dir
    store.write_readings(df)
"""

from __future__ import annotations

from lifeline.store.base import PRIMARY_KEYS, REFERENCE_TABLES, Store

__all__ = ["PRIMARY_KEYS", "REFERENCE_TABLES", "Store", "open_store"]


def open_store(url: str | None = None, init: bool = True, srid: int | None = None) -> Store:
    """Open the store named by ``url`` (default: ``LIFELINE_DB`` from the settings).

    * empty / None: DuckDB file ``settings.duckdb_path()`` (under the data directory);
    * ``duckdb:///path/file.duckdb``, ``duckdb://:memory:``, ``:memory:`` or a path ending in
      ``.duckdb``/``.db``: DuckDB;
    * ``postgresql://user@host:port/db[?schema=s&srid=25832]``: PostgreSQL with PostGIS.

    With ``init`` (default) the tables are created if missing. ``srid`` (PostgreSQL): the EPSG
    code of the city's CRS for the PostGIS geometry columns (existing columns are converted);
    DuckDB keeps plain x_m/y_m and ignores it.
    """
    from lifeline.config import get_settings
    from lifeline.errors import ConfigError

    settings = get_settings()
    u = settings.db if url is None else url
    store: Store
    if u.startswith(("postgresql://", "postgres://")):
        from lifeline.store.postgres_store import PostgresStore

        store = PostgresStore(u, srid=srid)
    elif (
        u in ("", ":memory:", "duckdb://:memory:")
        or u.startswith("duckdb://")
        or u.endswith((".duckdb", ".db"))
    ):
        from lifeline.store.duckdb_store import DuckDBStore

        if u in (":memory:", "duckdb://:memory:", "duckdb:///:memory:"):
            path = ":memory:"
        elif u.startswith("duckdb://"):
            path = u.removeprefix("duckdb://")
        elif u:
            path = u
        else:
            path = str(settings.duckdb_path())
        store = DuckDBStore(path)
    else:
        raise ConfigError(
            f"unknown store URL {u!r}: use postgresql://… or duckdb:///path", where="LIFELINE_DB"
        )
    if init:
        store.init_schema()
    return store
