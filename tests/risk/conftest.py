"""A tiny purpose-made water network with known segments, customers and a critical site."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

#: R1 -P0- J1 -P1- J2 -P2- J3 -P3- J4, and J2 -P4- J5. Valves: P1@J1, P2@J2, P4@J2.
#: Segments: {R1,P0,J1} (source), A={P1,J2}, B={P2,J3,P3,J4}, C={P4,J5}.
VALVES = pd.DataFrame(
    {"valve": ["V1", "V2", "V3"], "node": ["J1", "J2", "J2"], "link": ["P1", "P2", "P4"]}
)
CUSTOMERS = pd.DataFrame(
    {
        "customer_id": ["H2", "HOSP", "H4", "H5", "H1"],
        "critical": [False, True, False, False, False],
        "water_asset_id": [
            "water:junction:J2",
            "water:junction:J3",
            "water:junction:J4",
            "water:junction:J5",
            "water:junction:J1",
        ],
    }
)


def tiny_wn() -> Any:
    """The tiny network above as a WNTR model (PDD, metres, 50 m head, 1 l/s per junction)."""
    import wntr

    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R1", base_head=50.0, coordinates=(0.0, 0.0))
    for i in range(1, 6):
        xy = (100.0 * min(i, 4), 0.0) if i < 5 else (200.0, 100.0)
        wn.add_junction(f"J{i}", base_demand=0.001, elevation=0.0, coordinates=xy)
    for name, a, b in (
        ("P0", "R1", "J1"),
        ("P1", "J1", "J2"),
        ("P2", "J2", "J3"),
        ("P3", "J3", "J4"),
        ("P4", "J2", "J5"),
    ):
        wn.add_pipe(name, a, b, length=100.0, diameter=0.15, roughness=120.0)
    wn.options.hydraulic.demand_model = "PDD"
    wn.options.hydraulic.required_pressure = 20.0
    wn.options.hydraulic.minimum_pressure = 0.0
    wn.options.time.duration = 0
    return wn


@pytest.fixture()
def tiny_inp(tmp_path: Path) -> Path:
    """The tiny network written as an EPANET INP (CMH units)."""
    import wntr

    path = tmp_path / "tiny.inp"
    wntr.network.write_inpfile(tiny_wn(), str(path), units="CMH", version=2.2)
    return path
