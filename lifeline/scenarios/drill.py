"""Drills (应急演练): scripted incidents simulated on a city's own network models and published
into the live loop, so a city can train its operators and test its detectors.

An event spec names a kind, an element of the city and a time::

    burst:P123@03:10           a water main bursts on pipe P123 (EPANET id)
    feeder_fault:17@15:40      the line switched by pandapower switch 17 (or line 17) faults
    gas_leak:245@09:20         gas leaks from the main at pandapipes junction 245

Times are the city's local time on the drill date (``HH:MM``) or ISO 8601 with an offset. The
demo day is a drill of the demo town (:func:`lifeline.scenarios.script.demo_events`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.errors import InputError, NotFoundError
from lifeline.scenarios.events import BurstMain, FeederFault, GasLeak
from lifeline.scenarios.publish import DayData

if TYPE_CHECKING:
    from lifeline.model.city import City

KINDS = ("burst", "feeder_fault", "gas_leak")


def _when(text: str, day: pd.Timestamp, tz: str, spec: str) -> pd.Timestamp:
    try:
        if len(text) <= 5 and ":" in text:
            hh, mm = (int(x) for x in text.split(":"))
            if not (0 <= hh < 24 and 0 <= mm < 60):
                raise ValueError(text)
            local = pd.Timestamp(day.date()).tz_localize(tz) + pd.Timedelta(hours=hh, minutes=mm)
            return local.tz_convert("UTC")
        t = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"time {text!r} is not HH:MM or ISO 8601", where=f"--event {spec}"
        ) from exc
    return t.tz_localize(tz).tz_convert("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def parse_event(spec: str, city: City, day: pd.Timestamp) -> Any:
    """One ``KIND:ELEMENT@TIME`` spec as a scripted event on ``city`` (errors name the spec)."""
    head, sep, when = spec.partition("@")
    kind, _, ref = head.partition(":")
    if not sep or not ref or kind not in KINDS:
        raise InputError(
            f"expected KIND:ELEMENT@TIME with KIND one of {', '.join(KINDS)}",
            where=f"--event {spec}",
        )
    t = _when(when, day, city.timezone, spec)
    if kind == "burst":
        if not city.has("water"):
            raise InputError("the city has no water network", where=f"--event {spec}")
        wn = city.water
        if ref not in wn.pipe_name_list:
            raise NotFoundError(
                f"no water pipe {ref!r} in the EPANET model", where=f"--event {spec}"
            )
        pipe = wn.get_link(ref)
        node = (
            pipe.start_node_name
            if pipe.start_node_name in wn.junction_name_list
            else pipe.end_node_name
        )
        return BurstMain(junction=node, start=t, flow_m3h=40.0, end=t + pd.Timedelta(hours=4))
    if kind == "feeder_fault":
        if not city.has("power"):
            raise InputError("the city has no power network", where=f"--event {spec}")
        net = city.power
        if not ref.isdigit():
            raise InputError(f"{ref!r} is not a switch or line index", where=f"--event {spec}")
        i = int(ref)
        if i in net.switch.index and net.switch.at[i, "et"] == "l":
            line = int(net.switch.at[i, "element"])
        elif i in net.line.index:
            line = i
        else:
            raise NotFoundError(
                f"no line switch or line {i} in the pandapower net", where=f"--event {spec}"
            )
        return FeederFault(line=line, start=t, end=t + pd.Timedelta(hours=2))
    if not city.has("gas"):
        raise InputError("the city has no gas network", where=f"--event {spec}")
    gas = city.gas
    if not ref.isdigit() or int(ref) not in gas.junction.index:
        raise NotFoundError(
            f"no gas junction {ref!r} in the pandapipes net", where=f"--event {spec}"
        )
    j = int(ref)
    x, y = (float(v) for v in gas.junction_geodata.loc[j, ["x", "y"]])
    mh = city.assets[city.assets.kind == "manhole"]
    if mh.empty:
        raise InputError("the city has no manholes to watch a gas leak", where=f"--event {spec}")
    d = np.hypot(mh.x_m.to_numpy(float) - x, mh.y_m.to_numpy(float) - y)
    return GasLeak(
        manhole=str(mh.asset_id.iloc[int(np.argmin(d))]), start=t, leak_kg_s=0.02, junction=j
    )


def drill_day(city: City, events: list[Any], seed: int = 0, with_bad: bool = False) -> DayData:
    """Simulate the day of ``events`` on ``city`` (WNTR, pandapower, pandapipes) with the
    hotline calls they bring; ``with_bad`` mixes in a few deliberately bad records."""
    from lifeline.scenarios.calls import event_complaints
    from lifeline.scenarios.day import bad_records, simulate

    if not events:
        raise InputError("a drill needs at least one --event", where="--event")
    start = min(pd.Timestamp(e.start) for e in events).floor("D")
    sim = simulate(city, start, seed=seed, events=events)
    readings = sim.readings
    if with_bad:
        readings = pd.concat(
            [readings, pd.DataFrame(bad_records(city.sensors, start, seed))], ignore_index=True
        )
    complaints = event_complaints(city, events, start, seed=seed)
    return DayData(
        readings,
        sim.meter_events,
        complaints,
        list(events),
        start=start,
        end=start + pd.Timedelta(days=1) - pd.Timedelta(seconds=1),
    )
