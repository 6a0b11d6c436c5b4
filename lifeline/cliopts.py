"""Parsing of command-line option values that typer cannot check by type: times, days, periods.

Each parser raises :class:`lifeline.errors.InputError` naming the option (``--at``, ``--date``…)
and the accepted form, so the CLI prints one line and exits 2 instead of a traceback.
Numbers are checked by typer itself (``min=``/``max=`` on the option).
"""

from __future__ import annotations

from datetime import UTC, datetime

from lifeline.errors import InputError

_TIME_FORM = "ISO 8601 such as 2026-07-15T09:30:00Z or 2026-07-15 11:30+02:00 (UTC if no zone)"


def parse_time(value: str, option: str) -> datetime:
    """An ISO 8601 date-time (UTC when it has no zone) as an aware UTC datetime.

    Relative words (``yesterday``), a time without a date (``09:30``) and impossible times
    (``09:60``) are refused with an InputError naming ``option``; a date alone means its
    midnight UTC.
    """
    text = value.strip()
    try:
        t = datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
    except ValueError as exc:
        raise InputError(
            f"cannot read {value!r} as a time ({exc}); use {_TIME_FORM}", where=option
        ) from None
    return (t.replace(tzinfo=UTC) if t.tzinfo is None else t).astimezone(UTC)


def parse_day(value: str, option: str) -> str:
    """A calendar day ``YYYY-MM-DD`` (checked: month 1–12, a real day); returns it normalised."""
    try:
        return datetime.strptime(value.strip(), "%Y-%m-%d").date().isoformat()
    except ValueError as exc:
        raise InputError(
            f"cannot read {value!r} as a day ({exc}); use YYYY-MM-DD, e.g. 2026-07-15", where=option
        ) from None


def parse_period(value: str, option: str) -> str:
    """A pandas period alias for grouping (``D``, ``W``, ``M``, ``2h``…), checked."""
    import pandas as pd

    try:
        pd.Period("2026-01-01", freq=value)
    except (ValueError, TypeError):
        raise InputError(
            f"{value!r} is not a period; use a pandas period alias: D (day), W (week), M (month)",
            where=option,
        ) from None
    return value
