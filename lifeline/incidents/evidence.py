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
    return t.floor("us").to_pydatetime()  # datetime holds microseconds: drop the nanoseconds


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


class AssetIndex:
    """Positions and zones of assets (``schema.ASSET`` rows), looked up by asset id or by a
    utility-local name (``ref``, e.g. the WNTR pipe ``P83`` of ``water:pipe:P83``)."""

    def __init__(self, assets: pd.DataFrame, sensors: pd.DataFrame | None = None) -> None:
        self._by_id: dict[str, dict[str, Any]] = {}
        self._by_ref: dict[tuple[str, str], str] = {}
        #: sensor_id -> the asset it sits on and its position (``schema.SENSOR``)
        self.sensors: dict[str, dict[str, Any]] = {}
        cols = [
            c
            for c in ("asset_id", "utility", "ref", "x_m", "y_m", "zone_id", "district_id")
            if c in assets.columns
        ]
        for r in assets[cols].to_dict("records"):
            aid = str(r["asset_id"])
            self._by_id[aid] = {
                "x_m": _f(r.get("x_m")),
                "y_m": _f(r.get("y_m")),
                "zone_id": _s(r.get("zone_id")) or None,
                "district_id": _s(r.get("district_id")) or None,
            }
            ref = _s(r.get("ref"))
            if ref:
                self._by_ref.setdefault((_s(r.get("utility")), ref), aid)
        if sensors is not None and len(sensors):
            for r in sensors.to_dict("records"):
                sa = _s(r.get("asset_id"))
                hit = self._by_id.get(sa, {})
                x, y = _f(r.get("x_m")), _f(r.get("y_m"))
                self.sensors[_s(r.get("sensor_id"))] = {
                    "asset_id": sa,
                    "x_m": x if x is not None else hit.get("x_m"),
                    "y_m": y if y is not None else hit.get("y_m"),
                    "zone_id": hit.get("zone_id"),
                    "district_id": hit.get("district_id"),
                }

    def sensor(self, sensor_id: str) -> dict[str, Any]:
        """``{"asset_id", "x_m", "y_m", "zone_id"}`` of the asset a sensor sits on ({} if unknown)."""
        return self.sensors.get(sensor_id, {})

    def resolve(self, name: str, utility: str = "") -> dict[str, Any]:
        """``{"asset_id", "x_m", "y_m", "zone_id"}`` for an id or local name ({} if unknown)."""
        aid = name if name in self._by_id else self._by_ref.get((utility, name), "")
        if not aid:
            return {}
        hit = self._by_id[aid]
        return {
            "asset_id": aid,
            "x_m": hit["x_m"],
            "y_m": hit["y_m"],
            "zone_id": hit["zone_id"],
            "district_id": hit.get("district_id"),
        }


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

    def customers(self) -> list[str]:
        """Customers this evidence speaks for: its own, or those a grouped meter-event item
        lists (``detail["customers"]``)."""
        listed = [str(c) for c in self.detail.get("customers", []) or []]
        return sorted({*listed, self.customer_id} - {""})

    def count(self) -> int:
        """How many records it stands for (grouped meter events: their number; else 1)."""
        n = self.detail.get("count")
        return int(n) if isinstance(n, int | float) and n > 0 else 1

    @property
    def off_lifeline(self) -> bool:
        """True for a complaint classified ``other`` (a street light, a bill, noise …) or with no
        utility: it is not about a lifeline and never opens or joins an incident."""
        return self.kind == "complaint" and (
            self.category == "other" or self.utility in ("", "other")
        )

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
    def from_alarm(cls, row: Any, assets: AssetIndex | None = None) -> Evidence:
        """From a ``schema.ALARM`` row (mapping or Series).

        ``location`` may hold candidate objects (``asset_id``, ``confidence``, ``x_m``, ``y_m``,
        ``zone_id``) or bare asset ids (``"power:load:12"``, or a utility-local name such as a
        WNTR pipe ``"P83"``), which ``assets`` resolves to positions and zones; bare ids share a
        confidence of 0.6 (one id) or 0.6/n. Without any located candidate, the assets the
        alarm's ``sensors`` sit on are used (confidence 0.4/n: a methane detector's manhole is
        near, not at, the leak). The best candidate gives x/y; with several equally confident
        ones, their centroid.
        """
        utility = _s(row.get("utility"))
        loc = _json(row.get("location"), [])
        raw = loc if isinstance(loc, list) else [loc]
        n_str = sum(1 for c in raw if isinstance(c, str | int))
        cands: list[dict[str, Any]] = []
        for c in raw:
            if isinstance(c, dict):
                cands.append(dict(c))
            elif isinstance(c, str | int):
                cand: dict[str, Any] = {
                    "asset_id": str(c),
                    "confidence": round(0.6 / max(n_str, 1), 4),
                }
                if assets is not None:
                    cand.update(assets.resolve(str(c), utility))
                cands.append(cand)
        for c in cands:
            if (
                (c.get("x_m") is None or c.get("zone_id") is None)
                and assets is not None
                and c.get("asset_id")
            ):
                hit = assets.resolve(str(c["asset_id"]), utility)
                c.update({k: v for k, v in hit.items() if c.get(k) is None})
        located = [
            c for c in cands if _f(c.get("x_m")) is not None and _f(c.get("y_m")) is not None
        ]
        if not located and assets is not None:  # no located candidate: where the sensors sit
            sens = _json(row.get("sensors"), [])
            hits = [assets.sensor(str(x)) for x in (sens if isinstance(sens, list) else [sens])]
            hits = [h for h in hits if h.get("x_m") is not None]
            for h in hits:
                cand = {**h, "confidence": round(0.4 / len(hits), 4), "from": "sensor"}
                cands.append(cand)
                located.append(cand)
        top = max((_f(c.get("confidence")) or 0.0 for c in located), default=0.0)
        best_set = [c for c in located if (_f(c.get("confidence")) or 0.0) == top]
        x = sum(float(c["x_m"]) for c in best_set) / len(best_set) if best_set else None
        y = sum(float(c["y_m"]) for c in best_set) / len(best_set) if best_set else None
        zones = sorted({_s(c.get("zone_id")) for c in cands if _s(c.get("zone_id"))})
        district = next(
            (_s(c.get("district_id")) for c in best_set + cands if _s(c.get("district_id"))), ""
        )
        detail = _json(row.get("detail"), {})
        detail = detail if isinstance(detail, dict) else {"detail": detail}
        if cands:
            detail = {**detail, "candidates": cands}
        return cls(
            kind="alarm",
            evidence_id=_s(row.get("alarm_id")),
            ts=to_utc(row.get("ts")),
            utility=utility,
            source=_s(row.get("detector")) or "detector",
            x_m=x,
            y_m=y,
            confidence=top if best_set else 0.0,
            zone_ids=zones,
            asset_ids=[_s(c.get("asset_id")) for c in cands if _s(c.get("asset_id"))],
            severity=int(_f(row.get("severity")) or 1),
            detail=detail,
            district_id=district,
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
    assets: pd.DataFrame | AssetIndex | None = None,
    sensors: pd.DataFrame | None = None,
) -> list[Evidence]:
    """All evidence of the three tables, sorted by time (``assets``/``sensors`` resolve bare
    alarm locations, alarm sensors and meter-event assets to positions and zones)."""
    index = AssetIndex(assets, sensors) if isinstance(assets, pd.DataFrame) else assets
    out: list[Evidence] = []
    if alarms is not None:
        out.extend(Evidence.from_alarm(r, index) for r in alarms.to_dict("records"))
    if complaints is not None:
        out.extend(Evidence.from_complaint(r) for r in complaints.to_dict("records"))
    if meter_events is not None:
        for r in meter_events.to_dict("records"):
            ev = Evidence.from_meter_event(r)
            if index is not None and not ev.located and ev.asset_ids:
                hit = index.resolve(ev.asset_ids[0], ev.utility)
                ev.x_m, ev.y_m = hit.get("x_m"), hit.get("y_m")
                if hit.get("zone_id") and not ev.zone_ids:
                    ev.zone_ids = [hit["zone_id"]]
            out.append(ev)
    return sorted(out, key=lambda e: e.ts)
