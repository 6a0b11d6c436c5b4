"""Compact views of an incident: JSON (what ``lifeline demo --headless --json`` prints), an
evidence summary (counts by kind, first and last time, places) and asset labels."""

from __future__ import annotations

from collections import Counter
from typing import Any

from lifeline.incidents.lifecycle import Incident


def asset_label(utility: str, asset_id: str) -> str:
    """``utility:asset`` for display, without doubling a utility prefix the id already carries.

    Town asset ids are already qualified (``power:bus:103016``); a bare local name (``PU1``)
    gets its utility in front (``water:PU1``).
    """
    aid = str(asset_id or "")
    if not utility or aid.startswith(f"{utility}:"):
        return aid
    return f"{utility}:{aid}" if aid else utility


def cascade_line(link: dict[str, Any]) -> str:
    """One cascade link as ``kind from -> to[, to2…]`` (ids not doubled, all dependants named)."""
    to_assets = link.get("to_assets") or [link.get("to_asset", "")]
    targets = ", ".join(asset_label(str(link.get("to_utility", "")), a) for a in to_assets)
    src = asset_label(str(link.get("from_utility", "")), str(link.get("from_asset", "")))
    return f"{link.get('kind')} {src} -> {targets}"


def evidence_summary(inc: Incident, top_places: int = 5) -> dict[str, Any]:
    """Evidence in a few numbers: ``{"total", "first", "last", "by_kind", "places"}``.

    ``by_kind`` maps each kind (alarm, complaint, meter_event) to ``{"count", "first", "last",
    "sources", "rules"}`` (times UTC datetimes; sources and grouping rules with their counts);
    ``places`` lists the ``top_places`` most frequent areas (zone, feeder, DMA from the grouping;
    the evidence's zones otherwise) as ``(place, count)``, then ``("…", rest)`` if more.
    """
    rule_of = {g.get("evidence_id"): g for g in inc.grouping}
    by_kind: dict[str, dict[str, Any]] = {}
    places: Counter[str] = Counter()
    for e in sorted(inc.evidence, key=lambda e: e.ts):
        k = by_kind.setdefault(
            e.kind,
            {"count": 0, "first": e.ts, "last": e.ts, "sources": Counter(), "rules": Counter()},
        )
        k["count"] += 1
        k["last"] = e.ts
        k["sources"][e.source or "-"] += 1
        g = rule_of.get(e.evidence_id, {})
        k["rules"][str(g.get("rule") or "-")] += 1
        areas = g.get("areas") or e.zone_ids or ([e.district_id] if e.district_id else [])
        for a in areas or ["(no place)"]:
            places[str(a)] += 1
    ranked = places.most_common()
    shown: list[tuple[str, int]] = ranked[:top_places]
    if len(ranked) > top_places:
        shown.append(("…", sum(n for _, n in ranked[top_places:])))
    ev = sorted(inc.evidence, key=lambda e: e.ts)
    return {
        "total": len(ev),
        "first": ev[0].ts if ev else None,
        "last": ev[-1].ts if ev else None,
        "by_kind": {
            kind: {**v, "sources": dict(v["sources"]), "rules": dict(v["rules"])}
            for kind, v in by_kind.items()
        },
        "places": shown,
    }


def incident_json(inc: Incident, lang: str = "en") -> dict[str, Any]:
    """id, utility, kind, state, grade, location, evidence (with grouping rule), cascade, plan
    actions (text in ``lang`` + cites), safety results and approval."""
    rule_of = {g.get("evidence_id"): g.get("rule") for g in inc.grouping}
    return {
        "incident_id": inc.incident_id,
        "utility": inc.utility,
        "kind": inc.kind,
        "state": inc.state,
        "grade": inc.grade,
        "grade_name": {
            "zh-CN": inc.grading.get("name_zh", ""),
            "en": inc.grading.get("name_en", ""),
        },
        "grade_basis": inc.grading.get("deciding", []),
        "routing": inc.routing,
        "opened_at": inc.opened_at.isoformat(),
        "location": {
            "x_m": inc.x_m,
            "y_m": inc.y_m,
            "district_id": inc.district_id,
            "method": inc.location.get("method"),
            "spread_m": inc.location.get("spread_m"),
            "best_candidate": (inc.location.get("best_candidate") or {}).get("asset_id"),
        },
        "evidence_counts": dict(Counter(e.kind for e in inc.evidence)),
        "evidence": [
            {
                "kind": e.kind,
                "id": e.evidence_id,
                "ts": e.ts.isoformat(),
                "source": e.source,
                "category": e.category,
                "rule": rule_of.get(e.evidence_id),
            }
            for e in inc.evidence
        ],
        "impact": {k: (len(v) if isinstance(v, list) else v) for k, v in inc.impact.items()},
        "cascade": [
            {
                k: c.get(k)
                for k in (
                    "kind",
                    "from_utility",
                    "from_asset",
                    "to_utility",
                    "to_asset",
                    "customers_affected",
                    "critical_sites",
                )
            }
            for c in inc.cascade
        ],
        "plans": [p["plan_id"] for p in inc.plan.get("plans", [])],
        "actions": [
            {
                "id": a["action_id"],
                "kind": a["kind"],
                "text": a["text"].get(lang, a["text"].get("en")),
                "cites": a.get("cites", []),
            }
            for a in inc.actions
        ],
        "safety": [
            {"rule": r["rule"], "passed": r["passed"], "detail": r["detail"]} for r in inc.safety
        ],
        "approval": inc.approval or None,
        "narrative": inc.narrative,
    }
