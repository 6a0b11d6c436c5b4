"""A small test city built in code, and three days of its readings and meter events.

Networks: the purpose-made water chain (tests/data/water/chain.inp), a 110/20 kV substation
with two feeders (tests/power/nets.py, feeder b on thin cable) and a 4x3 pandapipes gas grid
(tests/gas/conftest.py). Sensors on every utility at their usual intervals; three manholes with
methane detectors. Days 1 and 2 are quiet; day 3 holds one anomaly per detector:

* 03:10-07:10 a water main burst at j5 (pressure steps down, inflow steps up; the water
  readings come from EPANET on the chain and begin 20 days earlier: the leak detector's 21-day
  warm-up);
* 09:20 a gas leak of 0.06 kg/s at junction 7 (pressures from pandapipes; two manholes rise);
* 11:00-12:00 an LV outage on load b2 seen only by meters (last gasps, then restores);
* 12:00-18:00 the flow meter on p6 is stuck;
* 15:40-17:40 a fault on feeder a: breaker trip, fault passage indicators, last gasps, current
  and busbar voltage to zero; restored by closing the breaker;
* 19:00-19:45 feeder b overloaded (current over the thin cable's 220 A);
* 20:00-21:00 the voltage at bus b1 sags to 0.91 pu;
* drainage (the storm sewer of tests/drainage/city.py, SWMM): 02:00-04:00 manhole J2 reads high
  while it is dry and J3 downstream is low (a blockage); a 30-year storm reaches the gauge at
  14:00 and floods the underpass; 15:00-16:30 its pump reads stopped while the sump is full.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifeline.model.city import City
from lifeline.model.schema import conform

DATA = Path(__file__).resolve().parent.parent / "data"
START = pd.Timestamp("2026-03-01", tz="UTC")
DAYS = 3
DAY3 = START + pd.Timedelta(days=DAYS - 1)
WATER_HISTORY_DAYS = 20  # water readings begin this much earlier: the leak detector's 21 days
BURST_M3H = 130.0  # m³/h: a 200 mm main's burst; drops j5 by about 3 m at night
LEAK_J = 7
GAS_SENSOR_J = [0, 3, 8, 11]
LEAK_KG_S = 0.06


def _at(h: float) -> pd.Timestamp:
    return DAY3 + pd.Timedelta(hours=h)


def _power_net() -> Any:
    from tests.power.nets import mv_two_feeders

    net = mv_two_feeders(thin_b=True)
    xy: dict[str, tuple[float, float]] = {"hv": (-100.0, 0.0), "busbar": (0.0, 0.0)}
    for i in range(4):
        xy[f"a{i + 1}"] = (300.0 * (i + 1), 50.0)
    for i in range(2):
        xy[f"b{i + 1}"] = (300.0 * (i + 1), -250.0)
    net.bus["geo"] = [
        json.dumps({"type": "Point", "coordinates": list(xy[str(n)])}) for n in net.bus.name
    ]
    return net


def build_city(tmp: Path) -> City:
    """The test city (networks and tables); the gas network is written to ``tmp``."""
    import pandapipes as pp
    import wntr

    from lifeline.model.assets import gas_assets, power_assets, water_assets
    from tests.gas.conftest import build_grid

    wn = wntr.network.WaterNetworkModel(str(DATA / "water" / "chain.inp"))
    net = _power_net()
    gas = build_grid()
    gas_path = tmp / "gas.json"
    pp.to_json(gas, str(gas_path))
    water_nodes = pd.Series("dma:1", index=wn.node_name_list)
    feeder = pd.Series(
        ["feeder:a" if str(n).startswith("a") else "feeder:b" for n in net.bus.name],
        index=net.bus.index,
    )
    districts = pd.Series("gas:d1", index=gas.junction.index)
    manholes = pd.DataFrame(
        {
            "asset_id": ["power:manhole:CW1", "telecom:manhole:T1", "drainage:manhole:S1"],
            "utility": ["power", "telecom", "drainage"],
            "kind": "manhole",
            "ref": ["CW1", "T1", "S1"],
            "x_m": [304.0, 262.0, 3.0],
            "y_m": [102.0, 103.0, 197.0],
            "zone_id": "gas:d1",
        }
    )
    assets = pd.concat(
        [
            water_assets(wn, water_nodes, pd.DataFrame(columns=["valve", "node", "link"])),
            power_assets(net, feeder),
            gas_assets(gas, districts, pd.DataFrame(columns=["valve_id", "pipe", "junction"])),
            manholes,
        ],
        ignore_index=True,
    )
    loads = net.load.index.tolist()
    customers = pd.DataFrame(
        [
            {
                "customer_id": f"C{i}-{k}",
                "name": f"household {i}-{k}",
                "category": "household",
                "critical": False,
                "power_asset_id": f"power:load:{i}",
                "x_m": 300.0 * (1 + (i % 4)),
                "y_m": 60.0 + k,
            }
            for i in loads
            for k in range(3)
        ]
    )
    from lifeline.drainage.elements import read_elements
    from lifeline.model.build import _drainage_assets
    from tests.drainage.city import INP

    inp = tmp / "drainage.inp"
    inp.write_text(INP, encoding="utf-8")
    assets = pd.concat([assets, _drainage_assets(read_elements(inp))], ignore_index=True)
    city = City(
        name="detect-test",
        crs="EPSG:32650",
        timezone="Asia/Shanghai",
        networks={"water": DATA / "water" / "chain.inp", "gas": gas_path, "drainage": inp},
        assets=conform("asset", assets),
        customers=conform("customer", customers),
        sensors=conform("sensor", pd.concat([_sensors(net, assets), _drainage_sensors()])),
        waterlogging_points=pd.DataFrame(
            {
                "point_id": ["WP-UP", "WP-J2"],
                "node": ["UP", "J2"],
                "threshold_m": [0.27, 0.15],
                "name": ["underpass", "low street"],
                "name_zh": ["下穿通道", "低洼路段"],
            }
        ),
    )
    city.power = net
    city.water = wn
    return city


def _sensors(net: Any, assets: pd.DataFrame) -> pd.DataFrame:
    from tests.power.nets import by_name

    a = assets.set_index("asset_id")
    rows: list[dict[str, Any]] = []

    def add(sid: str, util: str, q: str, unit: str, el: str, asset: str, iv: int, lo: float, hi: float) -> None:  # fmt: skip
        rows.append(
            {
                "sensor_id": sid, "asset_id": asset, "utility": util, "quantity": q,
                "unit": unit, "interval_s": iv, "valid_min": lo, "valid_max": hi,
                "x_m": float(a.at[asset, "x_m"]), "y_m": float(a.at[asset, "y_m"]),
                "element": el, "host": asset.split(":")[0] if q == "methane_pct_lel" else "",
            }
        )  # fmt: skip

    for j in ("j3", "j5", "j7"):
        add(f"water:pressure:{j}", "water", "pressure_m", "m", f"node:{j}", f"water:junction:{j}", 300, -10, 100)  # fmt: skip
    for p in ("p0", "p6"):
        add(f"water:flow:{p}", "water", "flow_m3h", "m3/h", f"link:{p}", f"water:pipe:{p}", 300, -300, 300)  # fmt: skip
    la0, lb0 = by_name(net.line, "La0"), by_name(net.line, "Lb0")
    for name, ln in (("a", la0), ("b", lb0)):
        add(f"power:current:{name}", "power", "current_a", "A", f"line:{ln}", f"power:line:{ln}", 300, 0, 800)  # fmt: skip
        add(f"power:p:{name}", "power", "p_mw", "MW", f"line:{ln}", f"power:line:{ln}", 300, -20, 20)  # fmt: skip
    add("power:p:T1", "power", "p_mw", "MW", "trafo:0", "power:trafo:0", 300, -30, 30)
    for bus in ("busbar", "a2", "b1"):
        b = by_name(net.bus, bus)
        add(f"power:voltage:{bus}", "power", "voltage_pu", "pu", f"bus:{b}", f"power:bus:{b}", 300, 0, 1.2)  # fmt: skip
    for j in GAS_SENSOR_J:
        add(f"gas:pressure:{j}", "gas", "pressure_bar", "bar", f"junction:{j}", f"gas:junction:{j}", 300, 0, 2)  # fmt: skip
    for m in ("power:manhole:CW1", "telecom:manhole:T1", "drainage:manhole:S1"):
        add(f"gas:methane:{m.split(':')[-1]}", "gas", "methane_pct_lel", "%LEL", "", m, 60, 0, 100)  # fmt: skip
    return pd.DataFrame(rows)


def _drainage_sensors() -> pd.DataFrame:
    rows = [
        ("RG1", "rain_mm_h", "mm/h", "gauge:G1", "drainage:raingauge:G1", 300.0),
        ("LV-J2", "level_m", "m", "node:J2", "drainage:node:J2", 10.0),
        ("LV-J3", "level_m", "m", "node:J3", "drainage:node:J3", 10.0),
        ("LV-UPW", "level_m", "m", "node:UPW", "drainage:node:UPW", 10.0),
        ("DP-UP", "depth_m", "m", "node:UP", "drainage:node:UP", 5.0),
        ("PS-P1", "pump_on", "1", "link:P1", "drainage:conduit:P1", 1.0),
    ]
    return pd.DataFrame(
        [
            {
                "sensor_id": sid,
                "asset_id": asset,
                "utility": "drainage",
                "quantity": q,
                "unit": unit,
                "interval_s": 300,
                "valid_min": 0.0,
                "valid_max": hi,
                "x_m": 649600.0,
                "y_m": 3273600.0,
                "element": el,
            }
            for sid, q, unit, el, asset, hi in rows
        ]
    )


def _drainage(city: City, seed: int) -> pd.DataFrame:
    """Three days of the sewer's readings: dry, dry, then the blockage, storm and pump fault."""
    from lifeline.scenarios.day_drainage import simulate_drainage
    from lifeline.scenarios.events import Storm

    rng = np.random.default_rng(seed + 18)
    days = []
    for k in range(DAYS):
        start = START + pd.Timedelta(days=k)
        storms = [Storm(start=_at(14), p_years=30.0)] if k == DAYS - 1 else []
        days.append(simulate_drainage(city, start, rng, storms)[0])
    r = pd.concat(days, ignore_index=True)
    ts = pd.to_datetime(r.ts, utc=True)
    block = (ts >= _at(2)) & (ts < _at(4))
    r.loc[block & (r.sensor_id == "LV-J2"), "value"] = 1.6
    pump = (ts >= _at(15)) & (ts < _at(16.5)) & (r.sensor_id == "PS-P1")
    r.loc[pump, "value"] = 0.0
    return r


def _demand(t: pd.DatetimeIndex) -> np.ndarray:
    """A smooth daily demand factor (0.3 at night .. 1.2 in the evening)."""
    h = (t.hour + t.minute / 60.0).to_numpy()
    return 0.75 - 0.45 * np.cos(2 * np.pi * (h - 4.0) / 24.0)


def _water(rng: np.random.Generator) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray], dict[str, np.ndarray]]:  # fmt: skip
    """5-minute pressures (m) at j3, j5, j7 and flows (m³/h) in p0, p6 of the water chain from
    EPANET (WNTR), from ``WATER_HISTORY_DAYS`` before the start to the end: every junction's
    demand follows :func:`_demand` (5 m³/h per unit of base demand, ±3 % per day, ±5 % per
    step); the burst is an outflow of ``BURST_M3H`` at j5 on day 3, 03:10-07:10."""
    import wntr

    t = pd.date_range(
        START - pd.Timedelta(days=WATER_HISTORY_DAYS),
        START + pd.Timedelta(days=DAYS),
        freq="5min",
        inclusive="left",
    )
    n, days = len(t), WATER_HISTORY_DAYS + DAYS
    wn = wntr.network.WaterNetworkModel(str(DATA / "water" / "chain.inp"))
    wn.options.time.duration = (n - 1) * 300
    for key in ("hydraulic_timestep", "pattern_timestep", "report_timestep"):
        setattr(wn.options.time, key, 300)
    day = np.repeat(1 + 0.03 * rng.standard_normal(days), 288)
    for name, j in wn.junctions():
        mult = 5.0 * _demand(t) * day * (1 + 0.05 * rng.standard_normal(n))
        wn.add_pattern(f"d_{name}", mult.tolist())
        j.demand_timeseries_list[0].pattern_name = f"d_{name}"
    burst = np.asarray((t >= _at(3 + 10 / 60)) & (t < _at(7 + 10 / 60)), dtype=float)
    wn.add_pattern("burst", burst.tolist())
    wn.get_node("j5").add_demand(BURST_M3H / 3600.0, "burst")
    with tempfile.TemporaryDirectory() as tmp:
        res = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=f"{tmp}/chain")
    p = res.node["pressure"]
    q = res.link["flowrate"] * 3600.0
    heads = {j: p[j].to_numpy()[:n] for j in ("j3", "j5", "j7")}
    return t, heads, {k: q[k].to_numpy()[:n] for k in ("p0", "p6")}


def _gas_pressures(t: pd.DatetimeIndex) -> dict[int, np.ndarray]:
    """Pressures (bar) at the sensor junctions from pandapipes at four demand levels, with and
    without the leak, interpolated over the day's demand."""
    import pandapipes as pp

    from tests.gas.conftest import build_grid

    net = build_grid()
    leak = pp.create_sink(net, junction=LEAK_J, mdot_kg_per_s=0.0)
    levels = np.array([0.2, 0.6, 1.0, 1.4])
    table = {}
    for on in (False, True):
        rows = []
        for lv in levels:
            net.sink["scaling"] = lv
            net.sink.loc[leak, "scaling"] = 1.0
            net.sink.loc[leak, "mdot_kg_per_s"] = LEAK_KG_S if on else 0.0
            pp.pipeflow(net, use_numba=False)
            rows.append([float(net.res_junction.p_bar[j]) for j in GAS_SENSOR_J])
        table[on] = np.array(rows)
    d = _demand(t)
    on = np.asarray(t >= _at(9 + 20 / 60))
    out = {}
    for k, j in enumerate(GAS_SENSOR_J):
        p0 = np.interp(d, levels, table[False][:, k])
        p1 = np.interp(d, levels, table[True][:, k])
        out[j] = np.where(on, p1, p0)
    return out


def simulate(city: City, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three days of readings (with the engine's sensor columns; the water sensors' from
    ``WATER_HISTORY_DAYS`` earlier) and meter events."""
    rng = np.random.default_rng(seed)
    end = START + pd.Timedelta(days=DAYS)
    parts = []
    t5 = pd.date_range(START, end, freq="5min", inclusive="left")
    t1 = pd.date_range(START, end, freq="1min", inclusive="left")
    d = _demand(t5)

    def series(sid: str, t: pd.DatetimeIndex, v: np.ndarray) -> None:
        parts.append(pd.DataFrame({"sensor_id": sid, "ts": t, "value": v}))

    # water: WATER_HISTORY_DAYS more days before the others (the leak detector's warm-up)
    tw, heads, flows = _water(rng)
    for j in ("j3", "j5", "j7"):
        series(f"water:pressure:{j}", tw, (heads[j] + rng.normal(0, 0.08, len(tw))).round(2))
    series("water:flow:p0", tw, (flows["p0"] + rng.normal(0, 0.6, len(tw))).round(1))
    p6 = (flows["p6"] + rng.normal(0, 0.4, len(tw))).round(1)
    stuck = np.asarray((tw >= _at(12)) & (tw < _at(18)))
    p6[stuck] = p6[np.argmax(stuck)]
    series("water:flow:p6", tw, p6)
    # power: feeder a trips 15:40-17:40, feeder b overloads 19:00-19:45, bus b1 sags 20-21 h
    out_a = np.asarray((t5 >= _at(15 + 40 / 60)) & (t5 < _at(17 + 40 / 60)))
    over_b = np.asarray((t5 >= _at(19)) & (t5 < _at(19.75)))
    sag = np.asarray((t5 >= _at(20)) & (t5 < _at(21)))
    ia = np.where(out_a, 0.0, 115 * d + rng.normal(0, 2.0, len(t5)))
    ib = np.where(over_b, 245.0, 58 * d) + rng.normal(0, 1.5, len(t5))
    series("power:current:a", t5, ia.round(1))
    series("power:current:b", t5, ib.round(1))
    series("power:p:a", t5, np.where(out_a, 0.0, 4 * d + rng.normal(0, 0.05, len(t5))).round(3))
    series("power:p:b", t5, (ib * 0.0346 + rng.normal(0, 0.03, len(t5))).round(3))
    series("power:p:T1", t5, (np.where(out_a, 0, 4 * d) + 2 * d + rng.normal(0, 0.06, len(t5))).round(3))  # fmt: skip
    series("power:voltage:busbar", t5, (1.0 + rng.normal(0, 0.003, len(t5))).round(4))
    va2 = np.where(out_a, 0.0, 0.99 - 0.02 * d + rng.normal(0, 0.003, len(t5)))
    series("power:voltage:a2", t5, va2.round(4))
    vb1 = np.where(sag, 0.91, 0.985 - 0.02 * d) + rng.normal(0, 0.003, len(t5))
    series("power:voltage:b1", t5, vb1.round(4))
    gp = _gas_pressures(t5)
    for k, j in enumerate(GAS_SENSOR_J):
        noise = rng.normal(0, 0.0001, len(t5)) + 0.0003 * (k - 1.5)
        series(f"gas:pressure:{j}", t5, (gp[j] + noise).round(5))
    mins = ((t1 - _at(9 + 20 / 60)) / pd.Timedelta(minutes=1)).to_numpy()
    for name, rise in (
        ("CW1", np.clip(3.0 * mins, 0, 60)),
        ("T1", np.clip(1.0 * (mins - 15), 0, 40)),
    ):
        series(f"gas:methane:{name}", t1, np.clip(0.5 + rise + rng.normal(0, 0.3, len(t1)), 0, 100).round(1))  # fmt: skip
    series("gas:methane:S1", t1, np.abs(rng.normal(0.5, 0.3, len(t1))).round(1))
    parts.append(_drainage(city, seed))
    r = pd.concat(parts, ignore_index=True)
    meta = city.sensors.set_index("sensor_id")
    for c in ("utility", "quantity", "element", "asset_id", "x_m", "y_m"):
        r[c] = meta[c].reindex(r["sensor_id"]).to_numpy()
    r = r.sort_values(["ts", "sensor_id"], kind="stable").reset_index(drop=True)
    return r, _events(city, rng)


def _events(city: City, rng: np.random.Generator) -> pd.DataFrame:
    from tests.power.nets import by_name

    net = city.power
    rows: list[dict[str, Any]] = []

    def ev(t: pd.Timestamp, kind: str, customer: str = "", element: str = "") -> None:
        rows.append(
            {"ts": t, "kind": kind, "utility": "power", "customer_id": customer,
             "element": element, "source": "test"}
        )  # fmt: skip

    # day 1: one customer's own fuse (noise)
    ev(START + pd.Timedelta(hours=14), "last_gasp", "C0-0")
    ev(START + pd.Timedelta(hours=15), "restore", "C0-0")
    # day 3, 11:00: LV outage on load b2 (two of its three meters report)
    b2 = int(net.load.index[net.load.name == "load_b2"][0])
    for k in (0, 2):
        ev(_at(11) + pd.Timedelta(seconds=float(rng.uniform(0, 30))), "last_gasp", f"C{b2}-{k}")
        ev(_at(12) + pd.Timedelta(seconds=float(rng.uniform(0, 30))), "restore", f"C{b2}-{k}")
    # day 3, 15:40: fault on La2 — the feeder breaker trips, indicators up to the fault fire
    cb = by_name(net.switch, "Sa0up")
    t0 = _at(15 + 40 / 60)
    ev(t0, "breaker_trip", element=f"switch:{cb}")
    for name in ("Sa0up", "Sa1up", "Sa2up"):
        ev(t0 + pd.Timedelta(seconds=1), "fpi", element=f"switch:{by_name(net.switch, name)}")
    for i in net.load.index[net.load.name.str.startswith("load_a")]:
        for k in range(3):
            if rng.uniform() < 0.8:
                ev(t0 + pd.Timedelta(seconds=float(rng.uniform(2, 90))), "last_gasp", f"C{i}-{k}")
    t1 = _at(17 + 40 / 60)
    ev(t1, "breaker_close", element=f"switch:{cb}")
    for i in net.load.index[net.load.name.str.startswith("load_a")]:
        for k in range(3):
            ev(t1 + pd.Timedelta(seconds=float(rng.uniform(1, 60))), "restore", f"C{i}-{k}")
    e = pd.DataFrame(rows)
    e["ts"] = pd.to_datetime(e["ts"], utc=True).dt.round("ms")
    e["event_id"] = [
        f"{k}:{c or el}:{pd.Timestamp(t):%Y%m%dT%H%M%S%f}"
        for k, c, el, t in zip(e["kind"], e["customer_id"], e["element"], e["ts"], strict=True)
    ]
    e = e.sort_values("ts", kind="stable").reset_index(drop=True)
    return conform("meter_event", e)
