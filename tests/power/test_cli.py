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


def test_monitor_cli_writes_alarm_rows(tmp_path: Path) -> None:
    import pandas as pd

    from lifeline.power.cli import app

    net = mv_two_feeders()
    pp.to_json(net, str(tmp_path / "net.json"))
    la0 = by_name(net.line, "La0")
    a1 = by_name(net.load, "load_a1")
    pd.DataFrame(
        [("head_a", f"power:line:{la0}", "p_mw"), ("m_a1", f"power:load:{a1}", "meter_kwh")],
        columns=["sensor_id", "asset_id", "quantity"],
    ).to_csv(tmp_path / "sensors.csv", index=False)
    ts = pd.date_range("2024-07-15 10:00", periods=4, freq="15min", tz="UTC")
    kwh = [250.0, 0.0, 0.0, 250.0]  # the customer's meter reads zero for half an hour
    rd = pd.concat(
        [
            pd.DataFrame({"sensor_id": "head_a", "ts": ts, "value": 4.0}),
            pd.DataFrame({"sensor_id": "m_a1", "ts": ts, "value": kwh}),
        ]
    )
    rd.to_csv(tmp_path / "readings.csv", index=False)
    args = [
        "monitor",
        "--network",
        str(tmp_path / "net.json"),
        "--sensors",
        str(tmp_path / "sensors.csv"),
    ]
    args += ["--readings", str(tmp_path / "readings.csv"), "--out", str(tmp_path / "alarms.csv")]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    alarms = pd.read_csv(tmp_path / "alarms.csv")
    assert list(alarms.detector) == ["power_no_supply"]
    assert pd.Timestamp(alarms.ts.iloc[0]) == ts[1]
    assert str(a1) in alarms.detail.iloc[0]
