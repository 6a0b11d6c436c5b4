"""The simulated day: every sensor at its interval, plausible values, events and bad records."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifeline.scenarios.day import BAD_RECORD_REASONS, bad_records, simulate_day
from lifeline.scenarios.events import BurstMain, FeederFault, GasLeak

START = pd.Timestamp("2026-01-14", tz="UTC")


@pytest.fixture(scope="module")
def day(town: Any) -> pd.DataFrame:
    return simulate_day(town, START, seed=3)


def test_every_sensor_reports_at_its_interval(town: Any, day: pd.DataFrame) -> None:
    assert list(day.columns) == ["sensor_id", "ts", "value"]
    assert str(day.ts.dtype) == "datetime64[ns, UTC]"
    s = town.sensors.set_index("sensor_id")
    counts = day.groupby("sensor_id").size()
    assert set(counts.index) == set(s.index)
    expected = (86400 // s.interval_s).astype(int)
    assert (counts.sort_index() == expected.loc[counts.index].sort_index()).all()
    assert day.ts.min() == START and day.ts.max() < START + pd.Timedelta("1D")
    one = day[day.sensor_id == s.index[0]].ts.diff().dropna().dt.total_seconds()
    assert (one == s.interval_s.iloc[0]).all()


def test_values_are_finite_plausible_and_in_range(town: Any, day: pd.DataFrame) -> None:
    assert np.isfinite(day.value).all()
    s = town.sensors.set_index("sensor_id")
    lo = day.sensor_id.map(s.valid_min)
    hi = day.sensor_id.map(s.valid_max)
    assert ((day.value >= lo) & (day.value <= hi)).all()
    q = day.sensor_id.map(s.quantity)
    p = day[q == "pressure_m"].value
    assert p.min() > 20 and p.max() < 70
    methane = day[q == "methane_pct_lel"].value
    assert methane.max() <= 2.5
    heads = day[q == "p_mw"].groupby("sensor_id").value.mean()
    assert (heads > 0).all()  # every feeder head and substation carries load
    # diurnal shape: the morning water flow out of the works exceeds the night flow
    works = day[day.sensor_id == "water:flow:PT1"].set_index("ts").value
    assert (
        works.between_time("06:00", "08:00").mean()
        > 1.5 * works.between_time("01:00", "03:00").mean()
    )


def test_cached_day_is_identical(town: Any, day: pd.DataFrame) -> None:
    again = simulate_day(town, START, seed=3)
    pd.testing.assert_frame_equal(again, day)


def test_burst_raises_flow_and_lowers_pressure(town: Any) -> None:
    from lifeline.scenarios.day_water import simulate_water

    node = (
        town.customers[town.customers.category == "school"]
        .water_asset_id.iloc[0]
        .rsplit(":", 1)[-1]
    )
    t = START + pd.Timedelta("10h")
    base = simulate_water(town, START, np.random.default_rng(1), [])
    burst = simulate_water(
        town, START, np.random.default_rng(1), [BurstMain(node, t, flow_m3h=60.0)]
    )

    def at(df: pd.DataFrame, sid: str, when: pd.Timestamp) -> float:
        return float(df[(df.sensor_id == sid) & (df.ts == when)].value.iloc[0])

    def inflow(df: pd.DataFrame, when: pd.Timestamp) -> float:
        """Into the street network: both transmission mains, less what fills the tower (m3/h)."""
        return (
            at(df, "water:flow:PT1", when)
            + at(df, "water:flow:PT2", when)
            - at(df, "water:flow:PT3", when)
        )

    later = t + pd.Timedelta("30min")
    assert inflow(burst, later) - inflow(base, later) > 40.0
    assert inflow(burst, t - pd.Timedelta("1h")) == pytest.approx(
        inflow(base, t - pd.Timedelta("1h")), abs=2.0
    )
    pressure = town.sensors[town.sensors.quantity == "pressure_m"].sensor_id
    drop = [at(base, sid, later) - at(burst, sid, later) for sid in pressure]
    assert np.mean(drop) > 1.0


def test_gas_leak_raises_methane_near_the_manhole_only(town: Any) -> None:
    from lifeline.scenarios.day_gas import _methane

    s = town.sensors[town.sensors.quantity == "methane_pct_lel"]
    mh = s.asset_id.iloc[0]
    t = START + pd.Timedelta("6h")
    m = _methane(town, START, np.random.default_rng(0), [GasLeak(mh, t)])
    here = m[m.sensor_id == s.sensor_id.iloc[0]].set_index("ts").value
    assert here[: t - pd.Timedelta("1min")].max() <= 2.0
    assert here[t + pd.Timedelta("90min") :].min() > 20.0
    xy = s[["x_m", "y_m"]].to_numpy()
    far = s.sensor_id[np.hypot(*(xy - xy[0]).T) > 200]
    assert m[m.sensor_id.isin(far)].value.max() <= 2.0


@pytest.mark.slow
def test_feeder_fault_sends_last_gasps_and_stops_pumps(town: Any) -> None:
    from lifeline.scenarios.day import simulate

    a = town.assets.set_index("asset_id")
    station_bus = town.supply_bus(f"water:pump:{town.water.pump_name_list[0]}")
    feeder = a.at[f"power:bus:{station_bus}", "zone_id"]
    head = int(feeder.rsplit("F", 1)[-1])
    t0, t1 = START + pd.Timedelta("12h"), START + pd.Timedelta("13h")
    sim = simulate(town, START, seed=3, events=[FeederFault(head, t0, t1)], use_cache=False)
    d, ev = sim.readings, sim.meter_events
    mid = d[d.ts == t0 + pd.Timedelta("30min")]
    gasps, back = ev[ev.kind == "last_gasp"], ev[ev.kind == "restore"]
    assert len(gasps) > 0.3 * len(town.customers) and set(gasps.customer_id) == set(
        back.customer_id
    )
    assert (gasps.ts - t0).abs().max() <= pd.Timedelta("1min")
    assert (back.ts - t1).abs().max() <= pd.Timedelta("1min")
    trips = ev[ev.kind.isin(["breaker_trip", "breaker_close"])]  # the head breaker, a switch
    assert trips.kind.tolist() == ["breaker_trip", "breaker_close"]
    assert trips.ts.tolist() == [t0, t1] and trips.element.nunique() == 1
    assert float(mid[mid.sensor_id == f"power:current:{head}"].value.iloc[0]) == 0.0
    # the pumps stop; the water tower carries the town with sagging pressure
    pumps = mid[mid.sensor_id.isin(["water:flow:PU1", "water:flow:PU2"])].value
    assert len(pumps) == 2 and (pumps.abs() < 1.0).all()
    base = simulate_day(town, START, seed=3)
    before = base[base.ts == t0 + pd.Timedelta("30min")]
    sag = float(before[before.sensor_id == "water:pressure:WW"].value.iloc[0]) - float(
        mid[mid.sensor_id == "water:pressure:WW"].value.iloc[0]
    )
    assert sag > 2.0
    tower = float(mid[mid.sensor_id == "water:flow:PT3"].value.iloc[0])
    assert tower < -5.0  # the tower empties into the network (PT3 runs from the network to T1)


def test_bad_records_cover_each_reason(town: Any, day: pd.DataFrame) -> None:
    recs = bad_records(town.sensors, START, seed=3)
    assert len(recs) == len(BAD_RECORD_REASONS)
    assert all(set(r) == {"sensor_id", "ts", "value"} for r in recs)
    known = set(town.sensors.sensor_id)
    unknown, nan, text, out, bad_ts, future, dup = recs
    assert unknown["sensor_id"] not in known
    assert np.isnan(nan["value"]) and isinstance(text["value"], str)
    s = town.sensors.set_index("sensor_id")
    assert out["value"] > s.at[out["sensor_id"], "valid_max"]
    with pytest.raises(ValueError):
        pd.Timestamp(bad_ts["ts"])
    assert pd.Timestamp(future["ts"]) > pd.Timestamp.now(tz="UTC")
    hit = day[(day.sensor_id == dup["sensor_id"]) & (day.ts == pd.Timestamp(dup["ts"]))]
    assert len(hit) == 1


def test_protection_that_clears_a_fault(town: Any) -> None:
    from lifeline.model.zones import power_feeders
    from lifeline.scenarios.day_power import LV_KV, _tripped_line, protection

    net = town.power
    feeder_of_bus, heads = power_feeders(net)
    lv = net.bus.vn_kv.loc[net.line.from_bus].to_numpy() < LV_KV
    mv_line = int(net.line.index[~lv & ~net.line.index.isin(list(heads.values()))][5])
    assert _tripped_line(net, mv_line, heads, feeder_of_bus) in heads.values()
    p = protection(net, mv_line, heads, feeder_of_bus)
    assert p.breaker is not None and int(net.switch.at[p.breaker, "element"]) == p.tripped
    lv_line = int(net.line.index[lv][len(net.line.index[lv]) // 2])
    fuse = _tripped_line(net, lv_line, heads, feeder_of_bus)
    assert net.bus.at[int(net.line.at[fuse, "from_bus"]), "vn_kv"] < LV_KV
    busbars = set(net.trafo.lv_bus)
    assert {int(net.line.at[fuse, "from_bus"]), int(net.line.at[fuse, "to_bus"])} & busbars
