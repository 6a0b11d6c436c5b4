"""Zones (DMAs, MV feeders, gas districts) and administrative districts of the demo town."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifeline.model import zones as _zones
from lifeline.model.schema import conform
from lifeline.model.zones import power_feeders

__all__ = ["Districts", "gas_districts", "power_feeders", "water_dmas", "zones_table"]

N_DMA = 3
N_GAS_DISTRICTS = 3
#: (suffix, English name, Chinese name) of the four village districts, by quadrant
QUADRANTS = (
    ("nw", "Schutterwald North-West", "舒特瓦尔德西北片区", -1, 1),
    ("ne", "Schutterwald North-East", "舒特瓦尔德东北片区", 1, 1),
    ("sw", "Schutterwald South-West", "舒特瓦尔德西南片区", -1, -1),
    ("se", "Schutterwald South-East", "舒特瓦尔德东南片区", 1, -1),
)


def water_dmas(wn: Any) -> pd.Series:
    """The demo town's three DMAs (see :func:`lifeline.model.zones.water_dmas`)."""
    return _zones.water_dmas(wn, N_DMA)


def gas_districts(gas: Any) -> pd.Series:
    """The demo town's three gas districts (see :func:`lifeline.model.zones.gas_districts`)."""
    return _zones.gas_districts(gas, N_GAS_DISTRICTS)


def zones_table(dma_ids: list[str], feeders: dict[str, int], gas_ids: list[str]) -> pd.DataFrame:
    """The demo town's zone table (schema ZONE)."""
    return _zones.zones_table(dma_ids, feeders, gas_ids, "schutterwald", synthetic=True)


class Districts:
    """Administrative districts: the village (four quadrants) and the surrounding MV area."""

    def __init__(
        self, village_xy: np.ndarray, all_bounds: tuple[float, float, float, float]
    ) -> None:
        lo = village_xy.min(axis=0) - 150.0
        hi = village_xy.max(axis=0) + 150.0
        self.centre = np.median(village_xy, axis=0)
        self.lo, self.hi = lo, hi
        self.bounds = all_bounds

    def assign(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """District id for each point (metres)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        inside = (x >= self.lo[0]) & (x <= self.hi[0]) & (y >= self.lo[1]) & (y <= self.hi[1])
        east = x >= self.centre[0]
        north = y >= self.centre[1]
        quad = np.where(north, np.where(east, "ne", "nw"), np.where(east, "se", "sw"))
        return np.where(
            inside, np.char.add("schutterwald-", quad.astype(str)), "ortenau-mv"
        ).astype(object)

    def table(self) -> pd.DataFrame:
        """The district table (schema DISTRICT), polygons as WKT in town metres."""
        (x0, y0), (x1, y1), (cx, cy) = self.lo, self.hi, self.centre

        def box(a: float, b: float, c: float, d: float) -> str:
            return f"POLYGON (({a:.1f} {b:.1f}, {c:.1f} {b:.1f}, {c:.1f} {d:.1f}, {a:.1f} {d:.1f}, {a:.1f} {b:.1f}))"

        rows = [
            {
                "district_id": "schutterwald",
                "name": "Schutterwald",
                "name_zh": "舒特瓦尔德镇",
                "level": "city",
                "parent_id": "",
                "geometry_wkt": box(x0, y0, x1, y1),
            }
        ]
        for suf, en, zh, sx, sy in QUADRANTS:
            xa, xb = (cx, x1) if sx > 0 else (x0, cx)
            ya, yb = (cy, y1) if sy > 0 else (y0, cy)
            rows.append(
                {
                    "district_id": f"schutterwald-{suf}",
                    "name": en,
                    "name_zh": zh,
                    "level": "district",
                    "parent_id": "schutterwald",
                    "geometry_wkt": box(xa, ya, xb, yb),
                }
            )
        bx0, by0, bx1, by1 = self.bounds
        outer = box(bx0, by0, bx1, by1)[:-1] + ", " + box(x0, y0, x1, y1)[9:-1] + ")"
        rows.append(
            {
                "district_id": "ortenau-mv",
                "name": "Surrounding MV supply area (Ortenau)",
                "name_zh": "周边中压供电区",
                "level": "district",
                "parent_id": "",
                "geometry_wkt": outer,
            }
        )
        return conform("district", pd.DataFrame(rows))
