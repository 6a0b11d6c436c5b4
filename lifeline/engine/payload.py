"""What the engine pushes to its listeners (the API's event bus, SSE): the publisher type and
the alarm payload."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd

#: ``publish(topic, payload, district)``
Publish = Callable[[str, dict[str, Any], str | None], None]


def no_publish(topic: str, payload: dict[str, Any], district: str | None = None) -> None:
    """The default publisher: nothing listens."""


def alarm_payload(r: dict[str, Any]) -> dict[str, Any]:
    """An alarm row as the JSON-able payload pushed to listeners (times ISO 8601, the JSON
    columns parsed, NaN as None)."""

    out = {}
    for k, v in r.items():
        if isinstance(v, pd.Timestamp):
            out[k] = v.isoformat()
        elif k in ("sensors", "location", "detail") and isinstance(v, str):
            try:
                out[k] = json.loads(v)
            except ValueError:
                out[k] = v
        elif v is None or (isinstance(v, float) and v != v):
            out[k] = None
        else:
            out[k] = v
    return out
