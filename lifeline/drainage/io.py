"""Readers and writers for ``lifeline drainage warn``: points, sensors, observations, nowcasts.

Formats (see docs/drainage.md):

* POINTS.csv: ``point_id,node,threshold_m,name`` — waterlogging points, the SWMM node whose ponding
  is the road's water depth, and the depth (m) at which the road is closed.
* observed/rain.csv: ``ts,gauge_id,rain_mm_h`` — mean intensity (mm/h) over the 5 min ending at ts.
* observed/levels.csv: ``ts,sensor_id,value``; observed/sensors.csv: ``sensor_id,node,quantity``
  with quantity ``level_m`` (depth above the manhole invert, m), ``depth_m`` (ponding on the road,
  m) or ``flow_m3s`` (flow in the conduit ``node``, m³/s).
* forecasts/forecast_YYYYmmddTHHMM.csv: ``ts,gauge_id,rain_mm_h`` — the nowcast issued at the time
  in the name, same convention as rain.csv.
* WARNINGS.csv: ``issued_at,point_id,expected_start,expected_peak_m``.

Empty values mean missing. Timestamps are local time ``YYYY-mm-dd HH:MM:SS`` without a zone.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lifeline.errors import InputError

QUANTITIES = ("level_m", "depth_m", "flow_m3s")
STEP = pd.Timedelta(minutes=5)
TS_FORMAT = "%Y-%m-%d %H:%M:%S"
WARNING_COLUMNS = ("issued_at", "point_id", "expected_start", "expected_peak_m")
_FORECAST_NAME = re.compile(r"^forecast_(\d{8}T\d{4})\.csv$")


@dataclass(frozen=True)
class Point:
    """A waterlogging point: the road at SWMM node ``node`` closes at ``threshold_m`` of water."""

    point_id: str
    node: str
    threshold_m: float
    name: str


@dataclass(frozen=True)
class Sensor:
    """A sensor on a node (``level_m``, ``depth_m``) or on a conduit (``flow_m3s``)."""

    sensor_id: str
    node: str
    quantity: str


@dataclass(frozen=True)
class Forecast:
    """A rainfall nowcast issued at ``issued_at``: ``rain`` (mm/h) indexed by ts, one column a gauge."""

    issued_at: pd.Timestamp
    rain: pd.DataFrame


def _read_rows(path: Path, what: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """Rows of a CSV file as dicts of stripped strings; errors name the file and what is missing."""
    if not path.is_file():
        raise InputError(f"{what} file not found", where=str(path))
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            if not header:
                raise InputError(
                    f"{what} file is empty (expected header {','.join(columns)})", str(path)
                )
            missing = [c for c in columns if c not in header]
            if missing:
                raise InputError(
                    f"missing column(s) {', '.join(missing)} (have: {', '.join(header)})",
                    where=f"{path}:1",
                )
            reader.fieldnames = header
            return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"cannot read {what} CSV: {exc}", where=str(path)) from exc


def _float(value: str, field: str, where: str, allow_empty: bool = False) -> float:
    if value == "" and allow_empty:
        return float("nan")
    try:
        out = float(value)
    except ValueError:
        raise InputError(f"field {field!r} is not a number: {value!r}", where=where) from None
    if not np.isfinite(out):
        raise InputError(f"field {field!r} is not a finite number: {value!r}", where=where)
    return out


def parse_ts(value: str, field: str, where: str) -> pd.Timestamp:
    """Parse a local timestamp ``YYYY-mm-dd HH:MM[:SS]`` (a ``T`` separator is accepted)."""
    try:
        ts = pd.Timestamp(value.replace("T", " "))
    except (ValueError, TypeError):
        ts = None
    if ts is None or ts is pd.NaT or pd.isna(ts):
        raise InputError(f"field {field!r} is not a timestamp: {value!r}", where=where)
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return ts


def read_points(path: str | Path) -> list[Point]:
    """Read POINTS.csv (``point_id,node,threshold_m,name``; threshold in m, > 0)."""
    path = Path(path)
    rows = _read_rows(path, "points", ("point_id", "node", "threshold_m"))
    out: list[Point] = []
    seen: set[str] = set()
    for i, r in enumerate(rows, start=2):
        where = f"{path}:{i}"
        if not r.get("point_id") or not r.get("node"):
            raise InputError("empty point_id or node", where=where)
        th = _float(r["threshold_m"], "threshold_m", where)
        if th <= 0:
            raise InputError(f"field 'threshold_m' must be > 0, got {th}", where=where)
        if r["point_id"] in seen:
            raise InputError(f"duplicate point_id {r['point_id']!r}", where=where)
        seen.add(r["point_id"])
        out.append(Point(r["point_id"], r["node"], th, r.get("name", "")))
    return out


def read_sensors(path: str | Path) -> list[Sensor]:
    """Read sensors.csv (``sensor_id,node,quantity``; quantity one of QUANTITIES)."""
    path = Path(path)
    rows = _read_rows(path, "sensors", ("sensor_id", "node", "quantity"))
    out: list[Sensor] = []
    seen: set[str] = set()
    for i, r in enumerate(rows, start=2):
        where = f"{path}:{i}"
        if not r["sensor_id"] or not r["node"]:
            raise InputError("empty sensor_id or node", where=where)
        if r["quantity"] not in QUANTITIES:
            raise InputError(
                f"field 'quantity' must be one of {', '.join(QUANTITIES)}, got {r['quantity']!r}",
                where=where,
            )
        if r["sensor_id"] in seen:
            raise InputError(f"duplicate sensor_id {r['sensor_id']!r}", where=where)
        seen.add(r["sensor_id"])
        out.append(Sensor(r["sensor_id"], r["node"], r["quantity"]))
    return out


def read_series(
    path: str | Path, what: str, key: str, value: str, required: bool = True
) -> pd.DataFrame:
    """Read a long ``ts,<key>,<value>`` CSV into a wide frame (index ts, one column per key).

    Empty values become NaN (missing); repeated (ts, key) rows keep the last one.
    """
    path = Path(path)
    if not required and not path.is_file():
        return pd.DataFrame(dtype=float)
    rows = _read_rows(path, what, ("ts", key, value))
    ts_list: list[pd.Timestamp] = []
    keys: list[str] = []
    vals: list[float] = []
    cache: dict[str, pd.Timestamp] = {}
    for i, r in enumerate(rows, start=2):
        where = f"{path}:{i}"
        raw_ts = r["ts"]
        ts = cache.get(raw_ts)
        if ts is None:
            ts = parse_ts(raw_ts, "ts", where)
            cache[raw_ts] = ts
        if not r[key]:
            raise InputError(f"empty {key}", where=where)
        ts_list.append(ts)
        keys.append(r[key])
        vals.append(_float(r[value], value, where, allow_empty=True))
    if not ts_list:
        return pd.DataFrame(dtype=float)
    long = pd.DataFrame({"ts": ts_list, "key": keys, "value": vals})
    long = long.drop_duplicates(["ts", "key"], keep="last")
    wide = long.pivot(index="ts", columns="key", values="value").sort_index()
    wide.columns.name = None
    wide.index.name = "ts"
    return wide.astype(float)


def read_rain(path: str | Path, required: bool = True) -> pd.DataFrame:
    """Read a rain file (observed or nowcast): wide frame of mm/h, index ts, columns gauge ids."""
    rain = read_series(path, "rain", "gauge_id", "rain_mm_h", required=required)
    if (rain < 0).any().any():
        bad = rain.stack()
        ts, gauge = bad[bad < 0].index[0]
        raise InputError(f"negative rain_mm_h at {ts} for gauge {gauge}", where=str(path))
    return rain


def list_forecasts(folder: str | Path) -> list[tuple[pd.Timestamp, Path]]:
    """The nowcast files in ``folder`` as (issue time, path), in time order.

    Files not named ``forecast_YYYYmmddTHHMM.csv`` are ignored. A missing folder means no
    nowcast was issued (a dry day); a path that is a file is an error.
    """
    folder = Path(folder)
    if not folder.exists():
        return []
    if not folder.is_dir():
        raise InputError("forecasts path is not a folder", where=str(folder))
    out: list[tuple[pd.Timestamp, Path]] = []
    for p in folder.iterdir():
        m = _FORECAST_NAME.match(p.name)
        if m:
            try:
                out.append((pd.Timestamp(dt.datetime.strptime(m.group(1), "%Y%m%dT%H%M")), p))
            except ValueError:
                raise InputError("bad issue time in forecast file name", where=str(p)) from None
    return sorted(out)


def read_forecast(issued_at: pd.Timestamp, path: Path) -> Forecast:
    """Read one nowcast file; rows with ts at or before the issue time are dropped."""
    rain = read_rain(path)
    rain = rain[rain.index > issued_at]
    return Forecast(issued_at, rain)


@dataclass(frozen=True)
class ObservedData:
    """Everything observed: ``rain`` (mm/h, wide by gauge), ``levels`` (wide by sensor), sensors."""

    rain: pd.DataFrame
    levels: pd.DataFrame
    sensors: tuple[Sensor, ...]

    def until(self, t: pd.Timestamp) -> ObservedData:
        """The observations with ts <= t (a copy: later rows are not reachable from it)."""
        return ObservedData(
            self.rain[self.rain.index <= t].copy(),
            self.levels[self.levels.index <= t].copy(),
            self.sensors,
        )


def read_observed(folder: str | Path) -> ObservedData:
    """Read the observed folder (rain.csv, levels.csv, sensors.csv); levels may be absent."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("observed folder not found", where=str(folder))
    sensors = read_sensors(folder / "sensors.csv")
    rain = read_rain(folder / "rain.csv")
    levels = read_series(folder / "levels.csv", "levels", "sensor_id", "value", required=False)
    known = {s.sensor_id for s in sensors}
    unknown = [c for c in levels.columns if c not in known]
    if unknown:
        raise InputError(
            f"sensor(s) {', '.join(unknown[:5])} not listed in sensors.csv",
            where=str(folder / "levels.csv"),
        )
    return ObservedData(rain, levels, tuple(sensors))


def fmt_ts(ts: pd.Timestamp) -> str:
    """Format a timestamp as the inputs do: ``YYYY-mm-dd HH:MM:SS``."""
    return pd.Timestamp(ts).strftime(TS_FORMAT)


def write_warnings(rows: Iterable[dict[str, object]], path: str | Path) -> int:
    """Write WARNINGS.csv (always with its header); returns the number of lines written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(WARNING_COLUMNS)
        for r in rows:
            w.writerow(
                [
                    fmt_ts(r["issued_at"]),  # type: ignore[arg-type]
                    r["point_id"],
                    fmt_ts(r["expected_start"]),  # type: ignore[arg-type]
                    f"{float(r['expected_peak_m']):.3f}",  # type: ignore[arg-type]
                ]
            )
            n += 1
    return n
