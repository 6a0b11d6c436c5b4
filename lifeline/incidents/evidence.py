"""Evidence: one alarm, complaint or smart-meter event, in the shape correlation needs.

Alarms come as rows of ``schema.ALARM`` (``location`` is JSON: a list of candidates
``{"asset_id", "confidence", "x_m", "y_m", "zone_id"?}`` or one such object); complaints as rows
of ``schema.COMPLAINT`` (classified and placed); meter events as rows with ``ts``, ``utility``,
``event`` (zero_consumption | reverse_flow | last_gasp | …), ``customer_id`` or ``meter_id`` and
optionally ``x_m``/``y_m``/``zone_id``.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

#: relative weight of each kind of evidence when refining the location (centroid)
KIND_WEIGHT = {"alarm": 3.0, "complaint": 1.0, "meter_event": 1.5}


def to_utc(ts: Any) -> datetime:
    """A timezone-aware UTC datetime from a string, pandas Timestamp or datetime."""
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.to_pydatetime()


def _f(v: Any) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _s(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    return str(v)


def _json(v: Any, default: Any) -> Any:
    if isinstance(v, list | dict):
        return v
    s = _s(v)
    if not s:
        return default
    try:
        return json.loads(s)
    except json.JSONDecodeError:
        return default


@dataclass
class Evidence:
    """One piece of evidence. ``x_m``/``y_m`` in the town CRS (metres), ``ts`` UTC."""

    kind: str  # alarm | complaint | meter_event
    evidence_id: str
    ts: datetime
    utility: str
    source: str  # detector name, complaint channel, meter event type
    x_m: float | None = None
    y_m: float | None = None
    confidence: float = 1.0  # location confidence 0–1
    zone_ids: list[str] = field(default_factory=list)
    asset_ids: list[str] = field(default_factory=list)
    category: str = ""
    customer_id: str = ""
    district_id: str = ""
    severity: int = 1
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def located(self) -> bool:
        """True when the evidence has coordinates."""
        return self.x_m is not None and self.y_m is not None

    @property
    def weight(self) -> float:
        """Weight in the location centroid: kind weight × location confidence."""
        return KIND_WEIGHT.get(self.kind, 1.0) * max(self.confidence, 0.05)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (ts as ISO 8601)."""
        d = asdict(self)
        d["ts"] = self.ts.isoformat()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Evidence:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d["ts"] = to_utc(d["ts"])
        return cls(**d)

    @classmethod
    def from_alarm(cls, row: Any) -> Evidence:
        """From a ``schema.ALARM`` row (mapping or Series); best location candidate gives x/y."""
        loc = _json(row.get("location"), [])
        cands = loc if isinstance(loc, list) else [loc]
        cands = [c for c in cands if isinstance(c, dict)]
        best = max(cands, key=lambda c: _f(c.get("confidence")) or 0.0) if cands else {}
        zones = sorted({_s(c.get("zone_id")) for c in cands if _s(c.get("zone_id"))})
        detail = _json(row.get("detail"), {})
        detail = detail if isinstance(detail, dict) else {"detail": detail}
        if cands:
            detail = {**detail, "candidates": cands}
        return cls(
            kind="alarm",
            evidence_id=_s(row.get("alarm_id")),
            ts=to_utc(row.get("ts")),
            utility=_s(row.get("utility")),
            source=_s(row.get("detector")) or "detector",
            x_m=_f(best.get("x_m")),
            y_m=_f(best.get("y_m")),
            confidence=_f(best.get("confidence")) or (0.5 if best else 0.0),
            zone_ids=zones,
            asset_ids=[_s(c.get("asset_id")) for c in cands if _s(c.get("asset_id"))],
            severity=int(_f(row.get("severity")) or 1),
            detail=detail,
        )

    @classmethod
    def from_complaint(cls, row: Any) -> Evidence:
        """From a classified and placed ``schema.COMPLAINT`` row."""
        zone = _s(row.get("zone_id"))
        return cls(
            kind="complaint",
            evidence_id=_s(row.get("complaint_id")),
            ts=to_utc(row.get("ts")),
            utility=_s(row.get("utility")) or "other",
            source=_s(row.get("channel")) or "hotline",
            x_m=_f(row.get("x_m")),
            y_m=_f(row.get("y_m")),
            confidence=0.6 if _s(row.get("customer_id")) else 0.3,
            zone_ids=[zone] if zone else [],
            category=_s(row.get("category")),
            customer_id=_s(row.get("customer_id")),
            district_id=_s(row.get("district_id")),
            detail={"text": _s(row.get("text")), "address": _s(row.get("address"))},
        )

    @classmethod
    def from_meter_event(cls, row: Any) -> Evidence:
        """From a smart-meter event row (zero consumption, reverse flow, last gasp, …)."""
        zone = _s(row.get("zone_id"))
        eid = (
            _s(row.get("event_id"))
            or f"{_s(row.get('meter_id') or row.get('customer_id'))}@{to_utc(row.get('ts')).isoformat()}"
        )
        return cls(
            kind="meter_event",
            evidence_id=eid,
            ts=to_utc(row.get("ts")),
            utility=_s(row.get("utility")),
            source=_s(row.get("event")) or "meter_event",
            x_m=_f(row.get("x_m")),
            y_m=_f(row.get("y_m")),
            confidence=0.8,
            zone_ids=[zone] if zone else [],
            asset_ids=[a for a in [_s(row.get("asset_id"))] if a],
            customer_id=_s(row.get("customer_id")),
            district_id=_s(row.get("district_id")),
        )


def evidence_from_frames(
    alarms: pd.DataFrame | None = None,
    complaints: pd.DataFrame | None = None,
    meter_events: pd.DataFrame | None = None,
) -> list[Evidence]:
    """All evidence of the three tables, sorted by time."""
    out: list[Evidence] = []
    for df, make in (
        (alarms, Evidence.from_alarm),
        (complaints, Evidence.from_complaint),
        (meter_events, Evidence.from_meter_event),
    ):
        if df is not None:
            out.extend(make(r) for r in df.to_dict("records"))
    return sorted(out, key=lambda e: e.ts)
