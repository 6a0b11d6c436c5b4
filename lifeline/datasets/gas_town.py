"""Gas: pandapipes' ``schutterwald_gas`` reprojected to town metres, and its valve layer.

The source network has 1053 main junctions, 1506 house nodes (one per household, each the end of
a house-connection pipe) and one external grid (the district regulator station outlet, 1 bar
gauge). It has no valves; :func:`gas_valve_layer` generates a realistic layer by rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifeline.datasets.geo import GK3, TOWN_CRS, transform
from lifeline.gas.valves import gas_valve_layer, house_nodes, main_pipes, service_main_junction

__all__ = [
    "build_gas",
    "gas_valve_layer",
    "house_nodes",
    "main_pipes",
    "service_main_junction",
    "solve_gas",
]


def build_gas() -> Any:
    """Load ``schutterwald_gas`` and reproject its junction geodata from EPSG:31467 to EPSG:25832."""
    import pandapipes.networks as ppn

    net = ppn.schutterwald_gas()
    gd = net.junction_geodata
    x, y = transform(gd.x.values, gd.y.values, GK3, TOWN_CRS)
    net.junction_geodata = pd.DataFrame({"x": np.round(x, 3), "y": np.round(y, 3)}, index=gd.index)
    net.name = "Schutterwald gas (pandapipes schutterwald_gas, EPSG:25832)"
    return net


def solve_gas(net: Any) -> None:
    """Run a steady pandapipes pipeflow; raise NetworkModelError if it does not converge."""
    import pandapipes as pps

    from lifeline.errors import NetworkModelError

    try:
        pps.pipeflow(net, mode="hydraulics")
    except Exception as exc:
        raise NetworkModelError(f"gas pipeflow did not converge: {exc}", where="town gas") from exc
    if not bool(net.converged):
        raise NetworkModelError("gas pipeflow did not converge", where="town gas")
