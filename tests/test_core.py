"""Core: settings, errors, the CLI entry point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lifeline.config import Settings, get_settings
from lifeline.errors import InputError, LifelineError


def test_settings_default_is_embedded_duckdb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFELINE_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    s = get_settings()
    assert s.db == ""
    assert s.duckdb_path() == tmp_path / "lifeline.duckdb"
    assert s.mqtt == ""


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFELINE_DB", "postgresql://u@h:5432/db")
    monkeypatch.setenv("LIFELINE_MQTT", "mqtt://127.0.0.1:1883")
    s = Settings()
    assert s.db.startswith("postgresql://")
    assert s.mqtt == "mqtt://127.0.0.1:1883"


def test_settings_duckdb_url(tmp_path: Path) -> None:
    s = Settings(db=f"duckdb://{tmp_path}/x.duckdb")
    assert s.duckdb_path() == tmp_path / "x.duckdb"


def test_error_names_where() -> None:
    err = InputError("value is not a number", where="readings.csv:17")
    assert isinstance(err, LifelineError)
    assert str(err) == "readings.csv:17: value is not a number"


def test_cli_help_lists_every_group() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "lifeline.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    for group in ("town", "water", "power", "gas", "ingest", "incidents", "complaints", "demo"):
        assert group in out.stdout


def test_cli_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys, lifeline.cli; "
        "heavy = [m for m in ('wntr', 'pandapower', 'pandapipes', 'sklearn', 'matplotlib') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
