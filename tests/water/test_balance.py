"""Water-balance channel: leakage estimate from inflow minus metered use, and its rises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifeline.water import balance as bl
from lifeline.water.network import load_network

NET = Path(__file__).parents[1] / "data" / "water" / "chain.inp"
DAYS = 84


def _hourly(leak_m3h: np.ndarray, seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """Hourly inflow on the reservoir pipe p0 = 3·AMR + weekday industry + leak + noise."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2021-01-04", periods=DAYS * 24, freq="1h")
    hod = idx.hour.to_numpy()
    season = 1 + 0.2 * np.sin(np.arange(len(idx)) / (24 * 60))
    amr = (10 + 6 * np.sin((hod - 6) / 24 * 2 * np.pi)) * season * rng.lognormal(0, 0.05, len(idx))
    industry = np.where(idx.dayofweek < 5, 20.0, 5.0)
    q = 3 * amr + industry + np.repeat(leak_m3h, 24) + rng.normal(0, 2.0, len(idx))
    return pd.DataFrame({"F:p0": q}, index=idx), pd.Series(amr, index=idx)


@pytest.fixture(scope="module")
def wn():  # type: ignore[no-untyped-def]
    return load_network(NET)


def test_leakage_tracks_a_new_leak_and_its_onset(wn) -> None:  # type: ignore[no-untyped-def]
    hist, amr_h = _hourly(np.zeros(DAYS), seed=1)
    bal = bl.fit_balance(wn, hist, amr_h)
    assert bal is not None and bal.sources == ["p0"] and bal.has_amr
    leak = np.zeros(DAYS)
    leak[50:] = 4.0  # m³/h from day 50 on
    data, amr_d = _hourly(leak, seed=2)
    ell = bl.leakage(bal, data, amr_d)
    before, after = ell.iloc[10:50].mean(), ell.iloc[51:].mean()
    assert after - before == pytest.approx(4.0, abs=0.8)
    evs = bl.events(ell, bal.sigma, h=8.0, start=ell.index[7])
    assert len(evs) == 1
    onset = evs[0].z + pd.Timedelta(days=1)
    assert abs((onset - ell.index[50]).days) <= 1
    assert evs[0].dl == pytest.approx(4.0, abs=1.5)


def test_no_rise_without_a_leak_and_a_repair_is_not_a_rise(wn) -> None:  # type: ignore[no-untyped-def]
    hist, amr_h = _hourly(np.zeros(DAYS), seed=3)
    bal = bl.fit_balance(wn, hist, amr_h)
    assert bal is not None
    quiet, amr_q = _hourly(np.zeros(DAYS), seed=4)
    ell = bl.leakage(bal, quiet, amr_q)
    assert bl.events(ell, bal.sigma, h=8.0, start=ell.index[7]) == []
    leak = np.full(DAYS, 5.0)
    leak[40:] = 0.0  # a repair
    rep, amr_r = _hourly(leak, seed=5)
    ell = bl.leakage(bal, rep, amr_r)
    assert bl.events(ell, bal.sigma, h=8.0, start=ell.index[7]) == []


def test_labelled_outflow_is_removed_before_fitting(wn) -> None:  # type: ignore[no-untyped-def]
    leak = np.zeros(DAYS)
    leak[30:] = 6.0
    hist, amr_h = _hourly(leak, seed=6)
    outflow = pd.DataFrame({"p3": np.repeat(leak, 24)}, index=hist.index)
    bal = bl.fit_balance(wn, hist, amr_h, outflow)
    assert bal is not None
    ell = bl.leakage(bal, hist, amr_h)
    assert ell.iloc[31:].mean() - ell.iloc[:29].mean() == pytest.approx(6.0, abs=0.8)


def test_no_source_flow_switches_the_channel_off(wn) -> None:  # type: ignore[no-untyped-def]
    hist, amr_h = _hourly(np.zeros(DAYS), seed=7)
    assert bl.fit_balance(wn, hist.rename(columns={"F:p0": "F:p3"}), amr_h) is None


def test_a_tank_level_is_not_compared_across_the_start_of_a_new_record() -> None:
    """The data after the history start from their own tank level (a year simulated or logged on
    its own): the jump where they join is no change of storage, while the tank's filling within
    the data is."""
    idx = pd.date_range("2022-12-30", periods=3 * 24, freq="1h")
    level = np.full(len(idx), 3.0)
    level[48:] = 5.0 + 0.1 * np.minimum(np.arange(24), 10)  # new record at 5 m, fills 1 m
    h = pd.DataFrame({"F:p0": 50.0, "L:T": level}, index=idx)
    start = idx[48]
    area = 10.0  # flow unit per (m/h)
    joined = bl.daily_frame(h, None, ["p0"], [("T", area)], breaks=[start])
    assert joined["net"].iloc[:2].tolist() == pytest.approx([50.0, 50.0])
    assert joined["net"].iloc[2] == pytest.approx(50.0 - 1.0 * area / 24)
    unbroken = bl.daily_frame(h, None, ["p0"], [("T", area)])
    assert unbroken["net"].iloc[2] == pytest.approx(50.0 - 3.0 * area / 24)
