"""File readers: CSV / Parquet in the long layout (sensor_id, ts, value[, quality]) and the
BattLeDIM wide layout (``;`` separator, decimal comma, a ``Timestamp`` column, one column per
sensor). ``.csv.gz`` is read transparently.

Readers do no validation: they return raw records (strings as found, with their physical line
number) and the rows they could not split into fields (``malformed_row``); the shared validator
does the rest. Line numbers count from 1 at the header line, blank lines included.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from lifeline.errors import InputError
from lifeline.ingest.validate import Reason, empty_rejected, make_rejected

Format = Literal["auto", "long", "battledim"]

LONG_COLUMNS: Final = ("sensor_id", "ts", "value")
#: accepted header spellings for the long layout
_ALIASES: Final = {
    "sensor": "sensor_id",
    "sensorid": "sensor_id",
    "id": "sensor_id",
    "timestamp": "ts",
    "time": "ts",
    "datetime": "ts",
    "val": "value",
}
_MAX_RAW: Final = 2000  # characters of a raw line kept in ``rejected.raw``


@dataclass
class FileRecords:
    """Raw records read from one file: an Arrow table with sensor_id, ts, value (strings or
    typed), line (int64) and optionally quality; plus rows rejected while reading."""

    path: Path
    layout: str
    records: Any  # pyarrow.Table
    rejected: pd.DataFrame = field(default_factory=empty_rejected)


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.endswith(".gz"):
        return io.TextIOWrapper(
            gzip.open(path, "rb"), encoding="utf-8-sig", errors="replace", newline=""
        )
    return open(path, encoding="utf-8-sig", errors="replace", newline="")


def _first_line(path: Path) -> str:
    try:
        with _open_text(path) as f:
            return f.readline().rstrip("\r\n")
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read file: {exc}", where=str(path)) from exc


def _count_lines(path: Path) -> int:
    """Physical lines in the (decompressed) file."""
    n, last = 0, b"\n"
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        while chunk := f.read(1 << 24):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (0 if last == b"\n" else 1)


def line_texts(path: Path, lines: Iterable[int]) -> dict[int, str]:
    """The text of the given physical lines (1-based) of a text file, in one pass."""
    wanted = {int(n) for n in lines if int(n) > 0}
    out: dict[int, str] = {}
    if not wanted:
        return out
    last = max(wanted)
    try:
        with _open_text(path) as f:
            for i, text in enumerate(f, start=1):
                if i in wanted:
                    out[i] = text.rstrip("\r\n")[:_MAX_RAW]
                if i >= last:
                    break
    except (OSError, EOFError, zlib.error):
        pass
    return out


def detect_layout(path: Path) -> str:
    """ "long" or "battledim" from the file's header (or Parquet columns)."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            names = [n.lower() for n in pq.read_schema(path).names]
        except Exception as exc:
            raise InputError(f"not a readable Parquet file: {exc}", where=str(path)) from exc
        return "battledim" if "timestamp" in names and "sensor_id" not in names else "long"
    head = _first_line(path)
    first = head.split(";")[0].split(",")[0].strip().strip('"').lower()
    if ";" in head and first == "timestamp" and "sensor_id" not in head.lower():
        return "battledim"
    return "long"


def read_file(path: str | Path, fmt: Format = "auto") -> FileRecords:
    """Read one CSV / CSV.gz / Parquet file into raw records (see :class:`FileRecords`).

    Raises InputError if the file is missing or unusable as a whole (no header, required
    columns absent); single bad rows are returned as rejected records instead.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file", where=str(p))
    if p.is_dir():
        raise InputError("is a directory, not a file", where=str(p))
    if p.suffix != ".parquet":
        _refuse_binary(p)
    layout = detect_layout(p) if fmt == "auto" else fmt
    if layout not in ("long", "battledim"):
        raise InputError(f"unknown format {fmt!r} (auto, long, battledim)", where=str(p))
    if p.suffix == ".parquet":
        return _read_parquet(p, layout)
    return _read_csv(p, layout)


#: leading bytes of file types people save by mistake under a .csv name
_MAGIC: Final = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (an Excel .xlsx workbook? save it as CSV)",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office file (save it as CSV)",
    b"PAR1": "a Parquet file (name it .parquet)",
}


def _refuse_binary(path: Path) -> None:
    """InputError if the (decompressed) start of a CSV file is binary, naming the file type."""
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as f:
            head = f.read(4096)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read file: {exc}", where=str(path)) from exc
    kind = next((v for k, v in _MAGIC.items() if head.startswith(k)), None)
    if kind is None and b"\x00" in head:
        kind = "binary data (NUL bytes)"
    if kind is not None:
        raise InputError(f"not a CSV text file: it is {kind}", where=str(path))


def _header(path: Path, sep: str) -> list[str]:
    head = _first_line(path)
    if not head.strip():
        raise InputError("empty file or blank header line", where=f"{path}:1")
    return [c.strip() for c in next(csv.reader([head], delimiter=sep))]


def _long_names(names: list[str], where: str) -> list[str]:
    out = []
    for n in names:
        k = n.strip().lower()
        out.append(_ALIASES.get(k, k))
    missing = [c for c in LONG_COLUMNS if c not in out]
    if missing:
        raise InputError(
            f"header lacks column(s) {', '.join(missing)} (long layout needs sensor_id, ts, value; got {', '.join(names)})",
            where=where,
        )
    return out


def _read_csv(path: Path, layout: str) -> FileRecords:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    head = _first_line(path)
    sep = ";" if layout == "battledim" or (head.count(";") > head.count(",")) else ","
    names = _header(path, sep)
    where = f"{path}:1"
    if layout == "long":
        names = _long_names(names, where)
    elif not names or names[0].lower() != "timestamp":
        raise InputError(
            f"BattLeDIM layout needs a first column 'Timestamp', got {names[0]!r}", where=where
        )
    if len(set(names)) != len(names):
        raise InputError(f"duplicate column names in header: {', '.join(names)}", where=where)
    col_names = [f"c{i}" for i in range(len(names))]
    block = 1 << 22  # 4 MB blocks: parsed in parallel by Arrow's threads
    bad: list[tuple[int, str]] = []

    def on_bad(row: Any) -> str:
        bad.append((int(row.number) if row.number is not None else -1, str(row.text)))
        return "skip"

    def read(threads: bool) -> Any:
        return pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(
                column_names=col_names, skip_rows=1, use_threads=threads, block_size=block
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=sep, invalid_row_handler=on_bad, ignore_empty_lines=False
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={c: pa.string() for c in col_names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )

    try:
        table = read(True)  # fast; line numbers of invalid rows are only known single-threaded
        if bad:
            bad.clear()
            table = read(False)
    except (pa.ArrowInvalid, OSError, EOFError, UnicodeDecodeError, ValueError, zlib.error):
        return _read_csv_slow(path, layout, names, sep)
    # physical line of each parsed row: every data line that was not skipped as invalid
    skipped = np.array(sorted(n for n, _ in bad if n > 0), dtype=np.int64)
    total = table.num_rows + len(bad)
    lines = (
        np.setdiff1d(np.arange(2, total + 2, dtype=np.int64), skipped, assume_unique=True)
        if bad
        else np.arange(2, total + 2, dtype=np.int64)
    )
    # a quoted value spanning lines shifts the numbering: use the line-by-line reader then
    if len(lines) != table.num_rows or _count_lines(path) != 1 + total:
        return _read_csv_slow(path, layout, names, sep)
    rej = _malformed(path, bad, len(names), sep)
    table = table.rename_columns(names)
    return _assemble(path, layout, table, lines, rej)


def _malformed(path: Path, bad: list[tuple[int, str]], ncols: int, sep: str) -> pd.DataFrame:
    if not bad:
        return empty_rejected()
    details = []
    for _, text in bad:
        try:
            found = len(next(csv.reader([text], delimiter=sep))) if text else 0
        except csv.Error:
            found = 0
        details.append(f"expected {ncols} fields separated by {sep!r}, found {found}")
    return make_rejected(
        Reason.MALFORMED_ROW,
        [f"{path}:{n}" for n, _ in bad],
        details,
        [t[:_MAX_RAW] for _, t in bad],
    )


def _read_csv_slow(path: Path, layout: str, names: list[str], sep: str) -> FileRecords:
    """Tolerant line-by-line reader (invalid UTF-8, quoted newlines, stray quotes)."""
    import pyarrow as pa

    rows: list[list[str]] = []
    lines: list[int] = []
    bad: list[tuple[int, str]] = []
    ncols = len(names)
    try:
        with _open_text(path) as f:
            f.readline()
            for i, text in enumerate(f, start=2):
                text = text.rstrip("\r\n")
                try:
                    fields = (
                        next(csv.reader([text], delimiter=sep, strict=True))
                        if text
                        else [""] * ncols
                    )
                except csv.Error:
                    fields = []
                if len(fields) != ncols:
                    bad.append((i, text))
                    continue
                rows.append(fields)
                lines.append(i)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"cannot read file: {exc}", where=str(path)) from exc
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    table = pa.table(
        {n: pa.array(list(c), type=pa.string()) for n, c in zip(names, cols, strict=True)}
    )
    return _assemble(
        path, layout, table, np.asarray(lines, dtype=np.int64), _malformed(path, bad, ncols, sep)
    )


def _drop_blank(table: Any, lines: np.ndarray) -> tuple[Any, np.ndarray]:
    """Silently drop blank lines (every field empty): they are not records."""
    import pyarrow.compute as pc

    if table.num_rows == 0 or table.num_columns == 0:
        return table, lines
    first = pc.fill_null(pc.equal(pc.utf8_length(table.column(0)), 0), True)
    if not pc.any(first).as_py():  # the usual case: no row even starts empty
        return table, lines
    blank = first
    for c in table.columns[1:]:
        e = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(c.cast("string"))), 0)
        blank = pc.and_(blank, pc.fill_null(e, True))
    keep = np.asarray(pc.invert(blank).to_numpy(zero_copy_only=False), dtype=bool)
    if keep.all():
        return table, lines
    return table.filter(keep), lines[keep]


def _assemble(
    path: Path, layout: str, table: Any, lines: np.ndarray, rej: pd.DataFrame
) -> FileRecords:
    import pyarrow as pa

    table, lines = _drop_blank(table, lines)
    if layout == "long":
        cols = {c: table.column(c).combine_chunks() for c in LONG_COLUMNS}
        for c in ("sensor_id", "ts"):  # repeated texts: look up / parse each distinct one once
            if pa.types.is_string(cols[c].type):
                cols[c] = cols[c].dictionary_encode()
        if "quality" in table.column_names:
            cols["quality"] = table.column("quality").combine_chunks()
        cols["line"] = pa.array(lines)
        return FileRecords(path, layout, pa.table(cols), rej)
    return FileRecords(path, layout, _melt_wide(table, lines), rej)


def _melt_wide(table: Any, lines: np.ndarray) -> Any:
    """Wide → long, column-major (all rows of the first sensor, then the next …).

    Values keep their text with the decimal comma turned into a point."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = table.column_names
    ts_name, sensors = names[0], names[1:]
    n, k = table.num_rows, len(sensors)
    ts = table.column(ts_name).combine_chunks()
    values = []
    for s in sensors:
        c = table.column(s).combine_chunks()
        if pa.types.is_string(c.type) or pa.types.is_large_string(c.type):
            c = pc.replace_substring(c, ",", ".")
        values.append(c.cast(pa.string()) if not pa.types.is_floating(c.type) else c)
    if k == 0:
        values = [pa.array([], type=pa.string())]
    value = pa.concat_arrays([v.cast(values[0].type) for v in values]) if values else pa.array([])
    codes = np.repeat(np.arange(k, dtype=np.int32), n)
    sid = pa.DictionaryArray.from_arrays(
        pa.array(codes, type=pa.int32()), pa.array([str(s) for s in sensors], type=pa.string())
    )
    row = np.tile(np.arange(n, dtype=np.int32), k)
    if pa.types.is_dictionary(ts.type) or not (
        pa.types.is_string(ts.type) or pa.types.is_large_string(ts.type)
    ):
        ts_col = ts.take(pa.array(row)) if n else ts.slice(0, 0)
    else:  # one dictionary entry per row: each timestamp text is parsed once, not once per sensor
        ts_col = pa.DictionaryArray.from_arrays(pa.array(row, type=pa.int32()), ts)
    return pa.table(
        {
            "sensor_id": sid,
            "ts": ts_col,
            "value": value,
            "line": pa.array(np.tile(lines, k)),
        }
    )


def _read_parquet(path: Path, layout: str) -> FileRecords:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise InputError(f"not a readable Parquet file: {exc}", where=str(path)) from exc
    rows = np.arange(2, table.num_rows + 2, dtype=np.int64)  # "line" = row number + 1 (as in CSV)
    if layout == "long":
        names = _long_names(table.column_names, f"{path}:columns")
        table = table.rename_columns(names)
        cols = {c: table.column(c).combine_chunks() for c in LONG_COLUMNS}
        if "quality" in names:
            cols["quality"] = table.column("quality").combine_chunks()
        cols["line"] = pa.array(rows)
        return FileRecords(path, layout, pa.table(cols))
    tsn = next(c for c in table.column_names if c.lower() == "timestamp")
    table = table.select([tsn, *[c for c in table.column_names if c != tsn]])
    return FileRecords(path, layout, _melt_wide(table, rows))


def rejected_raw_lines(path: Path, rejected: pd.DataFrame, lines: np.ndarray) -> pd.DataFrame:
    """Replace ``rejected.raw`` by the text of the file line each record came from (CSV)."""
    if len(rejected) == 0 or path.suffix == ".parquet":
        return rejected
    texts = line_texts(path, lines.tolist())
    raw = [texts.get(int(n), r) for n, r in zip(lines, rejected["raw"], strict=True)]
    return rejected.assign(raw=pd.Series(raw, dtype="string", index=rejected.index))
