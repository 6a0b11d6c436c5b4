"""Column parsing for the validator: raw columns (Arrow arrays, pandas objects, lists from
JSON) → typed numpy arrays and masks, vectorised, with slow paths only for mixed input."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd

_NAN_WORDS: Final = frozenset({"nan", "+nan", "-nan", "na", "n/a", "null", "none"})


def _is_arrow(x: Any) -> bool:
    return type(x).__module__.startswith("pyarrow")


def _texts(col: Any, idx: np.ndarray) -> list[str]:
    """The original text of ``col`` at positions ``idx`` (for details and raw records)."""
    if len(idx) == 0:
        return []
    vals = col.take(idx).to_pylist() if _is_arrow(col) else col.iloc[idx].tolist()
    out = []
    for v in vals:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out.append("")
        elif isinstance(v, pd.Timestamp | datetime):
            out.append(v.isoformat())
        else:
            out.append(str(v))
    return out


def _missing_mask(col: Any, nan_is_missing: bool = False) -> np.ndarray:
    """Null or empty/blank-string entries (and NaN where a number cannot be meant)."""
    if _is_arrow(col):
        import pyarrow as pa
        import pyarrow.compute as pc

        m = np.asarray(pc.is_null(col).to_numpy(zero_copy_only=False), dtype=bool)
        if pa.types.is_dictionary(col.type):  # test the (few) dictionary entries only
            d = col.dictionary
            empty = np.asarray(
                pc.equal(pc.utf8_trim_whitespace(d.cast(pa.string())), "").to_numpy(
                    zero_copy_only=False
                ),
                dtype=bool,
            )
            idx = col.indices.to_numpy(zero_copy_only=False)
            return (
                m
                | np.append(empty, False)[
                    np.where(m, len(empty), np.nan_to_num(idx, nan=len(empty)).astype(np.int64))
                ]
            )
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            # empty, or blank: only strings of at most a few characters can be blank cheaply
            short = pc.fill_null(pc.less_equal(pc.utf8_length(col), 8), False)
            if pc.any(short).as_py():
                blank = pc.equal(pc.utf8_trim_whitespace(col.filter(short)), "")
                pos = np.flatnonzero(np.asarray(short.to_numpy(zero_copy_only=False), dtype=bool))
                m[pos[np.asarray(blank.to_numpy(zero_copy_only=False), dtype=bool)]] = True
        return m
    s = col
    if pd.api.types.is_float_dtype(s.dtype) and not nan_is_missing:
        return np.zeros(len(s), dtype=bool)  # NaN in a float value column is a value (non_finite)
    if s.dtype == object and not nan_is_missing:  # float('nan') is a (non-finite) value
        m = np.array([v is None or v is pd.NA or v is pd.NaT for v in s.to_numpy()], dtype=bool)
    else:
        m = s.isna().to_numpy()
    if s.dtype == object or isinstance(s.dtype, pd.StringDtype | pd.CategoricalDtype):
        txt = s.astype(object)
        is_str = txt.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
        if is_str.any():
            blank = np.zeros(len(s), dtype=bool)
            blank[is_str] = txt[is_str].str.strip().eq("").to_numpy(dtype=bool)
            m = m | blank
    return np.asarray(m, dtype=bool)


def _to_series(col: Any) -> pd.Series:
    if _is_arrow(col):
        return col.to_pandas()
    return col


def _sensor_series(col: Any) -> pd.Series:
    if _is_arrow(col):
        import pyarrow as pa

        if not pa.types.is_dictionary(col.type):
            col = col.cast(pa.string()).dictionary_encode()
        return pd.Series(col.to_pandas())
    return col


def _parse_ts(col: Any, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps as int64 ns since epoch UTC, and a mask of local-time problems (DST)."""
    n = len(col)
    nat = np.iinfo(np.int64).min
    dst_bad = np.zeros(n, dtype=bool)
    if _is_arrow(col):
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_dictionary(col.type):  # parse each distinct text once (wide layout)
            if len(col.dictionary) == 0:
                return np.full(n, nat, dtype=np.int64), dst_bad
            vals, bad = _parse_ts(col.dictionary, tz)
            idx = col.indices.to_numpy(zero_copy_only=False)
            null = np.isnan(idx) if idx.dtype.kind == "f" else np.zeros(n, bool)
            ii = np.where(null, 0, idx).astype(np.int64)
            return np.where(null, nat, vals[ii]), np.where(null, False, bad[ii])
        if pa.types.is_timestamp(col.type):
            s = pd.Series(col.to_pandas())
        elif pa.types.is_integer(col.type) or pa.types.is_floating(col.type):  # epoch seconds
            return _parse_ts_objects(np.asarray(col.to_pylist(), dtype=object), tz, nat)
        else:
            arr = col.cast(pa.string()) if not pa.types.is_string(col.type) else col
            try:  # fast path: every timestamp carries an offset
                t = pc.cast(arr, pa.timestamp("ns", "UTC"))
                return _ns(t.to_numpy(zero_copy_only=False), nat), dst_bad
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
            if tz in ("UTC", "utc", "Etc/UTC"):
                try:  # fast path: all naive, interpreted as UTC
                    t = pc.cast(arr, pa.timestamp("ns"))
                    return _ns(t.to_numpy(zero_copy_only=False), nat), dst_bad
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    pass
            s = pd.Series(arr.to_pandas())
    else:
        s = col
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return _ns(s.dt.tz_convert("UTC").to_numpy("datetime64[ns]"), nat), dst_bad
    if pd.api.types.is_datetime64_dtype(s.dtype):
        loc = s.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        dst_bad = loc.isna().to_numpy() & s.notna().to_numpy()
        return _ns(loc.dt.tz_convert("UTC").to_numpy("datetime64[ns]"), nat), dst_bad
    return _parse_ts_objects(s.astype(object).to_numpy(), tz, nat)


def _ns(a: np.ndarray, nat: int) -> np.ndarray:
    if a.dtype.kind == "M":
        return a.astype("datetime64[ns]").view("int64")
    return np.full(len(a), nat, dtype=np.int64)


def _parse_ts_objects(vals: np.ndarray, tz: str, nat: int) -> tuple[np.ndarray, np.ndarray]:
    """Slow path for mixed input: numbers (epoch s), strings with or without offsets."""
    n = len(vals)
    out = np.full(n, nat, dtype=np.int64)
    dst_bad = np.zeros(n, dtype=bool)
    kinds = np.array(
        [
            2
            if isinstance(v, str)
            else 1
            if isinstance(v, int | float | np.number) and not isinstance(v, bool)
            else 3
            if isinstance(v, datetime)
            else 0
            for v in vals
        ],
        dtype=np.int8,
    )
    num = np.flatnonzero(kinds == 1)
    if len(num):
        sec = np.asarray(vals[num], dtype=float)
        ok = np.isfinite(sec) & (np.abs(sec) < 9.2e9)
        out[num[ok]] = np.round(sec[ok] * 1e9).astype(np.int64)
    dts = np.flatnonzero(kinds == 3)
    for i in dts:
        v = pd.Timestamp(vals[i])
        if v.tzinfo is None:
            v = v.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        if v is not pd.NaT:
            out[i] = v.tz_convert("UTC").value
    strs = np.flatnonzero(kinds == 2)
    if len(strs):
        s = pd.Series(vals[strs], dtype=object).str.strip()
        aware = s.str.contains(r"(?:[zZ]|[+-]\d\d(?::?\d\d)?)$", regex=True, na=False).to_numpy()
        if aware.any():
            t = pd.to_datetime(s[aware], format="ISO8601", utc=True, errors="coerce")
            out[strs[aware]] = _ns(t.to_numpy("datetime64[ns]"), nat)
        naive = ~aware
        if naive.any():
            t = pd.to_datetime(s[naive], format="ISO8601", errors="coerce")
            if isinstance(t.dtype, pd.DatetimeTZDtype):  # pragma: no cover - defensive
                t = t.dt.tz_convert("UTC").dt.tz_localize(None)
            loc = t.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
            out[strs[naive]] = _ns(loc.dt.tz_convert("UTC").to_numpy("datetime64[ns]"), nat)
            dst_bad[strs[naive]] = loc.isna().to_numpy() & t.notna().to_numpy()
    return out, dst_bad


def _parse_values(col: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values as float64, plus masks: not a number (text), and NaN spelled out ('nan')."""
    n = len(col)
    if _is_arrow(col):
        import pyarrow as pa
        import pyarrow.compute as pc

        if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
            v = col.cast(pa.float64()).to_numpy(zero_copy_only=False)
            v = np.asarray(v, dtype=float)
            return v, np.zeros(n, bool), np.isnan(v)
        try:
            v = np.asarray(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), float)
            return v, np.zeros(n, bool), np.isnan(v)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            col = pd.Series(col.to_pandas())
    s = col
    if pd.api.types.is_bool_dtype(s.dtype):
        return np.full(n, np.nan), np.ones(n, bool), np.zeros(n, bool)
    if pd.api.types.is_numeric_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        return v, np.zeros(n, bool), np.isnan(v)
    obj = s.astype(object).to_numpy()
    is_bool = np.array([isinstance(x, bool | np.bool_) for x in obj], dtype=bool)
    is_str = np.array([isinstance(x, str) for x in obj], dtype=bool)
    is_num = np.array(
        [isinstance(x, int | float | np.number) and not isinstance(x, bool) for x in obj],
        dtype=bool,
    )
    v = np.full(n, np.nan)
    if is_num.any():
        v[is_num] = np.asarray(obj[is_num], dtype=float)
    nan_word = np.zeros(n, bool)
    if is_str.any():
        st = pd.Series(obj[is_str], dtype=object).str.strip()
        v[is_str] = pd.to_numeric(st, errors="coerce").to_numpy(dtype=float)
        nan_word[is_str] = st.str.lower().isin(_NAN_WORDS).to_numpy()
    non_numeric = is_bool | ~(is_str | is_num | is_bool) | (is_str & np.isnan(v) & ~nan_word)
    nan_word |= is_num & np.isnan(v)
    return v, non_numeric, nan_word


def _mixed(v: list[Any]) -> bool:
    """True unless every element is a str (or every one an int/float), None allowed."""
    t = {type(x) for x in v}
    t.discard(type(None))
    return not (t <= {str} or t <= {int, float})


def _list_to_arrow(v: list[Any]) -> Any:
    import pyarrow as pa

    try:
        arr = pa.array(v, from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError, TypeError, ValueError):
        return pd.Series(v, dtype=object)
    if pa.types.is_null(arr.type):
        return pd.Series(v, dtype=object)
    return arr


def _arrowize(col: Any) -> Any:
    """A pandas object column holding only strings (or only numbers) as an Arrow array, so that
    the vectorised Arrow paths apply (JSON input); mixed columns stay as they are."""
    if col is None or _is_arrow(col) or col.dtype != object or len(col) == 0:
        return col
    import pyarrow as pa

    try:
        arr = pa.array(col.to_numpy(), from_pandas=False)
    except (
        pa.ArrowInvalid,
        pa.ArrowTypeError,
        pa.ArrowNotImplementedError,
        OverflowError,
        TypeError,
        ValueError,
    ):
        return col
    if (
        pa.types.is_string(arr.type)
        or pa.types.is_floating(arr.type)
        or pa.types.is_integer(arr.type)
    ):
        return arr
    return col
