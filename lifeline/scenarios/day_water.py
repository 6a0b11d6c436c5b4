"""Water part of the simulated day: a 24 h WNTR/EPANET extended-period run (pressure-driven
demand, 5-minute steps) with diurnal demand patterns, bursts and pump outages."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from lifeline.scenarios.events import BurstMain, window
from lifeline.scenarios.profiles import water_factor

STEP_S = 300


def simulate_water(
    town: Any,
    start: pd.Timestamp,
    rng: np.random.Generator,
    events: list[Any],
    station_on_min: np.ndarray | None = None,
) -> pd.DataFrame:
    """Readings of every water sensor (pressure m, flow m3/h) every 5 minutes over the day.

    ``station_on_min`` (1440 booleans) switches the pumps off while the station has no power.
    """
    from wntr.network.controls import Control, ControlAction
    from wntr.network.elements import LinkStatus

    from lifeline.datasets.water_town import DAYTIME_PATTERN, RESIDENTIAL_PATTERN, run_water
    from lifeline.errors import NotFoundError

    wn = copy.deepcopy(town.water)
    n = 24 * 3600 // STEP_S
    ts = pd.date_range(start, periods=n, freq=f"{STEP_S}s")
    mid = ts + pd.Timedelta(seconds=STEP_S / 2)
    day = rng.normal(1.0, 0.04)
    wiggle = np.convolve(rng.normal(0, 0.04, n + 5), np.ones(6) / 6, mode="valid")[:n]
    wn.get_pattern("residential").multipliers = list(
        water_factor(mid, RESIDENTIAL_PATTERN) * day * (1 + wiggle)
    )
    wn.get_pattern("daytime").multipliers = list(water_factor(mid, DAYTIME_PATTERN) * day)
    wn.options.time.pattern_timestep = STEP_S
    wn.options.time.hydraulic_timestep = STEP_S
    wn.options.time.report_timestep = STEP_S
    wn.options.time.duration = 24 * 3600
    for i, ev in enumerate(e for e in events if isinstance(e, BurstMain)):
        if ev.junction not in wn.junction_name_list:
            raise NotFoundError(f"no water junction {ev.junction!r}", where="BurstMain.junction")
        on = window(ev, ts).to_numpy().astype(float)
        wn.add_pattern(f"burst{i}", list(on))
        wn.get_node(ev.junction).add_demand(ev.flow_m3h / 3600.0, f"burst{i}", category="burst")
    if station_on_min is not None and not station_on_min.all():
        changes = np.flatnonzero(np.diff(np.concatenate([[1], station_on_min.astype(int)])))
        for c in changes:
            status = LinkStatus.Open if station_on_min[c] else LinkStatus.Closed
            for pump in wn.pump_name_list:
                act = ControlAction(wn.get_link(pump), "status", status)
                wn.add_control(
                    f"power_{pump}_{c}",
                    Control._time_control(wn, int(c) * 60, "SIM_TIME", False, act),
                )
    res = run_water(wn)
    press = res.node["pressure"].iloc[:n]
    flow = res.link["flowrate"].iloc[:n] * 3600.0
    frames = []
    for r in town.sensors[town.sensors.utility == "water"].itertuples():
        name = str(r.asset_id).rsplit(":", 1)[-1]
        if r.quantity == "pressure_m":
            v = press[name].to_numpy() + rng.normal(0, 0.05, n)
            v = np.round(v, 2)
        elif r.quantity == "flow_m3h":
            base = flow[name].to_numpy()
            v = np.round(base * (1 + rng.normal(0, 0.01, n)) + rng.normal(0, 0.05, n), 2)
        else:
            continue
        frames.append(pd.DataFrame({"sensor_id": r.sensor_id, "ts": ts, "value": v}))
    return pd.concat(frames, ignore_index=True)
