"""`lifeline ingest` through its entry point: counts per reason, clear errors, exit 2."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import TEST_DATA
from tests.store.helpers import sensors_frame

CORPUS = TEST_DATA / "ingest"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Result]:
    """Run `lifeline ingest …` through the real entry point (in-process: one import)."""
    from lifeline.cli import main

    def _run(*args: str) -> Result:
        monkeypatch.setattr(sys, "argv", ["lifeline", "ingest", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = int(exc.code or 0)
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return _run


def test_cli_reports_counts_and_fills_the_default_store(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    sensors = tmp_path / "sensors.csv"
    sensors_frame().to_csv(sensors, index=False)
    files = [str(CORPUS / "long_bad_values.csv"), str(CORPUS / "battledim_bad.csv")]
    r = run(*files, "--sensors", str(sensors), "--now", "2024-06-01T00:00Z", "--json")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["stored"] == 6
    assert rep["rejected"]["malformed_row"] == 3 and rep["rejected"]["unknown_sensor"] == 6
    assert rep["per_utility"]["water"]["stored"] == 3
    from lifeline.store import open_store

    with open_store() as store:  # the embedded default under the (test) data directory
        assert store.count("reading") == 6
        assert sum(store.rejected_counts().values()) == rep["rejected_total"]
        store.replace_table("sensor", sensors_frame())
    table = run(
        str(CORPUS / "long_bad_values.csv"), "--now", "2024-06-01T00:00Z"
    )  # store's sensors now
    assert table.returncode == 0, table.stderr
    assert "rejected: duplicate" in table.stdout and "non_numeric" in table.stdout


def test_cli_errors_exit_2_naming_the_problem(tmp_path: Path, run: Callable[..., Result]) -> None:
    r = run(str(tmp_path / "nope.csv"))
    assert r.returncode == 2 and "nope.csv" in r.stderr and "Traceback" not in r.stderr
    r = run(str(CORPUS / "long_bad_values.csv"))  # empty store: no sensors
    assert r.returncode == 2 and "sensor table is empty" in r.stderr and "Traceback" not in r.stderr
    r = run(str(CORPUS / "long_bad_values.csv"), "--tz", "Mars/Olympus")
    assert r.returncode == 2 and "--tz" in r.stderr


def test_unusable_files_are_errors_with_their_reason(
    tmp_path: Path, run: Callable[..., Result]
) -> None:
    sensors = tmp_path / "sensors.csv"
    sensors_frame().to_csv(sensors, index=False)
    png = tmp_path / "readings.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100))
    semi = tmp_path / "semi.csv"
    semi.write_text("foo;bar\n1;2\n")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    expected = {
        png: "not a CSV text file: it is a PNG image",
        semi: "header lacks column(s) sensor_id, ts, value",
        empty: "empty file",
    }
    for path, reason in expected.items():
        r = run(str(path), "--sensors", str(sensors))
        assert r.returncode == 2, (path, r.stdout, r.stderr)
        assert f"error: {path}" in r.stderr and reason in r.stderr and "Traceback" not in r.stderr
    # a good file next to a bad one: the good one is stored, the run still fails, JSON says why
    good = CORPUS / "long_bad_values.csv"
    r = run(str(good), str(semi), "--sensors", str(sensors), "--now", "2024-06-01T00:00Z", "--json")
    rep = json.loads(r.stdout)
    assert r.returncode == 2 and rep["stored"] > 0
    assert [e["where"] for e in rep["file_errors"]] == [f"{semi}:1"]
    from lifeline.store import open_store

    with open_store() as store:
        sources = set(store.read_table("rejected")["source"].astype(str))
    assert {str(png), f"{semi}:1", f"{empty}:1"} <= sources
    header_only = run(str(CORPUS / "header_only.csv"), "--sensors", str(sensors))
    assert header_only.returncode == 0, header_only.stderr  # no data is not an error
