"""Gas part of the simulated day: pandapipes pipeflows at a few load levels, interpolated over
the day's heating profile (in the city's local time), plus methane in manholes (background
noise and leaks). Works on any city's pandapipes net: pressure at the sensors' junctions, flow
out of each external grid (regulator station), methane at each detector's position."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from lifeline.scenarios.events import GasLeak, utc, window
from lifeline.scenarios.profiles import gas_factor

STEP_S = 300
N_LEVELS = 5
#: density of H-gas at normal conditions (kg/m3) to turn regulator mass flow into Nm3/h
RHO_N = 0.79


def _levels(
    net: Any, levels: np.ndarray, junctions: list[int], leaks: list[tuple[int, float]]
) -> tuple[np.ndarray, np.ndarray]:
    import pandapipes as pps

    net = copy.deepcopy(net)
    base = net.sink.mdot_kg_per_s.to_numpy().copy()
    for j, q in leaks:
        pps.create_sink(net, j, mdot_kg_per_s=q, name="leak")
    n_base = len(base)
    p = np.zeros((len(levels), len(junctions)))
    m = np.zeros((len(levels), len(net.ext_grid)))
    for i, lv in enumerate(levels):
        mdot = net.sink.mdot_kg_per_s.to_numpy().copy()
        mdot[:n_base] = base * lv
        net.sink["mdot_kg_per_s"] = mdot
        pps.pipeflow(net, mode="hydraulics")
        p[i] = net.res_junction.loc[junctions, "p_bar"].to_numpy()
        m[i] = -net.res_ext_grid.mdot_kg_per_s.to_numpy(float)
    return p, m


def simulate_gas(
    town: Any, start: pd.Timestamp, rng: np.random.Generator, events: list[Any]
) -> pd.DataFrame:
    """Readings of gas pressure (bar), regulator flow (Nm3/h) and methane (%LEL) over the day,
    each at its sensor's interval."""
    from lifeline.errors import NotFoundError
    from lifeline.scenarios.day import at_interval

    gas = town.gas
    n = 24 * 3600 // STEP_S
    ts = pd.date_range(start, periods=n, freq=f"{STEP_S}s")
    f = (
        gas_factor(ts, str(town.timezone))
        * rng.normal(1.0, 0.03)
        * (1 + np.convolve(rng.normal(0, 0.03, n + 5), np.ones(6) / 6, "valid")[:n])
    )
    levels = np.linspace(f.min() * 0.95, f.max() * 1.05, N_LEVELS)
    s = town.sensors
    ps = s[(s.utility == "gas") & (s.quantity == "pressure_bar")]
    junctions = [int(a.rsplit(":", 1)[-1]) for a in ps.asset_id]
    leaks = [e for e in events if isinstance(e, GasLeak)]
    a = town.assets.set_index("asset_id")
    gxy = gas.junction_geodata
    from lifeline.gas.valves import house_nodes

    mains = gxy.index.difference(house_nodes(gas))
    leak_junction = []
    for ev in leaks:
        if ev.manhole not in a.index:
            raise NotFoundError(f"no manhole {ev.manhole!r}", where="GasLeak.manhole")
        if ev.junction is not None:
            leak_junction.append(int(ev.junction))
            continue
        x, y = a.at[ev.manhole, "x_m"], a.at[ev.manhole, "y_m"]
        d = np.hypot(gxy.loc[mains, "x"] - x, gxy.loc[mains, "y"] - y)
        leak_junction.append(int(d.idxmin()))
    active = np.array([window(ev, ts).to_numpy() for ev in leaks]).reshape(len(leaks), n)
    p = np.zeros((n, len(junctions)))
    m = np.zeros((n, len(gas.ext_grid)))
    combos = {tuple(active[:, k]) for k in range(n)}
    for combo in sorted(combos):
        lk = [(leak_junction[i], leaks[i].leak_kg_s) for i, on in enumerate(combo) if on]
        pl, ml = _levels(gas, levels, junctions, lk)
        sel = np.array([tuple(active[:, k]) == combo for k in range(n)])
        for j in range(len(junctions)):
            p[sel, j] = np.interp(f[sel], levels, pl[:, j])
        for j in range(m.shape[1]):
            m[sel, j] = np.interp(f[sel], levels, ml[:, j])
    frames = []
    for j, (sid, iv) in enumerate(zip(ps.sensor_id, ps.interval_s, strict=True)):
        t, v = at_interval(ts, p[:, j] + rng.normal(0, 0.0005, n), int(iv))
        frames.append(pd.DataFrame({"sensor_id": sid, "ts": t, "value": np.round(v, 4)}))
    fs = s[(s.utility == "gas") & (s.quantity == "flow_m3h")]
    grids = list(gas.ext_grid.index)
    for sid, aid, iv in zip(fs.sensor_id, fs.asset_id, fs.interval_s, strict=True):
        # gas:regulator:R<k> is the k-th external grid of the net (see the city package)
        k = int(str(aid).rsplit("R", 1)[-1]) - 1 if str(aid).startswith("gas:regulator:R") else 0
        mk = m[:, k] if 0 <= k < len(grids) else m.sum(axis=1)
        t, v = at_interval(ts, mk / RHO_N * 3600 * (1 + rng.normal(0, 0.01, n)), int(iv))
        frames.append(pd.DataFrame({"sensor_id": sid, "ts": t, "value": np.round(v, 2)}))
    frames.append(_methane(town, start, rng, leaks))
    return pd.concat(frames, ignore_index=True)


def _methane(
    town: Any, start: pd.Timestamp, rng: np.random.Generator, leaks: list[GasLeak]
) -> pd.DataFrame:
    """Methane (%LEL) every minute in each monitored manhole: background 0-2 %LEL plus leak plumes."""
    s = town.sensors[town.sensors.quantity == "methane_pct_lel"]
    ts = pd.date_range(start, periods=1440, freq="60s")
    t_min = np.arange(1440, dtype=float)
    k = len(s)
    base = rng.uniform(0.1, 0.8, k)[:, None]
    noise = np.zeros((k, 1440))
    e = rng.normal(0, 0.12, (k, 1440))
    for i in range(1, 1440):
        noise[:, i] = 0.97 * noise[:, i - 1] + e[:, i]
    v = np.clip(base + noise, 0.0, 2.0)
    xy = s[["x_m", "y_m"]].to_numpy()
    a = town.assets.set_index("asset_id")
    for ev in leaks:
        x, y = a.at[ev.manhole, "x_m"], a.at[ev.manhole, "y_m"]
        d = np.hypot(xy[:, 0] - x, xy[:, 1] - y)
        t0 = (utc(ev.start) - start).total_seconds() / 60.0
        t1 = 1e9 if ev.end is None else (utc(ev.end) - start).total_seconds() / 60.0
        for mi in np.flatnonzero(d <= ev.radius_m):
            delay = d[mi] / 2.0  # seepage ~2 m per minute
            amp = ev.peak_pct_lel * np.exp(-d[mi] / 25.0)
            dt = np.clip(t_min - t0 - delay, 0.0, None)
            rise = amp * (1 - np.exp(-dt / ev.tau_min))
            after = t_min > t1
            rise[after] *= np.exp(-(t_min[after] - t1) / ev.tau_min)
            v[mi] += rise * (1 + rng.normal(0, 0.05, 1440))
    vals = np.round(np.clip(v, 0.0, 100.0), 1)
    if (s.interval_s == 60).all():
        return pd.DataFrame(
            {
                "sensor_id": np.repeat(s.sensor_id.to_numpy(), 1440),
                "ts": pd.DatetimeIndex(np.tile(ts.values, k)).tz_localize("UTC"),
                "value": vals.ravel(),
            }
        )
    from lifeline.scenarios.day import at_interval

    frames = []
    for j, (sid, iv) in enumerate(zip(s.sensor_id, s.interval_s, strict=True)):
        t, x = at_interval(ts, vals[j], int(iv))
        frames.append(pd.DataFrame({"sensor_id": sid, "ts": t, "value": np.round(x, 1)}))
    return pd.concat(frames, ignore_index=True)
