"""EPANET sensitivities and pipe-path distances on the chain network."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifeline.errors import NetworkModelError, NotFoundError
from lifeline.water.network import load_network, pipe_graph, sensitivity

NET = Path(__file__).parents[1] / "data" / "water" / "chain.inp"


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifeline.config import get_settings

    monkeypatch.setenv("LIFELINE_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()


def test_leak_lowers_pressure_most_near_the_leak() -> None:
    s = sensitivity(NET, ["j1", "j4", "j7"])
    col = s.matrix[:, s.junctions.index("j7")]
    assert (col < 0).all()
    # a leak at the dead end j7 lowers j7 more than j4, and j4 more than j1 (nearest the reservoir)
    assert col[2] < col[1] < col[0]
    again = sensitivity(NET, ["j1", "j4", "j7"])  # from the cache
    assert (again.matrix == s.matrix).all()


def test_pipe_distances() -> None:
    g = pipe_graph(load_network(NET))
    assert g.pipe_distance("p1", "p1") == 0.0
    assert g.pipe_distance("p1", "p3") == pytest.approx(200.0)
    assert g.pipe_distance("p3", "p1") == pytest.approx(200.0)
    with pytest.raises(NotFoundError):
        g.pipe_distance("p1", "zz")


def test_bad_network(tmp_path: Path) -> None:
    with pytest.raises(NetworkModelError):
        load_network(tmp_path / "missing.inp")
    bad = tmp_path / "bad.inp"
    bad.write_text("[PIPES]\n p1 a b\n[END]\n")
    with pytest.raises(NetworkModelError):
        load_network(bad)


@pytest.mark.parametrize(("units", "per"), [("CMH", 1.0), ("LPS", 3.6), ("GPM", 0.2271247)])
def test_tank_storage_is_counted_in_the_flow_unit_of_the_readings(units: str, per: float) -> None:
    """A level change in m/h times the factor is a flow in the INP's unit (BattLeDIM layout) or
    in m³/h (the city's flow sensors): the net supply of a source filling only a tank is 0."""
    import numpy as np
    import pandas as pd
    import wntr

    from lifeline.water.leaks import LeakParams, Model
    from lifeline.water.network import m3h_per_flow_unit, tank_areas
    from lifeline.water.rawstep import _net_supply

    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=50.0)
    wn.add_tank("T", elevation=20.0, init_level=2.0, max_level=8.0, diameter=10.0)
    wn.add_pipe("p", "R", "T", length=100.0, diameter=0.3, roughness=100.0)
    wn.options.hydraulic.inpfile_units = units
    assert m3h_per_flow_unit(wn) == pytest.approx(per, rel=1e-6)
    area = np.pi * 10.0**2 / 4
    [(tank, f)] = tank_areas(wn, ["F:p", "L:T", "P:x"])
    assert tank == "T" and f == pytest.approx(area / per)
    assert tank_areas(wn, ["L:T"], 1.0)[0][1] == pytest.approx(area)  # readings in m³/h
    # 36 m³/h into the tank for an hour, read in the INP's unit: no water leaves the system
    t = pd.date_range("2026-01-01", periods=13, freq="5min")
    raw = pd.DataFrame({"F:p": 36.0 / per, "L:T": 2.0 + 36.0 / area * np.arange(13) / 12}, index=t)
    m = Model(
        [], ["p"], [], ["T"], np.zeros((1, 0)), np.zeros(0), [], np.zeros((0, 0)), LeakParams()
    )
    net = _net_supply(raw, m, tank_areas(wn, list(raw.columns)), t[0], t[-1] + pd.Timedelta("5min"))
    assert abs(net) < 1e-6 * 36.0 / per
