"""The commands through ``register`` on a fresh typer app, on the tiny INP."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import typer
from typer.testing import CliRunner

from lifeline.risk.cli import register
from tests.risk.conftest import VALVES


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_criticality_rank_and_place_on_an_inp(tiny_inp: Path, tmp_path: Path) -> None:
    valves = tmp_path / "valves.csv"
    VALVES.to_csv(valves, index=False)
    cust = tmp_path / "customers.csv"
    pd.DataFrame(
        {
            "customer_id": ["HOSP", "H4"],
            "node": ["J3", "J4"],
            "category": ["hospital", "household"],
            "critical": ["true", "false"],
        }
    ).to_csv(cust, index=False)
    app, run = _app(), CliRunner()
    out = tmp_path / "crit.json"
    r = run.invoke(
        app,
        [
            "risk",
            "criticality",
            "--network",
            str(tiny_inp),
            "--valves",
            str(valves),
            "--customers",
            str(cust),
            "--out",
            str(out),
            "--plot",
            str(tmp_path / "c.png"),
            "--hour",
            "0",
        ],
    )
    assert r.exit_code == 0, r.output
    segs = json.loads(out.read_text())["water"]["segments"]
    assert max(s["critical_cut"] for s in segs) == 1 and (tmp_path / "c.png").stat().st_size > 1000

    assets = tmp_path / "assets.csv"
    pd.DataFrame(
        {
            "pipe": ["P0", "P1", "P2", "P3", "P4"],
            "install_year": [1950, 1960, 1900, 2010, 2000],
            "material": ["grey cast iron"] * 5,
        }
    ).to_csv(assets, index=False)
    ranked, gj = tmp_path / "rank.csv", tmp_path / "risk.geojson"
    r = run.invoke(
        app,
        [
            "risk",
            "rank",
            "--network",
            str(tiny_inp),
            "--valves",
            str(valves),
            "--customers",
            str(cust),
            "--assets",
            str(assets),
            "--year",
            "2026",
            "--out",
            str(ranked),
            "--geojson",
            str(gj),
            "--crs",
            "EPSG:25832",
            "--plot",
            str(tmp_path / "r.png"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert (
        "WARNING" in r.output and "beyond" in r.output
    )  # P2 is 126 y old, beyond the 100 y of grey cast iron
    df = pd.read_csv(ranked)
    assert df.risk.is_monotonic_decreasing and set(df["pipe"]) == {"P0", "P1", "P2", "P3", "P4"}
    feats = json.loads(gj.read_text())["features"]
    from pyproj import Transformer

    first = df.iloc[0]
    lon, lat = feats[0]["geometry"]["coordinates"][0]
    assert feats[0]["properties"]["pipe"] == first["pipe"]
    ex, ey = Transformer.from_crs("EPSG:25832", "EPSG:4326", always_xy=True).transform(0.0, 0.0)
    assert (
        abs(lat - ey) < 0.01 and abs(lon - ex) < 0.01
    )  # the tiny net sits at the UTM 32N false origin

    place = tmp_path / "place.json"
    r = run.invoke(
        app,
        [
            "sensors",
            "place",
            "--network",
            str(tiny_inp),
            "--valves",
            str(valves),
            "--n",
            "2",
            "--threshold-m",
            "0.01",
            "--out",
            str(place),
            "--plot",
            str(tmp_path / "p.png"),
        ],
    )
    assert r.exit_code == 0, r.output
    res = json.loads(place.read_text())
    assert res["curve"] == sorted(res["curve"]) and (tmp_path / "p.png").exists()


def test_bad_inputs_are_clear_errors(tiny_inp: Path, tmp_path: Path) -> None:
    from lifeline.errors import LifelineError

    bad = tmp_path / "assets.csv"
    bad.write_text("pipe,install_year\nP0,19x0\n")
    r = CliRunner().invoke(
        _app(), ["risk", "rank", "--network", str(tiny_inp), "--assets", str(bad)]
    )
    assert isinstance(r.exception, LifelineError) and f"{bad}:2" in str(r.exception)
    r = CliRunner().invoke(
        _app(), ["risk", "criticality", "--network", str(tiny_inp), "--executor", "spark"]
    )
    assert isinstance(r.exception, LifelineError) and "--executor" in str(r.exception)


def test_cluster_option_runs_on_a_dask_scheduler(tiny_inp: Path, tmp_path: Path) -> None:
    import pytest

    distributed = pytest.importorskip("distributed")
    valves = tmp_path / "valves.csv"
    VALVES.to_csv(valves, index=False)
    base = [
        "risk",
        "criticality",
        "--network",
        str(tiny_inp),
        "--valves",
        str(valves),
        "--hour",
        "0",
    ]
    r = CliRunner().invoke(_app(), [*base, "--out", str(tmp_path / "a.csv")])
    assert r.exit_code == 0, r.output
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None
    ) as lc:
        assert lc.scheduler_address.startswith("tcp://")
        r = CliRunner().invoke(
            _app(), [*base, "--cluster", lc.scheduler_address, "--out", str(tmp_path / "b.csv")]
        )
    assert r.exit_code == 0, r.output
    assert "dask(1)" in r.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv"))
