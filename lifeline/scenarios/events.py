"""Scripted events for the simulated day. Each is a small frozen dataclass; ``simulate_day``
applies them inside the real simulations (WNTR, pandapipes, pandapower).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class BurstMain:
    """A burst water main: extra outflow ``flow_m3h`` at water junction ``junction`` (e.g. "J430").

    Modelled in WNTR as an extra (pressure-driven) demand switched on at ``start`` and off at
    ``end`` (None: until the end of the day).
    """

    junction: str
    start: pd.Timestamp
    flow_m3h: float = 40.0
    end: pd.Timestamp | None = None


@dataclass(frozen=True)
class GasLeak:
    """Gas escaping from the main next to manhole ``manhole`` (an asset id, e.g. "power:manhole:MH1").

    The leak (``leak_kg_s`` of gas) is an extra sink at the nearest gas junction in pandapipes
    (pressure drop, more regulator flow); methane in the manhole rises towards ``peak_pct_lel``
    with time constant ``tau_min``, and in other manholes within ``radius_m`` attenuated by distance
    and delayed (seepage through the soil and along ducts).
    """

    manhole: str
    start: pd.Timestamp
    leak_kg_s: float = 0.02
    peak_pct_lel: float = 60.0
    tau_min: float = 30.0
    radius_m: float = 80.0
    end: pd.Timestamp | None = None
    junction: int | None = None  # the leaking gas junction (default: the main nearest the manhole)


@dataclass(frozen=True)
class FeederFault:
    """A fault on power line ``line`` (joined-net index) and the protection that clears it.

    On an MV line the MV feeder's head breaker trips; on an LV line the substation fuse of its
    LV feeder (the first line from the LV busbar towards the fault) blows. Everything downstream
    is de-energised from ``start`` to ``end`` (None: rest of the day): smart meters read zero,
    feeder-head current and power drop, busbar voltages of dead substations read zero. If the
    water pumping station loses supply, its pumps stop too (cascade).
    """

    line: int
    start: pd.Timestamp
    end: pd.Timestamp | None = None


Event = BurstMain | GasLeak | FeederFault


def utc(t: pd.Timestamp | str) -> pd.Timestamp:
    """``t`` as a UTC timestamp (naive times are taken as UTC)."""
    ts = pd.Timestamp(t)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def window(ev: Event, ts: pd.DatetimeIndex) -> pd.Series:
    """Boolean mask over ``ts`` (UTC) of when the event is active."""
    on = ts >= utc(ev.start)
    if ev.end is not None:
        on &= ts < utc(ev.end)
    return pd.Series(on, index=ts)
