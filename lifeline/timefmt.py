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


def parse_day(text: str, option: str) -> pd.Timestamp | None:
    """A ``YYYY-MM-DD`` (or ISO 8601) option as a UTC timestamp; None for empty text; an
    InputError naming ``option`` for anything else."""
    from lifeline.errors import InputError

    if not text:
        return None
    try:
        t = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", where=option) from exc
    if t is pd.NaT:
        raise InputError(f"{text!r} is not a date (YYYY-MM-DD)", where=option)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
