"""The Store interface shared by the DuckDB and PostgreSQL implementations.

Tables and columns are exactly those of :mod:`lifeline.model.schema`. Every method takes and
returns pandas DataFrames with those columns (timestamps timezone-aware UTC). The SQL common to
both back ends lives here, written with ``?`` placeholders; each implementation supplies the
connection, the DDL types and the bulk-write path.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Final

import numpy as np
import pandas as pd

from lifeline.errors import InputError, NotFoundError, StoreError
from lifeline.model.schema import TABLES

#: Primary keys; a table not listed here has none (append-only: rejected, audit, dependency).
PRIMARY_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "asset": ("asset_id",),
    "customer": ("customer_id",),
    "sensor": ("sensor_id",),
    "reading": ("sensor_id", "ts"),
    "alarm": ("alarm_id",),
    "complaint": ("complaint_id",),
    "incident": ("incident_id",),
    "meter_event": ("event_id",),
    "checkpoint": ("name",),
    "meta": ("key",),
    "zone": ("zone_id",),
    "district": ("district_id",),
}

#: Secondary indexes: (table, columns).
INDEXES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("alarm", ("ts",)),
    ("meter_event", ("ts",)),
    ("complaint", ("ts",)),
    ("incident", ("state",)),
    ("audit", ("object_id",)),
    ("rejected", ("reason",)),
)

#: Reference tables that are replaced as a whole (``replace_table``).
REFERENCE_TABLES: Final = ("asset", "customer", "sensor", "zone", "district", "dependency")

#: Tables with a point position (x_m, y_m) — PostGIS adds a geometry column to these.
POINT_TABLES: Final = ("asset", "customer", "sensor")


def frame(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """``df`` conformed to ``table``'s columns and dtypes, timestamps as ``datetime64[ns, UTC]``."""
    out = pd.DataFrame(index=df.index)
    for c, t in TABLES[table].items():
        s = df[c] if c in df.columns else pd.Series(None, index=df.index, dtype=object)
        if t.startswith("datetime64"):
            if not isinstance(s.dtype, pd.DatetimeTZDtype):
                s = (
                    pd.to_datetime(s, utc=True, format="ISO8601")
                    if s.dtype == object
                    else pd.to_datetime(s, utc=True)
                )
            out[c] = s.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        elif t == "float64":
            out[c] = pd.to_numeric(s, errors="coerce").astype("float64")
        elif t == "int64":
            out[c] = pd.to_numeric(s, errors="coerce").astype("Int64")
        elif t == "bool":
            out[c] = s.astype(object).where(s.notna(), False).astype(bool)
        else:
            out[c] = s.astype(object).where(s.notna(), None).astype(t)
    return out.reset_index(drop=True)


def _utc(t: datetime | str | pd.Timestamp) -> pd.Timestamp:
    """``t`` as a UTC timestamp at microsecond resolution (what the databases store)."""
    ts = pd.Timestamp(t)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.floor("us")


class Store(ABC):
    """Persistent storage of the lifeline data model (one interface, two back ends).

    Use as a context manager (``with open_store() as store: …``) or call :meth:`close`.
    """

    #: "duckdb" or "postgresql"
    kind: str = ""

    # ---- back-end primitives -------------------------------------------------------------
    @abstractmethod
    def _query(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Run a SELECT (``?`` placeholders) and return its rows as a DataFrame."""

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement (``?`` placeholders); return the affected row count."""

    @abstractmethod
    def _insert(self, table: str, df: pd.DataFrame, on_conflict: str = "error") -> int:
        """Bulk-insert a conformed frame. ``on_conflict``: error | ignore | replace.
        Returns the number of rows written."""

    @abstractmethod
    def _ddl_type(self, dtype: str) -> str:
        """SQL type for a schema dtype."""

    @abstractmethod
    def init_schema(self) -> None:
        """Create every table and index if missing (idempotent)."""

    @abstractmethod
    def replace_table(self, name: str, df: pd.DataFrame) -> int:
        """Replace the whole content of a reference table (asset, customer, sensor, zone,
        district, dependency) with ``df`` in one transaction; returns the row count."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    # ---- shared DDL ----------------------------------------------------------------------
    def _create_table_sql(self, name: str) -> str:
        cols = [f"{c} {self._ddl_type(t)}" for c, t in TABLES[name].items()]
        pk = PRIMARY_KEYS.get(name)
        if pk:
            cols.append(f"PRIMARY KEY ({', '.join(pk)})")
        return f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(cols)})"

    def _migrate_sql(self) -> list[str]:
        """ALTER statements adding the schema's columns that an older database lacks."""
        return [
            f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {c} {self._ddl_type(t)}"
            for name, cols in TABLES.items()
            for c, t in cols.items()
        ]

    def _index_sql(self) -> list[str]:
        return [
            f"CREATE INDEX IF NOT EXISTS {t}_{'_'.join(c)}_idx ON {t} ({', '.join(c)})"
            for t, c in INDEXES
        ]

    # ---- context manager -----------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ---- tables --------------------------------------------------------------------------
    @staticmethod
    def _check_table(name: str) -> None:
        if name not in TABLES:
            raise NotFoundError(f"no table {name!r}; tables: {', '.join(TABLES)}", where="store")

    def read_table(self, name: str) -> pd.DataFrame:
        """The whole table ``name`` with the schema's columns and dtypes."""
        self._check_table(name)
        cols = ", ".join(TABLES[name])
        order = ", ".join(PRIMARY_KEYS.get(name, ()))
        return frame(
            name,
            self._query(f"SELECT {cols} FROM {name}" + (f" ORDER BY {order}" if order else "")),
        )

    def count(self, name: str) -> int:
        """Number of rows in table ``name``."""
        self._check_table(name)
        return int(self._query(f"SELECT count(*) AS n FROM {name}")["n"].iloc[0])

    @staticmethod
    def _check_reference(name: str) -> None:
        if name not in REFERENCE_TABLES:
            raise InputError(
                f"replace_table only replaces reference tables ({', '.join(REFERENCE_TABLES)}), not {name!r}",
                where="store",
            )

    # ---- readings ------------------------------------------------------------------------
    def write_readings(self, df: pd.DataFrame, *, assume_new: bool = False) -> int:
        """Insert readings (``READING`` columns) in one bulk statement, idempotent on the
        primary key (sensor_id, ts): a reading already stored is skipped. Returns how many rows
        were new. Values are in the sensor's unit; ``ts`` must be timezone-aware or UTC.

        ``assume_new`` (set by the validator's pipeline, which has removed duplicates) tries a
        plain bulk insert first — faster — and falls back to the idempotent path if a
        concurrent writer stored one of the keys meanwhile."""
        if len(df) == 0:
            return 0
        frame_ = self._reading_frame(df)
        if assume_new:
            try:
                return self._insert("reading", frame_, on_conflict="error")
            except StoreError:
                pass
        return self._insert("reading", frame_, on_conflict="ignore")

    @staticmethod
    def _reading_frame(df: pd.DataFrame) -> pd.DataFrame:
        ts = df["ts"]
        if not isinstance(ts.dtype, pd.DatetimeTZDtype):
            ts = pd.to_datetime(ts, utc=True)
        sid = df["sensor_id"]
        if not isinstance(sid.dtype, pd.CategoricalDtype):
            sid = sid.astype(str)
        q = df["quality"] if "quality" in df.columns else pd.Series(0, index=df.index)
        return pd.DataFrame(
            {
                "sensor_id": sid.to_numpy()
                if not isinstance(sid.dtype, pd.CategoricalDtype)
                else sid,
                "ts": ts.dt.tz_convert("UTC"),
                "value": pd.to_numeric(df["value"], errors="coerce").astype(float),
                "quality": pd.to_numeric(q, errors="coerce").fillna(0).astype(np.int64),
            }
        )

    def existing_readings_mask(self, df: pd.DataFrame) -> np.ndarray:
        """Boolean mask: which (sensor_id, ts) of ``df`` are already stored. Cheap when the
        batch's time span holds no stored reading (the usual case for live data)."""
        if len(df) == 0:
            return np.zeros(0, dtype=bool)
        ts = (
            df["ts"]
            if isinstance(df["ts"].dtype, pd.DatetimeTZDtype)
            else pd.to_datetime(df["ts"], utc=True)
        )
        sql = "SELECT count(*) AS n FROM reading WHERE ts >= ? AND ts <= ?"
        params: list[Any] = [ts.min().to_pydatetime(), ts.max().to_pydatetime()]
        used = self._sensors_in(df["sensor_id"])
        if len(used) <= 2000:  # also by sensor: batches of other sensors skip the join
            sql += " AND sensor_id = ANY(?)"
            params.append(used)
        n = self._query(sql, params)["n"].iloc[0]
        if int(n) == 0:
            return np.zeros(len(df), dtype=bool)
        sid = df["sensor_id"].reset_index(drop=True)
        keys = pd.DataFrame(
            {
                "sensor_id": sid if isinstance(sid.dtype, pd.CategoricalDtype) else sid.astype(str),
                "ts": ts.dt.tz_convert("UTC").reset_index(drop=True),
            }
        )
        return self._existing_join(keys)

    @staticmethod
    def _sensors_in(sid: pd.Series) -> list[str]:
        if isinstance(sid.dtype, pd.CategoricalDtype):
            codes = np.unique(sid.cat.codes.to_numpy())
            return [str(x) for x in sid.cat.categories[codes[codes >= 0]]]
        return [str(x) for x in pd.unique(sid.dropna().astype(str).to_numpy())]

    @abstractmethod
    def _existing_join(self, keys: pd.DataFrame) -> np.ndarray:
        """Mask of keys present in ``reading`` (back-end specific join)."""

    def read_readings(
        self,
        sensor_ids: Iterable[str] | str | None = None,
        start: datetime | str | pd.Timestamp | None = None,
        end: datetime | str | pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Readings of ``sensor_ids`` (all if None) with ``start <= ts < end`` (UTC; open when
        None), ordered by sensor and time."""
        where, params = self._reading_filter(sensor_ids, start, end)
        sql = (
            "SELECT sensor_id, ts, value, quality FROM reading" + where + " ORDER BY sensor_id, ts"
        )
        return frame("reading", self._query(sql, params))

    @staticmethod
    def _reading_filter(
        sensor_ids: Iterable[str] | str | None, start: Any, end: Any
    ) -> tuple[str, list[Any]]:
        conds: list[str] = []
        params: list[Any] = []
        if sensor_ids is not None:
            ids = [sensor_ids] if isinstance(sensor_ids, str) else [str(s) for s in sensor_ids]
            if len(ids) == 1:
                conds.append("sensor_id = ?")
                params.append(ids[0])
            else:
                conds.append("sensor_id = ANY(?)")
                params.append(ids)
        if start is not None:
            conds.append("ts >= ?")
            params.append(_utc(start).to_pydatetime())
        if end is not None:
            conds.append("ts < ?")
            params.append(_utc(end).to_pydatetime())
        return (" WHERE " + " AND ".join(conds) if conds else ""), params

    def latest_readings(self, sensor_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """The most recent reading of each sensor (optionally only ``sensor_ids``)."""
        where, params = self._reading_filter(sensor_ids, None, None)
        sql = (
            "SELECT r.sensor_id, r.ts, r.value, r.quality FROM reading r JOIN "
            f"(SELECT sensor_id, max(ts) AS ts FROM reading{where} GROUP BY sensor_id) m "
            "ON r.sensor_id = m.sensor_id AND r.ts = m.ts ORDER BY r.sensor_id"
        )
        return frame("reading", self._query(sql, params))

    # ---- rejected ------------------------------------------------------------------------
    def write_rejected(self, df: pd.DataFrame) -> int:
        """Append rejected records (``REJECTED`` columns); returns the count."""
        if len(df) == 0:
            return 0
        return self._insert("rejected", frame("rejected", df))

    def rejected_counts(self) -> dict[str, int]:
        """Number of stored rejected records per reason."""
        df = self._query(
            "SELECT reason, count(*) AS n FROM rejected GROUP BY reason ORDER BY reason"
        )
        return {str(r): int(n) for r, n in zip(df["reason"], df["n"], strict=True)}

    # ---- alarms and complaints ------------------------------------------------------------
    def add_alarms(self, df: pd.DataFrame) -> int:
        """Add alarms (``ALARM`` columns); an alarm_id already stored is kept, not duplicated.
        Returns how many were new."""
        return self._insert("alarm", frame("alarm", df), on_conflict="ignore") if len(df) else 0

    def upsert_alarms(self, df: pd.DataFrame) -> int:
        """Insert or replace alarms by alarm_id (an episode that grew or closed); returns rows."""
        return self._insert("alarm", frame("alarm", df), on_conflict="replace") if len(df) else 0

    def add_meter_events(self, df: pd.DataFrame) -> int:
        """Add smart-meter and switchgear events (``METER_EVENT`` columns), idempotent on
        event_id; returns how many were new."""
        if len(df) == 0:
            return 0
        return self._insert("meter_event", frame("meter_event", df), on_conflict="ignore")

    def list_meter_events(
        self,
        since: datetime | str | pd.Timestamp | None = None,
        until: datetime | str | pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Meter events with ``since <= ts < until`` (UTC; open when None), oldest first."""
        df = self._list("meter_event", since, {})
        if until is not None and len(df):
            df = df[df["ts"] < _utc(until)].reset_index(drop=True)
        return df

    # ---- engine checkpoints and city metadata -----------------------------------------------
    def save_checkpoint(self, name: str, watermark: Any, state: dict[str, Any]) -> None:
        """Store the engine partition ``name``'s state (JSON) and its watermark (UTC)."""
        row = {
            "name": name,
            "watermark": _utc(watermark) if watermark is not None else None,
            "saved_at": pd.Timestamp.now("UTC"),
            "state": json.dumps(state, ensure_ascii=False, default=str),
        }
        self._insert("checkpoint", frame("checkpoint", pd.DataFrame([row])), on_conflict="replace")

    def load_checkpoint(self, name: str) -> tuple[pd.Timestamp | None, dict[str, Any]] | None:
        """(watermark, state) of partition ``name``, or None when it never checkpointed."""
        df = self._query("SELECT watermark, state FROM checkpoint WHERE name = ?", [name])
        if df.empty:
            return None
        wm = df["watermark"].iloc[0]
        wm_ts = None if wm is None or pd.isna(wm) else _utc(wm)
        return wm_ts, json.loads(df["state"].iloc[0] or "{}")

    def set_meta(self, values: dict[str, str]) -> None:
        """Set metadata keys (the city's name, crs, timezone, package folder, …)."""
        if values:
            df = pd.DataFrame({"key": list(values), "value": [str(v) for v in values.values()]})
            self._insert("meta", frame("meta", df), on_conflict="replace")

    def get_meta(self) -> dict[str, str]:
        """Every metadata key and value."""
        df = self._query("SELECT key, value FROM meta")
        return {str(k): str(v) for k, v in zip(df["key"], df["value"], strict=True)}

    def list_alarms(
        self, since: datetime | str | pd.Timestamp | None = None, utility: str | None = None
    ) -> pd.DataFrame:
        """Alarms with ``ts >= since`` (UTC) of ``utility`` (all if None), oldest first."""
        return self._list("alarm", since, {"utility": utility})

    def add_complaints(self, df: pd.DataFrame) -> int:
        """Add complaints (``COMPLAINT`` columns), idempotent on complaint_id; returns new count."""
        return (
            self._insert("complaint", frame("complaint", df), on_conflict="ignore")
            if len(df)
            else 0
        )

    def list_complaints(
        self, since: datetime | str | pd.Timestamp | None = None, utility: str | None = None
    ) -> pd.DataFrame:
        """Complaints with ``ts >= since`` (UTC) classified to ``utility`` (all if None)."""
        return self._list("complaint", since, {"utility": utility})

    def _list(self, table: str, since: Any, eq: dict[str, Any], ts_col: str = "ts") -> pd.DataFrame:
        conds: list[str] = []
        params: list[Any] = []
        if since is not None:
            conds.append(f"{ts_col} >= ?")
            params.append(_utc(since).to_pydatetime())
        for c, v in eq.items():
            if v is not None:
                conds.append(f"{c} = ?")
                params.append(v)
        where = " WHERE " + " AND ".join(conds) if conds else ""
        cols = ", ".join(TABLES[table])
        pk = ", ".join(PRIMARY_KEYS.get(table, ()))
        order = f"{ts_col}" + (f", {pk}" if pk else "")
        return frame(
            table, self._query(f"SELECT {cols} FROM {table}{where} ORDER BY {order}", params)
        )

    # ---- incidents -----------------------------------------------------------------------
    def upsert_incident(self, incident: dict[str, Any] | pd.DataFrame) -> None:
        """Insert or replace incidents by incident_id (``INCIDENT`` columns; ``body`` may be a
        dict, stored as JSON)."""
        df = pd.DataFrame([incident]) if isinstance(incident, dict) else incident.copy()
        if "body" in df.columns:
            df["body"] = [
                b if isinstance(b, str) or b is None else json.dumps(b, ensure_ascii=False)
                for b in df["body"]
            ]
        if len(df):
            self._insert("incident", frame("incident", df), on_conflict="replace")

    def delete_incident(self, incident_id: str) -> None:
        """Remove an incident (one merged into another; the audit keeps the trace)."""
        self._execute("DELETE FROM incident WHERE incident_id = ?", [incident_id])

    def incident_states(self) -> dict[str, str]:
        """incident_id -> state of every stored incident."""
        df = self._query("SELECT incident_id, state FROM incident")
        return {str(i): str(s) for i, s in zip(df["incident_id"], df["state"], strict=True)}

    def get_incident(self, incident_id: str) -> dict[str, Any]:
        """One incident as a dict (``INCIDENT`` columns); raises NotFoundError if absent."""
        cols = ", ".join(TABLES["incident"])
        df = frame(
            "incident",
            self._query(f"SELECT {cols} FROM incident WHERE incident_id = ?", [incident_id]),
        )
        if df.empty:
            raise NotFoundError(f"no incident {incident_id!r}", where="store")
        row = df.iloc[0]
        return {c: (None if pd.isna(row[c]) else row[c]) for c in df.columns}

    def list_incidents(self, state: str | None = None, district: str | None = None) -> pd.DataFrame:
        """Incidents in ``state`` and ``district`` (all if None), oldest first."""
        return self._list(
            "incident", None, {"state": state, "district_id": district}, ts_col="opened_at"
        )

    # ---- audit ---------------------------------------------------------------------------
    def append_audit(
        self,
        actor: str | pd.DataFrame,
        action: str = "",
        object_id: str = "",
        detail: Any = None,
        ts: datetime | pd.Timestamp | None = None,
    ) -> None:
        """Append one audit entry (or a DataFrame of them). ``detail`` may be a dict (JSON)."""
        if isinstance(actor, pd.DataFrame):
            df = actor
        else:
            d = (
                detail
                if isinstance(detail, str) or detail is None
                else json.dumps(detail, ensure_ascii=False, default=str)
            )
            df = pd.DataFrame(
                [
                    {
                        "ts": _utc(ts if ts is not None else pd.Timestamp.now("UTC")),
                        "actor": actor,
                        "action": action,
                        "object_id": object_id,
                        "detail": d,
                    }
                ]
            )
        if len(df):
            self._insert("audit", frame("audit", df))

    def list_audit(self, object_id: str | None = None) -> pd.DataFrame:
        """Audit entries (of ``object_id`` if given), oldest first."""
        return self._list("audit", None, {"object_id": object_id})
