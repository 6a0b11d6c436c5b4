"""Greedy maximum coverage: non-decreasing in N, first pick maximal; methane coverage radius."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
