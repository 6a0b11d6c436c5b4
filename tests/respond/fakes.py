"""Purpose-made utility adapters and a street graph for the response tests."""

from __future__ import annotations

from typing import Any

import pandas as pd

from lifeline.respond.crews import StreetGraph
from lifeline.respond.fill import CrewContext

HOSPITAL = {
    "customer_id": "h1",
    "name": "City Hospital",
    "category": "hospital",
    "critical": True,
    "x_m": 150.0,
    "y_m": 50.0,
}
HOUSES = [
    {
        "customer_id": f"c{i}",
        "name": f"H{i}",
        "category": "household",
        "critical": False,
        "x_m": 10.0 * i,
        "y_m": 0.0,
    }
    for i in range(1, 6)
]


class FakeWater:
    utility = "water"

    def __init__(self, inoperable: bool = False, hospital_cut: bool = True) -> None:
        self.inoperable = inoperable
        self.hospital_cut = hospital_cut

    def isolate(self, incident: Any) -> list[dict[str, Any]]:
        return [
            {
                "asset_id": "w:valve:V1",
                "operation": "close",
                "name": "V1",
                "x_m": 40.0,
                "y_m": 0.0,
                "operable": not self.inoperable,
            },
            {
                "asset_id": "w:valve:V2",
                "operation": "close",
                "name": "V2",
                "x_m": 160.0,
                "y_m": 0.0,
                "operable": True,
            },
        ]

    def impact(self, incident: Any, operations: list[dict[str, Any]]) -> dict[str, Any]:
        custs = HOUSES + ([HOSPITAL] if self.hospital_cut else [])
        return {"customers": custs, "households_out": len(HOUSES), "method": "fake pressure-driven"}

    def outage_impact(self, asset_ids: list[str]) -> dict[str, Any]:
        return {"customers": [HOSPITAL, *HOUSES[:2]], "method": "fake pump-off simulation"}

    def asset_xy(self, asset_id: str) -> tuple[float, float]:
        return (300.0, 0.0)


class FakePower:
    utility = "power"

    def isolate(self, incident: Any) -> list[dict[str, Any]]:
        return [
            {
                "asset_id": "p:switch:S1",
                "operation": "open",
                "name": "S1",
                "x_m": 0.0,
                "y_m": 0.0,
                "operable": True,
            }
        ]

    def impact(self, incident: Any, operations: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "customers": [HOSPITAL, *HOUSES],
            "households_out": 5,
            "fraction_customers_out": 0.55,
            "method": "fake topology",
        }

    def restore_via_ties(self, incident: Any, operations: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "operations": [
                {
                    "asset_id": "p:switch:T1",
                    "operation": "close",
                    "name": "T1",
                    "x_m": 500.0,
                    "y_m": 0.0,
                    "operable": True,
                }
            ],
            "restored_customer_ids": ["c1", "c2", "c3"],
        }


class FakeGas:
    utility = "gas"

    def isolate(self, incident: Any) -> list[dict[str, Any]]:
        return [
            {
                "asset_id": "g:valve:G1",
                "operation": "close",
                "name": "G1",
                "x_m": 90.0,
                "y_m": 0.0,
                "operable": True,
            }
        ]

    def impact(self, incident: Any, operations: list[dict[str, Any]]) -> dict[str, Any]:
        return {"customers": HOUSES[:2], "households_out": 2, "method": "fake"}

    def hazard_zone(self, incident: Any) -> dict[str, Any]:
        return {
            "x_m": 100.0,
            "y_m": 0.0,
            "radius_m": 60.0,
            "assets": [
                {
                    "asset_id": "p:cable:K7",
                    "utility": "power",
                    "kind": "line",
                    "x_m": 110.0,
                    "y_m": 0.0,
                }
            ],
            "customers": HOUSES[3:],
            "persons": 6,
            "method": "fake dispersion",
        }

    def affected_assets(self, incident: Any) -> list[str]:
        return ["g:pipe:GP1"]


def crews() -> CrewContext:
    """A street grid where crew A is closer in a straight line but farther by street than crew B."""
    nodes = pd.DataFrame(
        {
            "node": ["n0", "n1", "n2", "n3", "n4"],
            "x_m": [0.0, 100.0, 100.0, 0.0, 1000.0],
            "y_m": [0.0, 0.0, 600.0, 600.0, 0.0],
        }
    )
    # n0 - n1 - n2 - n3 (a U shape: n3 is 600 m from n0 straight, but 1300 m by street); n1 - n4
    edges = pd.DataFrame(
        {
            "u": ["n0", "n1", "n2", "n1"],
            "v": ["n1", "n2", "n3", "n4"],
            "length_m": [100.0, 600.0, 100.0, 900.0],
        }
    )
    roster = pd.DataFrame(
        {
            "crew_id": ["A", "B", "C", "P1"],
            "utility": ["water", "water", "water", "power"],
            "x_m": [0.0, 1000.0, 0.0, 100.0],
            "y_m": [600.0, 0.0, 0.0, 0.0],
            "available": [True, True, False, True],
        }
    )
    return CrewContext(StreetGraph(edges, nodes), roster, speed_kmh=30.0)
