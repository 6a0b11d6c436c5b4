"""Tiny purpose-made inputs for the incident and response tests."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from lifeline.incidents.evidence import Evidence, to_utc

T0 = to_utc("2026-06-01T08:00:00Z")


def ts(minutes: float) -> Any:
    """T0 + minutes."""
    return T0 + pd.Timedelta(minutes=minutes)


def customers() -> pd.DataFrame:
    """Six customers on a 100 m grid; one hospital."""
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4", "c5", "h1"],
            "name": ["A", "B", "C", "D", "E", "City Hospital"],
            "category": ["household"] * 5 + ["hospital"],
            "critical": [False] * 5 + [True],
            "x_m": [0.0, 100.0, 200.0, 1000.0, 1100.0, 150.0],
            "y_m": [0.0, 0.0, 0.0, 1000.0, 1000.0, 50.0],
            "power_asset_id": ["p:l1", "p:l1", "p:l2", "p:l9", "p:l9", "p:l2"],
            "gas_asset_id": ["", "", "", "", "", ""],
            "water_asset_id": ["w:j1", "w:j1", "w:j2", "w:j9", "w:j9", "w:j2"],
            "district_id": ["D1", "D1", "D1", "D2", "D2", "D1"],
            "address": [
                "和平路12号",
                "和平路14号",
                "Elm Street 5",
                "人民路1号",
                "人民路3号",
                "1 Hospital Road",
            ],
        }
    )


def alarm(
    alarm_id: str,
    minutes: float,
    utility: str = "water",
    x: float | None = 50.0,
    y: float | None = 0.0,
    zone: str = "Z1",
    conf: float = 0.6,
    detector: str = "pressure_drop",
    asset: str = "w:p1",
) -> Evidence:
    """An alarm evidence item with one location candidate."""
    loc = (
        [{"asset_id": asset, "confidence": conf, "x_m": x, "y_m": y, "zone_id": zone}]
        if x is not None
        else []
    )
    row = {
        "alarm_id": alarm_id,
        "ts": ts(minutes),
        "utility": utility,
        "detector": detector,
        "severity": 2,
        "sensors": "[]",
        "score": 3.0,
        "location": json.dumps(loc),
        "detail": "{}",
    }
    return Evidence.from_alarm(row)


def complaint(
    cid: str,
    minutes: float,
    utility: str = "water",
    x: float = 100.0,
    y: float = 0.0,
    zone: str = "",
    category: str = "no_water",
    customer_id: str = "c2",
) -> Evidence:
    """A placed complaint evidence item."""
    row = {
        "complaint_id": cid,
        "ts": ts(minutes),
        "channel": "hotline",
        "text": "…",
        "address": "",
        "x_m": x,
        "y_m": y,
        "utility": utility,
        "category": category,
        "customer_id": customer_id,
        "district_id": "D1",
        "zone_id": zone,
    }
    return Evidence.from_complaint(row)
