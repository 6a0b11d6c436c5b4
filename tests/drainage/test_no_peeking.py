"""Warnings issued up to t must not change when the data after t change (no peeking)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from lifeline.drainage.feed import RecordedFeed
from lifeline.drainage.io import read_points
from lifeline.drainage.model import load_network
from lifeline.drainage.ponding import PondingForecaster
from lifeline.drainage.warn import run_warn
from lifeline.errors import StateError

from .conftest import storm_rain

#: after the storm began at 14:00 (far warnings wait for the rain), before the sag floods
CUT = pd.Timestamp("2025-07-01 14:15")


def _lines(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _tamper_after(paths: dict[str, Path], cut: pd.Timestamp) -> None:
    """Change every observation after ``cut`` and every nowcast issued after it."""
    for name in ("rain.csv", "levels.csv"):
        f = paths["observed"] / name
        df = pd.read_csv(f, parse_dates=["ts"])
        col = df.columns[2]
        late = df["ts"] > cut
        df.loc[late, col] = df.loc[late, col] * 3 + 7.0
        df["ts"] = df["ts"].dt.strftime("%Y-%m-%d %H:%M:%S")
        df.to_csv(f, index=False)
    for f in paths["forecasts"].glob("forecast_*.csv"):
        issued = pd.Timestamp(f.stem.split("_")[1])
        if issued > cut:
            if issued.minute % 30 == 0:
                f.unlink()
            else:
                df = pd.read_csv(f)
                df["rain_mm_h"] = 0.0
                df.to_csv(f, index=False)


def test_outputs_up_to_t_do_not_depend_on_later_data(make_day, tmp_path: Path) -> None:
    rain = storm_rain(100.0)
    a = make_day(rain, name="a")
    b = make_day(rain, name="b")
    _tamper_after(b, CUT)
    keys = ("network", "observed", "forecasts", "points")
    run_warn(**{k: a[k] for k in keys}, out=tmp_path / "a.csv")
    run_warn(**{k: b[k] for k in keys}, out=tmp_path / "b.csv")
    la, lb = _lines(tmp_path / "a.csv"), _lines(tmp_path / "b.csv")

    def upto(lines: list[dict[str, str]]) -> list[dict[str, str]]:
        return [r for r in lines if pd.Timestamp(r["issued_at"]) <= CUT]

    assert upto(la), "no warning before the cut: the test would prove nothing"
    assert upto(la) == upto(lb)
    # the tampering does change what comes after the cut
    assert la != lb


def test_forecaster_refuses_future_data(make_day) -> None:
    paths = make_day(storm_rain(100.0))
    model = load_network(paths["network"])
    feed = RecordedFeed(paths["observed"], paths["forecasts"])
    t = feed.issue_times()[3]
    with PondingForecaster(model, read_points(paths["points"]), feed.sensors, feed.start) as fc:
        snap = feed.snapshot(t)
        assert all(f.issued_at <= t for f in snap.forecasts)
        assert snap.observed.rain.index.max() == t and snap.observed.levels.index.max() == t
        later = feed.snapshot(t + pd.Timedelta(minutes=15))
        with pytest.raises(StateError, match="after the issue time"):
            fc.update(t, later.observed, snap.forecasts)
        with pytest.raises(StateError, match="nowcast issued after"):
            fc.update(t, snap.observed, later.forecasts)
        fc.update(t, snap.observed, snap.forecasts)
        with pytest.raises(StateError, match="cannot go back"):
            fc.update(
                t - pd.Timedelta(minutes=15),
                feed.snapshot(t - pd.Timedelta(minutes=15)).observed,
                (),
            )
