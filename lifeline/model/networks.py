"""Loading a city's network models, one loader per utility (errors name the file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_network(utility: str, path: str | Path) -> Any:
    """The model of ``utility`` read from ``path``: a WNTR model (water), a pandapower net
    (power), a pandapipes net (gas), or the SWMM INP path itself (drainage: SWMM reads it).

    Raises :class:`lifeline.errors.NetworkModelError` (or InputError for a missing file)."""
    from lifeline.errors import InputError, NetworkModelError

    p = Path(path)
    if not p.is_file():
        raise InputError("network file not found", where=str(p))
    if utility == "water":
        from lifeline.water.network import load_network as load_inp

        return load_inp(p)
    if utility == "power":
        from lifeline.power.locate import load_network as load_pp

        return load_pp(p)
    if utility == "gas":
        from lifeline.gas.network import load_pandapipes

        return load_pandapipes(p)
    if utility == "drainage":
        return p
    raise NetworkModelError(f"unknown utility {utility!r}", where=str(p))
