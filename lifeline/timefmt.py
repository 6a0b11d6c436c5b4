"""Local times for people: one helper turns a UTC instant into the city's wall clock with its zone.

Stored data and the API keep UTC; tables, reviews and console output show local time, e.g.
``format_local("2026-07-15T03:10:00Z", "Europe/Berlin") == "2026-07-15 05:10 CEST"``. The zone is a
parameter (an IANA name such as ``Europe/Berlin`` or ``Asia/Shanghai``) so that each city passes its
own; :data:`lifeline.datasets.town.TIMEZONE` is the demo town's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from lifeline.errors import ConfigError


def zone(tz: str) -> ZoneInfo:
    """The ``ZoneInfo`` of an IANA zone name; ConfigError naming the zone if it is unknown."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {tz!r} (use an IANA name such as Asia/Shanghai)"
        ) from exc


def to_local(ts_utc: Any, tz: str) -> datetime | None:
    """``ts_utc`` (datetime, pandas Timestamp or ISO string; naive means UTC) in zone ``tz``.

    Returns None for a missing value (None, NaN, NaT, empty string).
    """
    if ts_utc is None or (isinstance(ts_utc, str) and not ts_utc.strip()):
        return None
    t = pd.Timestamp(ts_utc)
    if pd.isna(t):
        return None
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.to_pydatetime().astimezone(zone(tz))


def format_local(ts_utc: Any, tz: str, fmt: str = "%Y-%m-%d %H:%M", missing: str = "-") -> str:
    """``ts_utc`` as local wall-clock time in ``tz`` followed by the zone's abbreviation.

    ``fmt`` is a strftime pattern for the date and time part (default minutes); the zone
    abbreviation (``CEST``, ``CST``, …; the UTC offset where a zone has no abbreviation) is
    appended. A missing value gives ``missing``.
    """
    t = to_local(ts_utc, tz)
    if t is None:
        return missing
    abbr = t.tzname() or ""
    if not abbr or abbr[0] in "+-":  # zones without a letter abbreviation: UTC-03, UTC+05:30
        off = t.strftime("%z")
        abbr = f"UTC{off[:3]}" + (f":{off[3:]}" if off[3:] != "00" else "")
    return f"{t.strftime(fmt)} {abbr}"
