"""Readers for the gas inputs: sensor layout, readings and valve layer, with clear errors.

Formats (see docs/gas.md):

* SENSORS.csv: ``sensor_id,kind,junction,x,y`` with ``kind`` = ``pressure_bar`` (on gas junction
  ``junction``) or ``methane_pct_lel`` (in a manhole of another utility at ``x,y``; ``junction``
  empty). Coordinates in the network's CRS, metres.
* READINGS.csv (or .csv.gz): ``ts,sensor_id,value``; ``ts`` local time ``YYYY-MM-DD HH:MM:SS``.
  Pressure in bar gauge, methane in %LEL.
* VALVES.csv: ``valve_id,pipe,junction`` — a valve on pipe ``pipe`` next to junction ``junction``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lifeline.errors import InputError

PRESSURE_KIND = "pressure_bar"
METHANE_KIND = "methane_pct_lel"
SENSOR_KINDS = (PRESSURE_KIND, METHANE_KIND)


def _read_csv(path: Path, what: str) -> pd.DataFrame:
    if not path.exists():
        raise InputError(f"{what} file not found", where=str(path))
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as exc:
        raise InputError(f"cannot parse {what} CSV: {exc}", where=str(path)) from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{what} file is empty", where=str(path)) from exc


def _require_columns(df: pd.DataFrame, cols: tuple[str, ...], path: Path) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)} (have: {', '.join(df.columns)})",
            where=f"{path}:1",
        )


def _to_float(df: pd.DataFrame, col: str, path: Path, allow_empty: bool = False) -> np.ndarray:
    raw = df[col].astype(str).str.strip()
    vals = pd.to_numeric(raw.replace("", np.nan), errors="coerce")
    bad = vals.isna() & ~((raw == "") & allow_empty)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(f"field {col!r} is not a number: {raw.iloc[i]!r}", where=f"{path}:{i + 2}")
    return vals.to_numpy(dtype=float)


def read_sensors(path: str | Path) -> pd.DataFrame:
    """Read SENSORS.csv into ``sensor_id, kind, junction (Int64, <NA> for manholes), x, y`` (m)."""
    path = Path(path)
    df = _read_csv(path, "sensors")
    _require_columns(df, ("sensor_id", "kind", "junction", "x", "y"), path)
    if df.empty:
        raise InputError("no sensors listed", where=str(path))
    df["sensor_id"] = df["sensor_id"].str.strip()
    df["kind"] = df["kind"].str.strip()
    bad_kind = ~df["kind"].isin(SENSOR_KINDS)
    if bad_kind.any():
        i = int(np.flatnonzero(bad_kind.to_numpy())[0])
        raise InputError(
            f"field 'kind' must be one of {SENSOR_KINDS}, got {df['kind'].iloc[i]!r}",
            where=f"{path}:{i + 2}",
        )
    dup = df["sensor_id"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(
            f"duplicate sensor_id {df['sensor_id'].iloc[i]!r}", where=f"{path}:{i + 2}"
        )
    x = _to_float(df, "x", path)
    y = _to_float(df, "y", path)
    junction = _to_float(df, "junction", path, allow_empty=True)
    is_p = (df["kind"] == PRESSURE_KIND).to_numpy()
    missing_j = is_p & np.isnan(junction)
    if missing_j.any():
        i = int(np.flatnonzero(missing_j)[0])
        raise InputError("pressure sensor needs a 'junction'", where=f"{path}:{i + 2}")
    out = pd.DataFrame(
        {
            "sensor_id": df["sensor_id"].astype(str),
            "kind": df["kind"].astype(str),
            "junction": pd.array(
                [None if np.isnan(v) else int(v) for v in junction], dtype="Int64"
            ),
            "x": x,
            "y": y,
        }
    )
    return out


def read_readings(path: str | Path) -> pd.DataFrame:
    """Read READINGS.csv or .csv.gz into ``ts`` (naive local datetime), ``sensor_id``, ``value``.

    Rows with an empty value are dropped (a missing reading); an unparsable one is an error.
    """
    path = Path(path)
    df = _read_csv(path, "readings")
    _require_columns(df, ("ts", "sensor_id", "value"), path)
    if df.empty:
        raise InputError("no readings", where=str(path))
    ts = pd.to_datetime(df["ts"].str.strip(), errors="coerce", format="mixed")
    if ts.isna().any():
        i = int(np.flatnonzero(ts.isna().to_numpy())[0])
        raise InputError(
            f"field 'ts' is not a timestamp: {df['ts'].iloc[i]!r}", where=f"{path}:{i + 2}"
        )
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    value = _to_float(df, "value", path, allow_empty=True)
    out = pd.DataFrame({"ts": ts, "sensor_id": df["sensor_id"].str.strip(), "value": value})
    out = out[np.isfinite(out["value"].to_numpy())]
    return out.sort_values(["ts", "sensor_id"], kind="stable").reset_index(drop=True)


def read_valves(path: str | Path) -> pd.DataFrame:
    """Read VALVES.csv (``valve_id,pipe,junction``; pipe and junction are pandapipes indices)."""
    path = Path(path)
    df = _read_csv(path, "valves")
    _require_columns(df, ("valve_id", "pipe", "junction"), path)
    pipe = _to_float(df, "pipe", path)
    junction = _to_float(df, "junction", path)
    return pd.DataFrame(
        {
            "valve_id": df["valve_id"].astype(str).str.strip(),
            "pipe": pipe.astype(int),
            "junction": junction.astype(int),
        }
    )


def check_sensors_on_network(sensors: pd.DataFrame, n_junctions: set[int], path: str) -> None:
    """Raise InputError if a pressure sensor's junction is not a junction of the network."""
    p = sensors[sensors["kind"] == PRESSURE_KIND]
    for i, row in p.iterrows():
        if int(row["junction"]) not in n_junctions:
            raise InputError(
                f"pressure sensor {row['sensor_id']} is on junction {row['junction']}, which the network does not have",
                where=f"{path}:{int(i) + 2}",  # type: ignore[call-overload]
            )
