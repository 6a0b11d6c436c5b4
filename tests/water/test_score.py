"""The BattLeDIM score on a hand-built truth and submission (chain network, 100 m pipes)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lifeline.errors import InputError
from lifeline.water.cli import app
from lifeline.water.network import load_network, pipe_graph
from lifeline.water.scada import read_truth
from lifeline.water.score import read_submission, score

NET = Path(__file__).parents[1] / "data" / "water" / "chain.inp"


@pytest.fixture()
def truth(tmp_path: Path) -> Path:
    d = tmp_path / "truth"
    d.mkdir()
    (d / "leaks.csv").write_text(
        "linkID,startTime,endTime,leakDiameter,leakType,peakTime\n"
        "p2,2020-01-01 00:00,2020-01-01 09:00,0.01,abrupt,2020-01-01 00:00\n"
        "p5,2020-01-01 05:00,2020-01-01 23:00,0.01,abrupt,2020-01-01 05:00\n"
    )
    idx = pd.date_range("2020-01-01", periods=24, freq="1h")
    a = [2.0 if t.hour <= 9 else 0.0 for t in idx]
    b = [1.0 if t.hour >= 5 else 0.0 for t in idx]
    pd.DataFrame({"p2": a, "p5": b}, index=idx.rename("Timestamp")).to_csv(d / "leak_outflow.csv")
    return d


def test_score_by_hand(tmp_path: Path, truth: Path) -> None:
    sub = tmp_path / "results.txt"
    sub.write_text(
        "# a comment\np3, 2020-01-01 02:00\np5, 2020-01-01 11:00\n\np1, 2020-01-01 12:00\np2, 2020-01-01 03:00\n"
    )
    graph = pipe_graph(load_network(NET))
    leaks, outflow = read_truth(truth)
    res = score(read_submission(sub), leaks, outflow, graph)
    # p3 at 02:00 matches the p2 leak at 100 m: 8 h (02..09) × 2 m³/h × 0.8 € − 500 × 100/300
    # p2 at 03:00: the p2 leak is already matched → false positive
    # p5 at 11:00 matches the p5 leak exactly: 13 h (11..23) × 1 m³/h × 0.8 €
    # p1 at 12:00: p2 leak over, p5 leak is 400 m away → false positive
    expected = (8 * 2 * 0.8 - 500 * 100 / 300) + (13 * 1 * 0.8) - 2 * 500
    assert res.tp == 2 and res.fp == 2 and res.fn == 0
    assert res.score_eur == pytest.approx(expected)
    assert res.perfect_eur == pytest.approx(0.8 * (10 * 2 + 19 * 1))


def test_score_cli_and_bad_submission(tmp_path: Path, truth: Path) -> None:
    sub = tmp_path / "results.txt"
    sub.write_text("p2, 2020-01-01 00:00\n")
    runner = CliRunner()
    out = runner.invoke(
        app, ["score", "--network", str(NET), "--truth", str(truth), "--submission", str(sub)]
    )
    assert out.exit_code == 0, out.output
    assert "TP 1" in out.output and "FP 0" in out.output
    sub.write_text("p2, 2020-01-01 00:00\nnonsense line\n")
    out = runner.invoke(
        app, ["score", "--network", str(NET), "--truth", str(truth), "--submission", str(sub)]
    )
    assert isinstance(out.exception, InputError) and ":2" in str(out.exception)
    sub.write_text("p99, 2020-01-01 00:00\n")
    with pytest.raises(InputError, match="p99"):
        read_submission(sub, set(pipe_graph(load_network(NET)).pipes))
