"""Criticality on a tiny purpose-made network: exact customers, critical site, Dask == in-process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifeline.risk import criticality
from lifeline.risk.networks import from_wntr
from lifeline.risk.pdd import PddSettings
from tests.risk.conftest import CUSTOMERS, VALVES, tiny_wn


def _by_segment_of(c: criticality.Criticality, pipe: str) -> pd.Series:
    seg = c.links.set_index("link_id").segment_id[pipe]
    return c.segments.set_index("segment_id").loc[seg]


def _run(tiny_inp: Path, executor=None) -> criticality.Criticality:  # type: ignore[no-untyped-def]
    net = from_wntr(tiny_wn(), VALVES, CUSTOMERS)
    return criticality.water(net, tiny_inp.read_text(), executor, PddSettings(hour_s=0))


def test_closing_a_segment_isolates_exactly_the_expected_customers(tiny_inp: Path) -> None:
    c = _run(tiny_inp)
    b = _by_segment_of(c, "P3")  # segment B = P2, P3 (J3, J4)
    assert set(b.pipes.split(";")) == {"P2", "P3"}
    assert b.customers_cut == 2 and b.critical_cut == 1 and b.critical_ids == "HOSP"
    assert b.valves_to_close == "V2"
    a = _by_segment_of(c, "P1")  # segment A cuts off B and C as well
    assert a.customers_cut == 4 and a.critical_cut == 1
    cseg = _by_segment_of(c, "P4")
    assert cseg.customers_cut == 1 and cseg.critical_cut == 0 and cseg.critical_ids == ""
    assert _by_segment_of(c, "P0").customers_cut == 5  # the source segment feeds everyone
    assert "PDD" in c.meta.get("method", c.segments.method.iloc[0])


def test_pdd_adds_low_pressure_customers_beyond_topology(tiny_inp: Path, tmp_path: Path) -> None:
    import wntr

    wn = tiny_wn()
    # a long, thin parallel main J1-J4 keeps J3/J4 connected when segment A closes, but at low pressure
    wn.add_pipe("PX", "J1", "J4", length=4000.0, diameter=0.03, roughness=100.0)
    path = tmp_path / "loop.inp"
    wntr.network.write_inpfile(wn, str(path), units="CMH", version=2.2)
    net = from_wntr(wn, VALVES, CUSTOMERS)
    topo = criticality.water(net, None)
    pdd = criticality.water(net, path.read_text(), None, PddSettings(hour_s=0))
    seg = topo.links.set_index("link_id").segment_id["P1"]
    t = topo.segments.set_index("segment_id").loc[seg]
    p = pdd.segments.set_index("segment_id").loc[seg]
    assert t.customers_cut < p.customers_cut  # connected, yet starved: only the simulation sees it
    assert p.critical_cut == 1


def test_dask_local_cluster_gives_the_in_process_result(tiny_inp: Path) -> None:
    pytest.importorskip("distributed")
    from lifeline.risk import scale, synth
    from lifeline.risk.executors import get_executor

    ref = _run(tiny_inp)
    net = synth.city(3000, seed=4)
    with get_executor("inprocess") as ex:
        d_ref = scale.district_consequence(net, ex, k=3)
    with get_executor("dask", workers=1, processes=False) as ex:
        assert ex.kind == "dask"
        got = _run(tiny_inp, ex)
        d_got = scale.district_consequence(net, ex, k=3)
    pd.testing.assert_frame_equal(ref.segments, got.segments)
    assert np.allclose(d_ref, d_got)


def test_power_sections_load_lost() -> None:
    import pandapower as pp

    net = pp.create_empty_network()
    b = [pp.create_bus(net, vn_kv=0.4) for _ in range(4)]
    pp.create_ext_grid(net, b[0])
    pp.create_line(net, b[0], b[1], 0.1, "NAYY 4x50 SE")
    l2 = pp.create_line(net, b[1], b[2], 0.1, "NAYY 4x50 SE")
    pp.create_line(net, b[2], b[3], 0.1, "NAYY 4x50 SE")
    pp.create_switch(net, b[1], l2, et="l", closed=True)
    pp.create_load(net, b[1], p_mw=0.01)
    pp.create_load(net, b[3], p_mw=0.02)
    pp.create_load(net, b[2], p_mw=0.03)
    cust = pd.DataFrame(
        {
            "customer_id": ["A", "B"],
            "critical": [False, True],
            "power_asset_id": ["power:load:0", "power:load:1"],
        }
    )
    c = criticality.power(net, cust)
    seg = c.segments.set_index("segment_id")
    down = seg.loc[c.links.set_index("link_id").segment_id[str(l2)]]
    assert (
        down.load_lost_mw == pytest.approx(0.05)
        and down.critical_cut == 1
        and down.critical_ids == "B"
    )
    up = seg.loc[c.links.set_index("link_id").segment_id["0"]]
    assert up.load_lost_mw == pytest.approx(0.06) and up.customers_cut == 2


def test_check_valve_pipes_can_be_closed(tmp_path: Path) -> None:
    import wntr

    wn = tiny_wn()
    wn.get_link("P2").check_valve = True  # EPANET refuses status changes on CV pipes
    path = tmp_path / "cv.inp"
    wntr.network.write_inpfile(wn, str(path), units="CMH", version=2.2)
    c = criticality.water(
        from_wntr(wn, VALVES, CUSTOMERS), path.read_text(), None, PddSettings(hour_s=0)
    )
    assert "did not solve" not in c.segments.method.iloc[0]
    b = _by_segment_of(c, "P2")
    assert b.customers_cut == 2 and b.critical_cut == 1


def test_results_do_not_depend_on_chunking(tiny_inp: Path) -> None:
    net = from_wntr(tiny_wn(), VALVES, CUSTOMERS)
    text = tiny_inp.read_text()
    one = criticality.water(net, text, None, PddSettings(hour_s=0), chunks=1)
    many = criticality.water(net, text, None, PddSettings(hour_s=0), chunks=4)
    pd.testing.assert_frame_equal(one.segments, many.segments)
