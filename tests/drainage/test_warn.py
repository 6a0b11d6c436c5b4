"""``lifeline drainage warn`` on a small SWMM sewer: format, dry day, storm, forecaster API."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from lifeline.drainage.feed import RecordedFeed
from lifeline.drainage.io import WARNING_COLUMNS, read_points
from lifeline.drainage.model import load_network
from lifeline.drainage.ponding import PondingForecaster, flood_area
from lifeline.drainage.warn import PolicyConfig, run_warn

from .conftest import storm_rain, true_flood_start


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="") as fh:
        rd = csv.DictReader(fh)
        return list(rd.fieldnames or []), list(rd)


def test_dry_day_writes_only_the_header(make_day, tmp_path: Path) -> None:
    paths = make_day(storm_rain(0.0), with_forecasts=False)
    assert not list(paths["forecasts"].iterdir())
    out = tmp_path / "out" / "w.csv"
    summary = run_warn(
        **{k: paths[k] for k in ("network", "observed", "forecasts", "points")}, out=out
    )
    header, rows = _read(out)
    assert header == list(WARNING_COLUMNS)
    assert rows == [] and summary.lines == 0 and summary.issue_times == 0


def test_light_rain_gives_no_warning(make_day, tmp_path: Path) -> None:
    paths = make_day(storm_rain(20.0))
    out = tmp_path / "w.csv"
    summary = run_warn(
        **{k: paths[k] for k in ("network", "observed", "forecasts", "points")}, out=out
    )
    assert summary.issue_times > 8
    assert _read(out)[1] == []


def test_storm_that_floods_the_sag_is_warned_before_the_flood(make_day, tmp_path: Path) -> None:
    rain = storm_rain(100.0)
    paths = make_day(rain)
    start = true_flood_start(paths, rain)
    keys = ("network", "observed", "forecasts", "points")
    # default policy: a far call waits until the storm has begun (rain from 14:00), then warns
    # before the flood
    out0 = tmp_path / "w0.csv"
    run_warn(**{k: paths[k] for k in keys}, out=out0)
    sag0 = [r for r in _read(out0)[1] if r["point_id"] == "P1"]
    assert sag0, "the flooding sag got no warning"
    first0 = pd.Timestamp(sag0[0]["issued_at"])
    assert pd.Timestamp("2025-07-01 14:00") <= first0 < start, (first0, start)
    # allowed to warn before the rain (the nowcast is exact here): at least 45 min of lead
    out = tmp_path / "w.csv"
    run_warn(**{k: paths[k] for k in keys}, out=out, policy=PolicyConfig(far_rain_mm=0.0))
    header, rows = _read(out)
    assert header == list(WARNING_COLUMNS)
    sag = [r for r in rows if r["point_id"] == "P1"]
    assert sag, "the flooding sag got no warning"
    first = pd.Timestamp(sag[0]["issued_at"])
    assert first <= start - pd.Timedelta(minutes=45), (first, start)
    # timestamps as in the inputs, expected start near the simulated one, a real depth
    assert len(sag[0]["issued_at"]) == 19 and sag[0]["issued_at"][10] == " "
    assert abs(pd.Timestamp(sag[0]["expected_start"]) - start) <= pd.Timedelta(minutes=20)
    assert float(sag[0]["expected_peak_m"]) > 0.3
    # J2 has no ponded area: its water leaves as flooding, never ponds above the rim
    assert not [r for r in rows if r["point_id"] == "P2"]


def test_forecaster_api_gives_start_peak_and_flood_area(make_day) -> None:
    rain = storm_rain(100.0)
    paths = make_day(rain)
    model = load_network(paths["network"])
    points = read_points(paths["points"])
    feed = RecordedFeed(paths["observed"], paths["forecasts"])
    t = pd.Timestamp("2025-07-01 13:30")
    with PondingForecaster(model, points, feed.sensors, feed.start) as fc:
        for ti in [x for x in feed.issue_times() if x <= t]:
            snap = feed.snapshot(ti)
            pred = fc.update(ti, snap.observed, snap.forecasts)
    assert pred.t == t
    sag = pred.members[1.0]["P1"]
    assert sag.start is not None and t < sag.start < t + pd.Timedelta(hours=2)
    assert sag.peak_ts is not None and sag.peak_ts >= sag.start and sag.peak_m > 0.3
    assert "SAG" in pred.flood_nodes and pred.flood_nodes["SAG"] >= sag.peak_m - 0.05
    assert pred.members[1.0]["P2"].start is None
    area = flood_area(pred, model, points)
    assert area[0].node == "SAG" and area[0].points == ("P1",)
    assert (area[0].x, area[0].y) == (300.0, 0.0)
    assert all(f.peak_m >= 0.05 for f in area)
