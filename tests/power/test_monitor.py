"""Grid monitoring on a replayed day of a tiny network: the three alarm kinds, and the forecast."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.power.nets import by_name, mv_two_feeders

pytest.importorskip("pandapower")


def _sensors(net) -> pd.DataFrame:
    rows = [
        ("head_a", f"power:line:{by_name(net.line, 'La0')}", "p_mw"),
        ("head_b", f"power:line:{by_name(net.line, 'Lb0')}", "p_mw"),
        ("head_a_i", f"power:line:{by_name(net.line, 'La0')}", "current_a"),
        ("v_a4", f"power:bus:{by_name(net.bus, 'a4')}", "voltage_pu"),
    ]
    rows += [
        (f"m{i}", f"power:load:{i}", "meter_kwh")
        for i in net.load.index[net.load.name.str.startswith("load_a")]
    ]
    return pd.DataFrame(rows, columns=["sensor_id", "asset_id", "quantity"])


def _shape(hours: np.ndarray) -> np.ndarray:
    return 0.6 + 0.4 * np.exp(-(((hours - 19.0) / 3.0) ** 2))


def _day(net, start: str, b_peak_mw: float = 2.0, events: bool = True) -> pd.DataFrame:
    ts = pd.date_range(start, periods=96, freq="15min", tz="UTC")
    h = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
    shape = _shape(h)
    a_loads = list(net.load.index[net.load.name.str.startswith("load_a")])
    frames = []
    meter_kwh = {i: 1.0 * shape * 0.25 * 1000.0 for i in a_loads}  # 1 MW each at peak
    head_a = 4.0 * shape
    head_b = b_peak_mw * shape
    head_a_i = head_a / (np.sqrt(3) * 20.0) * 1000.0
    v = np.full(96, 0.99)
    if events:
        for i in a_loads[2:]:  # 10:00-11:00: two customers' meters read zero (no supply)
            meter_kwh[i] = np.where((h >= 10) & (h < 11), 0.0, meter_kwh[i])
        head_b = np.where((h >= 18) & (h < 20), 9.5, head_b)  # evening: feeder B above its rating
        v = np.where((h >= 6) & (h < 7), 0.91, v)  # early morning: low voltage measured at a4
        head_a = np.where((h >= 14) & (h < 15), 0.0, head_a)  # feeder A tripped 14:00-15:00
        head_a_i = np.where((h >= 14) & (h < 15), 0.0, head_a_i)
    for sid, vals in [("head_a", head_a), ("head_b", head_b), ("head_a_i", head_a_i), ("v_a4", v)]:
        frames.append(pd.DataFrame({"sensor_id": sid, "ts": ts, "value": vals}))
    for i, vals in meter_kwh.items():
        frames.append(pd.DataFrame({"sensor_id": f"m{i}", "ts": ts, "value": vals}))
    return pd.concat(frames, ignore_index=True)


def test_replayed_day_raises_overload_voltage_and_no_supply_alarms() -> None:
    from lifeline.power.monitor import GridMonitor

    net = mv_two_feeders(thin_b=True)
    mon = GridMonitor(net, _sensors(net))
    scores = mon.score(_day(net, "2024-07-15"))
    alarms = mon.alarms_from_scores(scores)
    assert set(alarms.detector) == {"power_overload", "power_voltage", "power_no_supply"}
    ov = alarms[alarms.detector == "power_overload"]
    lb0 = f"power:line:{by_name(net.line, 'Lb0')}"
    assert lb0 in {json.loads(s)[0] for s in ov.sensors}
    day = pd.Timestamp("2024-07-15", tz="UTC")
    # alarms only inside the windows where something happened (the rest of the day is quiet)
    assert all(day + pd.Timedelta(hours=18) <= t < day + pd.Timedelta(hours=20) for t in ov.ts)
    vol = alarms[alarms.detector == "power_voltage"]
    assert set(vol.ts) == {day + pd.Timedelta(hours=6)}
    ns = alarms[alarms.detector == "power_no_supply"]
    # two episodes: the two dark meters at 10:00, the tripped feeder A at 14:00
    assert sorted(ns.ts) == [day + pd.Timedelta(hours=10), day + pd.Timedelta(hours=14)]
    at14 = scores[
        (scores.sensor_id == "power:no_supply") & (scores.ts == day + pd.Timedelta(hours=14))
    ]
    a_loads = {int(i) for i in net.load.index[net.load.name.str.startswith("load_a")]}
    assert set(at14.detail.iloc[0]["loads"]) == a_loads
    at10 = scores[
        (scores.sensor_id == "power:no_supply") & (scores.ts == day + pd.Timedelta(hours=10))
    ]
    assert len(at10.detail.iloc[0]["loads"]) == 2


def test_day_ahead_forecast_warns_of_a_growing_evening_peak() -> None:
    from lifeline.power.monitor import GridMonitor

    net = mv_two_feeders(thin_b=True)
    mon = GridMonitor(net, _sensors(net))
    # two weeks of history: feeder B's evening peak grows 5 % a day (a heat wave) up to ~8.3 MW
    # on the last day; the fortnight's mean profile alone (~6 MW peak) would not warn
    days = [
        _day(
            net,
            str(pd.Timestamp("2024-07-01") + pd.Timedelta(days=d))[:10],
            b_peak_mw=4.4 * 1.05**d,
            events=False,
        )
        for d in range(14)
    ]
    mon.learn(pd.concat(days, ignore_index=True))
    warn = mon.forecast_alarms(pd.Timestamp("2024-07-15", tz="UTC"))
    lb0 = f"power:line:{by_name(net.line, 'Lb0')}"
    assert lb0 in {json.loads(s)[0] for s in warn.sensors}
    hours = {t.hour for t in warn.ts}
    assert hours and all(15 <= hr <= 23 for hr in hours)
    # a flat history far below the rating gives no warning
    mon2 = GridMonitor(net, _sensors(net))
    mon2.learn(
        pd.concat(
            [_day(net, f"2024-07-{d:02d}", b_peak_mw=2.0, events=False) for d in range(1, 15)],
            ignore_index=True,
        )
    )
    assert mon2.forecast_alarms(pd.Timestamp("2024-07-15", tz="UTC")).empty


@pytest.mark.slow
def test_demo_town_replayed_day_raises_all_three_alarm_kinds() -> None:
    """A demo-town day (feeder fault 13:00-14:00; one LV substation's households at 8x their
    metered power 18:00-20:00, a heat-wave evening) raises each alarm kind, at those times."""
    import pandapower.topology as top

    from lifeline.datasets.town import load_town
    from lifeline.power.monitor import GridMonitor
    from lifeline.scenarios.day import FeederFault, simulate_day

    town = load_town()
    net = town.power
    day0 = pd.Timestamp("2024-07-15", tz="UTC")
    head = int(net.line.index[0]) if 62 not in net.line.index else 62
    nxt = net.line.index[net.line.from_bus == net.line.at[head, "to_bus"]]
    fault = FeederFault(
        line=int(nxt[0]), start=day0 + pd.Timedelta(hours=13), end=day0 + pd.Timedelta(hours=14)
    )
    ps = town.sensors[town.sensors.utility == "power"]
    rd = simulate_day(town, day0, seed=0, events=[fault])
    rd = rd[rd.sensor_id.isin(ps.sensor_id)].copy()
    lv = net.trafo[net.trafo.vn_hv_kv < 60]
    tr = int(lv.index[len(lv) // 3])
    g = top.create_nxgraph(net, respect_switches=True, include_trafos=False)
    area = set(top.connected_component(g, int(net.trafo.at[tr, "lv_bus"])))
    loads = {f"power:load:{i}" for i, b in net.load.bus.items() if b in area}
    meters = set(ps.sensor_id[ps.asset_id.isin(loads) & (ps.quantity == "meter_kwh")])
    hr = rd.ts.dt.hour
    rd.loc[rd.sensor_id.isin(meters) & (hr >= 18) & (hr < 20), "value"] *= 8.0
    alarms = GridMonitor(net, ps[["sensor_id", "asset_id", "quantity"]]).alarms(rd)
    assert set(alarms.detector) >= {"power_overload", "power_voltage", "power_no_supply"}
    ns = alarms[alarms.detector == "power_no_supply"]
    assert set(ns.ts) == {day0 + pd.Timedelta(hours=13)}
    ov = alarms[alarms.detector.isin(["power_overload", "power_voltage"])]
    assert all(day0 + pd.Timedelta(hours=18) <= t < day0 + pd.Timedelta(hours=20) for t in ov.ts)
