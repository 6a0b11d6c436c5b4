"""The synthetic city of ``bench/live.py``: sensors at their real intervals, zones, smart meters,
and the readings and meter events of any period (generated, seeded — nothing tuned on them).

Proportions like a city's telemetry: 40 % power (bus voltage, line current, line and
transformer power) every minute, 35 % water (3/5 pressure, 2/5 flow) every 5 minutes, 20 gas
pressure sensors on the gas grid every minute and the rest methane in manholes every minute.
Each sensor reads at its own phase within its interval (a fleet is not synchronised). Power
assets sit in radial 20 kV feeders (one zone per feeder), water assets in DMAs of 100 sensors,
manholes in districts of 500; smart-meter customers hang off the 20/0.4 kV substations.

The scored period may hold anomalies (``anomalies=True``): pressure steps on 50 sensors, a
feeder trip (its currents and voltages to zero, its customers' last gasps, the breaker), a stuck
meter and a methane rise — so alarms, episodes and incidents run too.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from detectors import gas_net  # bench/detectors.py

T0 = pd.Timestamp("2026-05-01", tz="UTC")
WINDOW = pd.Timedelta(minutes=5)


@dataclass
class Fleet:
    """Per-sensor arrays for fast generation (index = row of ``city.sensors``)."""

    ids: pd.Categorical
    interval_s: np.ndarray
    phase_s: np.ndarray
    level: np.ndarray
    amp: np.ndarray
    noise: np.ndarray
    shift: np.ndarray  # daily-profile phase
    quantity: np.ndarray


def power_net(n_feeders: int, per_feeder: int) -> Any:
    """Radial 20 kV feeders off one 110/20 kV substation, a 20/0.4 kV substation with a load at
    each feeder bus (feeder f along y = 200 f); built with pandapower's vectorised creators."""
    import pandapower as pp

    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110, geodata=(0.0, -50.0))
    bb = pp.create_bus(net, 20, geodata=(0.0, -10.0))
    pp.create_ext_grid(net, hv)
    pp.create_transformer(net, hv, bb, "40 MVA 110/20 kV")
    f = np.repeat(np.arange(n_feeders), per_feeder)
    i = np.tile(np.arange(per_feeder), n_feeders)
    n = len(f)
    mv = pp.create_buses(net, n, 20, geodata=list(zip(100.0 * (i + 1), 200.0 * f, strict=True)))
    lv = pp.create_buses(
        net, n, 0.4, geodata=list(zip(100.0 * (i + 1), 200.0 * f + 20, strict=True))
    )
    mv = np.asarray(mv)
    prev = np.where(i == 0, bb, np.roll(mv, 1))
    lines = pp.create_lines(net, prev, mv, 0.3, "NA2XS2Y 1x185 RM/25 12/20 kV")
    pp.create_switches(
        net,
        prev,
        lines,
        "l",
        closed=True,
        type=None,
        name=[("CB" if k == 0 else "LBS") for k in i],
    )
    net.switch["type"] = np.where(i == 0, "CB", "LBS")
    pp.create_transformers(net, mv, lv, "0.4 MVA 20/0.4 kV")
    pp.create_loads(net, lv, p_mw=0.15)
    return net


def build_city(n_sensors: int, n_customers: int, tmp: Path) -> Any:
    """The synthetic city (see the module docstring)."""
    import pandapipes as pp

    from lifeline.model.assets import bus_positions, gas_assets, power_assets
    from lifeline.model.city import City
    from lifeline.model.schema import conform

    n_power = int(0.40 * n_sensors)
    n_water = int(0.35 * n_sensors)
    n_gas_p = 20
    n_methane = n_sensors - n_power - n_water - n_gas_p
    per_feeder = 20
    n_subst = max(n_power // 4, per_feeder)
    n_feeders = max(1, n_subst // per_feeder)
    net = power_net(n_feeders, per_feeder)
    bxy = bus_positions(net)
    # a bus belongs to the feeder of its y position (power_net lays feeder f at y = 200 f)
    gy = bxy["y"].to_numpy()
    feeder = np.where(gy < 0, -1, np.floor((gy + 50.0) / 200.0)).astype(int)
    feeder[
        bxy.index.isin(net.trafo.hv_bus.iloc[:1]) | bxy.index.isin(net.trafo.lv_bus.iloc[:1])
    ] = -1
    zone = pd.Series(
        [f"power:feeder:F{f}" if f >= 0 else "power:substation" for f in feeder], index=bxy.index
    )
    gas = gas_net()
    gpath = tmp / "gas.json"
    pp.to_json(gas, str(gpath))
    water_rows, manhole_rows, rows = [], [], []

    def add(
        sid: str,
        util: str,
        q: str,
        el: str,
        asset: str,
        lo: float,
        hi: float,
        iv: int,
        x: float,
        y: float,
    ) -> None:
        rows.append(
            {"sensor_id": sid, "asset_id": asset, "utility": util, "quantity": q, "unit": "",
             "interval_s": iv, "valid_min": lo, "valid_max": hi, "x_m": x, "y_m": y,
             "element": el, "host": ""}
        )  # fmt: skip

    mv_buses = net.bus.index[net.bus.vn_kv == 20].tolist()
    lines, trafos = net.line.index.tolist(), net.trafo.index[1:].tolist()
    kinds = ["voltage", "current", "p_line", "p_trafo"]
    for k in range(n_power):
        kind, i = kinds[k % 4], k // 4
        if kind == "voltage":
            b = mv_buses[i % len(mv_buses)]
            x, y = bxy.at[b, "x"], bxy.at[b, "y"]
            add(f"power:v:{k}", "power", "voltage_pu", f"bus:{b}", f"power:bus:{b}", 0, 1.2, 60, x, y)  # fmt: skip
        elif kind in ("current", "p_line"):
            ln = lines[i % len(lines)]
            b = net.line.at[ln, "to_bus"]
            x, y = bxy.at[b, "x"], bxy.at[b, "y"]
            q, lo, hi, pre = ("current_a", 0, 800, "i") if kind == "current" else ("p_mw", -20, 20, "p")  # fmt: skip
            add(f"power:{pre}:{k}", "power", q, f"line:{ln}", f"power:line:{ln}", lo, hi, 60, x, y)  # fmt: skip
        else:
            t = trafos[i % len(trafos)]
            b = net.trafo.at[t, "lv_bus"]
            x, y = bxy.at[b, "x"], bxy.at[b, "y"]
            add(f"power:pt:{k}", "power", "p_mw", f"trafo:{t}", f"power:trafo:{t}", -2, 2, 60, x, y)  # fmt: skip
    side = max(1, int(np.ceil(np.sqrt(n_water))))
    for k in range(n_water):
        x, y = 5000.0 + 50.0 * (k % side), 50.0 * (k // side)
        dma = f"water:dma:DMA{k // 100}"
        if k % 5 < 3:
            aid = f"water:junction:J{k}"
            add(f"water:p:{k}", "water", "pressure_m", f"node:J{k}", aid, -10, 100, 300, x, y)
            water_rows.append(("junction", f"J{k}", aid, x, y, dma))
        else:
            aid = f"water:pipe:P{k}"
            add(f"water:f:{k}", "water", "flow_m3h", f"link:P{k}", aid, -300, 300, 300, x, y)
            water_rows.append(("pipe", f"P{k}", aid, x, y, dma))
    for k in range(n_gas_p):
        j = int(k * 97 % 100)
        gd = gas.junction_geodata.loc[j]
        add(f"gas:p:{j}", "gas", "pressure_bar", f"junction:{j}", f"gas:junction:{j}", 0, 2, 60, gd.x, gd.y)  # fmt: skip
    for k in range(n_methane):
        x, y = -5000.0 + 40.0 * (k % 200), 40.0 * (k // 200)
        aid = f"drainage:manhole:M{k}"
        add(f"gas:ch4:{k}", "gas", "methane_pct_lel", "", aid, 0, 100, 60, x, y)
        manhole_rows.append((aid, f"M{k}", x, y, f"D{k // 500}"))
    other = pd.DataFrame(
        [
            {"asset_id": a, "utility": "water", "kind": kind, "ref": ref, "name": ref, "x_m": x,
             "y_m": y, "zone_id": z, "district_id": "D0"}
            for kind, ref, a, x, y, z in water_rows
        ]
        + [
            {"asset_id": a, "utility": "drainage", "kind": "manhole", "ref": ref, "name": ref,
             "x_m": x, "y_m": y, "zone_id": "", "district_id": d}
            for a, ref, x, y, d in manhole_rows
        ]
    )  # fmt: skip
    assets = pd.concat(
        [
            power_assets(net, zone),
            gas_assets(
                gas,
                pd.Series("gas:district:G1", index=gas.junction.index),
                pd.DataFrame(columns=["valve_id", "pipe", "junction"]),
            ),
            other,
        ],
        ignore_index=True,
    )
    loads = net.load.index.to_numpy()
    lb = net.load.bus.to_numpy()
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{k}" for k in range(n_customers)],
            "name": "",
            "category": "household",
            "critical": False,
            "x_m": [float(bxy.at[lb[k % len(loads)], "x"]) for k in range(n_customers)],
            "y_m": [float(bxy.at[lb[k % len(loads)], "y"]) for k in range(n_customers)],
            "power_asset_id": [f"power:load:{loads[k % len(loads)]}" for k in range(n_customers)],
        }
    )
    city = City(
        name="bench-live",
        crs="EPSG:32650",
        timezone="UTC",
        networks={"gas": gpath},
        assets=conform("asset", assets),
        customers=conform("customer", customers),
        sensors=conform("sensor", pd.DataFrame(rows)),
        gas_valves=pd.DataFrame(columns=["valve_id", "pipe", "junction"]),
        water_valves=pd.DataFrame(columns=["valve", "node", "link"]),
        crews=pd.DataFrame(columns=["crew_id", "utility", "name", "x_m", "y_m", "available"]),
    )
    city.power = net
    return city


def fleet(city: Any, seed: int = 1) -> Fleet:
    """Generation parameters of every sensor."""
    s = city.sensors
    rng = np.random.default_rng(seed)
    q = s["quantity"].astype(str).to_numpy()
    trafo = s["element"].astype(str).str.startswith("trafo:").to_numpy()
    level = np.select(
        [q == "voltage_pu", q == "current_a", trafo, q == "p_mw", q == "pressure_m",
         q == "flow_m3h", q == "pressure_bar", q == "methane_pct_lel"],
        [1.0, 150.0, 0.2, 1.5, 45.0, 30.0, 0.98, 0.5],
        1.0,
    )  # fmt: skip
    flat = (q == "voltage_pu") | (q == "pressure_bar") | (q == "methane_pct_lel")
    amp = np.where(flat, 0.0, 0.3)
    noise = np.select(
        [q == "voltage_pu", q == "pressure_bar", q == "methane_pct_lel"], [0.003, 0.0002, 0.3], 0.02
    )
    iv = s["interval_s"].to_numpy(dtype=np.int64)
    return Fleet(
        ids=pd.Categorical(s["sensor_id"].astype(str)),
        interval_s=iv,
        phase_s=rng.integers(0, iv),
        level=level,
        amp=amp,
        noise=noise,
        shift=rng.uniform(0, 2 * np.pi, len(s)) * 0.2,
        quantity=q,
    )


def window(
    f: Fleet, start: pd.Timestamp, rng: np.random.Generator, anomalies: bool
) -> pd.DataFrame:
    """Every reading with ``start <= ts < start + 5 min``, in time order."""
    span = int(WINDOW.total_seconds())
    t0 = int((start - T0).total_seconds())
    idx, offs = [], []
    for iv in np.unique(f.interval_s):
        sel = np.flatnonzero(f.interval_s == iv)
        for k in range(0, span, int(iv)):
            idx.append(sel)
            offs.append(k + f.phase_s[sel] % iv)
    i = np.concatenate(idx)
    off = np.concatenate(offs)
    order = np.argsort(off, kind="stable")
    i, off = i[order], off[order]
    sec = t0 + off
    h = (sec % 86400) / 86400.0
    v = (
        f.level[i]
        * (1 + f.amp[i] * np.sin(2 * np.pi * h + f.shift[i]))
        * (1 + f.noise[i] * rng.normal(size=len(i)))
    )
    if anomalies:
        v = _anomalies(f, i, sec, v)
    ts = T0 + pd.to_timedelta(sec, unit="s")
    return pd.DataFrame(
        {
            "sensor_id": pd.Categorical.from_codes(f.ids.codes[i], categories=f.ids.categories),
            "ts": ts,
            "value": np.round(v, 4),
        }
    )


#: anomaly schedule, seconds after the start of the scored period
STEP_AT, STEP_END = 600, 3000
TRIP_AT, TRIP_END = 1200, 2400
STUCK_AT = 900


def _anomalies(f: Fleet, i: np.ndarray, sec: np.ndarray, v: np.ndarray) -> np.ndarray:
    base = ANOMALY_BASE["t"]
    rel = np.where(sec >= base, (sec - base) % 3600, -1)  # the same hour after hour
    water = np.flatnonzero(f.quantity == "pressure_m")[:50]
    m = np.isin(i, water) & (rel >= STEP_AT) & (rel < STEP_END)
    v[m] *= 0.6
    feeder = ANOMALY_BASE["feeder"]
    m = np.isin(i, feeder) & (rel >= TRIP_AT) & (rel < TRIP_END)
    v[m] = 0.0
    stuck = np.flatnonzero(f.quantity == "flow_m3h")[:1]
    m = np.isin(i, stuck) & (rel >= STUCK_AT) & (rel < TRIP_END)
    v[m] = 33.3
    ch4 = np.flatnonzero(f.quantity == "methane_pct_lel")[:5]
    m = np.isin(i, ch4) & (rel >= TRIP_AT) & (rel < STEP_END)
    v[m] = np.minimum(0.5 + 0.05 * (rel[m] - TRIP_AT), 60.0)
    return v


#: set by :func:`set_anomalies`: the scored period's start (s after T0) and the tripped sensors
ANOMALY_BASE: dict[str, Any] = {"t": 0, "feeder": np.zeros(0, dtype=np.int64)}


def set_anomalies(city: Any, start: pd.Timestamp) -> dict[str, Any]:
    """Schedule the anomalies from ``start``: returns what trips (feeder 0's sensors, its
    breaker and customers) for the events."""
    s = city.sensors
    z = city.assets.set_index("asset_id")["zone_id"]
    zone = s["asset_id"].map(z).fillna("")
    feeder = np.flatnonzero(
        (zone == "power:feeder:F0").to_numpy()
        & s["quantity"].isin(["current_a", "voltage_pu"]).to_numpy()
    )
    ANOMALY_BASE.update(t=int((start - T0).total_seconds()), feeder=feeder)
    return {"sensors": s["sensor_id"].iloc[feeder].tolist()}


def trip_events(city: Any, start: pd.Timestamp, hours: float = 1.0) -> pd.DataFrame:
    """The feeder trips' meter and switchgear events of ``hours`` from ``start`` (one an hour,
    ``schema.METER_EVENT`` rows)."""
    from lifeline.model.schema import empty_frame

    parts = [_trip(city, start + pd.Timedelta(hours=h)) for h in range(int(np.ceil(hours)))]
    if not parts:
        return empty_frame("meter_event")
    e = pd.concat(parts, ignore_index=True)
    return e[e["ts"] < start + pd.Timedelta(hours=hours)].reset_index(drop=True)


def _trip(city: Any, start: pd.Timestamp) -> pd.DataFrame:
    from lifeline.model.schema import conform

    net, cust = city.power, city.customers
    a = city.assets.set_index("asset_id")
    zone = cust["power_asset_id"].map(a["zone_id"]).fillna("")
    out = cust[zone == "power:feeder:F0"]["customer_id"].tolist()
    rng = np.random.default_rng(2)
    t = start + pd.Timedelta(seconds=TRIP_AT)
    cb = net.switch.index[net.switch.type == "CB"].tolist()[0]
    rows = [(t, "breaker_trip", "", f"switch:{cb}")]
    rows += [(t + pd.Timedelta(seconds=float(rng.uniform(1, 60))), "last_gasp", c, "") for c in out]
    back = start + pd.Timedelta(seconds=TRIP_END)
    rows.append((back, "breaker_close", "", f"switch:{cb}"))
    rows += [
        (back + pd.Timedelta(seconds=float(rng.uniform(1, 60))), "restore", c, "") for c in out
    ]
    e = pd.DataFrame(rows, columns=["ts", "kind", "customer_id", "element"]).sort_values("ts")
    e["utility"] = "power"
    from lifeline.ingest.events import event_id

    e["event_id"] = [
        event_id(k, c or el, t)
        for k, c, el, t in zip(e.kind, e.customer_id, e.element, e.ts, strict=True)
    ]
    e["source"] = "bench"
    return conform("meter_event", e.reset_index(drop=True))
