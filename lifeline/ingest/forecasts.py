"""Rainfall nowcasts into the live loop: from files in a watched folder or ``POST /api/forecasts``.

A nowcast is issued at ``issued_at`` and gives, per rain gauge, the mean intensity (mm/h) over the
5 minutes ending at each ``ts`` for the next 2 h (the format of ``lifeline drainage warn``:
``forecast_YYYYmmddTHHMM.csv`` with ``ts,gauge_id,rain_mm_h``, local time of the city without a
zone; the issue time is in the file name). Rows are validated (known gauge, finite rain ≥ 0,
``ts`` after the issue time, not issued in the future, not late for the engine), stored in the
``forecast`` table (idempotent on issue time, gauge and ts) and handed to the engine
(:meth:`lifeline.engine.Engine.submit_forecasts`), whose event time for a nowcast is its issue
time. :class:`ForecastFolder` picks up new files in a folder (``lifeline serve`` polls
``LIFELINE_FORECAST_DIR`` when it is set).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.errors import InputError

if TYPE_CHECKING:
    from lifeline.model.city import City
    from lifeline.store import Store

_NAME = re.compile(r"^forecast_(\d{8}T\d{4})\.csv$")


def city_gauges(city: City) -> set[str]:
    """The rain gauges a nowcast may name: those of the city's SWMM model, else the elements
    of its ``rain_mm_h`` sensors."""
    out: set[str] = set()
    if city.has("drainage"):
        from lifeline.drainage.elements import read_elements

        out |= set(read_elements(city.drainage_inp_path).gauges)
    s = city.sensors
    if len(s):
        el = s.loc[s.quantity.astype(str) == "rain_mm_h", "element"].fillna("").astype(str)
        out |= {e.split(":", 1)[1] for e in el if e.startswith("gauge:")}
    return out


@dataclass
class ForecastReport:
    """What one ingestion stored and rejected (reason -> rows)."""

    stored: int = 0
    issues: list[str] = field(default_factory=list)
    rejected: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"stored": self.stored, "issues": self.issues, "rejected": self.rejected}


def validate_forecast(
    rows: pd.DataFrame,
    gauges: set[str],
    now: pd.Timestamp | None = None,
    not_before: pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Check nowcast rows (``issued_at``, ``ts`` UTC, ``gauge_id``, ``rain_mm_h``); returns the
    good rows and the rejected counts by reason (``unknown_gauge``, ``non_finite``, ``negative``,
    ``not_after_issue``, ``future_issue``, ``late``)."""
    df = rows.copy()
    df["issued_at"] = pd.to_datetime(df["issued_at"], utc=True)
    df["ts"] = pd.to_datetime(df["ts"], utc=True)
    df["gauge_id"] = df["gauge_id"].astype(str)
    df["rain_mm_h"] = pd.to_numeric(df["rain_mm_h"], errors="coerce")
    now = now if now is not None else pd.Timestamp.now("UTC")
    reasons = {
        "unknown_gauge": ~df["gauge_id"].isin(gauges) if gauges else df["gauge_id"] == "",
        "non_finite": ~np.isfinite(df["rain_mm_h"].to_numpy(float)),
        "negative": df["rain_mm_h"] < 0,
        "not_after_issue": df["ts"] <= df["issued_at"],
        "future_issue": df["issued_at"] > now + pd.Timedelta(minutes=5),
        "late": df["issued_at"] < not_before
        if not_before is not None
        else pd.Series(False, index=df.index),
    }
    bad = pd.Series(False, index=df.index)
    counts: dict[str, int] = {}
    for reason, mask in reasons.items():
        m = pd.Series(np.asarray(mask, dtype=bool), index=df.index) & ~bad
        if m.any():
            counts[reason] = int(m.sum())
        bad |= m
    return df[~bad].reset_index(drop=True), counts


def ingest_forecasts(
    store: Store,
    rows: pd.DataFrame,
    gauges: set[str],
    feed: Any = None,
    source: str = "http",
    now: pd.Timestamp | None = None,
) -> ForecastReport:
    """Validate, store and hand nowcast rows to ``feed`` (an engine or its runner)."""
    nb = feed.not_before() if feed is not None and hasattr(feed, "not_before") else None
    good, rejected = validate_forecast(rows, gauges, now, nb)
    rep = ForecastReport(rejected=rejected)
    if len(good):
        good["source"] = source
        rep.stored = store.add_forecasts(good)
        if feed is not None:
            feed.submit_forecasts(good)
    return rep


def issue_time_of(path: Path, timezone: str) -> pd.Timestamp:
    """The issue time (UTC) in a ``forecast_YYYYmmddTHHMM.csv`` file name (city local time)."""
    m = _NAME.match(path.name)
    if not m:
        raise InputError("not a nowcast file name (forecast_YYYYmmddTHHMM.csv)", where=str(path))
    try:
        local = pd.Timestamp(pd.to_datetime(m.group(1), format="%Y%m%dT%H%M"))
    except ValueError as exc:
        raise InputError("bad issue time in the file name", where=str(path)) from exc
    return local.tz_localize(timezone).tz_convert("UTC")


def read_forecast_file(path: str | Path, timezone: str) -> pd.DataFrame:
    """One nowcast file as FORECAST rows (times converted from the city's local time to UTC);
    errors name the file and line."""
    from lifeline.drainage.io import read_rain

    path = Path(path)
    issued = issue_time_of(path, timezone)
    wide = read_rain(path)
    if wide.empty:
        return pd.DataFrame(columns=["issued_at", "ts", "gauge_id", "rain_mm_h"])
    long = wide.stack(future_stack=True).rename("rain_mm_h").reset_index()
    long.columns = ["ts", "gauge_id", "rain_mm_h"]
    long = long.dropna(subset=["rain_mm_h"])
    long["ts"] = pd.to_datetime(long["ts"]).dt.tz_localize(timezone).dt.tz_convert("UTC")
    long["issued_at"] = issued
    return long[["issued_at", "ts", "gauge_id", "rain_mm_h"]]


class ForecastFolder:
    """New nowcast files in a folder, in issue order; each file is taken once."""

    def __init__(self, folder: str | Path, timezone: str) -> None:
        self.folder = Path(folder)
        self.timezone = timezone
        self.seen: set[str] = set()

    def poll(self) -> list[tuple[Path, pd.DataFrame]]:
        """The files not taken before, read (a file that cannot be read yet — still being
        written — is retried at the next poll)."""
        if not self.folder.is_dir():
            return []
        out = []
        for p in sorted(self.folder.iterdir()):
            if p.name in self.seen or not _NAME.match(p.name):
                continue
            try:
                out.append((p, read_forecast_file(p, self.timezone)))
            except InputError:
                continue
            self.seen.add(p.name)
        return out

    def ingest(self, store: Store, gauges: set[str], feed: Any = None) -> ForecastReport:
        """Poll and ingest every new file; one report over them."""
        total = ForecastReport()
        for p, rows in self.poll():
            rep = ingest_forecasts(store, rows, gauges, feed, source=f"file:{p.name}")
            total.stored += rep.stored
            for k, v in rep.rejected.items():
                total.rejected[k] = total.rejected.get(k, 0) + v
        return total
