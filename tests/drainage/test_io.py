"""Bad inputs to ``lifeline drainage warn`` give one clear line naming the file/line and exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from lifeline.drainage.io import read_forecast, read_observed, read_points, read_series
from lifeline.drainage.model import load_network
from lifeline.errors import InputError, NetworkModelError

from .conftest import storm_rain


def _cli(paths: dict[str, Path], out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "lifeline.cli",
            "drainage",
            "warn",
            "--network",
            str(paths["network"]),
            "--observed",
            str(paths["observed"]),
            "--forecasts",
            str(paths["forecasts"]),
            "--points",
            str(paths["points"]),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_points_errors_name_line_and_field(tmp_path: Path) -> None:
    p = tmp_path / "points.csv"
    p.write_text("point_id,node,threshold_m,name\nP1,SAG,0.15,a\nP2,J2,deep,b\n")
    with pytest.raises(InputError, match=r"points.csv:3.*threshold_m.*'deep'"):
        read_points(p)
    p.write_text("point_id,node,name\nP1,SAG,a\n")
    with pytest.raises(InputError, match=r"points.csv:1: missing column\(s\) threshold_m"):
        read_points(p)
    p.write_text("point_id,node,threshold_m,name\nP1,SAG,0.15,a\nP1,J2,0.2,b\n")
    with pytest.raises(InputError, match="duplicate point_id 'P1'"):
        read_points(p)
    p.write_text("point_id,node,threshold_m,name\nP1,SAG,-1,a\n")
    with pytest.raises(InputError, match="must be > 0"):
        read_points(p)


def test_observed_errors(tmp_path: Path, make_day) -> None:
    paths = make_day(storm_rain(30))
    obs = paths["observed"]
    data = read_observed(obs)
    assert list(data.rain.columns) == ["G1"]
    assert data.rain.index.freq is None and len(data.rain) == 288
    (obs / "sensors.csv").write_text("sensor_id,node,quantity\nLV1,J2,pressure_bar\n")
    with pytest.raises(InputError, match=r"sensors.csv:2.*quantity.*pressure_bar"):
        read_observed(obs)
    (obs / "sensors.csv").write_text("sensor_id,node,quantity\nLV1,J2,level_m\n")
    with pytest.raises(InputError, match=r"DP1 not listed in sensors.csv"):
        read_observed(obs)
    bad = tmp_path / "rain.csv"
    bad.write_text("ts,gauge_id,rain_mm_h\n2025-07-01 00:05:00,G1,1.0\nyesterday,G1,2\n")
    with pytest.raises(InputError, match=r"rain.csv:3.*'ts' is not a timestamp"):
        read_series(bad, "rain", "gauge_id", "rain_mm_h")
    bad.write_text("ts,gauge_id,rain_mm_h\n2025-07-01 00:05:00,G1,\n2025-07-01 00:10:00,G1,x\n")
    with pytest.raises(InputError, match=r"rain.csv:3.*rain_mm_h.*'x'"):
        read_series(bad, "rain", "gauge_id", "rain_mm_h")


def test_empty_values_are_missing_and_forecast_rows_after_issue(tmp_path: Path) -> None:
    f = tmp_path / "forecast_20250701T1200.csv"
    f.write_text(
        "ts,gauge_id,rain_mm_h\n2025-07-01 12:00:00,G1,9\n2025-07-01 12:05:00,G1,\n"
        "2025-07-01 12:10:00,G1,4.5\n"
    )
    fc = read_forecast(pd.Timestamp("2025-07-01 12:00"), f)
    assert list(fc.rain.index) == [
        pd.Timestamp("2025-07-01 12:05"),
        pd.Timestamp("2025-07-01 12:10"),
    ]
    assert fc.rain["G1"].isna().tolist() == [True, False]


def test_network_errors(tmp_path: Path) -> None:
    with pytest.raises(NetworkModelError, match="not found"):
        load_network(tmp_path / "none.inp")
    bad = tmp_path / "bad.inp"
    bad.write_text("[TITLE]\nnot a model\n")
    with pytest.raises(NetworkModelError, match=r"no \[OPTIONS\] section"):
        load_network(bad)


def test_cli_bad_input_exit_2_without_traceback(tmp_path: Path, make_day) -> None:
    paths = make_day(storm_rain(30))
    paths["points"].write_text("point_id,node,threshold_m,name\nP1,NOWHERE,0.15,a\n")
    res = _cli(paths, tmp_path / "w.csv")
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert "points.csv:2" in res.stderr and "'NOWHERE'" in res.stderr
    paths["points"].write_text("point_id,node,threshold_m,name\nP1,SAG,0.15,a\n")
    res = _cli({**paths, "forecasts": paths["points"]}, tmp_path / "w.csv")
    assert res.returncode == 2 and "forecasts path is not a folder" in res.stderr
    assert "Traceback" not in res.stderr
    # a dry day may come without a forecasts folder at all: header only, exit 0
    res = _cli({**paths, "forecasts": tmp_path / "missing"}, tmp_path / "w.csv")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "w.csv").read_text().splitlines() == [
        "issued_at,point_id,expected_start,expected_peak_m"
    ]
