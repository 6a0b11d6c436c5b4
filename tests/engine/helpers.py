"""Test helpers for the live engine: a tiny detector registered only for a test, and a City
from plain tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifeline.detect.base import DetectorStatus, ThresholdPolicy
from lifeline.detect.registry import _REGISTRY, DetectorSpec
from lifeline.model.city import City
from lifeline.model.schema import conform

DETECTOR = "test-low-pressure"


def located_scores(batch: pd.DataFrame, score: np.ndarray) -> pd.DataFrame:
    """The detector protocol's score frame for ``batch``: one row per reading, keyed by its
    sensor and located at the sensor's asset (confidence 0.6)."""
    return pd.DataFrame(
        {
            "key": batch["sensor_id"].to_numpy(),
            "ts": batch["ts"].to_numpy(),
            "score": score,
            "detail": [
                {"location": [{"asset_id": a, "confidence": 0.6, "x_m": x, "y_m": y}]}
                for a, x, y in zip(batch["asset_id"], batch["x_m"], batch["y_m"], strict=True)
            ],
        }
    )


@dataclass
class LowPressure:
    """Scores how far a pressure falls below 20 m, in 5 m steps (the test's own detector)."""

    name: str = DETECTOR
    utility: str = "water"
    inputs: str = "readings"
    n: int = 0

    def learn(self, batch: pd.DataFrame) -> None:
        pass

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        self.n += len(batch)
        return located_scores(
            batch, np.clip((20.0 - batch["value"].to_numpy(float)) / 5.0, 0.0, None)
        )

    def status(self) -> DetectorStatus:
        return DetectorStatus(self.name, True, warmup="none")

    def get_state(self) -> dict[str, Any]:
        return {"n": self.n}

    def set_state(self, state: dict[str, Any]) -> None:
        self.n = int(state["n"])


def register_low_pressure(monkeypatch: pytest.MonkeyPatch, quantity: str = "pressure_m") -> str:
    """Register :class:`LowPressure` for this test only; returns its name."""
    spec = DetectorSpec(
        name=DETECTOR,
        description="test",
        build=lambda city, sensors: LowPressure(),
        policy=ThresholdPolicy(threshold=1.0, min_consecutive=2, source="test"),
        warmup="none",
        utility="water",
        quantities=(quantity,),
    )
    monkeypatch.setitem(_REGISTRY, DETECTOR, spec)
    return DETECTOR


def city_from_tables(tables: dict[str, pd.DataFrame], crs: str = "EPSG:25832") -> City:
    """A City without network models from store tables (district, zone, asset, customer,
    sensor, dependency)."""
    attr = {
        "district": "districts",
        "zone": "zones",
        "asset": "assets",
        "customer": "customers",
        "sensor": "sensors",
        "dependency": "dependencies",
    }
    kw = {attr[k]: conform(k, v) for k, v in tables.items() if k in attr}
    for k, a in attr.items():
        kw.setdefault(a, conform(k, pd.DataFrame()))
    return City(
        name="Tiny",
        crs=crs,
        timezone="Europe/Berlin",
        crews=pd.DataFrame(columns=["crew_id", "utility", "name", "x_m", "y_m", "available"]),
        **kw,
    )
