"""Bad SCADA input gives clear errors naming file, line or field; gaps are handled as documented."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lifeline.errors import InputError, LifelineError
from lifeline.water.cli import app
from lifeline.water.scada import check_against_network, read_scada

NET = Path(__file__).parents[1] / "data" / "water" / "chain.inp"


def write(folder: Path, kind: str, df: pd.DataFrame) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    d = df.copy()
    d.index = pd.DatetimeIndex(d.index).strftime("%Y-%m-%d %H:%M:%S")
    d.index.name = "Timestamp"
    d.to_csv(folder / f"2020_SCADA_{kind}.csv", sep=";", decimal=",")


def frame(cols: list[str], n: int = 48, freq: str = "5min") -> pd.DataFrame:
    idx = pd.date_range("2020-01-01", periods=n, freq=freq)
    return pd.DataFrame(
        np.random.default_rng(0).normal(40, 1, (n, len(cols))), index=idx, columns=cols
    )


def test_missing_folder_and_pressures(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_scada(tmp_path / "nope")
    write(tmp_path / "s", "Flows", frame(["p0"]))
    with pytest.raises(InputError, match="Pressures"):
        read_scada(tmp_path / "s")


def test_bad_value_names_line_and_column(tmp_path: Path) -> None:
    f = frame(["j1", "j2"]).astype(object)
    f.iloc[5, 1] = "abc"
    write(tmp_path, "Pressures", f)
    with pytest.raises(InputError, match=r":7:j2"):
        read_scada(tmp_path)


def test_gaps_interpolated_long_gaps_stay_nan(tmp_path: Path) -> None:
    f = frame(["j1"], n=100)
    f.iloc[10:13, 0] = np.nan  # short gap: interpolated
    f = f.drop(f.index[40:70])  # 30 missing rows: left as NaN
    write(tmp_path, "Pressures", f)
    s = read_scada(tmp_path)
    assert len(s.pressures) == 100
    assert s.pressures.iloc[10:13, 0].notna().all()
    assert s.pressures.iloc[40:70, 0].isna().all()


def test_different_or_irregular_step(tmp_path: Path) -> None:
    write(tmp_path / "a", "Pressures", frame(["j1"]))
    write(tmp_path / "a", "Flows", frame(["p0"], freq="10min"))
    with pytest.raises(InputError, match="differs"):
        read_scada(tmp_path / "a")
    idx = pd.DatetimeIndex(
        [
            "2020-01-01 00:00",
            "2020-01-01 00:05",
            "2020-01-01 00:07",
            "2020-01-01 00:19",
            "2020-01-01 00:23",
        ]
    )
    write(tmp_path / "b", "Pressures", pd.DataFrame({"j1": range(5)}, index=idx))
    with pytest.raises(InputError, match="irregular"):
        read_scada(tmp_path / "b")


def test_unknown_sensor_id(tmp_path: Path) -> None:
    write(tmp_path, "Pressures", frame(["j1", "n999"]))
    s = read_scada(tmp_path)
    with pytest.raises(InputError, match="n999"):
        check_against_network(s, {"j1"}, {"p0"}, tmp_path)


def test_leaks_cli_bad_input_is_lifeline_error(tmp_path: Path) -> None:
    write(tmp_path / "s", "Pressures", frame(["j1", "zz"]))
    out = CliRunner().invoke(
        app,
        [
            "leaks",
            "--network",
            str(NET),
            "--scada",
            str(tmp_path / "s"),
            "--out",
            str(tmp_path / "r.txt"),
        ],
    )
    assert isinstance(out.exception, LifelineError) and "zz" in str(out.exception)
    out = CliRunner().invoke(
        app,
        [
            "leaks",
            "--network",
            str(tmp_path / "none.inp"),
            "--scada",
            str(tmp_path / "s"),
            "--out",
            str(tmp_path / "r.txt"),
        ],
    )
    assert isinstance(out.exception, LifelineError)


def test_step_must_divide_an_hour(tmp_path: Path) -> None:
    from lifeline.water.leaks import hourly

    write(tmp_path, "Pressures", frame(["j1"], freq="7min"))
    with pytest.raises(InputError, match="must divide one hour"):
        hourly(read_scada(tmp_path))
