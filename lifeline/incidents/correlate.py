"""Correlate alarms, complaints and meter events into incidents.

Evidence joins an open incident when all three hold:

* **same utility** (complaints classified ``other`` never join; cross-utility links are cascades);
* **overlapping time**: ``first − window_s ≤ ts ≤ last + window_s`` of the incident's evidence;
* **same network area**: the :class:`AreaAdapter` relates the evidence's area (zone/segment/feeder
  ids) to the incident's (``same_area`` or ``upstream``/``downstream``), or, failing that, the
  evidence lies within ``max_distance_m`` of the incident's current location. ``same_area``
  between located items farther apart than ``area_max_distance_m`` does not count (a DMA or a
  gas district can span the town); explicit upstream/downstream links are not capped.

Evidence matching several incidents joins the closest and the others merge into it (duplicates).
Every evidence item records the rule and the values that grouped it. The location is refined
as evidence arrives: the best alarm candidate (confidence ≥ ``candidate_min_confidence``), else
the weighted centroid of located evidence.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from lifeline.incidents.evidence import Evidence, to_utc
from lifeline.incidents.lifecycle import Incident


class AreaAdapter(Protocol):
    """Where evidence sits on its utility's network, and how two areas relate."""

    def area_of(self, ev: Evidence) -> set[str]:
        """Zone / segment / feeder ids the evidence belongs to (may be empty)."""
        ...

    def related(self, a: set[str], b: set[str]) -> str | None:
        """``same_area``, ``upstream``, ``downstream`` (``a`` relative to ``b``) or None."""
        ...


@dataclass
class ZoneArea:
    """Default adapter: areas are zone ids (from the evidence, its assets, or its customer's
    service asset); ``links`` holds directed upstream → downstream zone pairs."""

    asset_zone: dict[str, str] = field(default_factory=dict)
    customer_zone: dict[tuple[str, str], str] = field(
        default_factory=dict
    )  # (customer_id, utility) -> zone
    links: set[tuple[str, str]] = field(default_factory=set)

    @classmethod
    def from_tables(
        cls,
        assets: pd.DataFrame | None = None,
        customers: pd.DataFrame | None = None,
        links: Iterable[tuple[str, str]] = (),
    ) -> ZoneArea:
        """Build from ``schema.ASSET`` and ``schema.CUSTOMER`` tables."""
        az: dict[str, str] = {}
        if assets is not None and len(assets):
            for a, z in zip(assets["asset_id"], assets["zone_id"], strict=True):
                if isinstance(z, str) and z:
                    az[str(a)] = z
        cz: dict[tuple[str, str], str] = {}
        if customers is not None and len(customers):
            for util in ("water", "power", "gas"):
                col = f"{util}_asset_id"
                if col in customers.columns:
                    for c, a in zip(customers["customer_id"], customers[col], strict=True):
                        z = az.get(str(a))
                        if z:
                            cz[(str(c), util)] = z
        return cls(az, cz, set(links))

    def area_of(self, ev: Evidence) -> set[str]:
        """Zones of the evidence itself, of its candidate assets, and of its customer's service asset."""
        out = set(ev.zone_ids)
        out.update(self.asset_zone[a] for a in ev.asset_ids if a in self.asset_zone)
        if ev.customer_id and (ev.customer_id, ev.utility) in self.customer_zone:
            out.add(self.customer_zone[(ev.customer_id, ev.utility)])
        return out

    def related(self, a: set[str], b: set[str]) -> str | None:
        """Shared zone → ``same_area``; a directed link b→a → ``downstream``; a→b → ``upstream``."""
        if a & b:
            return "same_area"
        if any((y, x) in self.links for x in a for y in b):
            return "downstream"
        if any((x, y) in self.links for x in a for y in b):
            return "upstream"
        return None


@dataclass
class Correlator:
    """Groups evidence into incidents incrementally (call :meth:`add` as evidence arrives)."""

    area: AreaAdapter = field(default_factory=ZoneArea)
    window_s: float = 3 * 3600.0
    max_distance_m: float = 400.0
    #: ``same_area`` (same DMA/gas district) only groups evidence that is also within this
    #: distance when both are located (m); None = no cap. Upstream/downstream links are not capped.
    area_max_distance_m: float | None = 2000.0
    #: utilities whose areas are never capped: a feeder is one protection zone however long it
    #: is (its head breaker and the last gasps at its far end are one event)
    uncapped_utilities: tuple[str, ...] = ("power",)
    candidate_min_confidence: float = 0.5
    incidents: list[Incident] = field(default_factory=list)
    unassigned: list[dict[str, Any]] = field(default_factory=list)
    _areas: dict[str, set[str]] = field(default_factory=dict)

    def add(self, ev: Evidence) -> Incident | None:
        """Attach ``ev`` to an incident (opening or merging as needed); None if it cannot be used."""
        if ev.off_lifeline:  # a complaint classified "other" never opens or joins an incident
            self.unassigned.append(
                {
                    "evidence_id": ev.evidence_id,
                    "reason": "complaint classified 'other': not about a lifeline",
                }
            )
            return None
        if ev.utility not in ("water", "power", "gas", "drainage"):
            self.unassigned.append(
                {
                    "evidence_id": ev.evidence_id,
                    "reason": f"utility {ev.utility!r} is not a network utility",
                }
            )
            return None
        ev_area = self.area.area_of(ev)
        matches: list[tuple[float, Incident, dict[str, Any]]] = []
        for inc in self.incidents:
            if inc.state in ("closed", "reviewed"):
                continue
            why = self._match(ev, ev_area, inc)
            if why is not None:
                matches.append((why.get("distance_m", 0.0), inc, why))
        if not matches:
            inc = self._open(ev, ev_area)
            return inc
        matches.sort(key=lambda m: (m[0], m[1].opened_at))
        _, target, why = matches[0]
        for _, other, owhy in matches[1:]:
            self._merge(target, other, ev, owhy)
        self._attach(target, ev, ev_area, why)
        return target

    def prune(self, now: Any) -> list[Incident]:
        """Forget incidents whose latest evidence is older than ``window_s`` before ``now`` (no
        new evidence can join them any more); returns them."""
        t = to_utc(now).timestamp() - self.window_s
        old = [i for i in self.incidents if max(e.ts for e in i.evidence).timestamp() < t]
        for inc in old:
            self.incidents.remove(inc)
            self._areas.pop(inc.incident_id, None)
        return old

    def get_state(self) -> dict[str, Any]:
        """The open incidents and their areas, JSON-able (for the engine's checkpoint)."""
        rows = []
        for inc in self.incidents:
            r = inc.to_row()
            r["opened_at"] = inc.opened_at.isoformat()
            r["updated_at"] = (inc.updated_at or inc.opened_at).isoformat()
            rows.append(r)
        return {
            "incidents": rows,
            "areas": {k: sorted(v) for k, v in self._areas.items()},
            "unassigned": self.unassigned[-200:],
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`."""
        self.incidents = [Incident.from_row(r) for r in state.get("incidents", [])]
        self._areas = {k: set(v) for k, v in state.get("areas", {}).items()}
        self.unassigned = list(state.get("unassigned", []))

    def add_all(self, evidence: Iterable[Evidence]) -> list[Incident]:
        """Add evidence in time order; returns the incidents."""
        for ev in sorted(evidence, key=lambda e: e.ts):
            self.add(ev)
        return self.incidents

    # -- rules
    def _match(self, ev: Evidence, ev_area: set[str], inc: Incident) -> dict[str, Any] | None:
        if ev.utility != inc.utility:
            return None
        first = min(e.ts for e in inc.evidence)
        last = max(e.ts for e in inc.evidence)
        lo = first.timestamp() - self.window_s
        hi = last.timestamp() + self.window_s
        t = ev.ts.timestamp()
        if not lo <= t <= hi:
            return None
        gap_s = (
            0.0
            if first.timestamp() <= t <= last.timestamp()
            else min(abs(t - first.timestamp()), abs(t - last.timestamp()))
        )
        inc_area = self._areas.get(inc.incident_id, set())
        rel = self.area.related(ev_area, inc_area) if ev_area and inc_area else None
        dist = _distance(ev, inc)
        if (
            rel == "same_area"
            and dist is not None
            and self.area_max_distance_m is not None
            and ev.utility not in self.uncapped_utilities
            and dist > self.area_max_distance_m
        ):
            rel = None  # same (large) zone but too far apart: a coincidence, not one event
        if rel is not None:
            shared = sorted(ev_area & inc_area) if rel == "same_area" else sorted(ev_area)
            return {
                "rule": rel,
                "areas": shared,
                "incident_areas": sorted(inc_area),
                "time_gap_s": gap_s,
                "distance_m": dist if dist is not None else 0.0,
                "window_s": self.window_s,
            }
        if dist is not None and dist <= self.max_distance_m:
            return {
                "rule": "within_distance",
                "distance_m": round(dist, 1),
                "max_distance_m": self.max_distance_m,
                "time_gap_s": gap_s,
                "window_s": self.window_s,
            }
        return None

    def _open(self, ev: Evidence, ev_area: set[str]) -> Incident:
        key = hashlib.sha1(f"{ev.utility}|{ev.evidence_id}".encode()).hexdigest()[:6]
        inc = Incident(
            incident_id=f"INC-{ev.ts:%Y%m%d-%H%M}-{key}", utility=ev.utility, opened_at=ev.ts
        )
        self.incidents.append(inc)
        self._areas[inc.incident_id] = set()
        self._attach(inc, ev, ev_area, {"rule": "opened", "areas": sorted(ev_area)})
        return inc

    def _attach(self, inc: Incident, ev: Evidence, ev_area: set[str], why: dict[str, Any]) -> None:
        if ev.evidence_id in inc.evidence_ids():
            return
        inc.evidence.append(ev)
        inc.grouping.append({"evidence_id": ev.evidence_id, "kind": ev.kind, **why})
        self._areas.setdefault(inc.incident_id, set()).update(ev_area)
        if ev.ts > (inc.updated_at or inc.opened_at):
            inc.updated_at = ev.ts
        refine_location(inc, self.candidate_min_confidence)
        inc.location["areas"] = sorted(self._areas[inc.incident_id])

    def _merge(
        self, target: Incident, other: Incident, bridge: Evidence, why: dict[str, Any]
    ) -> None:
        """Merge duplicate ``other`` into ``target`` (``bridge`` matched both)."""
        have = target.evidence_ids()
        for e in other.evidence:
            if e.evidence_id not in have:
                target.evidence.append(e)
        for g in other.grouping:
            if g.get("evidence_id") not in have:
                target.grouping.append({**g, "merged_from": other.incident_id})
        target.evidence.sort(key=lambda e: e.ts)
        target.grouping.append(
            {
                "evidence_id": other.incident_id,
                "kind": "incident",
                "rule": "merged_duplicate",
                "bridge_evidence": bridge.evidence_id,
                "bridge_rule": why.get("rule"),
            }
        )
        target.merged_from.append(other.incident_id)
        target.merged_from.extend(other.merged_from)
        if other.opened_at < target.opened_at:
            target.opened_at = other.opened_at
            target.timeline["detected"] = other.opened_at.isoformat()
        self._areas[target.incident_id] = self._areas.get(
            target.incident_id, set()
        ) | self._areas.pop(other.incident_id, set())
        self.incidents.remove(other)
        refine_location(target, self.candidate_min_confidence)


def water_zone_links(city: Any) -> set[tuple[str, str]]:
    """Pairs of water zones (DMAs) joined by a pipe, both ways: evidence in neighbouring DMAs is
    upstream or downstream of each other, so the correlator may group it (a burst's pressure
    signature often points across a DMA boundary)."""
    if not city.has("water"):
        return set()
    a = city.assets
    zone = dict(zip(a["asset_id"].astype(str), a["zone_id"].astype(str), strict=True))
    links: set[tuple[str, str]] = set()
    for _name, link in city.water.links():
        kinds = ("junction", "tank", "reservoir")
        z1 = next(
            (
                zone.get(f"water:{k}:{link.start_node_name}")
                for k in kinds
                if f"water:{k}:{link.start_node_name}" in zone
            ),
            None,
        )
        z2 = next(
            (
                zone.get(f"water:{k}:{link.end_node_name}")
                for k in kinds
                if f"water:{k}:{link.end_node_name}" in zone
            ),
            None,
        )
        if z1 and z2 and z1 != z2 and z1 not in ("nan", "<NA>") and z2 not in ("nan", "<NA>"):
            links |= {(z1, z2), (z2, z1)}
    return links


def _xy(e: Evidence) -> tuple[float, float]:
    return float(e.x_m or 0.0), float(e.y_m or 0.0)


def _distance(ev: Evidence, inc: Incident) -> float | None:
    if not ev.located:
        return None
    pts: list[tuple[float, float]] = []
    if inc.x_m is not None and inc.y_m is not None:
        pts.append((float(inc.x_m), float(inc.y_m)))
    pts += [_xy(e) for e in inc.evidence if e.located]
    if not pts:
        return None
    ex, ey = _xy(ev)
    return min(math.hypot(ex - x, ey - y) for x, y in pts)


def refine_location(inc: Incident, candidate_min_confidence: float = 0.5) -> None:
    """Set ``inc.x_m/y_m``, ``district_id`` and ``inc.location`` from its evidence.

    Only the incident's own utility's evidence locates it (when it has any). Best alarm
    candidate (confidence ≥ ``candidate_min_confidence``; a utility-specific
    detector's before a generic one's, then the highest confidence) wins; otherwise the
    weighted centroid (weights: kind weight × location confidence). ``spread_m`` is the weighted
    RMS distance of located evidence from the chosen point (metres).
    """
    from lifeline.incidents.confirm import generic_detectors

    generic = generic_detectors()
    best: dict[str, Any] | None = None
    rank: tuple[bool, float] = (False, -1.0)
    # another utility's alarms explained by the cascade (a pump without power) do not locate it
    own = [e for e in inc.evidence if e.utility == inc.utility] or list(inc.evidence)
    for e in own:
        for c in e.detail.get("candidates", []) if e.kind == "alarm" else []:
            conf = float(c.get("confidence") or 0.0)
            # a utility-specific detector's locate result beats a generic detector's sensor
            r = (e.source not in generic, conf)
            if c.get("x_m") is not None and conf >= candidate_min_confidence and r > rank:
                rank = r
                best = {
                    "asset_id": c.get("asset_id", ""),
                    "confidence": conf,
                    "x_m": float(c["x_m"]),
                    "y_m": float(c["y_m"]),
                    "from": e.evidence_id,
                }
    located = [e for e in own if e.located]
    if best is not None:
        x, y, method = best["x_m"], best["y_m"], "best_candidate"
    elif located:
        w = sum(e.weight for e in located)
        x = sum(e.weight * _xy(e)[0] for e in located) / w
        y = sum(e.weight * _xy(e)[1] for e in located) / w
        method = "weighted_centroid"
    else:
        inc.location = {**inc.location, "method": "unlocated", "n_located": 0}
        return
    spread = 0.0
    if located:
        w = sum(e.weight for e in located)
        spread = math.sqrt(
            sum(e.weight * ((_xy(e)[0] - x) ** 2 + (_xy(e)[1] - y) ** 2) for e in located) / w
        )
    inc.x_m, inc.y_m = round(x, 2), round(y, 2)
    districts = [e.district_id for e in inc.evidence if e.district_id]
    if districts:
        inc.district_id = max(set(districts), key=districts.count)
    inc.location = {
        **inc.location,
        "method": method,
        "x_m": inc.x_m,
        "y_m": inc.y_m,
        "spread_m": round(spread, 1),
        "n_located": len(located),
        "best_candidate": best,
    }


def infer_kind(inc: Incident) -> str:
    """Incident type used to retrieve plans, from the evidence (categories, detectors, assets).

    water: ``water_quality`` when discoloured-water reports dominate, else ``water_main_burst``;
    power: ``power_feeder_fault`` when an alarm names a feeder/MV fault, carries a power locate
    result (fault section, outage device, tripped feeder heads) or ≥ 10 customers/loads are out,
    else ``power_lv_outage``; gas: ``gas_leak_confined`` for methane-in-manhole/gas-smell evidence,
    ``gas_pressure_loss`` when only low-pressure evidence exists.
    """
    cats = [e.category for e in inc.evidence if e.kind == "complaint"]
    sources = " ".join(e.source.lower() for e in inc.evidence if e.kind == "alarm")
    if inc.utility == "water":
        if (
            cats
            and cats.count("discoloured_water") * 2 > len(cats)
            and "leak" not in sources
            and "burst" not in sources
        ):
            return "water_quality"
        return "water_main_burst"
    if inc.utility == "power":
        customers = {c for e in inc.evidence for c in e.customers()}
        loads = {a for e in inc.evidence if e.kind == "alarm" for a in e.asset_ids if ":load:" in a}
        mv = any(
            e.detail.get("fault_section")
            or e.detail.get("tripped_heads")
            or e.detail.get("outage_device")
            for e in inc.evidence
            if e.kind == "alarm"
        )
        if (
            mv
            or any(k in sources for k in ("feeder", "fault", "flisr", "mv"))
            or len(customers | loads) >= 10
        ):
            return "power_feeder_fault"
        return "power_lv_outage"
    if inc.utility == "gas":
        leak = any(k in sources for k in ("methane", "leak", "lel")) or "gas_smell" in cats
        if not leak and cats and all(c == "low_pressure" for c in cats):
            return "gas_pressure_loss"
        if "pressure" in sources and not leak:
            return "gas_pressure_loss"
        return "gas_leak_confined"
    return "other"
