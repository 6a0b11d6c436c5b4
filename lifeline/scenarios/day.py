"""A day of sensor readings and meter events for any city, from real simulations (cached).

``simulate(city, start)`` returns long readings (sensor_id, ts UTC, value) for every sensor of
the city over 24 h at its interval — pandapower power flows driven by BDEW load profiles (bus
voltages, line and transformer currents and power), a WNTR/EPANET pressure-driven
extended-period run with the INP's own demand patterns (water pressure, flow, tank level),
pandapipes pipeflows at a few load levels (gas pressure and regulator flow) and methane
background in manholes — and the smart meters' and switchgear's events. ``events``
(lifeline.scenarios.events) script incidents into the day. A utility the city has no network
for is skipped.
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifeline.scenarios.events import BurstMain, Event, FeederFault, GasLeak, utc

#: bump when the simulation changes what it produces (it keys the cache)
SIM_VERSION = "day-v6"
__all__ = [
    "BAD_RECORD_REASONS",
    "BurstMain",
    "FeederFault",
    "GasLeak",
    "bad_records",
    "simulate_day",
]


def _cache_path(town: Any, start: pd.Timestamp, seed: int, events: list[Event]) -> Path:
    from lifeline.config import get_settings

    key = repr((SIM_VERSION, town.version(), start.isoformat(), seed, [repr(e) for e in events]))
    h = hashlib.sha256(key.encode()).hexdigest()[:16]
    return (
        Path(get_settings().cache_dir) / "days" / f"{start.strftime('%Y%m%d')}-{seed}-{h}.parquet"
    )


@dataclass
class DaySimulation:
    """What a simulated day produces: sensor readings (``sensor_id, ts, value``) and
    smart-meter / switchgear events (``schema.METER_EVENT``)."""

    readings: pd.DataFrame
    meter_events: pd.DataFrame


def simulate(
    town: Any,
    start: pd.Timestamp,
    seed: int = 0,
    events: list[Any] | None = None,
    use_cache: bool = True,
) -> DaySimulation:
    """Simulate 24 h from ``start`` (UTC) on ``town``: every sensor's readings at its interval
    and the smart meters' supply events. Deterministic for (city version, start, seed, events);
    cached under ``settings.cache_dir/days``."""
    from lifeline.model.schema import conform
    from lifeline.scenarios.day_gas import simulate_gas
    from lifeline.scenarios.day_power import simulate_power
    from lifeline.scenarios.day_water import simulate_water

    start = utc(start)
    events = list(events or [])
    path = _cache_path(town, start, seed, events)
    epath = path.with_name(path.stem + "-events.parquet")
    if use_cache and path.exists() and epath.exists():
        return DaySimulation(pd.read_parquet(path), pd.read_parquet(epath))
    rng = np.random.default_rng(seed)  # drawn in this order: power, water, gas
    parts = []
    pump_on: dict[str, np.ndarray] = {}
    meter_events = conform("meter_event", pd.DataFrame())
    if town.has("power"):
        power, pump_on, meter_events = simulate_power(town, start, rng, events)
        parts.append(power)
    if town.has("water"):
        parts.append(simulate_water(town, start, rng, events, pump_on))
    if town.has("gas"):
        parts.append(simulate_gas(town, start, rng, events))
    out = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame({"sensor_id": [], "ts": [], "value": []})
    )
    out["sensor_id"] = out["sensor_id"].astype("string")
    out["ts"] = pd.to_datetime(out["ts"], utc=True)
    out["value"] = out["value"].astype("float64")
    out = out.sort_values(["ts", "sensor_id"], kind="stable").reset_index(drop=True)
    meter_events = meter_events.sort_values(["ts", "event_id"], kind="stable").reset_index(
        drop=True
    )
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        for df, p in ((out, path), (meter_events, epath)):
            tmp = p.with_suffix(f".tmp{os.getpid()}")
            df.to_parquet(tmp, index=False)
            tmp.replace(p)
    return DaySimulation(out, meter_events)


def at_interval(
    ts: pd.DatetimeIndex, values: np.ndarray, interval_s: int
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """A regular series (``values`` at ``ts``) resampled to a sensor's interval (seconds) over
    the same span: every k-th value when the interval is a multiple of the step, linear
    interpolation otherwise."""
    if len(ts) < 2 or interval_s <= 0:
        return ts, values
    step = (ts[1] - ts[0]).total_seconds()
    if interval_s == step:
        return ts, values
    count = int(step * len(ts) // interval_s)
    new = pd.date_range(ts[0], periods=count, freq=f"{interval_s}s")
    if interval_s % step == 0:
        return new, np.asarray(values)[:: int(interval_s // step)][:count]
    x = np.asarray((new - ts[0]).total_seconds(), dtype=float)
    xp = np.asarray((ts - ts[0]).total_seconds(), dtype=float)
    return new, np.interp(x, xp, np.asarray(values, dtype=float))


def quiet_days(town: Any, start: pd.Timestamp, days: int = 2, seed: int = 0) -> pd.DataFrame:
    """Readings of ``days`` quiet days (no scripted event) before ``start``: the history a
    connected city would have, for the detectors to learn normal behaviour from (cached)."""
    if days <= 0:
        return pd.DataFrame(columns=["sensor_id", "ts", "value"])
    start = utc(start)
    parts = [
        simulate(town, start - pd.Timedelta(days=k), seed=seed + 1000 + k).readings
        for k in range(days, 0, -1)
    ]
    return pd.concat(parts, ignore_index=True)


def simulate_day(
    town: Any,
    start: pd.Timestamp,
    seed: int = 0,
    events: list[Any] | None = None,
    use_cache: bool = True,
) -> pd.DataFrame:
    """Readings of every sensor of ``town`` over the 24 h from ``start`` (UTC) at its interval
    (``sensor_id``, ``ts`` UTC, ``value`` in the sensor's unit), sorted by ts; see :func:`simulate`."""
    return simulate(town, start, seed, events, use_cache).readings


#: the reason each record of :func:`bad_records` should be rejected for, in order
BAD_RECORD_REASONS = (
    "unknown_sensor",
    "non_finite",
    "non_numeric",
    "out_of_range",
    "bad_timestamp",
    "future_timestamp",
    "duplicate",
)


def bad_records(sensors: pd.DataFrame, start: pd.Timestamp, seed: int = 0) -> list[dict[str, Any]]:
    """A handful of realistic bad raw records (sensor_id, ts as ISO text, value) to mix into a day.

    One each of: unknown sensor, NaN value, non-numeric text, out of the sensor's valid range,
    unparseable timestamp, timestamp in the future, and a duplicate of a reading that the
    simulated day contains (same sensor and ts). See :data:`BAD_RECORD_REASONS`.
    """
    start = utc(start)
    rnd = random.Random(seed)
    s = sensors.reset_index(drop=True)
    pick = s.iloc[rnd.randrange(len(s))]
    pressure = s[s.quantity == "pressure_m"]
    p = pressure.iloc[rnd.randrange(len(pressure))] if len(pressure) else pick
    iv = int(pick.interval_s)
    t = start + pd.Timedelta(seconds=iv * rnd.randrange(1, max(2, 86400 // iv - 1)))
    return [
        {"sensor_id": "water:pressure:NO_SUCH_SENSOR", "ts": t.isoformat(), "value": 42.0},
        {"sensor_id": str(pick.sensor_id), "ts": t.isoformat(), "value": float("nan")},
        {
            "sensor_id": str(pick.sensor_id),
            "ts": (t + pd.Timedelta(seconds=iv)).isoformat(),
            "value": "n/a",
        },
        {
            "sensor_id": str(p.sensor_id),
            "ts": t.isoformat(),
            "value": float(p.valid_max) * 10 + 1.0,
        },
        {"sensor_id": str(pick.sensor_id), "ts": "2026-13-45T25:61:00", "value": 1.0},
        {
            "sensor_id": str(pick.sensor_id),
            "ts": (pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=365)).isoformat(),
            "value": 1.0,
        },
        {"sensor_id": str(pick.sensor_id), "ts": start.isoformat(), "value": 0.0},
    ]


# The scripted demo day lives in lifeline.scenarios.script; these names are where the API's live
# replay looks for it.
def demo_events(town: Any, start: pd.Timestamp) -> list[Any]:
    """The demo day's scripted events (see :func:`lifeline.scenarios.script.demo_events`)."""
    from lifeline.scenarios.script import demo_events as _demo_events

    return _demo_events(town, start)


def day_complaints(town: Any, start: pd.Timestamp, seed: int = 0) -> pd.DataFrame:
    """The demo day's hotline calls (see :func:`lifeline.scenarios.script.day_complaints`)."""
    from lifeline.scenarios.script import day_complaints as _day_complaints

    return _day_complaints(town, start, seed=seed)
