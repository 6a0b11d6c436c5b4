"""The simulators on a city other than the demo town (the second test city: Net3, CIGRE MV and a
small pandapipes net in Asia/Shanghai): every sensor reports, a feeder fault de-energises the
customers pandapower says it cuts and stops the pump it feeds, breakers and indicators report,
the INP's own demand patterns drive the water day in local time."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifeline.scenarios.drill import day_start, parse_events
from tests.conftest import TEST_DATA

DAY = pd.Timestamp("2026-07-15")
SPECS = ["burst:149@03:10", "gas_leak:21@09:20", "feeder_fault:20@10:00"]


@pytest.fixture(scope="module")
def drill(ykt: Any) -> dict[str, Any]:
    from lifeline.scenarios.day import simulate

    start = day_start(DAY, ykt.timezone)
    events = parse_events(SPECS, ykt, DAY)
    return {
        "start": start,
        "events": events,
        "base": simulate(ykt, start, seed=0),
        "day": simulate(ykt, start, seed=0, events=events),
    }


def _series(df: pd.DataFrame, sid: str) -> pd.Series:
    return df[df.sensor_id == sid].set_index("ts").value


def test_every_sensor_reports_at_its_interval(ykt: Any, drill: dict[str, Any]) -> None:
    r = drill["day"].readings
    s = ykt.sensors.set_index("sensor_id")
    counts = r.groupby("sensor_id").size()
    assert set(counts.index) == set(s.index)
    assert (counts == (86400 // s.interval_s.loc[counts.index]).astype(int)).all()
    assert r.ts.min() == drill["start"] and r.ts.max() < drill["start"] + pd.Timedelta("1D")
    assert np.isfinite(r.value).all()
    q = r.sensor_id.map(s.quantity)
    assert r[q == "pressure_m"].value.between(5, 150).all()
    assert r[q == "level_m"].value.between(0, 15).all()


def test_feeder_fault_cuts_whom_pandapower_says(ykt: Any, drill: dict[str, Any]) -> None:
    import pandapower.topology as top

    fault = drill["events"][2]
    ev = drill["day"].meter_events
    # the protection opens the feeder's head (line 0, breaker switch 8 at the busbar)
    net = copy.deepcopy(ykt.power)
    net.line.loc[0, "in_service"] = False
    dead_buses = set(top.unsupplied_buses(net))
    dead_loads = {f"power:load:{i}" for i in net.load.index[net.load.bus.isin(dead_buses)]}
    c = ykt.customers
    expected = set(c.customer_id[c.power_asset_id.isin(dead_loads)])
    assert len(expected) > 20
    gasp = ev[ev.kind == "last_gasp"]
    restore = ev[ev.kind == "restore"]
    assert set(gasp.customer_id) == expected
    assert set(restore.customer_id) == expected
    assert (gasp.ts == fault.start).all() and (restore.ts == fault.end).all()
    trips = ev[ev.kind.isin(["breaker_trip", "breaker_close"])]
    assert trips[["kind", "element", "ts"]].values.tolist() == [
        ["breaker_trip", "switch:8", fault.start],
        ["breaker_close", "switch:8", fault.end],
    ]
    assert not (ev.kind == "fpi").any()  # the package marks no fault passage indicators
    r = drill["day"].readings
    during = slice(fault.start + pd.Timedelta("5min"), fault.end - pd.Timedelta("5min"))
    assert (_series(r, "PI-L0")[during] == 0).all()  # the feeder head carries nothing
    assert (_series(r, "PV-B3")[during] == 0).all()  # a bus of the feeder is dead
    assert (_series(r, "PV-B14")[during] > 0.9).all()  # the other feeder is not
    assert (_series(r, "PI-L0")[: fault.start - pd.Timedelta("1min")] > 10).all()


def test_the_pump_on_the_faulted_feeder_stops(drill: dict[str, Any]) -> None:
    # pump 10 depends on bus 18 (the Lake pumping station, fed from the faulted feeder)
    fault = drill["events"][2]
    flow = _series(drill["day"].readings, "WF-PUMP10")
    base = _series(drill["base"].readings, "WF-PUMP10")
    during = slice(fault.start + pd.Timedelta("10min"), fault.end - pd.Timedelta("10min"))
    assert base[during].min() > 100.0  # Net3 runs the pump at that time of day
    assert flow[during].abs().max() < 1.0


def test_burst_shows_on_the_city_sensors_only_while_it_lasts(drill: dict[str, Any]) -> None:
    burst = drill["events"][0]
    assert burst.junction == "143"
    day, base = drill["day"].readings, drill["base"].readings
    before = slice(None, burst.start - pd.Timedelta("5min"))
    during = slice(burst.start + pd.Timedelta("10min"), burst.end - pd.Timedelta("10min"))
    fault = drill["events"][2]  # the pump stops later: compare up to then
    after = slice(burst.end + pd.Timedelta("1h"), fault.start - pd.Timedelta("5min"))
    a, b = _series(day, "WP-143"), _series(base, "WP-143")  # pressure at the burst's node
    assert np.allclose(a[before], b[before], atol=0.01)  # the same day until the burst
    assert (b[during] - a[during]).min() > 2.0  # metres of pressure lost while it runs
    assert (b[after] - a[after]).abs().mean() < 1.0


def test_gas_leak_raises_methane_in_its_manhole(drill: dict[str, Any]) -> None:
    leak = drill["events"][1]
    r = drill["day"].readings
    mh1 = _series(r, "GM-MH1")  # the detector in the manhole next to junction 21
    assert mh1[: leak.start - pd.Timedelta("1min")].max() <= 2.0
    assert mh1[leak.start + pd.Timedelta("2h") :].min() > 20.0
    assert r[r.sensor_id.isin(["GM-MH2", "GM-MH3"])].value.max() <= 2.0
    flow, base = _series(r, "GF-REG"), _series(drill["base"].readings, "GF-REG")
    later = leak.start + pd.Timedelta("1h")
    assert flow[later] - base[later] > 30.0  # Nm3/h escaping through the regulator


def test_protection_and_fault_passage_indicators(ykt: Any) -> None:
    from lifeline.model.zones import power_feeders
    from lifeline.scenarios.day_power import _switch_events, protection
    from lifeline.scenarios.events import FeederFault

    net = copy.deepcopy(ykt.power)
    feeder_of_bus, heads = power_feeders(net)
    p = protection(net, 6, heads, feeder_of_bus)
    assert (p.tripped, p.breaker, p.fpi) == (0, 8, [])
    net.switch["fpi"] = True  # every switch fitted with an indicator
    p = protection(net, 6, heads, feeder_of_bus)
    # path bus 1 → 2 → 3 → 8 (lines 0, 1, 9), then the faulted line 6 at its upstream bus 8
    assert p.fpi == [8, 9, 10, 11, 20, 26, 27]
    cable = protection(net, 15, heads, feeder_of_bus)  # the hospital's cable, feeder F0 too
    assert cable.tripped == 0
    t0 = pd.Timestamp("2026-07-15T02:00Z")
    ev = _switch_events(
        [FeederFault(6, t0, t0 + pd.Timedelta("1h"))], [p], pd.Timestamp("2026-07-15", tz="UTC")
    )
    assert sorted(ev.kind.value_counts().items()) == [
        ("breaker_close", 1),
        ("breaker_trip", 1),
        ("fpi", 7),
    ]
    assert set(ev[ev.kind == "fpi"].element) == {f"switch:{i}" for i in p.fpi}
    assert (ev[ev.kind != "breaker_close"].ts == t0).all()


def test_load_roles_follow_customers_and_bus_voltage(ykt: Any) -> None:
    from lifeline.scenarios.day_power import load_roles

    roles = load_roles(ykt)
    c = ykt.customers
    hosp = int(c[c.category == "hospital"].power_asset_id.iloc[0].rsplit(":", 1)[-1])
    assert roles[hosp].kind == "hospital"
    hh = c[c.category == "household"].power_asset_id.value_counts()
    lid = int(hh.index[0].rsplit(":", 1)[-1])
    assert roles[lid].kind == "household" and roles[lid].n == int(hh.iloc[0])
    served = {int(a.rsplit(":", 1)[-1]) for a in c.power_asset_id.dropna() if a}
    for i in set(ykt.power.load.index) - served:
        bus = ykt.power.load.at[i, "bus"]
        lv = ykt.power.bus.at[bus, "vn_kv"] < 1.0
        assert roles[int(i)].kind == ("household" if lv else "mv_mix")


def test_inp_patterns_are_read_in_local_time() -> None:
    from lifeline.scenarios.day_water import DIURNAL_PATTERN, diurnal_demands
    from lifeline.scenarios.profiles import WATER_DIURNAL
    from lifeline.water.network import load_network

    tz = "Asia/Shanghai"
    start = day_start(DAY, tz)
    mid = pd.date_range(start + pd.Timedelta("30min"), periods=24, freq="1h")  # local hh:30
    wn = load_network(TEST_DATA / "cities" / "ykt" / "water.inp")
    inp = list(wn.get_pattern("1").multipliers)
    diurnal_demands(wn, mid, tz)
    assert np.allclose(wn.get_pattern("1").multipliers, inp)  # hour k of the INP = local hour k
    flat = load_network(TEST_DATA / "water" / "chain.inp")  # demands without a pattern
    diurnal_demands(flat, mid, tz, factor=2.0)
    d = flat.get_node("j7").demand_timeseries_list[0]
    assert d.pattern_name == DIURNAL_PATTERN and d.base_value == pytest.approx(2.0 / 3600)
    assert np.allclose(flat.get_pattern(DIURNAL_PATTERN).multipliers, 2.0 * np.array(WATER_DIURNAL))
