"""The ``known_leaks.csv`` extension table: the water leaks a utility knows of in its history.

Columns ``pipe,start`` (optional ``end,kind,peak,note``), one row per leak from the repair log:
``pipe`` a pipe of the EPANET model, ``start`` when the leak began (or was first seen), ``end``
when it was repaired (empty: still running), ``kind`` ``abrupt`` (a burst) or ``incipient`` (a
leak that grew; ``peak`` when it stopped growing), ``note`` free text. Times are ISO 8601; a time
with an offset (``2026-03-02T08:10+08:00``) is converted to UTC, a time without one is UTC
(data timestamps are UTC, docs/cities.md).

The live leak detector (``water-leaks``, :func:`lifeline.water.online.build`) learns on the
weeks of readings it first receives; the leaks of this table that fall in them are its labels,
as ``--history-truth`` is for ``lifeline water leaks``: it fits its model on the hours without
them and learns its thresholds so that they count as found, not as normal behaviour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from lifeline.model.package import Package
    from lifeline.water.scada import Leak

FILE = "known_leaks.csv"
COLUMNS = ["pipe", "start", "end", "kind", "peak", "note"]
KINDS = ("abrupt", "incipient")
#: the end of a leak still running (a repair time no data reaches)
OPEN_END = pd.Timestamp("2200-01-01")


def empty_leaks() -> pd.DataFrame:
    """A known-leaks table with no rows (times are naive UTC)."""
    return pd.DataFrame(
        {
            "pipe": pd.Series(dtype=object),
            "start": pd.Series(dtype="datetime64[ns]"),
            "end": pd.Series(dtype="datetime64[ns]"),
            "kind": pd.Series(dtype=object),
            "peak": pd.Series(dtype="datetime64[ns]"),
            "note": pd.Series(dtype=object),
        }
    )


def _time(text: Any) -> pd.Timestamp | None:
    """A cell as a naive UTC timestamp; None when empty; raises ValueError when not a time."""
    s = str(text or "").strip()
    if not s:
        return None
    t = pd.Timestamp(s)
    if t is pd.NaT:
        raise ValueError(s)
    return t.tz_convert("UTC").tz_localize(None) if t.tzinfo is not None else t


def convert_known_leaks(pkg: Package, models: dict[str, Any]) -> pd.DataFrame:
    """The package's known leaks, checked against the EPANET model (errors name file, line and
    field; a bad row is left out, the good ones kept)."""
    df = pkg.tables.get("known_leaks")
    if df is None:
        return empty_leaks()
    rep = pkg.report
    wn = models.get("water")
    if wn is None:
        rep.error(FILE, "known leaks need a water network (networks: water)")
        return empty_leaks()
    pipes = set(wn.pipe_name_list)
    rows = []
    for r in df.to_dict("records"):
        line = int(r["_line"])
        pipe = str(r.get("pipe") or "")
        if pipe not in pipes:
            rep.error(FILE, f"pipe {pipe!r} is not a pipe of the EPANET model", line, "pipe")
            continue
        times: dict[str, pd.Timestamp | None] = {}
        for col in ("start", "end", "peak"):
            try:
                times[col] = _time(r.get(col))
            except ValueError:
                rep.error(
                    FILE,
                    f"not a time: {r.get(col)!r} (ISO 8601, e.g. 2026-03-02T08:10:00+08:00)",
                    line,
                    col,
                )
        if len(times) < 3:  # a cell that is not a time
            continue
        start, end, peak = times["start"], times["end"], times["peak"]
        if start is None:
            rep.error(FILE, "empty start: when did the leak begin?", line, "start")
            continue
        if end is not None and end < start:
            rep.error(FILE, f"end {end} is before start {start}", line, "end")
            continue
        if peak is not None and not (start <= peak <= (end or OPEN_END)):
            rep.error(FILE, f"peak {peak} is not between start and end", line, "peak")
            continue
        kind = str(r.get("kind") or "").strip().lower()
        if kind and kind not in KINDS:
            rep.error(
                FILE, f"kind must be {' or '.join(KINDS)} (or empty), got {kind!r}", line, "kind"
            )
            continue
        rows.append(
            {
                "pipe": pipe,
                "start": start,
                "end": end if end is not None else pd.NaT,
                "kind": kind,
                "peak": peak if peak is not None else pd.NaT,
                "note": str(r.get("note") or ""),
            }
        )
    if not rows:
        return empty_leaks()
    return pd.DataFrame(rows, columns=COLUMNS).astype(
        {"start": "datetime64[ns]", "end": "datetime64[ns]", "peak": "datetime64[ns]"}
    )


def as_labels(table: pd.DataFrame) -> list[Leak]:
    """The rows of a known-leaks table as the leak detector's labels
    (:class:`lifeline.water.scada.Leak`; a leak still running ends at :data:`OPEN_END`)."""
    from lifeline.water.scada import Leak

    out = []
    for r in table.itertuples(index=False):
        out.append(
            Leak(
                str(r.pipe),
                pd.Timestamp(r.start),
                OPEN_END if pd.isna(r.end) else pd.Timestamp(r.end),
                kind=str(r.kind or ""),
                peak=None if pd.isna(r.peak) else pd.Timestamp(r.peak),
            )
        )
    return out


def as_csv_table(table: pd.DataFrame) -> pd.DataFrame:
    """A known-leaks table in the file's form (ISO 8601 UTC times, empty when unknown)."""

    def iso(s: pd.Series) -> pd.Series:
        return s.map(lambda t: "" if pd.isna(t) else pd.Timestamp(t).isoformat() + "Z")

    out = table[COLUMNS].copy()
    for col in ("start", "end", "peak"):
        out[col] = iso(table[col])
    return out.reset_index(drop=True)
