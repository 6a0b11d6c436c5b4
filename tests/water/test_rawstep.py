"""The night-supply test that confirms a burst whose supply step the day's demand hid."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lifeline.water import calib
from lifeline.water.leaks import LeakParams, Model
from lifeline.water.rawstep import Step, night_excess
from lifeline.water.scada import Leak


def _model() -> Model:
    return Model(
        sensors=[],
        source_flows=["src"],
        other_flows=[],
        levels=[],
        theta=np.zeros((1, 0)),
        sigma=np.zeros(0),
        pipes=[],
        unit_sig=np.zeros((0, 0)),
        params=LeakParams(),
    )


def _supply(days: int = 10, seed: int = 3) -> pd.DataFrame:
    """Ten days of 5-minute source inflow (m³/h): a daily cycle with its low at 03:00, a daily
    level that wanders by a few per cent, and reading noise."""
    idx = pd.date_range("2020-03-01", periods=days * 288, freq="5min")
    rng = np.random.default_rng(seed)
    hour = idx.hour.to_numpy() + idx.minute.to_numpy() / 60
    daily = 1 + 0.03 * rng.standard_normal(days).repeat(288)
    q = (150 - 70 * np.cos(2 * np.pi * (hour - 3) / 24)) * daily + 3 * rng.standard_normal(len(idx))
    return pd.DataFrame({"F:src": q}, index=idx)


def test_a_burst_that_goes_on_through_the_night_raises_the_night_supply() -> None:
    raw = _supply()
    t = pd.Timestamp("2020-03-08 21:05")
    raw.loc[t:, "F:src"] += 20.0  # a burst of 20 m³/h, a seventh of the evening's inflow
    z, end = night_excess(raw, _model(), [], t)
    assert z > 5.0
    assert end is not None and t < end <= t + pd.Timedelta(hours=10)
    assert 3 <= end.hour <= 6  # the night of least inflow, not a clock default


def test_a_daytime_swing_does_not_reach_the_night() -> None:
    raw = _supply()
    t = pd.Timestamp("2020-03-08 10:00")
    raw.loc[t : t + pd.Timedelta(hours=3), "F:src"] += 40.0
    z, _ = night_excess(raw, _model(), [], t)
    assert abs(z) < 3.0


def test_the_night_test_cannot_tell_before_the_night_has_come() -> None:
    raw = _supply().loc[:"2020-03-09 01:00"]
    z, end = night_excess(raw, _model(), [], pd.Timestamp("2020-03-08 21:05"))
    assert np.isnan(z) and end is None


def _leak(start: str) -> Leak:
    t = pd.Timestamp(start)
    return Leak("p1", t, t + pd.Timedelta(days=10), 0.02, "abrupt", t)


def _step(z: float, supply_z: float, night_z: float) -> Step:
    return Step(z, 1.0, supply_z, night_z)


def test_the_night_gate_is_the_upper_decile_of_the_other_alarms_nights() -> None:
    t0 = pd.Timestamp("2020-01-01")
    others = [(t0 + pd.Timedelta(days=10 * i), _step(20.0, 0.5, float(i))) for i in range(10)]
    weak = [(t0 + pd.Timedelta(days=5), _step(2.0, 0.5, 50.0))]  # under the pressure gate
    falling = [(t0 + pd.Timedelta(days=6), _step(20.0, -1.0, 60.0))]  # the supply fell
    burst = [(pd.Timestamp("2020-06-01 03:00"), _step(40.0, 0.5, 80.0))]  # a labelled burst
    steps = others + weak + falling + burst
    thr, info = calib.night_gate(steps, [_leak("2020-06-01 02:00")], 10.0)
    assert thr == pytest.approx(np.quantile(np.arange(10.0), 0.9))
    assert info["others"] == 10
    thr, _ = calib.night_gate(others[:4], [], 10.0)
    assert thr == float("inf")  # too few alarms to learn from: the night test stays off


def test_a_history_may_show_the_false_alarms_its_budget_allows_by_chance() -> None:
    # 0.5 a year over one year: one false alarm is within the budget (P(N >= 1) = 0.39),
    # two are not (P(N >= 2) = 0.09)
    assert calib.budget_count(0.5) == 1
    assert calib.budget_count(0.0) == 0
    assert calib.budget_count(0.5 / 6) == 0  # two months of history: none
    for mean in (0.3, 1.0, 2.5, 7.0):  # the 90 % quantile of a Poisson count
        n = calib.budget_count(mean)
        cdf = [
            sum(np.exp(-mean) * mean**i / math.factorial(i) for i in range(m + 1))
            for m in (n - 1, n)
        ]
        assert (n == 0 or cdf[0] < 0.9) and cdf[1] >= 0.9


def test_a_burst_needs_the_supply_step_or_the_night() -> None:
    assert calib.is_burst(_step(20.0, 2.0, 0.0), 10.0, 5.0)
    assert calib.is_burst(_step(20.0, 0.2, 6.0), 10.0, 5.0)
    assert not calib.is_burst(_step(20.0, 0.2, 4.0), 10.0, 5.0)
    assert not calib.is_burst(_step(20.0, 0.2, 6.0), 10.0)  # night test off
    assert not calib.is_burst(_step(20.0, -0.2, 9.0), 10.0, 5.0)  # a burst never lowers supply
    assert not calib.is_burst(_step(8.0, 2.0, 9.0), 10.0, 5.0)  # pressure step under the gate


def test_the_reported_pipe_is_moved_from_the_medoid_to_the_widest_search_cover() -> None:
    """Among pipes that fit about equally well, the report is the pipe within ``search_m`` of
    their likelihood-weighted medoid whose own ``search_m`` radius holds the most weight (a crew
    finds a leak within that radius): never farther than the radius from the medoid, never
    covering less than it."""
    from lifeline.water.locate import pick_pipe, posterior
    from lifeline.water.network import load_network, pipe_graph

    from .sim import net_path

    graph = pipe_graph(load_network(net_path("ky4")))  # pipes of ~200 m
    model = _model()
    model.pipes = list(graph.pipes)
    dm = graph.distance_matrix()
    r = model.params.search_m
    rng = np.random.default_rng(7)
    moved = 0
    for _ in range(200):
        a = rng.uniform(0.0, 1.0, len(model.pipes)) ** 8  # a few pipes fit about as well
        det = pick_pipe(a, a, model, graph, pd.Timestamp("2021-01-01"), pd.Timestamp("2021-01-01"))
        cand = np.argsort(-a)[:50]  # the best 50 fits, weighted by their likelihood
        w = posterior(a, a)[cand]
        gi = np.array([graph.index(model.pipes[i]) for i in cand])
        near = dm[np.ix_(gi, gi)] @ w
        medoid = model.pipes[cand[int(np.argmin(near))]]

        cover_pick = float(w @ (dm[graph.index(det.pipe), gi] <= r))
        cover_medoid = float(w @ (dm[graph.index(medoid), gi] <= r))
        assert graph.pipe_distance(det.pipe, medoid) <= r
        assert cover_pick >= cover_medoid
        moved += det.pipe != medoid
    assert moved > 0  # the move happens on this network, not only in theory


def _field_signatures(rng: np.random.Generator, pipes: int = 400, sensors: int = 12) -> np.ndarray:
    """Unit leak signatures of pipes spread over a square, each sensor seeing a leak the less the
    farther it is (neighbouring pipes have similar signatures, as on a real network)."""
    xp = rng.uniform(0, 1, (pipes, 2))
    xs = rng.uniform(0, 1, (sensors, 2))
    sig = np.exp(-np.linalg.norm(xp[:, None] - xs[None], axis=2) / 0.25)
    return sig / np.linalg.norm(sig, axis=1, keepdims=True)


def test_burst_weights_follow_how_likely_the_step_makes_each_pipe() -> None:
    """The weight of the leak's own pipe against the best is high however weak the step (the
    noise is what the best fit's misfit says), and a clear step puts most of the weight on a
    few pipes where a weak one spreads it; a fixed share of the best fit (``loc_ratio``) keeps
    many pipes for a clear step as well."""
    from lifeline.water.locate import posterior

    rng = np.random.default_rng(3)
    u = _field_signatures(rng)
    own: dict[float, list[float]] = {5.0: [], 40.0: []}
    spread: dict[float, list[float]] = {5.0: [], 40.0: []}
    ratio_kept: list[float] = []
    for size in own:
        for _ in range(300):
            k = int(rng.integers(len(u)))
            m = size * u[k] + rng.normal(0.0, 1.0, u.shape[1])  # whitened: unit noise
            a = u @ m
            p = posterior(a, m)
            assert p.max() == pytest.approx(1.0) and (p >= 0).all()
            own[size].append(p[k])
            spread[size].append(p.sum())  # how many pipes' worth of weight
            if size == 40.0:
                ratio_kept.append(int((a >= 0.85 * a.max()).sum()))
    # the own pipe keeps weight (exp(-3.3) is the 99 % level of a likelihood ratio)
    assert np.mean(np.array(own[40.0]) > np.exp(-3.3)) >= 0.95
    assert np.mean(np.array(own[5.0]) > np.exp(-3.3)) >= 0.8
    assert np.median(spread[40.0]) * 3 < np.median(spread[5.0])
    assert np.median(spread[40.0]) * 3 < np.median(ratio_kept)


def test_a_burst_at_the_start_of_the_data_is_judged_against_the_history_before_it() -> None:
    """A burst on the data's first evening has no nights before it in the data; with the
    history's last days put before the data (they follow each other) the night test sees it,
    and a history that ends weeks before the data is not joined."""
    from lifeline.water.pipeline import with_history_tail

    raw = _supply()
    hist, data = raw.loc[:"2020-03-08 23:55"].copy(), raw.loc["2020-03-09":].copy()
    t = pd.Timestamp("2020-03-09 21:05")
    data.loc[t:, "F:src"] += 20.0
    alone, _ = night_excess(data, _model(), [], t)
    joined = with_history_tail(data, hist)
    z, end = night_excess(joined, _model(), [], t)
    assert not np.isfinite(alone)  # the data alone have no nights before the burst
    assert z > 5.0 and end is not None
    assert joined.index.is_monotonic_increasing and joined.index.is_unique
    assert joined.index[0] >= data.index[0] - pd.Timedelta(days=10)
    late = data.copy()
    late.index = late.index + pd.Timedelta(days=30)
    assert with_history_tail(late, hist).equals(late)


@pytest.mark.parametrize("unexplained", [1, 2])
def test_one_unexplained_burst_on_a_year_of_history_does_not_raise_the_threshold(
    monkeypatch: pytest.MonkeyPatch, unexplained: int
) -> None:
    """On a year of unlabelled history, the burst channel reports ``unexplained`` bursts at every
    CUSUM threshold under 20 σ·h and none above. A budget of 0.5 false alarms a year allows one
    such report by chance: the threshold stays at the bootstrap's floor; two raise it."""
    from types import SimpleNamespace

    from lifeline.water import leaks as lk

    n = 24 * 365
    idx = pd.date_range("2021-01-01", periods=n, freq="1h")
    z = np.zeros((n, 3))
    pre = SimpleNamespace(idx=idx, proj=z, r=z, b=z, seen=np.ones(n, dtype=bool))
    t = pd.Timestamp("2021-06-01")

    def reported(pre: object, model: Model, graph: object, **kw: object) -> list[lk.Detection]:
        if model.params.h >= 20.0:
            return []
        return [
            lk.Detection("p1", t + pd.Timedelta(days=30 * i), t, 0.9) for i in range(unexplained)
        ]

    monkeypatch.setattr(lk, "detect_prepared", reported)

    def test(z_thr: float | None) -> object:
        return SimpleNamespace(steps=[])

    model = SimpleNamespace(params=LeakParams())
    prm, _, info = calib.learn_fast(pre, model, None, [], [], test)
    floor = info["h_floor"]
    assert floor < 20.0  # quiet history: the bootstrap allows a low threshold
    if unexplained == 1:
        assert prm.h == pytest.approx(floor)
        assert info["history_bursts"] == {"reported": 1, "unexplained": 1}
    else:
        assert prm.h >= 20.0
        assert info["history_bursts"]["reported"] == 0


def test_the_first_weeks_of_a_history_do_not_set_the_bursts_threshold(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The baseline's first week rests on the series' first days; a start-up there (tanks
    filling from their initial levels, a holiday) moves the residuals all that week. Those days
    are not drawn by the bootstrap of the channel's false alarms: its floor follows the rest."""
    from types import SimpleNamespace

    from lifeline.water import leaks as lk

    n = 24 * 120
    idx = pd.date_range("2021-01-01", periods=n, freq="1h")
    rng = np.random.default_rng(8)
    proj = np.clip(rng.standard_normal((n, 3)), 0, None)
    base_days = LeakParams().baseline_days
    proj[24 * base_days : 24 * 2 * base_days, 0] += 40.0  # the week after the baseline starts
    seen = np.arange(n) >= 24 * base_days
    pre = SimpleNamespace(idx=idx, proj=proj, r=proj, b=np.zeros_like(proj), seen=seen)
    monkeypatch.setattr(lk, "detect_prepared", lambda *a, **k: [])
    model = SimpleNamespace(params=LeakParams())
    _, _, info = calib.learn_fast(pre, model, None, [], [], lambda z: SimpleNamespace(steps=[]))
    assert info["h_floor"] < 15.0
    assert info["bootstrap_alarms_per_year_by_h"]["40"] == 0.0
