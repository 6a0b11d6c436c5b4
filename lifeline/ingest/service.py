"""Ingestion into the store: validate a batch, write the good readings, keep every rejected
record with its reason and source, and count what happened (:class:`IngestReport`)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.errors import IngestError, InputError
from lifeline.ingest.validate import (
    FUTURE_TOLERANCE,
    Reason,
    SensorIndex,
    Validated,
    make_rejected,
    validate_batch,
)

if TYPE_CHECKING:
    from lifeline.store import Store

#: Rows validated and written per step (bounded memory, progress granularity).
CHUNK_ROWS = 1_000_000


@dataclass
class IngestReport:
    """What an ingestion did: readings stored, rejected records per reason and per utility."""

    stored: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    per_utility: dict[str, Counter[str]] = field(default_factory=dict)  # utility -> stored/rejected
    sources: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: files unusable as a whole: ``{"where": file[:line], "reason": …}`` (also one rejected record)
    file_errors: list[dict[str, str]] = field(default_factory=list)

    @property
    def total_rejected(self) -> int:
        """All rejected records."""
        return int(sum(self.rejected.values()))

    @property
    def received(self) -> int:
        """Records seen (stored + rejected)."""
        return self.stored + self.total_rejected

    def merge(self, other: IngestReport) -> IngestReport:
        """Add ``other``'s counts to this report (in place) and return it."""
        self.stored += other.stored
        self.rejected.update(other.rejected)
        for u, c in other.per_utility.items():
            self.per_utility.setdefault(u, Counter()).update(c)
        self.sources.extend(other.sources)
        self.seconds += other.seconds
        self.file_errors.extend(other.file_errors)
        return self

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able form."""
        return {
            "stored": self.stored,
            "rejected": dict(sorted(self.rejected.items())),
            "rejected_total": self.total_rejected,
            "per_utility": {u: dict(c) for u, c in sorted(self.per_utility.items())},
            "sources": list(self.sources),
            "seconds": round(self.seconds, 3),
            "file_errors": [dict(e) for e in self.file_errors],
        }

    def rich_tables(self) -> list[Any]:
        """Rich tables: counts per reason and per utility."""
        from rich.table import Table

        t = Table(title="ingestion", show_footer=False)
        t.add_column("outcome")
        t.add_column("records", justify="right")
        t.add_row("stored", f"{self.stored:,}")
        for r in Reason:
            if self.rejected.get(r.value):
                t.add_row(f"rejected: {r.value}", f"{self.rejected[r.value]:,}")
        t.add_row("[bold]rejected total[/bold]", f"{self.total_rejected:,}")
        u = Table(title="per utility")
        u.add_column("utility")
        u.add_column("stored", justify="right")
        u.add_column("rejected", justify="right")
        for name, c in sorted(self.per_utility.items()):
            u.add_row(name or "(unknown)", f"{c.get('stored', 0):,}", f"{c.get('rejected', 0):,}")
        return [t, u]


def sensor_index(store: Store | None, sensors: pd.DataFrame | SensorIndex | None) -> SensorIndex:
    """The sensor table to validate against: ``sensors`` if given, else the store's."""
    if isinstance(sensors, SensorIndex):
        return sensors
    if sensors is None:
        if store is None:
            raise IngestError("no sensor table given and no store to read it from", where="sensors")
        sensors = store.read_table("sensor")
    index = SensorIndex(sensors)
    if len(index) == 0:
        where = repr(store) if store is not None else "sensors"
        raise IngestError(
            "the sensor table is empty: load the demo town into the store first or pass --sensors FILE.csv",
            where=where,
        )
    return index


def _account(report: IngestReport, res: Validated, index: SensorIndex, stored: int) -> None:
    report.stored += stored
    report.rejected.update(res.rejected["reason"].astype(str).tolist())
    if len(res.good):
        sid = res.good["sensor_id"]
        if isinstance(sid.dtype, pd.CategoricalDtype):
            codes = index.codes(sid)
        else:
            codes = index.ids.get_indexer(sid.astype(str).to_numpy(dtype=object))
        per_sensor = np.bincount(codes[codes >= 0], minlength=len(index))
        util = pd.Series(per_sensor).groupby(index.utility).sum()
        for u, n in util.items():
            if n:
                report.per_utility.setdefault(str(u), Counter())["stored"] += int(n)
    if len(res.rejected):
        codes = index.ids.get_indexer(res.rejected_sensor)
        utils = np.where(codes >= 0, index.utility[np.maximum(codes, 0)], "")
        for u, n in pd.Series(utils).value_counts().items():
            report.per_utility.setdefault(str(u), Counter())["rejected"] += int(n)


def ingest_validated_batch(
    store: Store,
    records: Any,
    index: SensorIndex,
    *,
    source: str,
    now: datetime | pd.Timestamp | None = None,
    tz: str = "UTC",
    fix_rejected: Callable[[Validated], pd.DataFrame] | None = None,
    extra_rejected: pd.DataFrame | None = None,
    report: IngestReport | None = None,
    feed: Any = None,
) -> IngestReport:
    """Validate one batch against ``index``, write good readings and rejected records to
    ``store`` and add the counts to ``report`` (a new one if None). ``feed`` (the live engine,
    :class:`lifeline.engine.Engine`) bounds late data and receives the stored readings."""
    rep = report if report is not None else IngestReport()
    res = validate_batch(
        records,
        index,
        now,
        store.existing_readings_mask,
        source=source,
        tz=tz,
        not_before=feed.not_before() if feed is not None else None,
    )
    if fix_rejected is not None and len(res.rejected):
        res.rejected = fix_rejected(res)
    stored = store.write_readings(res.good, assume_new=True) if len(res.good) else 0
    # a reading that raced in between check and insert is a duplicate, not a loss
    if stored < len(res.good):
        rep.rejected[Reason.DUPLICATE.value] += len(res.good) - stored
    if len(res.rejected):
        store.write_rejected(res.rejected)
    if extra_rejected is not None and len(extra_rejected):
        store.write_rejected(extra_rejected)
        rep.rejected.update(extra_rejected["reason"].astype(str).tolist())
        rep.per_utility.setdefault("", Counter())["rejected"] += len(extra_rejected)
    _account(rep, res, index, stored)
    if feed is not None and len(res.good):
        feed.submit_readings(res.good)
    return rep


def _as_table(df_or_records: Any) -> Any:
    if isinstance(df_or_records, pd.DataFrame) or type(df_or_records).__module__.startswith(
        "pyarrow"
    ):
        return df_or_records
    if isinstance(df_or_records, Sequence | Iterable):
        rows = list(df_or_records)
        if all(isinstance(r, dict) for r in rows):  # keep absent keys as None (missing_field)
            cols = ("sensor_id", "ts", "value", "quality")
            return pd.DataFrame(
                {c: pd.Series([r.get(c) for r in rows], dtype=object) for c in cols}
            )
        return pd.DataFrame(rows)
    raise IngestError(f"cannot ingest a {type(df_or_records).__name__}", where="records")


def _slice(records: Any, start: int, stop: int) -> Any:
    if isinstance(records, pd.DataFrame):
        return records.iloc[start:stop]
    return records.slice(start, stop - start)


def ingest_frame(
    store: Store,
    df_or_records: Any,
    source: str,
    sensors: pd.DataFrame | SensorIndex | None = None,
    *,
    now: datetime | pd.Timestamp | None = None,
    tz: str = "UTC",
    progress: bool | None = None,
    chunk_rows: int = CHUNK_ROWS,
    fix_rejected: Callable[[Validated], pd.DataFrame] | None = None,
    extra_rejected: pd.DataFrame | None = None,
    feed: Any = None,
) -> IngestReport:
    """Validate and store readings given in-process (a DataFrame / Arrow table with sensor_id,
    ts, value[, quality] or a list of such dicts), labelled ``source`` for rejected records.

    ``sensors`` defaults to the store's sensor table; ``now`` (default: the wall clock) bounds
    future timestamps (tolerance :data:`~lifeline.ingest.validate.FUTURE_TOLERANCE`); ``tz``
    is the time zone of naive timestamps. Long inputs show a progress bar (``progress`` None:
    when more than one chunk). ``feed``: the live engine that scores what is stored (see
    :func:`ingest_validated_batch`). Returns an :class:`IngestReport`.
    """
    t0 = time.perf_counter()
    index = sensor_index(store, sensors)
    records = _as_table(df_or_records)
    n = len(records) if isinstance(records, pd.DataFrame) else records.num_rows
    report = IngestReport(sources=[source])
    starts = list(range(0, max(n, 1), chunk_rows))
    show = progress if progress is not None else len(starts) > 1
    if show:
        from lifeline.progress import make_progress

        with make_progress() as bar:
            task = bar.add_task(f"ingest {source}", total=n)
            for i, s in enumerate(starts):
                chunk = _slice(records, s, min(s + chunk_rows, n))
                ingest_validated_batch(
                    store,
                    chunk,
                    index,
                    source=source,
                    now=now,
                    tz=tz,
                    fix_rejected=fix_rejected,
                    extra_rejected=extra_rejected if i == 0 else None,
                    report=report,
                    feed=feed,
                )
                bar.advance(task, min(chunk_rows, n - s))
    else:
        for i, s in enumerate(starts):
            chunk = _slice(records, s, min(s + chunk_rows, n))
            ingest_validated_batch(
                store,
                chunk,
                index,
                source=source,
                now=now,
                tz=tz,
                fix_rejected=fix_rejected,
                extra_rejected=extra_rejected if i == 0 else None,
                report=report,
                feed=feed,
            )
    report.seconds = time.perf_counter() - t0
    return report


def _head(path: Path, limit: int = 500) -> str:
    try:
        with open(path, "rb") as f:
            return f.read(limit).decode("utf-8", errors="replace").split("\n", 1)[0]
    except OSError:
        return ""


def ingest_files(
    store: Store,
    paths: Sequence[str | Path],
    fmt: str = "auto",
    sensors: pd.DataFrame | SensorIndex | None = None,
    *,
    now: datetime | pd.Timestamp | None = None,
    tz: str = "UTC",
    progress: bool | None = None,
) -> IngestReport:
    """Ingest CSV / CSV.gz / Parquet files (long or BattLeDIM wide layout) into ``store``.

    Rows that cannot be split into fields become ``malformed_row`` records with their
    ``file:line``; the others go through the shared validator. A file that cannot be used at all
    (empty, binary, no header, required columns absent, not Parquet) becomes one
    ``malformed_row`` record naming it and an entry of ``report.file_errors`` (the CLI prints
    them as errors and exits 2); a missing file raises InputError before anything is ingested.
    """
    from lifeline.ingest.files import read_file, rejected_raw_lines

    t0 = time.perf_counter()
    for p in paths:  # check every file first: a typo must not leave a half-done ingestion
        if not Path(p).is_file():
            raise InputError(
                "no such file" if not Path(p).exists() else "not a regular file", where=str(p)
            )
    index = sensor_index(store, sensors)
    report = IngestReport()
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise InputError(
                "no such file" if not path.exists() else "not a regular file", where=str(path)
            )
        try:
            fr = read_file(path, fmt)  # type: ignore[arg-type]
        except InputError as exc:  # the file as a whole is unusable: keep that as a record
            rej = make_rejected(
                Reason.MALFORMED_ROW, [exc.where or f"{path}:1"], [exc.message], [_head(path)]
            )
            store.write_rejected(rej)
            report.rejected[Reason.MALFORMED_ROW.value] += 1
            report.per_utility.setdefault("", Counter())["rejected"] += 1
            report.sources.append(str(path))
            report.file_errors.append({"where": exc.where or str(path), "reason": exc.message})
            continue

        def fix(res: Validated, path: Path = path) -> pd.DataFrame:
            return rejected_raw_lines(path, res.rejected, res.rejected_line)

        rep = ingest_frame(
            store,
            fr.records,
            str(path),
            index,
            now=now,
            tz=tz,
            progress=progress,
            fix_rejected=fix,
            extra_rejected=fr.rejected,
        )
        report.merge(rep)
    report.seconds = time.perf_counter() - t0
    return report


__all__ = [
    "register_wide_columns",
    "FUTURE_TOLERANCE",
    "IngestReport",
    "ingest_files",
    "ingest_frame",
    "ingest_validated_batch",
    "sensor_index",
]


def register_wide_columns(
    store: Store, paths: Sequence[str | Path], fmt: str, sensors: pd.DataFrame | None, utility: str
) -> tuple[pd.DataFrame, list[str]]:
    """Add the sensor columns of BattLeDIM-wide files that the sensor table lacks (utility
    ``utility``, no valid range). With ``sensors`` None the store's table is extended and saved.
    Returns the extended table and the ids added."""
    import pyarrow.parquet as pq

    from lifeline.ingest.files import _header, detect_layout

    table = sensors if sensors is not None else store.read_table("sensor")
    known = set(table["sensor_id"].astype(str)) if len(table) else set()
    new: list[str] = []
    for p in paths:
        path = Path(p)
        if not path.is_file() or (fmt if fmt != "auto" else detect_layout(path)) != "battledim":
            continue
        names = pq.read_schema(path).names if path.suffix == ".parquet" else _header(path, ";")
        for c in names:
            if c.lower() != "timestamp" and c not in known:
                known.add(c)
                new.append(c)
    if not new:
        return table, new
    rows = pd.DataFrame(
        {"sensor_id": new, "utility": utility, "quantity": "", "unit": "", "asset_id": ""}
    )
    out = pd.concat([table, rows], ignore_index=True) if len(table) else rows
    if sensors is None:
        store.replace_table("sensor", out)
    return out, new
