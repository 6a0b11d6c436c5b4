"""What the engine adds to readings before detectors see them: the sensor's utility, quantity,
element, asset and position (detectors never parse sensor ids)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from lifeline.model.city import City

META_COLUMNS = ("utility", "quantity", "element", "asset_id", "x_m", "y_m")


class SensorMeta:
    """Sensor attributes by id, for vectorised enrichment of reading batches."""

    def __init__(self, city: City) -> None:
        s = city.sensors.drop_duplicates("sensor_id")
        self.ids = pd.Index(s["sensor_id"].astype(str))
        self.cols = {
            "utility": s["utility"].astype(str).to_numpy(dtype=object),
            "quantity": s["quantity"].astype(str).to_numpy(dtype=object),
            "element": s.get("element", pd.Series("", index=s.index))
            .fillna("")
            .astype(str)
            .to_numpy(dtype=object),
            "asset_id": s["asset_id"].fillna("").astype(str).to_numpy(dtype=object),
            "x_m": s["x_m"].to_numpy(dtype=float),
            "y_m": s["y_m"].to_numpy(dtype=float),
        }

    def utility_of(self, sensor_id: str) -> str:
        """The utility of a sensor ("" if unknown)."""
        i = self.ids.get_indexer([sensor_id])[0]
        return str(self.cols["utility"][i]) if i >= 0 else ""

    def enrich(self, readings: pd.DataFrame) -> pd.DataFrame:
        """``readings`` (sensor_id, ts, value) with the META_COLUMNS; unknown sensors dropped."""
        codes = self.ids.get_indexer(readings["sensor_id"].astype(str))
        keep = codes >= 0
        out = readings.loc[keep].reset_index(drop=True)
        c = codes[keep]
        for k, arr in self.cols.items():
            out[k] = arr[c] if len(c) else np.array([], dtype=arr.dtype)
        return out
