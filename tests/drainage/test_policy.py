"""The warning decisions on hand-made predictions: margin, persistence, flood under way, stand-down."""

from __future__ import annotations

import pandas as pd

from lifeline.drainage.io import Point
from lifeline.drainage.nowcast import Bias
from lifeline.drainage.ponding import PointForecast, Prediction
from lifeline.drainage.warn import PolicyConfig, WarningPolicy

T0 = pd.Timestamp("2025-07-01 14:00")
P = [Point("P1", "SAG", 0.15, "sag")]
NAN = float("nan")


def pred(minutes: int, peak: float, obs: float = NAN, start_in: int = 40) -> Prediction:
    t = T0 + pd.Timedelta(minutes=minutes)
    start = t + pd.Timedelta(minutes=start_in) if peak >= 0.15 else None
    fc = PointForecast("P1", start, start, peak)
    return Prediction(
        t, {1.0: {"P1": fc}}, {"P1": 0.0}, {"P1": obs}, Bias(1, 0, 0, 0), 1.0, 1.0, {}, 50.0, True
    )


def test_margin_and_persistence() -> None:
    pol = WarningPolicy(P, PolicyConfig(margin=2.0, persist=2))
    assert pol.decide(pred(0, 0.25)) == []  # below 2 x threshold
    assert pol.decide(pred(15, 0.40)) == []  # first call: waits for a second one
    lines = pol.decide(pred(30, 0.45))
    assert [(ln.point_id, ln.expected_peak_m) for ln in lines] == [("P1", 0.45)]
    assert lines[0].expected_start == T0 + pd.Timedelta(minutes=70)
    assert pol.decide(pred(45, 0.1)) == []  # the forecast no longer calls for it


def test_flood_under_way_then_stand_down_then_new_rise() -> None:
    pol = WarningPolicy(
        P,
        PolicyConfig(
            margin=1.0, persist=1, far_rain_mm=0.0, recede=0.7, rewarn=3.0, trigger_m=0.01
        ),
    )
    assert pol.decide(pred(0, 0.3)) != []
    # gauge crosses threshold + 1 cm between issue times: a line at once, only once
    first = pol.observe(T0 + pd.Timedelta(minutes=5), {"P1": 0.20})
    assert [ln.issued_at for ln in first] == [T0 + pd.Timedelta(minutes=5)]
    assert pol.observe(T0 + pd.Timedelta(minutes=10), {"P1": 0.25}) == []
    # at the next issue time the flood is under way: line even if the model saw nothing
    under = pol.decide(pred(15, 0.0, obs=0.3))
    assert under and under[0].expected_start == T0 + pd.Timedelta(minutes=15)
    assert under[0].expected_peak_m == 0.3
    # water gone (below 0.7 x threshold): the model still ponds, but no stale warning
    pol.observe(T0 + pd.Timedelta(minutes=20), {"P1": 0.05})
    assert pol.decide(pred(30, 0.3, obs=0.04)) == []
    # a new storm predicted to pond 3 x the threshold, later: a new warning
    assert pol.decide(pred(45, 0.5, obs=0.0, start_in=60)) != []


def test_gauge_noise_at_the_threshold_is_not_a_flood() -> None:
    pol = WarningPolicy(P, PolicyConfig(trigger_m=0.01))
    assert pol.observe(T0, {"P1": 0.155}) == []
    assert pol.observe(T0, {"P1": NAN}) == []


def pred_rain(minutes: int, peak: float, start_in: int, rain_mm: float) -> Prediction:
    """Like :func:`pred`, with ``rain_mm`` of rain observed in the verification window."""
    p = pred(minutes, peak, start_in=start_in)
    p.bias = Bias(1.0, rain_mm, rain_mm, 3)
    return p


def test_far_calls_wait_for_the_rain_near_calls_for_persistence() -> None:
    cfg = PolicyConfig(margin=2.0, persist=2, far_min=45, margin_far=2.0, far_rain_mm=1.0)
    pol = WarningPolicy(P, cfg)
    # a storm forecast 100 min ahead before any rain fell: no warning (a bust looks like this)
    assert pol.decide(pred_rain(0, 0.5, start_in=100, rain_mm=0.0)) == []
    # once the rain has begun the far call is made at once (persist_far = 1)
    far = pol.decide(pred_rain(15, 0.5, start_in=85, rain_mm=2.0))
    assert [ln.expected_start for ln in far] == [T0 + pd.Timedelta(minutes=100)]
    # a near call needs two consecutive issue times
    pol2 = WarningPolicy(P, cfg)
    assert pol2.decide(pred_rain(0, 0.5, start_in=20, rain_mm=5.0)) == []
    assert pol2.decide(pred_rain(15, 0.5, start_in=20, rain_mm=5.0)) != []


def test_far_margin_is_higher_than_near_margin() -> None:
    pol = WarningPolicy(
        P, PolicyConfig(margin=1.0, persist=1, far_min=60, margin_far=3.0, far_rain_mm=0.0)
    )
    assert pol.decide(pred(0, 0.30, start_in=90)) == []  # 2 x threshold, far: below 3 x
    assert pol.decide(pred(15, 0.30, start_in=30)) != []  # near: above 1 x
