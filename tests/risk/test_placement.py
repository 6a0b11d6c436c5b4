"""Greedy maximum coverage: non-decreasing in N, first pick maximal; methane coverage radius."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifeline.risk.placement import greedy, methane_cover


def test_greedy_coverage_non_decreasing_and_first_pick_maximal() -> None:
    rng = np.random.default_rng(7)
    cover = rng.random((40, 120)) < 0.08
    w = rng.random(120)
    picks, gains, curve, base = greedy(cover, w, 15)
    assert base == 0.0 and len(set(picks)) == len(picks)
    assert np.all(np.diff(curve) >= -1e-12)
    single = cover.astype(float) @ w
    assert single[picks[0]] == single.max()
    assert np.isclose(curve[0], single.max() / w.sum())


def test_existing_sensors_count_first_and_are_not_picked() -> None:
    cover = np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]], dtype=bool)
    picks, _, curve, base = greedy(cover, np.ones(4), 2, existing=np.array([0]))
    assert base == 0.5 and 0 not in picks and curve[-1] == 1.0


def test_methane_cover_uses_distance_to_the_main() -> None:
    mh = pd.DataFrame({"x_m": [0.0, 50.0, 200.0], "y_m": [10.0, -20.0, 0.0]})
    pipes = pd.DataFrame({"x0": [0.0], "y0": [0.0], "x1": [100.0], "y1": [0.0]})
    assert methane_cover(mh, pipes, 25.0)[:, 0].tolist() == [True, True, False]


def test_fewer_locations_than_asked_say_why_and_the_plot_counts_whole_sensors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lifeline.risk.placement import place, plot_coverage

    # 4 candidates; the last two detect nothing new, target 3 is detectable by no one
    cover = np.array([[1, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]], dtype=bool)
    locs = pd.DataFrame({"location": list("ABCD"), "x_m": 0.0, "y_m": 0.0})
    pl = place(cover, np.array([1.0, 1.0, 1.0, 1.0]), locs, 5)
    assert pl.picks["location"].tolist() == ["A", "B"]
    reason = pl.meta["short_reason"]
    assert "after 2 new location(s) no other location detects" in reason
    assert "coverage stays at 75.0%" in reason and "25.0% of the risk" in reason
    full = place(cover[:2], np.ones(4), locs.iloc[:2], 5, existing=["A"])
    assert full.meta["short_reason"] == "only 1 candidate location(s) have no sensor yet"
    assert "short_reason" not in place(cover, np.ones(4), locs, 2).meta

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seen: list[list[float]] = []
    real_savefig = matplotlib.figure.Figure.savefig

    def spy(fig: Any, *a: Any, **k: Any) -> None:
        seen.append([float(t) for t in fig.axes[0].get_xticks()])
        real_savefig(fig, *a, **k)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", spy)
    plot_coverage(pl, tmp_path / "cover.png", "t")
    plt.close("all")
    assert seen and all(t == int(t) for t in seen[0]), seen
    assert (tmp_path / "cover.png").stat().st_size > 0
