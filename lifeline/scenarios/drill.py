"""Drills (应急演练): scripted incidents simulated on a city's own network models and published
into the live loop, so a city can train its operators and test its detectors.

An event spec names a kind, an element of the city and a time::

    burst:P123@03:10           a water main bursts on pipe P123 (EPANET id)
    feeder_fault:17@15:40      the line switched by pandapower switch 17 (or line 17) faults;
                               switch:17 or line:17 say which
    gas_leak:245@09:20         gas leaks from the main at pandapipes junction 245

Times are the city's local time on the drill date (``HH:MM``) or ISO 8601 (with an offset, or
local time without). A drill covers one local day: from the city's local midnight of the drill
date, 24 hours. The demo day is a drill of the demo town
(:func:`lifeline.scenarios.script.demo_events`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.errors import InputError, NotFoundError
from lifeline.scenarios.events import BurstMain, FeederFault, GasLeak
from lifeline.scenarios.publish import DayData

if TYPE_CHECKING:
    from lifeline.model.city import City

KINDS = ("burst", "feeder_fault", "gas_leak")
#: outflow of a burst on a DN 150 main (m3/h); a larger main loses more, with its section
BURST_FLOW_M3H = 40.0
BURST_REF_DIAMETER_M = 0.15
#: how long each kind lasts before the crew isolates or repairs it
DURATION = {
    "burst": pd.Timedelta(hours=4),
    "feeder_fault": pd.Timedelta(hours=2),
    "gas_leak": None,  # until the end of the drill day
}
_HHMM = re.compile(r"^\d{1,2}:\d{2}$")


def _where(spec: str) -> str:
    return f"--event {spec}"


def _when(text: str, day: pd.Timestamp, tz: str, spec: str) -> pd.Timestamp:
    try:
        if _HHMM.match(text):
            hh, mm = (int(x) for x in text.split(":"))
            if not (0 <= hh < 24 and 0 <= mm < 60):
                raise ValueError(text)
            local = pd.Timestamp(day.date()).tz_localize(tz) + pd.Timedelta(hours=hh, minutes=mm)
            return local.tz_convert("UTC")
        t = pd.Timestamp(text)
        if t is pd.NaT:
            raise ValueError(text)
    except (ValueError, TypeError) as exc:
        raise InputError(f"time {text!r} is not HH:MM or ISO 8601", where=_where(spec)) from exc
    return t.tz_localize(tz).tz_convert("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def day_start(day: pd.Timestamp | str, tz: str) -> pd.Timestamp:
    """The UTC instant of the local midnight (in ``tz``) that starts the drill date ``day``."""
    return pd.Timestamp(pd.Timestamp(day).date()).tz_localize(tz).tz_convert("UTC")


def drill_date(specs: list[str], tz: str, date: str | None = None) -> pd.Timestamp:
    """The drill date: ``date`` (YYYY-MM-DD) when given, else the local date of the first spec
    with an ISO time, else yesterday in ``tz`` (a drill publishes a whole day, which must be
    over for its readings not to be rejected as in the future)."""
    if date:
        from datetime import datetime

        try:
            return pd.Timestamp(datetime.strptime(date.strip(), "%Y-%m-%d"))
        except ValueError as exc:
            raise InputError(f"{date!r} is not a date YYYY-MM-DD", where="--date") from exc
    for spec in specs:
        when = spec.partition("@")[2]
        if when and not _HHMM.match(when):
            t = _when(when, pd.Timestamp.now(), tz, spec)
            return pd.Timestamp(t.tz_convert(tz).date())
    return pd.Timestamp((pd.Timestamp.now(tz=tz) - pd.Timedelta(days=1)).date())


def burst_flow_m3h(diameter_m: float) -> float:
    """Outflow of a burst main (m3/h): :data:`BURST_FLOW_M3H` on DN 150 and smaller, growing
    with the pipe's cross-section above."""
    return round(BURST_FLOW_M3H * max(1.0, (float(diameter_m) / BURST_REF_DIAMETER_M) ** 2), 1)


def parse_event(spec: str, city: City, day: pd.Timestamp) -> Any:
    """One ``KIND:ELEMENT@TIME`` spec as a scripted event on ``city`` on the drill date ``day``
    (errors name the ``--event``)."""
    head, sep, when = spec.partition("@")
    kind, _, ref = head.partition(":")
    if not sep or not ref or not when or kind not in KINDS:
        raise InputError(
            f"expected KIND:ELEMENT@TIME with KIND one of {', '.join(KINDS)}",
            where=_where(spec),
        )
    t = _when(when, day, city.timezone, spec)
    dur = DURATION[kind]
    end = t + dur if dur is not None else None
    if kind == "burst":
        if not city.has("water"):
            raise InputError("the city has no water network", where=_where(spec))
        wn = city.water
        if ref not in wn.pipe_name_list:
            raise NotFoundError(f"no water pipe {ref!r} in the EPANET model", where=_where(spec))
        pipe = wn.get_link(ref)
        node = (
            pipe.start_node_name
            if pipe.start_node_name in wn.junction_name_list
            else pipe.end_node_name
        )
        if node not in wn.junction_name_list:
            raise InputError(
                f"water pipe {ref!r} joins no junction (a burst needs one)", where=_where(spec)
            )
        return BurstMain(junction=node, start=t, flow_m3h=burst_flow_m3h(pipe.diameter), end=end)
    if kind == "feeder_fault":
        if not city.has("power"):
            raise InputError("the city has no power network", where=_where(spec))
        net = city.power
        what, _, idx = ref.rpartition(":")
        if what not in ("", "switch", "line") or not idx.isdigit():
            raise InputError(
                f"{ref!r} is not a switch or line index (N, switch:N or line:N)",
                where=_where(spec),
            )
        i = int(idx)
        is_switch = i in net.switch.index and net.switch.at[i, "et"] == "l"
        if what in ("", "switch") and is_switch:
            line = int(net.switch.at[i, "element"])
        elif what in ("", "line") and i in net.line.index:
            line = i
        else:
            thing = {"": "line switch or line", "switch": "line switch", "line": "line"}[what]
            raise NotFoundError(f"no {thing} {i} in the pandapower net", where=_where(spec))
        return FeederFault(line=line, start=t, end=end)
    if not city.has("gas"):
        raise InputError("the city has no gas network", where=_where(spec))
    gas = city.gas
    if not ref.isdigit() or int(ref) not in gas.junction.index:
        raise NotFoundError(f"no gas junction {ref!r} in the pandapipes net", where=_where(spec))
    j = int(ref)
    x, y = (float(v) for v in gas.junction_geodata.loc[j, ["x", "y"]])
    mh = city.assets[city.assets.kind == "manhole"]
    if mh.empty:
        raise InputError("the city has no manholes to watch a gas leak", where=_where(spec))
    d = np.hypot(mh.x_m.to_numpy(float) - x, mh.y_m.to_numpy(float) - y)
    return GasLeak(
        manhole=str(mh.asset_id.iloc[int(np.argmin(d))]),
        start=t,
        leak_kg_s=0.02,
        junction=j,
        end=end,
    )


def parse_events(specs: list[str], city: City, day: pd.Timestamp) -> list[Any]:
    """Every ``--event`` spec parsed; each must fall within the drill day (local midnight of
    ``day`` + 24 h)."""
    if not specs:
        raise InputError("a drill needs at least one --event KIND:ELEMENT@TIME", where="--event")
    start = day_start(day, city.timezone)
    out = []
    for spec in specs:
        ev = parse_event(spec, city, day)
        if not start <= pd.Timestamp(ev.start) < start + pd.Timedelta(days=1):
            raise InputError(
                f"{pd.Timestamp(ev.start).tz_convert(city.timezone):%Y-%m-%d %H:%M %Z} is not "
                f"on the drill date {day:%Y-%m-%d} ({city.timezone})",
                where=_where(spec),
            )
        out.append(ev)
    return out


def drill_day(
    city: City,
    events: list[Any],
    seed: int = 0,
    with_bad: bool = False,
    day: pd.Timestamp | None = None,
    history_days: int = 0,
) -> DayData:
    """Simulate the day of ``events`` on ``city`` (WNTR, pandapower, pandapipes) with the
    hotline calls they bring; the day starts at the city's local midnight of ``day`` (default:
    the local date of the first event). ``with_bad`` mixes in a few deliberately bad records;
    ``history_days`` quiet days before it are simulated for the detectors to learn from."""
    from lifeline.scenarios.calls import event_complaints
    from lifeline.scenarios.day import bad_records, quiet_days, simulate

    if not events:
        raise InputError("a drill needs at least one --event", where="--event")
    if day is None:
        first = min(pd.Timestamp(e.start) for e in events)
        day = pd.Timestamp(first.tz_convert(city.timezone).date())
    start = day_start(day, city.timezone)
    sim = simulate(city, start, seed=seed, events=events)
    readings = sim.readings
    if with_bad:
        readings = pd.concat(
            [readings, pd.DataFrame(bad_records(city.sensors, start, seed))], ignore_index=True
        )
    complaints = event_complaints(city, events, start, seed=seed, meter_events=sim.meter_events)
    return DayData(
        readings,
        sim.meter_events,
        complaints,
        list(events),
        start=start,
        end=start + pd.Timedelta(days=1) - pd.Timedelta(seconds=1),
        history=quiet_days(city, start, history_days, seed) if history_days else None,
    )
