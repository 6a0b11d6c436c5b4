"""Solve checks and export of the demo town (used by ``lifeline town`` and the tests): the
generic city checks (:mod:`lifeline.model.checks`) and package writer
(:func:`lifeline.model.write.write_package`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lifeline.datasets.town import Town


def solve_all(town: Town) -> dict[str, dict[str, Any]]:
    """Solve each network once (on copies) and report whether it solved and its key figures.

    power: AC power flow (min/max bus voltage, pu); gas: steady pipeflow (min pressure, bar gauge);
    water: EPANET pressure-driven run of up to 24 h (min/max pressure at demand nodes, m).
    """
    from lifeline.model.checks import solve_all as solve_city

    return solve_city(town)


def export_town(town: Town, out: Path) -> list[Path]:
    """Write the town as a city package (docs/cities.md) to directory ``out``; return the files."""
    from lifeline.model.write import write_package

    return write_package(town, out)
