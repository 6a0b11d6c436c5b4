"""Older import path of the utility adapters (now one per utility, built from any city):
:class:`lifeline.water.adapter.WaterAdapter`, :class:`lifeline.power.adapter.PowerAdapter`,
:class:`lifeline.gas.adapter.GasAdapter` and :func:`lifeline.respond.adapters.city_adapters`."""

from __future__ import annotations

from lifeline.gas.adapter import GasAdapter as GasTownAdapter
from lifeline.power.adapter import PowerAdapter as PowerTownAdapter
from lifeline.respond.adapters import city_adapters, town_adapters
from lifeline.respond.crews import default_crews, street_graph_from_pipes
from lifeline.water.adapter import WaterAdapter as WaterTownAdapter

__all__ = [
    "GasTownAdapter",
    "PowerTownAdapter",
    "WaterTownAdapter",
    "city_adapters",
    "default_crews",
    "street_graph_from_pipes",
    "town_adapters",
]
