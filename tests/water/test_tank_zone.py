"""A zone fed from a tank: leaks there are supplied by the tank, not the reservoirs, and the
residual model leaves its sensors out while the tank is low."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifeline.water import leaks as lk
from lifeline.water.network import load_network, pipe_graph, sensitivity

NET = Path(__file__).parents[1] / "data" / "water" / "tank_zone.inp"
SENSORS = ["j1", "j4", "j9"]


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifeline.config import get_settings

    monkeypatch.setenv("LIFELINE_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()


def _history(
    days: int = 30, seed: int = 1, metered: bool = True, low: bool = False
) -> pd.DataFrame:
    """Hourly readings: the reservoir's inflow (p0) swings through the day, pressures fall with
    it, the tank's level drifts between 1.5 and 3.5 m and is empty on day 20; ``metered``: a
    flow meter on the tank's outlet (p8)."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2020-01-01", periods=24 * days, freq="h")
    hour = idx.hour.to_numpy()
    q = 8.0 + 4.0 * np.sin(2 * np.pi * hour / 24) + rng.normal(0, 0.2, len(idx))
    level = 2.5 + 1.0 * np.sin(2 * np.pi * np.arange(len(idx)) / (24 * 3.3))
    level[(idx >= "2020-01-20") & (idx < "2020-01-21")] = 0.02
    if low:  # a tank that works in the lowest quarter of its range
        level = 0.5 + 0.4 * np.sin(2 * np.pi * np.arange(len(idx)) / (24 * 3.3))
    noise = rng.normal(0, 0.01, (len(idx), 3))
    h = pd.DataFrame(
        {
            "P:j1": 49.9 - 0.002 * q * q + noise[:, 0],
            "P:j4": 49.5 - 0.01 * q * q + noise[:, 1],
            "P:j9": 30.0 + level + noise[:, 2],
            "F:p0": q,
            "F:p8": 2.0 + 0.5 * np.sin(2 * np.pi * hour / 24) + rng.normal(0, 0.05, len(idx)),
            "L:T": level,
        },
        index=idx,
    )
    return h if metered else h.drop(columns="F:p8")


def test_a_leak_in_the_tank_zone_is_supplied_by_the_tank() -> None:
    s = sensitivity(NET, SENSORS)
    share = dict(zip(s.junctions, s.source_share, strict=True))
    assert share["j4"] > 0.95 and share["j7"] > 0.95
    assert share["j8"] < 0.05 and share["j9"] < 0.05
    assert s.tanks == ["T"]
    assert s.tank_share[s.junctions.index("j9"), 0] > 0.95


def _model(metered: bool = True, low: bool = False) -> lk.Model:
    wn = load_network(NET)
    return lk.calibrate(
        _history(metered=metered, low=low),
        wn,
        sensitivity(NET, SENSORS),
        pipe_graph(wn),
        lk.LeakParams(),
    )


def test_the_signature_of_a_pipe_behind_a_metered_tank_keeps_the_other_zone_still() -> None:
    model = _model()
    sig = dict(zip(model.pipes, model.unit_sig, strict=True))
    # p9 (j8-j9) draws on the tank: the reservoir's inflow does not change, so the residual
    # model takes nothing out at j1 and j4 and only j9 drops
    assert abs(sig["p9"][0]) < 1e-3 and abs(sig["p9"][1]) < 1e-3
    assert sig["p9"][2] < -0.99
    # without a meter on the tank the zone is not told apart (a tank floating on the mains):
    # the reservoir's inflow term is taken out as everywhere
    plain = dict(zip(_model(metered=False).pipes, _model(metered=False).unit_sig, strict=True))
    assert plain["p9"][0] > 0.05 and plain["p9"][1] > 0.05
    # p5 (j5-j6) draws on the reservoir: the residual model takes out the inflow term, which
    # leaves j9, which the leak does not reach, above its baseline
    assert sig["p5"][1] < 0 < sig["p5"][2]


def test_the_tank_zone_sensors_are_left_out_while_the_tank_is_low() -> None:
    model = _model()
    h = _history(seed=2)
    assert model.zones is not None and model.zones.sensor_tank == [None, None, "T"]
    empty = model.zones.off_regime(h)[:, 2]
    assert empty.sum() == 24 and empty[h.index.get_loc(pd.Timestamp("2020-01-20 12:00"))]
    pre = lk.prepare(h, model)
    d = model.mask(h, pre.r - pre.b)
    # the tank-fed sensor (j9) is missing on the empty day only; j1 and j4 keep their readings
    assert np.isnan(d[empty, 2]).all()
    assert np.isfinite(d[~empty & np.isfinite(pre.b).all(axis=1), 2]).all()
    assert np.isfinite(d[empty, :2]).all()
    # the hours stay in the detector: j9 is filled from the other sensors
    assert pre.seen[empty].all()


def test_a_tank_that_works_low_leaves_its_zone_in() -> None:
    # low in every hour of the history: that is its normal level, not an emptied tank; the
    # model calibrates on every hour and leaves the zone's sensor in
    model = _model(low=True)
    assert model.zones is not None and model.zones.sensor_tank == [None, None, None]
    h = _history(seed=2, low=True)
    assert np.isfinite(model.mask(h, np.zeros((len(h), 3)))).all()
    # the signature of a leak behind it is still the tank's (the meter says where water comes from)
    sig = dict(zip(model.pipes, model.unit_sig, strict=True))
    assert abs(sig["p9"][0]) < 1e-3


def test_the_live_detector_keeps_the_zones_through_a_checkpoint() -> None:
    import json

    from lifeline.water.online import WaterLeakDetector

    det = WaterLeakDetector(NET)
    det.model = _model()
    state = json.loads(json.dumps(det.get_state(), allow_nan=False))
    again = WaterLeakDetector(NET)
    again.set_state(state)
    assert again.model is not None and again.model.zones == det.model.zones
    h = _history(seed=2)
    d = np.zeros((len(h), 3))
    assert np.array_equal(np.isnan(again.model.mask(h, d)), np.isnan(det.model.mask(h, d)))
    assert np.isnan(again.model.mask(h, d)).any()
