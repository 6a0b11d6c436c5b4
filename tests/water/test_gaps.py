"""A sensor's gap: the hours it misses stay in the leak detector (its residual is filled from the
others'), and the raw-data burst test leaves the sensor out instead of the gap's time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifeline.water.leaks import Detection, LeakParams, Model, fill_missing, prepare
from lifeline.water.rawstep import refine_onset


def _cov(n: int = 8, common: float = 0.8) -> np.ndarray:
    """Residual covariance (m²) of ``n`` sensors that share most of their noise."""
    return common * np.ones((n, n)) + (1 - common) * np.eye(n)


def test_a_missing_sensor_is_filled_from_the_sensors_it_moves_with() -> None:
    rng = np.random.default_rng(5)
    c = _cov()
    d = rng.multivariate_normal(np.zeros(8), c, size=400)
    gappy = d.copy()
    gappy[100:200, 3] = np.nan  # one sensor out for 100 hours
    gappy[300, :6] = np.nan  # most sensors out: nothing to fill from
    out = fill_missing(gappy, c)
    err = out[100:200, 3] - d[100:200, 3]
    assert np.isfinite(out[100:200]).all()
    assert np.var(err) < 0.35 * np.var(d[100:200, 3])  # far better than a zero or a gap
    assert np.isnan(out[300, :6]).all()
    assert np.array_equal(out[:100], d[:100])  # complete rows untouched


def _model_cov(m: Model) -> np.ndarray:
    """The model's residual covariance (m²), which the step model always has."""
    assert m.cov is not None
    return m.cov


def test_a_gap_of_a_few_hours_does_not_blind_those_hours_for_the_days_after() -> None:
    """The same-hour baseline of the sensor is missing for a week after its gap (the median of
    the days before needs them all); those hours stay in the burst channel."""
    m = _step_model()
    idx = pd.date_range("2021-03-01", periods=24 * 20, freq="h")
    rng = np.random.default_rng(3)
    h = pd.DataFrame(
        rng.multivariate_normal(np.zeros(8), _model_cov(m), size=len(idx)),
        index=idx,
        columns=[f"P:s{i}" for i in range(8)],
    )
    full = prepare(h.copy(), m)
    h.iloc[24 * 8 + 5 : 24 * 8 + 9, 1] = np.nan  # sensor 1 misses 05:00-08:00 on day 8
    pre = prepare(h, m)
    week = slice(24 * 9, 24 * 16)
    assert np.isnan(pre.b[week, 1]).any()  # the baseline itself waits for seven days
    assert pre.seen is not None and pre.seen[week].all()
    hit = np.flatnonzero(np.isnan(pre.b[:, 1]) & (np.arange(len(idx)) >= 24 * 9))
    assert len(hit) == 4 * 7  # those four clock hours, every day of the week after
    got, want = pre.proj[hit, 0], full.proj[hit, 0]
    assert np.corrcoef(got, want)[0, 1] > 0.8  # the hours still follow what the sensors read
    assert np.array_equal(pre.seen[: 24 * 7], np.zeros(24 * 7, dtype=bool))  # no baseline yet


def _step_model(n: int = 8) -> Model:
    sig = np.linspace(1.0, 0.2, n)
    return Model(
        sensors=[f"s{i}" for i in range(n)],
        source_flows=[],
        other_flows=[],
        levels=[],
        theta=np.zeros((1, n)),
        sigma=np.full(n, 0.1),
        pipes=["p1"],
        unit_sig=(sig / np.linalg.norm(sig))[None, :],
        params=LeakParams(),
        cov=0.01 * _cov(n, 0.5),
    )


def test_the_raw_step_is_found_with_one_sensor_out_through_it() -> None:
    m = _step_model()
    idx = pd.date_range("2021-05-04 06:00", periods=12 * 12, freq="5min")
    rng = np.random.default_rng(2)
    p = rng.multivariate_normal(np.zeros(8), _model_cov(m), size=len(idx))
    t_step = pd.Timestamp("2021-05-04 11:35")
    p[idx >= t_step] += 0.8 * m.unit_sig[0]  # a burst: the residual moves along its signature
    p[(idx >= "2021-05-04 09:00") & (idx < "2021-05-04 14:00"), 5] = np.nan  # sensor 5's gap
    raw = pd.DataFrame(p, index=idx, columns=[f"P:s{i}" for i in range(8)])
    det = Detection(
        pipe="p1",
        time=pd.Timestamp("2021-05-04 13:00"),
        alarm_time=pd.Timestamp("2021-05-04 14:00"),
        confidence=1.0,
        candidates=["p1"],
        strength=10.0,
        channel="burst",
    )
    got, st = refine_onset(det, raw, m)
    assert st.z > 10
    assert abs(got.time - t_step) <= pd.Timedelta(minutes=15)


def test_the_hours_of_one_sensors_gap_stay_in_the_burst_channel() -> None:
    """Thirty days of hourly pressures; one sensor misses five hours on day 20. Those hours are
    still seen (their projections rest on the other sensors), and a burst in them moves the
    projection on its pipe as it would with the sensor there."""
    m = _step_model()
    idx = pd.date_range("2021-06-01", periods=24 * 30, freq="h")
    rng = np.random.default_rng(11)
    p = rng.multivariate_normal(np.zeros(8), _model_cov(m), size=len(idx))
    burst = idx >= pd.Timestamp("2021-06-21 06:00")
    p[burst] += 1.5 * m.unit_sig[0]
    h = pd.DataFrame(p, index=idx, columns=[f"P:s{i}" for i in range(8)])
    gap = (idx >= pd.Timestamp("2021-06-21 05:00")) & (idx < pd.Timestamp("2021-06-21 10:00"))
    full = prepare(h.copy(), m)
    h.loc[gap, "P:s0"] = np.nan  # the sensor nearest the burst
    pre = prepare(h, m)
    assert pre.seen is not None and pre.seen[gap].all()
    hit = gap & burst
    assert (pre.proj[hit, 0] > 3).all()  # the burst stands out in the gap's hours
    assert (pre.proj[hit, 0] > 0.5 * full.proj[hit, 0]).all()
    assert not np.isfinite(h.loc[gap, "P:s0"]).any() and np.isnan(pre.r[gap, 0]).all()
