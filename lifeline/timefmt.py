"""Times shown to people: UTC inside, the city's local time with its zone outside."""

from __future__ import annotations

from typing import Any

import pandas as pd


def format_local(ts: Any, tz: str, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """``ts`` (a UTC or aware timestamp, ISO text or datetime) in timezone ``tz``, formatted with
    ``fmt``; e.g. ``format_local("2026-07-15T03:10Z", "Asia/Shanghai")`` -> ``2026-07-15 11:10 CST``.
    Empty text for a missing time."""
    if ts is None or ts == "" or (not isinstance(ts, str) and pd.isna(ts)):
        return ""
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t
    return t.tz_convert(tz).strftime(fmt)
