"""The one validator every ingestion path (files, HTTP, MQTT, in-process replay) goes through.

A batch of raw records (sensor id, timestamp, value as received: strings, numbers or typed
columns) is split into good readings (``READING`` columns, UTC, float values) and rejected
records (``REJECTED`` columns), each with a :class:`Reason`, a human-readable detail, the source
(``file:line``, MQTT topic, HTTP batch id) and the record as received. Good records of a batch are
kept whatever happens to the others. All checks are vectorised (pandas / numpy / Arrow).

Timestamp rules
---------------
* ISO 8601 with an offset (``2024-03-01T12:00:00+01:00``, ``…Z``) is converted to UTC.
* Naive timestamps (no offset) are interpreted in the *source time zone* ``tz`` (default
  ``"UTC"``); local times that do not exist or are ambiguous (daylight-saving changes) are
  rejected as ``bad_timestamp`` — send an offset to avoid that.
* JSON numbers are seconds since 1970-01-01 UTC.
* A timestamp more than :data:`FUTURE_TOLERANCE` (5 minutes) after ``now`` is
  ``future_timestamp``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

import numpy as np
import pandas as pd

from lifeline.ingest.parse import (
    _arrowize,
    _is_arrow,
    _list_to_arrow,
    _missing_mask,
    _mixed,
    _parse_ts,
    _parse_values,
    _sensor_series,
    _texts,
    _to_series,
)
from lifeline.model.schema import READING, REJECTED

#: How far after ``now`` a timestamp may lie before it is rejected as ``future_timestamp``
#: (clock skew between field devices and the server).
FUTURE_TOLERANCE: Final = timedelta(minutes=5)


class Reason(StrEnum):
    """Why a record was rejected (stored in ``rejected.reason``)."""

    UNKNOWN_SENSOR = "unknown_sensor"
    NON_NUMERIC = "non_numeric"
    NON_FINITE = "non_finite"
    OUT_OF_RANGE = "out_of_range"
    BAD_TIMESTAMP = "bad_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    DUPLICATE = "duplicate"
    MALFORMED_JSON = "malformed_json"
    MALFORMED_ROW = "malformed_row"
    MISSING_FIELD = "missing_field"
    LATE = "late"
    UNKNOWN_KIND = "unknown_kind"
    UNKNOWN_CUSTOMER = "unknown_customer"
    UNKNOWN_ELEMENT = "unknown_element"


_REASONS: Final = list(Reason)
_CODE: Final = {r: i + 1 for i, r in enumerate(_REASONS)}  # 0 = good


class SensorIndex:
    """A sensor table prepared for fast look-ups: ids, valid ranges (units of the sensor) and
    utilities. Build it once and reuse it across batches (MQTT)."""

    def __init__(self, sensors: pd.DataFrame) -> None:
        if "sensor_id" not in sensors.columns:
            from lifeline.errors import InputError

            raise InputError("sensor table has no sensor_id column", where="sensors")
        s = sensors.drop_duplicates("sensor_id", keep="last")
        self.ids = pd.Index(s["sensor_id"].astype(str).to_numpy(dtype=object))
        n = len(s)

        def col(name: str, default: float) -> np.ndarray:
            if name not in s.columns:
                return np.full(n, default)
            return pd.to_numeric(s[name], errors="coerce").fillna(default).to_numpy(float)

        self.valid_min = col("valid_min", -np.inf)
        self.valid_max = col("valid_max", np.inf)
        self.utility = (
            s["utility"].astype(str).to_numpy(dtype=object)
            if "utility" in s.columns
            else np.full(n, "", dtype=object)
        )
        self.unit = (
            s["unit"].fillna("").astype(str).to_numpy(dtype=object)
            if "unit" in s.columns
            else np.full(n, "", dtype=object)
        )

    def __len__(self) -> int:
        return len(self.ids)

    def codes(self, sensor_ids: pd.Series) -> np.ndarray:
        """Position of each id in the table, -1 when unknown (fast for categorical input)."""
        if not isinstance(sensor_ids.dtype, pd.CategoricalDtype):
            obj = sensor_ids.astype(object).where(sensor_ids.notna(), None)
            try:
                sensor_ids = obj.astype("category")
            except TypeError:  # unhashable ids (lists, dicts from JSON): compare their text
                sensor_ids = obj.map(lambda v: v if v is None or isinstance(v, str) else str(v))
                sensor_ids = sensor_ids.astype("category")
        cat = sensor_ids.cat
        names = pd.Index(cat.categories.astype(str)).str.strip()  # " s0" (CSV ", ") is s0
        lookup = np.append(self.ids.get_indexer(names), -1)  # code -1 (NaN) -> last entry -> -1
        return lookup[cat.codes.to_numpy()]


@dataclass
class Validated:
    """Result of :func:`validate_batch`: good readings, rejected records and, for the rejected
    ones, the sensor id and line number when known (for per-utility counts and raw lines)."""

    good: pd.DataFrame
    rejected: pd.DataFrame
    rejected_sensor: np.ndarray
    rejected_line: np.ndarray
    rejected_pos: np.ndarray


def _column(records: Any, name: str) -> Any:
    if isinstance(records, dict):  # columns as lists (JSON input)
        v = records.get(name)
        if isinstance(v, list):
            return _arrowize(pd.Series(v, dtype=object)) if v and _mixed(v) else _list_to_arrow(v)
        return v
    if _is_arrow(records):
        if name in records.column_names:
            return records.column(name).combine_chunks()
        return None
    return records[name] if name in records.columns else None


def validate_batch(
    records: pd.DataFrame | Any,
    sensors: pd.DataFrame | SensorIndex,
    now: datetime | pd.Timestamp | None = None,
    known_keys: Any = None,
    *,
    source: str = "",
    tz: str = "UTC",
    future_tolerance: timedelta = FUTURE_TOLERANCE,
    received_at: pd.Timestamp | None = None,
    not_before: pd.Timestamp | None = None,
) -> Validated:
    """Validate ``records`` (a DataFrame or Arrow table with ``sensor_id``, ``ts``, ``value`` and
    optionally ``quality``, ``line``, ``source``, ``raw``) against ``sensors``.

    ``known_keys`` says which (sensor_id, ts) are already stored: None, a DataFrame with those
    columns, or a callable taking the candidate readings and returning a boolean mask (see
    :meth:`lifeline.store.Store.existing_readings_mask`). ``source`` labels rejected records
    (``file`` becomes ``file:line`` when a ``line`` column is given). ``not_before`` (UTC): a
    reading older than this arrived too late for the live engine, which has processed that
    time already (reason ``late``). Returns a :class:`Validated`.
    """
    index = sensors if isinstance(sensors, SensorIndex) else SensorIndex(sensors)
    now_ts = pd.Timestamp(now if now is not None else pd.Timestamp.now("UTC"))
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts.tz_convert("UTC")
    received = received_at if received_at is not None else pd.Timestamp.now("UTC")
    if isinstance(records, dict):
        n = len(next(iter(records.values()))) if records else 0
    else:
        n = records.num_rows if _is_arrow(records) else len(records)
    cols = {c: _arrowize(_column(records, c)) for c in ("sensor_id", "ts", "value")}
    reason = np.zeros(n, dtype=np.int8)
    detail_kind = np.zeros(n, dtype=np.int8)  # which field is missing (for the detail text)

    def mark(mask: np.ndarray, r: Reason, kind: int = 0) -> None:
        m = mask & (reason == 0)
        reason[m] = _CODE[r]
        detail_kind[m] = kind

    for k, c in enumerate(("sensor_id", "ts", "value"), start=1):
        col = cols[c]
        missing = np.ones(n, bool) if col is None else _missing_mask(col, nan_is_missing=k < 3)
        mark(missing, Reason.MISSING_FIELD, k)
    if cols["sensor_id"] is None or cols["ts"] is None or cols["value"] is None:
        codes = np.full(n, -1)
        ts = np.zeros(n, dtype=np.int64)
        val = np.full(n, np.nan)
    else:
        sid = _sensor_series(cols["sensor_id"])
        codes = index.codes(sid)
        mark(codes < 0, Reason.UNKNOWN_SENSOR)
        ts, dst_bad = _parse_ts(cols["ts"], tz)
        nat = np.iinfo(np.int64).min
        mark(dst_bad, Reason.BAD_TIMESTAMP, 1)
        mark(ts == nat, Reason.BAD_TIMESTAMP)
        limit = (now_ts + pd.Timedelta(future_tolerance)).value
        mark(ts > limit, Reason.FUTURE_TIMESTAMP)
        if not_before is not None:
            mark((ts != nat) & (ts < pd.Timestamp(not_before).value), Reason.LATE)
        val, non_numeric, nan_word = _parse_values(cols["value"])
        mark(non_numeric, Reason.NON_NUMERIC)
        mark(nan_word | ~np.isfinite(val), Reason.NON_FINITE)
        safe = np.where(codes >= 0, codes, 0)
        with np.errstate(invalid="ignore"):
            oor = (val < index.valid_min[safe]) | (val > index.valid_max[safe])
        mark(oor & (codes >= 0), Reason.OUT_OF_RANGE)
        ok = np.flatnonzero(reason == 0)
        if len(ok):
            mark(_scatter(n, ok, _duplicated(codes[ok], ts[ok])), Reason.DUPLICATE, 1)
    ok = np.flatnonzero(reason == 0)
    good = pd.DataFrame(
        {
            "sensor_id": pd.Categorical.from_codes(codes[ok], categories=index.ids)
            if len(ok)
            else pd.Series([], dtype=object),
            "ts": pd.DatetimeIndex(ts[ok].view("datetime64[ns]")).tz_localize("UTC"),
            "value": val[ok],
            "quality": _quality(records, ok),
        }
    )
    if len(ok) and known_keys is not None:
        stored = _known_mask(good, known_keys)
        if stored.any():
            mark(_scatter(n, ok, stored), Reason.DUPLICATE, 2)
            good = good.loc[~stored].reset_index(drop=True)
    rej = _rejected(records, cols, index, reason, detail_kind, codes, ts, val, source, tz)
    rej["received_at"] = received
    lines = _column(records, "line")
    bad = np.flatnonzero(reason != 0)
    rline = (
        np.asarray(_to_series(lines).to_numpy()[bad] if not _is_arrow(lines) else lines.take(bad))
        if lines is not None
        else np.zeros(len(bad), dtype=np.int64)
    )
    sids = np.array(
        _texts(cols["sensor_id"], bad) if cols["sensor_id"] is not None else [""] * len(bad),
        dtype=object,
    )
    rej = rej[list(REJECTED)].astype({"received_at": "datetime64[ns, UTC]"})
    return Validated(good, rej, sids, rline, bad)


def _duplicated(codes: np.ndarray, ts: np.ndarray) -> np.ndarray:
    """Mask of repeated (code, ts) pairs after their first occurrence. A one-column hash finds
    candidates fast; candidates are then checked exactly (hash collisions are not duplicates)."""
    if len(codes) < 2:
        return np.zeros(len(codes), dtype=bool)
    # the usual layouts need no hashing: sorted by sensor then time (wide files), or by time
    # with each instant's sensors in increasing order (long files, live batches)
    dc, dt = np.diff(codes), np.diff(ts)
    if (dc >= 0).all() and (dt[dc == 0] > 0).all():
        return np.zeros(len(codes), dtype=bool)
    if (dt >= 0).all() and (dc[dt == 0] > 0).all():
        return np.zeros(len(codes), dtype=bool)
    with np.errstate(over="ignore"):
        h = codes.astype(np.int64) * np.int64(0x9E3779B97F4A7C15 - (1 << 64)) + ts
    hs = pd.Series(h)
    cand = hs.duplicated(keep=False).to_numpy()
    out = np.zeros(len(h), dtype=bool)
    if cand.any():
        idx = np.flatnonzero(cand)
        exact = pd.DataFrame({"c": codes[idx], "t": ts[idx]}).duplicated(keep="first").to_numpy()
        out[idx[exact]] = True
    return out


def _scatter(n: int, idx: np.ndarray, sub: np.ndarray) -> np.ndarray:
    m = np.zeros(n, bool)
    m[idx[sub]] = True
    return m


def _quality(records: Any, ok: np.ndarray) -> np.ndarray:
    q = _column(records, "quality")
    if q is None:
        return np.zeros(len(ok), dtype=np.int64)
    v = pd.to_numeric(_to_series(q), errors="coerce").to_numpy(dtype=float, na_value=np.nan)[ok]
    return np.nan_to_num(v, nan=0.0).astype(np.int64)


def _known_mask(good: pd.DataFrame, known_keys: Any) -> np.ndarray:
    if callable(known_keys):
        return np.asarray(known_keys(good[["sensor_id", "ts"]]), dtype=bool)
    known = pd.DataFrame(known_keys)[["sensor_id", "ts"]].copy()
    known["ts"] = pd.to_datetime(known["ts"], utc=True)
    known["sensor_id"] = known["sensor_id"].astype(str)
    keys = pd.MultiIndex.from_frame(known)
    cand = pd.MultiIndex.from_arrays([good["sensor_id"].astype(str), good["ts"]])
    return np.asarray(cand.isin(keys), dtype=bool)


def _rejected(
    records: Any,
    cols: dict[str, Any],
    index: SensorIndex,
    reason: np.ndarray,
    kind: np.ndarray,
    codes: np.ndarray,
    ts: np.ndarray,
    val: np.ndarray,
    source: str,
    tz: str,
) -> pd.DataFrame:
    bad = np.flatnonzero(reason != 0)
    texts = {
        c: (_texts(col, bad) if col is not None else [""] * len(bad)) for c, col in cols.items()
    }
    details = []
    for j, i in enumerate(bad):
        r = _REASONS[reason[i] - 1]
        sid, t, v = texts["sensor_id"][j], texts["ts"][j], texts["value"][j]
        details.append(_detail(r, int(kind[i]), sid, t, v, index, int(codes[i]), tz))
    src_col = _column(records, "source")
    line_col = _column(records, "line")
    if src_col is not None:
        sources = _texts(src_col, bad)
    elif line_col is not None:
        sources = [f"{source}:{x}" for x in _texts(line_col, bad)]
    else:
        sources = [source] * len(bad)
    raw_col = _column(records, "raw")
    if raw_col is not None:
        raws = _texts(raw_col, bad)
    else:
        raws = [
            json.dumps({"sensor_id": s, "ts": t, "value": v}, ensure_ascii=False)
            for s, t, v in zip(texts["sensor_id"], texts["ts"], texts["value"], strict=True)
        ]
    return pd.DataFrame(
        {
            "source": pd.Series(sources, dtype="string"),
            "reason": pd.Series([_REASONS[k - 1].value for k in reason[bad]], dtype="string"),
            "detail": pd.Series(details, dtype="string"),
            "raw": pd.Series(raws, dtype="string"),
        }
    )


def _detail(
    r: Reason, kind: int, sid: str, t: str, v: str, index: SensorIndex, code: int, tz: str
) -> str:
    if r is Reason.MISSING_FIELD:
        return f"missing {('sensor_id', 'ts', 'value')[kind - 1]}"
    if r is Reason.UNKNOWN_SENSOR:
        return f"sensor {sid!r} is not in the sensor table"
    if r is Reason.BAD_TIMESTAMP:
        if kind == 1:
            return f"{sid}: local time {t!r} does not exist or is ambiguous in {tz}; send an offset"
        return f"{sid}: cannot parse timestamp {t!r} (ISO 8601 expected)"
    if r is Reason.FUTURE_TIMESTAMP:
        return f"{sid}: timestamp {t!r} lies more than {int(FUTURE_TOLERANCE.total_seconds())} s in the future"
    if r is Reason.NON_NUMERIC:
        return f"{sid}: value {v!r} is not a number"
    if r is Reason.NON_FINITE:
        return f"{sid}: value {v!r} is not finite"
    if r is Reason.OUT_OF_RANGE:
        lo, hi, unit = index.valid_min[code], index.valid_max[code], index.unit[code]
        return f"{sid}: value {v} outside the valid range [{lo:g}, {hi:g}] {unit}".rstrip()
    if r is Reason.LATE:
        return f"{sid}: reading at {t} arrived after the live engine processed that time (late beyond the allowed bound)"
    if r is Reason.DUPLICATE:
        where = "in this batch" if kind == 1 else "already stored"
        return f"{sid}: reading at {t} repeats one {where}"
    return str(r.value)


def validate(
    records: pd.DataFrame | Any,
    sensors: pd.DataFrame | SensorIndex,
    now: datetime | pd.Timestamp | None = None,
    known_keys: Any = None,
    *,
    source: str = "",
    tz: str = "UTC",
    future_tolerance: timedelta = FUTURE_TOLERANCE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split raw ``records`` into ``(good, rejected)``: good has the ``READING`` columns (UTC
    timestamps, values in the sensor's unit), rejected the ``REJECTED`` columns.

    Example::

        good, rejected = validate(pd.DataFrame({"sensor_id": ["p1"], "ts": ["2024-01-01T00:00Z"],
                                                "value": ["3,1"]}), sensors)
        # -> rejected.reason == ["non_numeric"]
    """
    res = validate_batch(
        records, sensors, now, known_keys, source=source, tz=tz, future_tolerance=future_tolerance
    )
    good = res.good.astype({"sensor_id": READING["sensor_id"]})
    return good, res.rejected


def empty_rejected() -> pd.DataFrame:
    """An empty frame with the ``REJECTED`` columns."""
    from lifeline.model.schema import empty_frame

    return empty_frame("rejected")


def make_rejected(
    reason: Reason,
    sources: list[str],
    details: list[str],
    raws: list[str],
    received_at: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Rejected records found by a parser before validation (malformed JSON/row)."""
    received = received_at if received_at is not None else pd.Timestamp.now("UTC")
    return pd.DataFrame(
        {
            "received_at": pd.Series([received] * len(sources), dtype="datetime64[ns, UTC]"),
            "source": pd.Series(sources, dtype="string"),
            "reason": pd.Series([reason.value] * len(sources), dtype="string"),
            "detail": pd.Series(details, dtype="string"),
            "raw": pd.Series(raws, dtype="string"),
        }
    )
