"""`lifeline power locate` / `monitor` command lines: contract keys, clear errors on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.power.nets import by_name, mv_two_feeders, write_events

pp = pytest.importorskip("pandapower")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifeline.config import get_settings

    monkeypatch.setenv("LIFELINE_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()


def test_locate_cli_writes_exactly_the_contract_keys(tmp_path: Path) -> None:
    from lifeline.power.cli import app

    net = mv_two_feeders()
    pp.to_json(net, str(tmp_path / "net.json"))
    ev = write_events(
        tmp_path / "ev.csv", [(0, "breaker_trip", by_name(net.switch, "Sb0up")), (3, "call", 4)]
    )
    res = CliRunner().invoke(
        app,
        [
            "locate",
            "--network",
            str(tmp_path / "net.json"),
            "--events",
            str(ev),
            "--out",
            str(tmp_path / "o.json"),
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads((tmp_path / "o.json").read_text())
    assert list(out) == [
        "outage_device",
        "fault_section",
        "unsupplied_loads",
        "plan",
        "restored_loads",
        "unserved_loads",
        "checks",
    ]
    assert set(out["plan"]) == {"open", "close"} and set(out["checks"]) == {
        "min_vm_pu",
        "max_loading_percent",
    }
    assert out["outage_device"] == {"element": "switch", "index": by_name(net.switch, "Sb0up")}
    # without indicators the whole feeder behind the breaker is the fault region
    assert set(out["fault_section"]["lines"]) >= {
        by_name(net.line, "Lb0"),
        by_name(net.line, "Lb1"),
    }


def test_locate_cli_bad_event_kind_is_a_one_line_error_naming_file_and_line(tmp_path: Path) -> None:
    net = mv_two_feeders()
    pp.to_json(net, str(tmp_path / "net.json"))
    ev = tmp_path / "ev.csv"
    ev.write_text("ts,kind,ref\n2024-01-01T00:00:00,breaker_trip,0\n2024-01-01T00:00:01,smoke,3\n")
    cmd = [
        sys.executable,
        "-m",
        "lifeline.cli",
        "power",
        "locate",
        "--network",
        str(tmp_path / "net.json"),
        "--events",
        str(ev),
        "--out",
        str(tmp_path / "o.json"),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert f"{ev}:3" in proc.stderr and "kind" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_locate_rejects_refs_not_in_the_network(tmp_path: Path) -> None:
    from lifeline.errors import InputError
    from lifeline.power.locate import locate_files

    net = mv_two_feeders()
    pp.to_json(net, str(tmp_path / "net.json"))
    ev = write_events(tmp_path / "ev.csv", [(0, "breaker_trip", 999)])
    with pytest.raises(InputError, match="switch 999"):
        locate_files(tmp_path / "net.json", ev)
    fpi = tmp_path / "fpi.csv"
    fpi.write_text("sw\n1\n")
    from lifeline.power.evidence import read_fpi_installed

    with pytest.raises(InputError, match="switch"):
        read_fpi_installed(fpi)
