"""Gap filling of observed rain, nowcast bias and the time-lagged nowcast mean."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifeline.drainage.io import Forecast
from lifeline.drainage.nowcast import NowcastVerifier, fill_observed, forecast_rain

T0 = pd.Timestamp("2025-07-01 12:00")


def _idx(start: pd.Timestamp, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start + pd.Timedelta(minutes=5), periods=n, freq="5min")


def test_fill_uses_other_gauges_scaled_by_their_catch() -> None:
    idx = _idx(T0, 24)
    rain = pd.DataFrame({"G1": np.full(24, 20.0), "G2": np.full(24, 10.0)}, index=idx)
    rain.iloc[20:, 0] = np.nan  # G1 outage for the last 20 min
    rain.iloc[5, 1] = np.nan  # one G2 fault
    out = fill_observed(rain, ["G1", "G2", "G3"], T0, idx[-1])
    assert not out.isna().any().any()
    # G1 caught twice what G2 did while both reported -> its gap is 2 x G2 (clipped at 2)
    assert np.allclose(out["G1"].iloc[20:], 20.0)
    # G2's fault takes G1's value times G2's catch ratio (0.5)
    assert np.isclose(out["G2"].iloc[5], 10.0)
    # an unknown gauge takes the mean of the others
    assert np.allclose(out["G3"].iloc[:5], 15.0)


def test_fill_uses_the_latest_nowcast_when_no_gauge_reported() -> None:
    idx = _idx(T0, 6)
    rain = pd.DataFrame({"G1": [1.0, 1.0, np.nan, np.nan, 1.0, 1.0]}, index=idx)
    fc = Forecast(T0, pd.DataFrame({"G1": np.full(6, 7.0)}, index=idx))
    out = fill_observed(rain, ["G1"], T0, idx[-1], [fc])
    assert out["G1"].tolist() == [1.0, 1.0, 7.0, 7.0, 1.0, 1.0]
    assert fill_observed(rain, ["G1"], T0, idx[-1])["G1"].iloc[2] == 0.0


def test_bias_sees_an_under_forecast_growing_storm_and_a_bust() -> None:
    t = T0 + pd.Timedelta(minutes=60)
    obs_idx = _idx(T0 - pd.Timedelta(hours=1), 24)
    fcs = []
    for k in range(4):
        issued = T0 + pd.Timedelta(minutes=15 * k)
        fcs.append(
            Forecast(issued, pd.DataFrame({"G1": np.full(24, 20.0)}, index=_idx(issued, 24)))
        )
    v = NowcastVerifier(window_min=45, prior_mm=3.0)
    heavy = pd.DataFrame({"G1": np.full(24, 60.0)}, index=obs_idx)
    b = v.bias(t, heavy, fcs)
    assert b.n_forecasts >= 2 and 2.0 < b.ratio <= 3.0
    dry = pd.DataFrame({"G1": np.zeros(24)}, index=obs_idx)
    assert v.bias(t, dry, fcs).ratio < 0.5
    # nothing to verify yet: no correction
    assert v.bias(T0, heavy, fcs[:1]).ratio == 1.0


def test_lagged_mean_of_nowcasts() -> None:
    a = Forecast(T0, pd.DataFrame({"G1": np.full(24, 10.0)}, index=_idx(T0, 24)))
    t1 = T0 + pd.Timedelta(minutes=15)
    b = Forecast(t1, pd.DataFrame({"G1": np.full(24, 30.0)}, index=_idx(t1, 24)))
    one = forecast_rain([a, b], ["G1"], t1, 150)
    assert np.allclose(one["G1"].iloc[:24], 30.0) and np.allclose(one["G1"].iloc[24:], 0.0)
    two = forecast_rain([a, b], ["G1"], t1, 150, lagged=2, scale=2.0)
    # where both cover: mean 20 x 2; beyond a's reach only b: 30 x 2
    assert np.allclose(two["G1"].iloc[:21], 40.0)
    assert np.allclose(two["G1"].iloc[21:24], 60.0)
    assert np.allclose(forecast_rain(None, ["G1"], t1, 30)["G1"], 0.0)
