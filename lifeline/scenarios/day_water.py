"""Water part of the simulated day: a 24 h WNTR/EPANET extended-period run (pressure-driven
demand, 5-minute steps) on any city's INP, with its own demand patterns, bursts and pump outages.

Demand patterns: the INP's own patterns are read at the city's local clock time (a pattern step
``k`` covers clock hour ``k`` for the usual 24 hourly values; PATTERN START and START CLOCKTIME
are honoured) and smoothly interpolated to the 5-minute steps; demands with no pattern or a flat
one follow a typical residential diurnal shape (:data:`lifeline.scenarios.profiles.WATER_DIURNAL`)
scaled by the pattern's level. Every demand pattern gets the same day-to-day factor and slow
wiggle. Other patterns (reservoir heads, pump speeds) are resampled as steps. A demand-driven INP
is run pressure-driven (required pressure 10 m when it sets none), as in
:mod:`lifeline.water.pdd`.
"""

from __future__ import annotations

import copy
import tempfile
from typing import Any

import numpy as np
import pandas as pd

from lifeline.scenarios.events import BurstMain, window
from lifeline.scenarios.profiles import WATER_DIURNAL, pattern_factor, water_factor

STEP_S = 300
#: the diurnal pattern given to demands without a (non-flat) pattern of their own
DIURNAL_PATTERN = "lifeline_diurnal"


def run_epanet(wn: Any, where: str = "water network") -> Any:
    """Run EPANET (WNTR EpanetSimulator) on ``wn``; return WNTR results.

    Raises :class:`lifeline.errors.NetworkModelError` naming ``where`` if EPANET fails."""
    import wntr

    from lifeline.errors import NetworkModelError

    with tempfile.TemporaryDirectory() as tmp:
        try:
            return wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=f"{tmp}/day")
        except Exception as exc:
            raise NetworkModelError(f"EPANET failed: {exc}", where=where) from exc


def _is_flat(mult: list[float]) -> bool:
    return len(mult) == 0 or float(np.ptp(np.asarray(mult, dtype=float))) < 1e-9


def diurnal_demands(
    wn: Any, ts_mid: pd.DatetimeIndex, tz: str, factor: np.ndarray | float = 1.0
) -> None:
    """Give every junction demand of ``wn`` a pattern of one value per step of ``ts_mid``
    (UTC mid-points of the steps) read at local time ``tz`` (see the module doc), times
    ``factor``; every other pattern is resampled to the steps. ``wn`` is changed in place; the
    caller sets the pattern timestep to the steps' length."""
    t = wn.options.time
    step = float(t.pattern_timestep or 3600)
    offset = float(t.pattern_start or 0) - float(t.start_clocktime or 0)
    default = wn.options.hydraulic.pattern
    default = default if default in wn.pattern_name_list else None
    demand_patterns: set[str] = set()
    needs_diurnal = False
    for j in wn.junction_name_list:
        for d in wn.get_node(j).demand_timeseries_list:
            name = d.pattern_name or default
            if name is None or _is_flat(list(wn.get_pattern(name).multipliers)):
                needs_diurnal = True
            else:
                demand_patterns.add(name)
    levels: dict[str | None, float] = {None: 1.0}
    for name in list(wn.pattern_name_list):
        mult = list(wn.get_pattern(name).multipliers)
        if name in demand_patterns:
            new = pattern_factor(ts_mid, mult, step, offset, tz) * factor
        else:
            levels[name] = float(mult[0]) if mult else 1.0
            new = pattern_factor(ts_mid, mult, step, offset, tz, smooth=False)
        wn.get_pattern(name).multipliers = list(new)
    if needs_diurnal:
        wn.add_pattern(DIURNAL_PATTERN, list(water_factor(ts_mid, WATER_DIURNAL, tz) * factor))
        for j in wn.junction_name_list:
            for d in wn.get_node(j).demand_timeseries_list:
                name = d.pattern_name or default
                if name not in demand_patterns:
                    d.base_value = d.base_value * levels.get(name, 1.0)
                    d.pattern_name = DIURNAL_PATTERN


def pdd_options(wn: Any) -> None:
    """Make ``wn`` pressure-driven (required pressure 10 m when it sets none), in place."""
    from lifeline.water.pdd import DEFAULT_REQUIRED_PRESSURE_M

    h = wn.options.hydraulic
    if str(h.demand_model).upper() in ("DD", "DDA"):
        h.demand_model = "PDD"
        if (h.required_pressure or 0.0) < 0.1:
            h.required_pressure = DEFAULT_REQUIRED_PRESSURE_M
        h.minimum_pressure = 0.0


def simulate_water(
    town: Any,
    start: pd.Timestamp,
    rng: np.random.Generator,
    events: list[Any],
    pump_on_min: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Readings of every water sensor (pressure m, flow m3/h, tank level m) every 5 minutes
    over the day of ``town`` (any :class:`lifeline.model.city.City` with a water network).

    ``pump_on_min`` (pump name → 1440 booleans) switches a pump off while its power supply is
    lost.
    """
    from wntr.network.controls import Control, ControlAction
    from wntr.network.elements import LinkStatus

    from lifeline.errors import NotFoundError

    wn = copy.deepcopy(town.water)
    n = 24 * 3600 // STEP_S
    ts = pd.date_range(start, periods=n, freq=f"{STEP_S}s")
    mid = ts + pd.Timedelta(seconds=STEP_S / 2)
    day = rng.normal(1.0, 0.04)
    wiggle = np.convolve(rng.normal(0, 0.04, n + 5), np.ones(6) / 6, mode="valid")[:n]
    tz = str(getattr(town, "timezone", "UTC"))
    diurnal_demands(wn, mid, tz, day * (1 + wiggle))
    pdd_options(wn)
    # the run starts at ``start``: clock-time controls of the INP act at the city's local time
    local = ts[:1].tz_convert(tz)[0]
    wn.options.time.start_clocktime = int((local - local.normalize()).total_seconds())
    wn.options.time.pattern_timestep = STEP_S
    wn.options.time.pattern_start = 0
    wn.options.time.hydraulic_timestep = STEP_S
    wn.options.time.report_timestep = STEP_S
    wn.options.time.report_start = 0
    wn.options.time.duration = 24 * 3600
    for i, ev in enumerate(e for e in events if isinstance(e, BurstMain)):
        if ev.junction not in wn.junction_name_list:
            raise NotFoundError(f"no water junction {ev.junction!r}", where="BurstMain.junction")
        on = window(ev, ts).to_numpy().astype(float)
        wn.add_pattern(f"burst{i}", list(on))
        wn.get_node(ev.junction).add_demand(ev.flow_m3h / 3600.0, f"burst{i}", category="burst")
    for pump, on_min in (pump_on_min or {}).items():
        if pump not in wn.pump_name_list or on_min.all():
            continue
        changes = np.flatnonzero(np.diff(np.concatenate([[1], on_min.astype(int)])))
        for c in changes:
            status = LinkStatus.Open if on_min[c] else LinkStatus.Closed
            act = ControlAction(wn.get_link(pump), "status", status)
            wn.add_control(
                f"power_{pump}_{c}",
                Control._time_control(wn, int(c) * 60, "SIM_TIME", False, act),
            )
    res = run_epanet(wn, where=f"{getattr(town, 'name', 'city')} water")
    press = res.node["pressure"].iloc[:n]
    flow = res.link["flowrate"].iloc[:n] * 3600.0
    frames = []
    for r in town.sensors[town.sensors.utility == "water"].itertuples():
        name = str(r.asset_id).split(":", 2)[-1]
        if r.quantity in ("pressure_m", "level_m") and name in press.columns:
            # a tank's "pressure" in EPANET is its water level above the tank bottom
            sigma = 0.05 if r.quantity == "pressure_m" else 0.01
            v = np.round(press[name].to_numpy() + rng.normal(0, sigma, n), 2)
        elif r.quantity == "flow_m3h" and name in flow.columns:
            base = flow[name].to_numpy()
            v = np.round(base * (1 + rng.normal(0, 0.01, n)) + rng.normal(0, 0.05, n), 2)
        else:
            continue
        frames.append(pd.DataFrame({"sensor_id": r.sensor_id, "ts": ts, "value": v}))
    if not frames:
        return pd.DataFrame({"sensor_id": [], "ts": [], "value": []})
    return pd.concat(frames, ignore_index=True)
