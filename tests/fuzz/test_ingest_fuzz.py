"""Property tests (hypothesis) on the shared validator and the readings parsers.

Arbitrary input never raises anything but a :class:`lifeline.errors.LifelineError`, every
record is accounted for (stored or rejected with a reason), and good records mixed with garbage
are never lost. Budgets are fixed and the search is derandomised so that CI is reproducible.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifeline.errors import LifelineError
from lifeline.ingest.files import read_file
from lifeline.ingest.jsonin import parse_http_batch
from lifeline.ingest.validate import SensorIndex, validate, validate_batch

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
NOW = pd.Timestamp("2026-07-15T12:00:00Z")
SENSORS = pd.DataFrame(
    {
        "sensor_id": ["water:p:J1", "water:p:J2", "gas:ch4:M2"],
        "utility": ["water", "water", "gas"],
        "valid_min": [0.0, 0.0, 0.0],
        "valid_max": [120.0, 120.0, 100.0],
    }
)
INDEX = SensorIndex(SENSORS)
IDS = list(SENSORS["sensor_id"])

scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(IDS + ["2026-07-15T08:00:00Z", "1e309", "nan", "-0", "12,5", ""]),
)
json_value = st.recursive(
    scalar,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=12,
)
# good readings: distinct (sensor, minute) keys, in range, in the past
good_reading = st.tuples(
    st.sampled_from(IDS), st.integers(min_value=0, max_value=10_000), st.floats(0.0, 99.0)
)


def _good(items: list[tuple[str, int, float]]) -> list[tuple[str, str, float]]:
    seen: dict[tuple[str, int], float] = {}
    for sid, minute, v in items:
        seen.setdefault((sid, minute), round(v, 3))
    t0 = pd.Timestamp("2026-07-01T00:00:00Z")
    return [
        (sid, (t0 + pd.Timedelta(minutes=m)).strftime("%Y-%m-%dT%H:%M:%SZ"), v)
        for (sid, m), v in seen.items()
    ]


def _keys(good: pd.DataFrame) -> set[tuple[str, pd.Timestamp]]:
    return {(str(s), pd.Timestamp(t)) for s, t in zip(good["sensor_id"], good["ts"], strict=True)}


@FUZZ
@given(st.lists(st.tuples(scalar, scalar, scalar), max_size=25))
def test_validator_accounts_for_every_record(rows: list[tuple[Any, Any, Any]]) -> None:
    """Any mix of types in sensor_id/ts/value: no exception, good + rejected == received."""
    records = {
        "sensor_id": [r[0] for r in rows],
        "ts": [r[1] for r in rows],
        "value": [r[2] for r in rows],
    }
    res = validate_batch(records, INDEX, NOW, source="fuzz")
    assert len(res.good) + len(res.rejected) == len(rows)
    assert res.rejected["reason"].notna().all()
    if len(res.good):
        v = res.good["value"].to_numpy(float)
        assert (v >= 0).all() and (v <= 120).all()


@FUZZ
@given(st.binary(max_size=400))
def test_http_batch_arbitrary_bytes(body: bytes) -> None:
    """Any body: parse_http_batch never raises; a non-JSON body is one malformed_json record."""
    good, rejected = parse_http_batch(body, INDEX, NOW)
    assert len(good) + len(rejected) >= 0
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError):
        assert len(good) == 0 and len(rejected) == 1
        assert rejected["reason"].iloc[0] == "malformed_json"


@FUZZ
@given(st.lists(good_reading, max_size=15), st.lists(json_value, max_size=10), st.randoms())
def test_http_batch_keeps_good_among_garbage(
    goods: list[tuple[str, int, float]], junk: list[Any], rnd: Any
) -> None:
    """Good readings shuffled among arbitrary JSON items are all kept, whatever the garbage."""
    good = _good(goods)
    items: list[Any] = [{"sensor_id": s, "ts": t, "value": v} for s, t, v in good]
    # junk that happens to be a valid reading is fine; it just must not hide a good one
    items += [j for j in junk if not (isinstance(j, dict) and "sensor_id" in j)]
    rnd.shuffle(items)
    out, rejected = parse_http_batch(json.dumps({"readings": items}), INDEX, NOW)
    want = {(s, pd.Timestamp(t)) for s, t, _ in good}
    assert want <= _keys(out)
    assert len(out) + len(rejected) == len(items)


csv_junk_line = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters='\r\n"\x00'),
    max_size=60,
)


def _write(tmp: Path, name: str, text: str | bytes) -> Path:
    p = tmp / f"{uuid.uuid4().hex[:8]}{name}"
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def _validate_file(path: Path) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    fr = read_file(path)
    good, rejected = validate(fr.records, INDEX, NOW, source=str(path))
    return good, rejected, len(fr.rejected)


@FUZZ
@given(st.lists(good_reading, max_size=15), st.lists(csv_junk_line, max_size=8), st.randoms())
def test_csv_long_keeps_good_lines(
    tmp_path: Path, goods: list[tuple[str, int, float]], junk: list[str], rnd: Any
) -> None:
    """A long CSV with good lines and arbitrary junk lines (no quotes): every good line is stored."""
    good = _good(goods)
    lines = [f"{s},{t},{v}" for s, t, v in good] + junk
    rnd.shuffle(lines)
    p = _write(tmp_path, ".csv", "sensor_id,ts,value\n" + "\n".join(lines) + "\n")
    out, _, _ = _validate_file(p)
    assert {(s, pd.Timestamp(t)) for s, t, _ in good} <= _keys(out)


@FUZZ
@given(st.binary(max_size=300), st.sampled_from([".csv", ".csv.gz", ".parquet"]))
def test_any_file_bytes_raise_only_lifeline_errors(
    tmp_path: Path, data: bytes, suffix: str
) -> None:
    """Arbitrary bytes under any accepted suffix: read + validate or a LifelineError, nothing else."""
    p = _write(tmp_path, suffix, data)
    with contextlib.suppress(LifelineError):
        _validate_file(p)


@FUZZ
@given(st.binary(max_size=200))
def test_any_header_then_bytes(tmp_path: Path, data: bytes) -> None:
    """A valid long header followed by arbitrary bytes (bad UTF-8, NUL, quotes): no crash."""
    p = _write(tmp_path, ".csv", b"sensor_id,ts,value\nwater:p:J1,2026-07-01T00:00:00Z,1\n" + data)
    with contextlib.suppress(LifelineError):
        _validate_file(p)


@FUZZ
@given(
    st.lists(st.integers(min_value=0, max_value=2000), min_size=1, max_size=10, unique=True),
    st.lists(csv_junk_line.filter(lambda s: ";" not in s), max_size=5),
    st.randoms(),
)
def test_battledim_wide_keeps_good_rows(
    tmp_path: Path, minutes: list[int], junk: list[str], rnd: Any
) -> None:
    """BattLeDIM wide (``;``, decimal comma): every good row of every sensor column is kept."""
    t0 = pd.Timestamp("2026-07-01T00:00:00")
    rows = [
        f"{(t0 + pd.Timedelta(minutes=m)):%Y-%m-%d %H:%M:%S};{m % 90},5;{(m * 7) % 90},25"
        for m in minutes
    ]
    lines = rows + junk
    rnd.shuffle(lines)
    p = _write(tmp_path, ".csv", "Timestamp;water:p:J1;water:p:J2\n" + "\n".join(lines) + "\n")
    out, _, _ = _validate_file(p)
    got = _keys(out)
    for m in minutes:
        ts = (t0 + pd.Timedelta(minutes=m)).tz_localize("UTC")
        assert ("water:p:J1", ts) in got and ("water:p:J2", ts) in got
