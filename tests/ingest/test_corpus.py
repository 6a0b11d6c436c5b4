"""The validator on a corpus of bad files (tests/data/ingest): every bad record gets its reason
at the right file:line, and the good rows of the same file are kept."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from lifeline.ingest.service import ingest_files
from lifeline.store import Store, open_store
from tests.conftest import TEST_DATA
from tests.store.helpers import sensors_frame

CORPUS = TEST_DATA / "ingest"
NOW = pd.Timestamp("2024-06-01T00:00:00Z")

#: file -> (expected {line: [reasons]}, expected stored readings as (sensor, UTC ts, value))
EXPECTED: dict[str, tuple[dict[int, list[str]], list[tuple[str, str, float]]]] = {
    "long_bad_values.csv": (
        {
            3: ["non_numeric"],
            4: ["non_finite"],
            5: ["non_finite"],
            6: ["out_of_range"],
            8: ["unknown_sensor"],
            9: ["bad_timestamp"],
            10: ["future_timestamp"],
            11: ["duplicate"],
            12: ["missing_field"],
            13: ["missing_field"],
            14: ["missing_field"],
            15: ["malformed_row"],
            16: ["malformed_row"],
            19: ["out_of_range"],
        },
        [
            ("s0", "2024-03-01T00:00:00Z", 41.5),
            ("s1", "2024-02-29T23:00:00Z", 5.5),
            ("s2", "2024-03-01T00:08:00Z", 1.01),
            ("s0", "2024-03-01T00:10:00.250Z", 7.0),
        ],
    ),
    "battledim_bad.csv": (
        {
            2: ["unknown_sensor"],
            3: ["missing_field", "non_numeric", "unknown_sensor"],
            4: ["malformed_row"],
            5: ["bad_timestamp", "bad_timestamp", "unknown_sensor"],
            6: ["out_of_range", "out_of_range", "unknown_sensor"],
            7: ["duplicate", "duplicate", "unknown_sensor"],
        },
        [("s0", "2018-01-01T00:00:00Z", 30.12), ("s1", "2018-01-01T00:00:00Z", 5.5)],
    ),
    "header_only.csv": ({}, []),
    "empty.csv": ({1: ["malformed_row"]}, []),
    "missing_column.csv": ({1: ["malformed_row"]}, []),
    "quoted_newline.csv": (
        {2: ["malformed_row"], 3: ["malformed_row"]},
        [("s0", "2024-03-01T00:01:00Z", 3.0)],
    ),
}


@pytest.fixture
def duck() -> Store:
    s = open_store(":memory:")
    s.replace_table("sensor", sensors_frame())
    return s


def _line(source: str) -> int:
    return int(source.rsplit(":", 1)[1])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_reasons_lines_and_kept_rows(duck: Store, name: str) -> None:
    path = CORPUS / name
    report = ingest_files(duck, [path], now=NOW)
    want_lines, want_rows = EXPECTED[name]
    rej = duck.read_table("rejected")
    assert all(s.startswith(str(path)) for s in rej["source"])
    got: dict[int, list[str]] = {}
    for src, reason in zip(rej["source"], rej["reason"], strict=True):
        got.setdefault(_line(src), []).append(reason)
    assert {k: sorted(v) for k, v in got.items()} == want_lines
    assert report.rejected == Counter(r for v in want_lines.values() for r in v)
    stored = duck.read_readings()
    got_rows = sorted(zip(stored["sensor_id"], stored["ts"], stored["value"], strict=True))
    want = sorted((s, pd.Timestamp(t), v) for s, t, v in want_rows)
    assert got_rows == want
    assert report.stored == len(want_rows)
    # every rejected record keeps a detail and the raw text it came from
    assert (rej["detail"].str.len() > 0).all()
    assert rej["raw"].notna().all()


def test_raw_text_is_the_file_line(duck: Store) -> None:
    ingest_files(duck, [CORPUS / "long_bad_values.csv"], now=NOW)
    rej = duck.read_table("rejected").set_index("source")
    lines = (CORPUS / "long_bad_values.csv").read_text().splitlines()
    for line in (3, 6, 15, 16):
        assert rej.loc[f"{CORPUS / 'long_bad_values.csv'}:{line}", "raw"] == lines[line - 1]
    assert "150" in rej.loc[f"{CORPUS / 'long_bad_values.csv'}:6", "detail"]


def test_local_time_zone_and_dst(duck: Store) -> None:
    report = ingest_files(duck, [CORPUS / "dst_local.csv"], now=NOW, tz="Europe/Berlin")
    stored = duck.read_readings()
    assert stored["ts"].tolist() == [
        pd.Timestamp("2024-03-31T00:30:00Z"),
        pd.Timestamp("2024-03-31T01:30:00Z"),
    ]
    assert stored["value"].tolist() == [1.0, 4.0]
    assert report.rejected == Counter({"bad_timestamp": 2})  # 02:30 does not exist / is ambiguous
    rej = duck.read_table("rejected")
    assert sorted(_line(s) for s in rej["source"]) == [3, 4]
    assert rej["detail"].str.contains("Europe/Berlin").all()


def test_same_file_twice_is_all_duplicates(duck: Store) -> None:
    path = CORPUS / "battledim_bad.csv"
    ingest_files(duck, [path], now=NOW)
    second = ingest_files(duck, [path], now=NOW)
    assert second.stored == 0
    assert second.rejected["duplicate"] == 4  # 2 stored before + 2 repeated in the file


@pytest.mark.parametrize("name", ["invalid_utf8.csv", "random_bytes.csv", "garbage.csv.gz"])
def test_garbage_files_never_crash(duck: Store, name: str) -> None:
    report = ingest_files(duck, [CORPUS / name], now=NOW)
    assert report.received >= 1
    assert duck.count("rejected") == report.total_rejected
    if name == "invalid_utf8.csv":
        assert report.stored == 1  # the first row is fine
        reasons = duck.read_table("rejected").set_index("source")["reason"]
        assert reasons[f"{CORPUS / name}:3"] == "unknown_sensor"
        assert reasons[f"{CORPUS / name}:4"] == "non_numeric"


def test_parquet_long_and_wide(duck: Store, tmp_path: Path) -> None:
    long = pd.DataFrame(
        {
            "sensor_id": ["s0", "s0", "s9"],
            "ts": pd.to_datetime(
                ["2024-03-01T00:00Z", "2024-03-01T00:01Z", "2024-03-01T00:00Z"], utc=True
            ),
            "value": [1.0, 250.0, 3.0],
        }
    )
    long.to_parquet(tmp_path / "long.parquet")
    wide = pd.DataFrame(
        {
            "Timestamp": ["2018-01-01 00:00", "2018-01-01 00:05"],
            "s0": [1.5, 2.5],
            "s1": [0.5, float("nan")],
        }
    )
    wide.to_parquet(tmp_path / "wide.parquet")
    report = ingest_files(duck, [tmp_path / "long.parquet", tmp_path / "wide.parquet"], now=NOW)
    assert report.stored == 4
    # a null cell in Parquet (pandas writes NaN as null) is a missing value
    assert report.rejected == Counter({"out_of_range": 1, "unknown_sensor": 1, "missing_field": 1})
    rej = duck.read_table("rejected")
    assert f"{tmp_path / 'long.parquet'}:3" in set(rej["source"])  # row 2 → "line" 3, as in CSV


def test_gzip_csv(duck: Store, tmp_path: Path) -> None:
    import gzip

    src = (CORPUS / "long_bad_values.csv").read_bytes()
    gz = tmp_path / "x.csv.gz"
    gz.write_bytes(gzip.compress(src))
    report = ingest_files(duck, [gz], now=NOW)
    assert report.stored == 4
    assert report.rejected["malformed_row"] == 2
    assert f"{gz}:16" in set(duck.read_table("rejected")["source"])


@pytest.mark.services
def test_file_ingestion_into_postgres(pg_url: str) -> None:
    import uuid

    from lifeline.store.postgres_store import PostgresStore

    with PostgresStore(pg_url, schema=f"t_{uuid.uuid4().hex[:12]}") as pg:
        try:
            pg.init_schema()
            pg.replace_table("sensor", sensors_frame())
            report = ingest_files(
                pg, [CORPUS / "long_bad_values.csv", CORPUS / "battledim_bad.csv"], now=NOW
            )
            assert report.stored == 6
            assert pg.count("reading") == 6
            assert sum(pg.rejected_counts().values()) == report.total_rejected
            again = ingest_files(pg, [CORPUS / "long_bad_values.csv"], now=NOW)
            assert again.stored == 0 and again.rejected["duplicate"] == 5
        finally:
            pg.drop_schema()


def test_register_unknown_wide_columns() -> None:
    from lifeline.ingest.service import register_wide_columns

    with open_store(":memory:") as s:
        s.replace_table("sensor", sensors_frame(2))
        table, added = register_wide_columns(
            s, [CORPUS / "battledim_bad.csv"], "auto", None, "water"
        )
        assert added == ["s9"]
        assert set(s.read_table("sensor")["sensor_id"]) == {"s0", "s1", "s9"}
        report = ingest_files(s, [CORPUS / "battledim_bad.csv"], now=NOW)
        assert report.rejected["unknown_sensor"] == 0
        # s9 has no valid range: lines 2, 3 and 6 are kept (5: bad timestamp, 7: repeats line 2)
        assert report.stored == 2 + 3
