"""Detector micro-benchmark: readings/s per registered detector and all together, on one core.

    .venv/bin/python bench/detectors.py [--sensors 10000] [--customers 5000]

A synthetic city built in memory: a pandapower net of radial 20 kV feeders (lines with
switches, 20/0.4 kV substations) and a pandapipes grid of 10 x 10 mains, with ``--sensors``
sensors at 5-minute intervals — 35 % water (pressure, flow), 40 % power (bus voltage, line
current, line and transformer power), 20 pressure sensors on the gas grid and the rest methane
in manholes — and ``--customers`` smart-meter customers. Three days of readings: the first two
are learnt (untimed: warm-up — the CUSUM needs two days —, numba compilation), the third is
scored in 288 event-time windows of 5 minutes, as the live engine feeds them. The third day
holds a few anomalies (steps, a stuck meter, a feeder trip with last gasps, a methane rise) so
the detectors' alarm paths run too.

Figures: per detector, the readings it watches, the wall-clock and CPU seconds of ``score``
over the day and readings/s (per wall-clock second and per CPU second of this process), the
measured warm-up (the readings per sensor, at 5-minute intervals, after which
``status().ready``) and the size of its checkpoint (``get_state`` as JSON); all together, the
day's readings over the summed seconds of every detector. The batch frames hold ``sensor_id``
(categorical, as the validator produces), ``ts`` and ``value``.
Threads are limited to one (``OMP_NUM_THREADS=1`` etc.) and the process runs nice 10.
Writes bench/results/detectors.json. The data are synthetic: nothing is tuned on them.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "detectors.json"
T0 = pd.Timestamp("2026-05-01", tz="UTC")
STEP = pd.Timedelta(minutes=5)


def power_net(n_feeders: int, per_feeder: int) -> Any:
    """Radial 20 kV feeders off one 110/20 kV substation, a 20/0.4 kV substation at each bus."""
    import pandapower as pp

    net = pp.create_empty_network()
    hv = pp.create_bus(net, 110, geodata=(0.0, -50.0))
    bb = pp.create_bus(net, 20, geodata=(0.0, 0.0))
    pp.create_ext_grid(net, hv)
    pp.create_transformer(net, hv, bb, "40 MVA 110/20 kV")
    for f in range(n_feeders):
        prev = bb
        for i in range(per_feeder):
            b = pp.create_bus(net, 20, geodata=(100.0 * (i + 1), 200.0 * f))
            ln = pp.create_line(net, prev, b, 0.3, "NA2XS2Y 1x185 RM/25 12/20 kV")
            pp.create_switch(net, prev, ln, "l", closed=True, type="CB" if i == 0 else "LBS")
            lv = pp.create_bus(net, 0.4, geodata=(100.0 * (i + 1), 200.0 * f + 20))
            pp.create_transformer(net, b, lv, "0.4 MVA 20/0.4 kV")
            pp.create_load(net, lv, p_mw=0.15)
            prev = b
    return net


def gas_net() -> Any:
    """A 10 x 10 grid of PE mains (100 m), one house sink per junction, supply at a corner."""
    import pandapipes as pp

    net = pp.create_empty_network(fluid="hgas")
    n = 10
    for k in range(n * n):
        pp.create_junction(net, 1.0, 283.15, geodata=((k % n) * 100.0, (k // n) * 100.0))
    for k in range(n * n):
        if k % n + 1 < n:
            pp.create_pipe_from_parameters(net, k, k + 1, 0.1, 110.0, k_mm=0.01)
        if k // n + 1 < n:
            pp.create_pipe_from_parameters(net, k, k + n, 0.1, 110.0, k_mm=0.01)
        pp.create_sink(net, k, mdot_kg_per_s=0.002)
    pp.create_ext_grid(net, 0, p_bar=1.0, t_k=283.15)
    return net


def build_city(n_sensors: int, n_customers: int, tmp: Path) -> Any:
    """The synthetic city (see the module docstring)."""
    import pandapipes as pp

    from lifeline.model.assets import gas_assets, power_assets
    from lifeline.model.city import City
    from lifeline.model.schema import conform

    n_power = int(0.40 * n_sensors)
    n_water = int(0.35 * n_sensors)
    n_gas_p = 20
    n_methane = n_sensors - n_power - n_water - n_gas_p
    per_feeder = 20
    n_subst = max(n_power // 4, per_feeder)
    net = power_net(max(1, n_subst // per_feeder), per_feeder)
    gas = gas_net()
    gpath = tmp / "gas.json"
    pp.to_json(gas, str(gpath))
    assets = pd.concat(
        [
            power_assets(net, pd.Series("feeder", index=net.bus.index)),
            gas_assets(
                gas,
                pd.Series("gas:d1", index=gas.junction.index),
                pd.DataFrame(columns=["valve_id", "pipe", "junction"]),
            ),
        ],
        ignore_index=True,
    )
    rng = np.random.default_rng(0)
    rows: list[dict[str, Any]] = []

    def add(sid: str, util: str, q: str, el: str, asset: str, lo: float, hi: float) -> None:
        rows.append(
            {"sensor_id": sid, "asset_id": asset, "utility": util, "quantity": q, "unit": "",
             "interval_s": 300, "valid_min": lo, "valid_max": hi, "x_m": rng.uniform(0, 2000),
             "y_m": rng.uniform(0, 2000), "element": el, "host": ""}
        )  # fmt: skip

    mv_buses = net.bus.index[net.bus.vn_kv == 20].tolist()
    lines, trafos = net.line.index.tolist(), net.trafo.index[1:].tolist()
    kinds = ["voltage", "current", "p_line", "p_trafo"]
    for k in range(n_power):
        kind, i = kinds[k % 4], k // 4
        if kind == "voltage":
            b = mv_buses[i % len(mv_buses)]
            add(f"power:v:{k}", "power", "voltage_pu", f"bus:{b}", f"power:bus:{b}", 0, 1.2)
        elif kind == "current":
            ln = lines[i % len(lines)]
            add(f"power:i:{k}", "power", "current_a", f"line:{ln}", f"power:line:{ln}", 0, 800)
        elif kind == "p_line":
            ln = lines[i % len(lines)]
            add(f"power:p:{k}", "power", "p_mw", f"line:{ln}", f"power:line:{ln}", -20, 20)
        else:
            t = trafos[i % len(trafos)]
            add(f"power:pt:{k}", "power", "p_mw", f"trafo:{t}", f"power:trafo:{t}", -2, 2)
    for k in range(n_water):
        if k % 5 < 3:
            add(f"water:p:{k}", "water", "pressure_m", f"node:J{k}", f"water:junction:J{k}", -10, 100)  # fmt: skip
        else:
            add(f"water:f:{k}", "water", "flow_m3h", f"link:P{k}", f"water:pipe:P{k}", -300, 300)  # fmt: skip
    for k in range(n_gas_p):
        j = int(k * 97 % 100)
        add(f"gas:p:{j}", "gas", "pressure_bar", f"junction:{j}", f"gas:junction:{j}", 0, 2)
    for k in range(n_methane):
        add(f"gas:ch4:{k}", "gas", "methane_pct_lel", "", f"drainage:manhole:M{k}", 0, 100)
    loads = net.load.index.to_numpy()
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{k}" for k in range(n_customers)],
            "name": "",
            "category": "household",
            "critical": False,
            "x_m": 0.0,
            "y_m": 0.0,
            "power_asset_id": [f"power:load:{loads[k % len(loads)]}" for k in range(n_customers)],
        }
    )
    city = City(
        name="bench",
        crs="EPSG:32650",
        timezone="UTC",
        networks={"gas": gpath},
        assets=conform("asset", assets),
        customers=conform("customer", customers),
        sensors=conform("sensor", pd.DataFrame(rows)),
    )
    city.power = net
    return city


def readings(city: Any, days: int = 3) -> list[pd.DataFrame]:
    """One frame per 5-minute window over ``days`` (every sensor reads once per window)."""
    s = city.sensors
    n = len(s)
    rng = np.random.default_rng(1)
    q = s["quantity"].astype(str).to_numpy()
    trafo = s["element"].astype(str).str.startswith("trafo:").to_numpy()
    level = np.select(
        [q == "voltage_pu", q == "current_a", trafo, q == "p_mw", q == "pressure_m",
         q == "flow_m3h", q == "pressure_bar", q == "methane_pct_lel"],
        [1.0, 150.0, 0.2, 1.5, 45.0, 30.0, 0.98, 0.5],
        1.0,
    )  # fmt: skip
    amp = np.select([q == "voltage_pu", q == "pressure_bar", q == "methane_pct_lel"], [0.0, 0.0, 0.0], 0.3)  # fmt: skip
    noise = np.select([q == "voltage_pu", q == "pressure_bar", q == "methane_pct_lel"], [0.003, 0.0002, 0.3], 0.02)  # fmt: skip
    ids = pd.Categorical(s["sensor_id"].astype(str))
    phase = rng.uniform(0, 2 * np.pi, n)
    out = []
    steps = days * 288
    for w in range(steps):
        t = T0 + w * STEP
        h = w % 288 / 288
        v = (
            level
            * (1 + amp * np.sin(2 * np.pi * h + phase * 0.2))
            * (1 + noise * rng.normal(size=n))
        )
        if w >= 288 * (days - 1):  # anomalies on the last day
            k = w - 288 * (days - 1)
            if 40 <= k < 80:
                v[:50] *= 0.7  # steps on 50 sensors for 200 min
            if 100 <= k < 140:
                v[50:60] = v[50:60] * 0 + 0.0  # feeder trips: currents and voltages to 0
            if 120 <= k < 200:
                v[60] = 33.3  # a stuck meter
            if k >= 150:
                m = np.flatnonzero(q == "methane_pct_lel")[:5]
                v[m] = np.minimum(0.5 + 2.0 * (k - 150), 60.0)
        out.append(pd.DataFrame({"sensor_id": ids, "ts": t, "value": np.round(v, 4)}))
    return out


def events(city: Any, day: pd.Timestamp) -> pd.DataFrame:
    """The scored day's meter events: 5 feeder trips with their customers' last gasps and
    restores."""
    from lifeline.model.schema import conform

    net, cust = city.power, city.customers
    rng = np.random.default_rng(2)
    rows = []
    cb = net.switch.index[net.switch.type == "CB"].tolist()
    load_of = cust["power_asset_id"].str.rsplit(":", n=1).str[-1].astype(int).to_numpy()
    feeders_loads = np.array_split(net.load.index.to_numpy(), len(cb))
    for k in range(5):
        t = day + pd.Timedelta(hours=2 + 4 * k)
        rows.append((t, "breaker_trip", "", f"switch:{cb[k]}"))
        out = cust["customer_id"][np.isin(load_of, feeders_loads[k])].tolist()
        for c in out:
            if rng.uniform() < 0.7:
                rows.append((t + pd.Timedelta(seconds=rng.uniform(1, 120)), "last_gasp", c, ""))
        back = t + pd.Timedelta(hours=1)
        rows.append((back, "breaker_close", "", f"switch:{cb[k]}"))
        for c in out:
            rows.append((back + pd.Timedelta(seconds=rng.uniform(1, 60)), "restore", c, ""))
    e = pd.DataFrame(rows, columns=["ts", "kind", "customer_id", "element"]).sort_values("ts")
    e["utility"] = "power"
    e["event_id"] = [f"e{i}" for i in range(len(e))]
    return conform("meter_event", e)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensors", type=int, default=10_000)
    ap.add_argument("--customers", type=int, default=5_000)
    args = ap.parse_args()
    from lifeline.detect.registry import build_detectors

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        city = build_city(args.sensors, args.customers, Path(tmp))
        windows = readings(city)
        ev = events(city, T0 + pd.Timedelta(days=2))
        print(f"city and data: {time.perf_counter() - t:.1f} s, {len(city.sensors)} sensors")
        inst = build_detectors(city)
        day1, day2 = windows[: 2 * 288], windows[2 * 288 :]  # learnt, scored
        ev_windows = [
            ev[(ev["ts"] >= w["ts"].iloc[0]) & (ev["ts"] < w["ts"].iloc[0] + STEP)] for w in day2
        ]
        per: dict[str, Any] = {}
        total_s = total_cpu = 0.0
        for i in inst:
            det = i.detector
            ids = i.sensor_ids
            ready_at = 0 if det.status().ready else None  # windows of 5 min until ready
            if i.spec.inputs == "events":
                batches, n = ev_windows, len(ev)
            else:
                keep = windows[0]["sensor_id"].isin(ids).to_numpy()
                for k, w in enumerate(day1):
                    det.learn(w[keep])
                    if ready_at is None and det.status().ready:
                        ready_at = k + 1
                batches = [w[keep] for w in day2]
                n = sum(len(b) for b in batches)
            alarms = 0
            dt = cpu = 0.0
            for k, b in enumerate(batches):
                t, c = time.perf_counter(), time.process_time()
                sc = det.score(b)
                dt += time.perf_counter() - t
                cpu += time.process_time() - c
                alarms += int((sc["score"] >= i.policy.threshold).sum())
                if ready_at is None and det.status().ready:
                    ready_at = len(day1) + k + 1
            total_s += dt
            total_cpu += cpu
            t = time.perf_counter()
            state = json.dumps(det.get_state(), allow_nan=False)
            state_s = time.perf_counter() - t
            per[i.spec.name] = {
                "inputs": i.spec.inputs,
                "sensors": len(ids),
                "readings" if i.spec.inputs == "readings" else "events": n,
                "seconds": round(dt, 3),
                "cpu_seconds": round(cpu, 3),
                "per_s": round(n / dt, 1) if dt > 0 else None,
                "per_cpu_s": round(n / cpu, 1) if cpu > 0 else None,
                "scores_over_threshold": alarms,
                "ready": det.status().ready,
                "ready_after_readings_per_sensor": ready_at,
                "state_json_bytes": len(state),
                "state_seconds": round(state_s, 3),
            }
            print(
                f"{i.spec.name:20s} {n:9d} in {dt:7.2f} s = {n / dt:12,.0f} /s"
                f" ({n / max(cpu, 1e-9):12,.0f} per CPU s)"
                f"   ready after {ready_at} readings per sensor"
            )
        n_day = sum(len(w) for w in day2)
        all_rate = n_day / total_s
        cpu_rate = n_day / total_cpu
        print(
            f"{'all together':20s} {n_day:9d} in {total_s:7.2f} s = {all_rate:12,.0f} readings/s"
            f" ({cpu_rate:,.0f} per CPU s)"
        )
    out = {
        "command": "nice -n 10 .venv/bin/python bench/detectors.py " + " ".join(sys.argv[1:]),
        "sensors": len(city.sensors),
        "customers": args.customers,
        "readings_per_day": n_day,
        "events_per_day": len(ev),
        "batch": "5-minute event-time windows (288 per day), two history days learnt first",
        "detectors": per,
        "all_together": {
            "seconds": round(total_s, 3),
            "readings_per_s": round(all_rate, 1),
            "cpu_seconds": round(total_cpu, 3),
            "readings_per_cpu_s": round(cpu_rate, 1),
        },
        "note": "wall-clock figures depend on the load of the shared machine; CPU seconds "
        "(time.process_time) count this process only",
        "machine": {
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
        },
        "data": "synthetic (generated in the bench); nothing tuned on it",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
