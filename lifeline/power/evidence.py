"""Read outage evidence: protection trips, fault passage indicators, meter and customer events.

``EVENTS.csv`` has the columns ``ts,kind,ref``: ``kind`` is one of ``breaker_trip`` (ref: the
switch protection opened), ``fpi`` (switch whose fault passage indicator saw fault current),
``last_gasp`` (load whose meter lost supply), ``restore`` (load whose supply came back) and
``call`` (load of a customer who phoned: no power). ``FPI.csv`` lists, in a column ``switch``,
the switches fitted with an indicator. Errors name the file, line and field.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from lifeline.errors import InputError

KINDS = ("breaker_trip", "fpi", "last_gasp", "restore", "call")


@dataclass
class Event:
    """One evidence record: UTC time, kind and the referenced switch or load index."""

    ts: datetime
    kind: str
    ref: int


@dataclass
class Evidence:
    """All evidence of one incident, grouped by kind.

    Attributes:
        events: every event in time order.
        trips: switches opened by protection, in order of first trip.
        fpi_fired: switches whose indicator reported fault current.
        fpi_installed: switches fitted with an indicator, or None when unknown.
        first_ts / last_kind: per load, the first outage report time and its latest event kind.
    """

    events: list[Event] = field(default_factory=list)
    trips: list[int] = field(default_factory=list)
    fpi_fired: set[int] = field(default_factory=set)
    fpi_installed: set[int] | None = None

    def of_kind(self, kind: str) -> list[Event]:
        """Events of one kind, in time order."""
        return [e for e in self.events if e.kind == kind]

    def reported_out(self) -> dict[int, datetime]:
        """Loads reported without supply (last_gasp or call) -> earliest report time (UTC)."""
        out: dict[int, datetime] = {}
        for e in self.events:
            if e.kind in ("last_gasp", "call") and e.ref not in out:
                out[e.ref] = e.ts
        return out

    def restored(self) -> set[int]:
        """Loads whose latest event is ``restore`` (supply came back after an outage report)."""
        latest: dict[int, str] = {}
        for e in self.events:
            if e.kind in ("last_gasp", "call", "restore"):
                latest[e.ref] = e.kind
        return {i for i, k in latest.items() if k == "restore"}


def _parse_ts(text: str, where: str) -> datetime:
    try:
        ts = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"field 'ts': not an ISO timestamp: {text!r}", where) from exc
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _parse_int(text: str, field_name: str, where: str) -> int:
    try:
        val = float(text.strip())
    except ValueError as exc:
        raise InputError(f"field {field_name!r}: not an index: {text!r}", where) from exc
    if val != int(val) or val < 0:
        raise InputError(f"field {field_name!r}: not a non-negative integer index: {text!r}", where)
    return int(val)


def read_events(path: Path) -> list[Event]:
    """Read ``EVENTS.csv`` (``ts,kind,ref``; timestamps without offset are taken as UTC)."""
    if not path.is_file():
        raise InputError("events file not found", str(path))
    events: list[Event] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise InputError("empty file: expected header ts,kind,ref", str(path))
        cols = [h.strip().lower() for h in header]
        missing = [c for c in ("ts", "kind", "ref") if c not in cols]
        if missing:
            raise InputError(
                f"missing column(s) {', '.join(missing)}; header is {header}", f"{path}:1"
            )
        its, ikind, iref = cols.index("ts"), cols.index("kind"), cols.index("ref")
        for lineno, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            where = f"{path}:{lineno}"
            if len(row) < len(cols):
                raise InputError(f"expected {len(cols)} fields, got {len(row)}", where)
            kind = row[ikind].strip().lower()
            if kind not in KINDS:
                raise InputError(
                    f"field 'kind': unknown kind {kind!r} (expected one of {', '.join(KINDS)})",
                    where,
                )
            events.append(
                Event(_parse_ts(row[its], where), kind, _parse_int(row[iref], "ref", where))
            )
    events.sort(key=lambda e: e.ts)
    return events


def read_fpi_installed(path: Path) -> set[int]:
    """Read ``FPI.csv``: one column ``switch`` with the switches fitted with an indicator."""
    if not path.is_file():
        raise InputError("FPI file not found", str(path))
    out: set[int] = set()
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        cols = [h.strip().lower() for h in header or []]
        if "switch" not in cols:
            raise InputError(f"missing column 'switch'; header is {header}", f"{path}:1")
        isw = cols.index("switch")
        for lineno, row in enumerate(reader, start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) <= isw:
                raise InputError("missing field 'switch'", f"{path}:{lineno}")
            out.add(_parse_int(row[isw], "switch", f"{path}:{lineno}"))
    return out


def build_evidence(events: list[Event], fpi_installed: set[int] | None) -> Evidence:
    """Group ``events`` into an :class:`Evidence` (trips in order, fired indicators)."""
    trips: list[int] = []
    for e in events:
        if e.kind == "breaker_trip" and e.ref not in trips:
            trips.append(e.ref)
    fired = {e.ref for e in events if e.kind == "fpi"}
    return Evidence(events=events, trips=trips, fpi_fired=fired, fpi_installed=fpi_installed)
