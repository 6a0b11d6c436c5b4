"""Fill retrieved plans with concrete, computed actions; every action cites where it came from.

``recommend(incident, adapters, crews=…)`` retrieves the plans for the incident's kind and its
cascade kinds, fills each step through the utility adapters (isolation operations, impact,
restoration through ties, hazard zone), picks the nearest available crew along the street
graph, and stores ``incident.plan``, ``incident.actions`` and ``incident.impact``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lifeline.respond.adapters import has
from lifeline.respond.crews import DEFAULT_SPEED_KMH, StreetGraph, nearest_crew
from lifeline.respond.library import retrieve

ALT_SUPPLY = {
    "water": ("水车", "water tanker"),
    "power": ("应急发电车", "mobile generator"),
    "gas": ("临时供气/替代能源", "temporary gas supply or alternative energy"),
}
#: customer categories that are a utility's own facilities: they need that utility's service back
#: (or power), not a delivery of what they produce — no water tanker to a pumping station
OWN_FACILITIES = {
    "water": frozenset({"pumping_station", "water_works", "treatment_plant", "reservoir"}),
    "power": frozenset({"substation"}),
    "gas": frozenset({"gas_station", "regulator_station", "gas_works"}),
}


@dataclass
class CrewContext:
    """Street graph + crew roster + travel speed (km/h) for dispatch."""

    graph: StreetGraph
    crews: pd.DataFrame
    speed_kmh: float = DEFAULT_SPEED_KMH


def _txt(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


class _Filler:
    def __init__(
        self,
        incident: Any,
        plan: dict[str, Any],
        adapter: Any,
        crews: CrewContext | None,
        utility: str,
        site: tuple[float | None, float | None],
        impact_override: dict[str, Any] | None,
        cite_root: list[str],
    ) -> None:
        self.inc, self.plan, self.ad, self.crews = incident, plan, adapter, crews
        self.utility, self.site = utility, site
        self.ops: list[dict[str, Any]] = []
        self.impact: dict[str, Any] | None = impact_override
        self.restored: set[str] = set()
        self.hazard: dict[str, Any] | None = None
        self.actions: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.cite_root = cite_root

    def add(
        self, step: dict[str, Any], kind: str, text: dict[str, str], cites: list[str], **extra: Any
    ) -> None:
        n = sum(1 for a in self.actions if a["step"] == step["id"])
        self.actions.append(
            {
                "action_id": f"{self.plan['id']}:{step['id']}:{n}",
                "plan_id": self.plan["id"],
                "step": step["id"],
                "kind": kind,
                "utility": self.utility,
                "text": text,
                "cites": cites,
                **extra,
            }
        )

    def manual(self, step: dict[str, Any], why: str = "") -> None:
        text = _txt(step["zh-CN"], step["en"])
        if why:
            text = _txt(f"{step['zh-CN']}（{why}）", f"{step['en']} ({why})")
        self.add(step, "manual", text, [f"plan:{self.plan['id']}#{step['id']}"])

    def ensure_ops(self) -> None:
        if not self.ops and has(self.ad, "isolate") and not self.plan.get("_cascade"):
            self.ops = [
                {**o, "utility": o.get("utility", self.utility)} for o in self.ad.isolate(self.inc)
            ]

    def ensure_impact(self) -> dict[str, Any]:
        if self.impact is None:
            self.ensure_ops()
            self.impact = (
                self.ad.impact(self.inc, self.ops)
                if has(self.ad, "impact")
                else {"customers": [], "method": "not computed (no adapter)"}
            )
        return self.impact

    def out_customers(self) -> list[dict[str, Any]]:
        return [
            c
            for c in self.ensure_impact().get("customers", [])
            if c.get("customer_id") not in self.restored
        ]

    # -- step handlers
    def dispatch_crew(self, step: dict[str, Any]) -> None:
        x, y = self.site
        if self.crews is None or x is None or y is None:
            self.manual(
                step,
                "no crew roster/street graph" if self.crews is None else "incident not located",
            )
            return
        try:
            c = nearest_crew(
                self.crews.graph, self.crews.crews, x, y, self.utility, self.crews.speed_kmh
            )
        except Exception as exc:  # NotFoundError / InputError: say so in the plan
            self.manual(step, str(exc))
            return
        self.add(
            step,
            "dispatch",
            _txt(
                f"派遣{c['crew_id']}，沿街道 {c['distance_m']:.0f} 米，预计 {c['eta_min']:.0f} 分钟到达",
                f"Dispatch {c['crew_id']}: {c['distance_m']:.0f} m by street, ETA {c['eta_min']:.0f} min",
            ),
            [*self.cite_root, "rule:nearest_available_crew_by_street_distance"],
            crew=c,
        )

    def isolate(self, step: dict[str, Any]) -> None:
        self.ensure_ops()
        if not self.ops:
            self.manual(
                step,
                "no isolation capability" if not has(self.ad, "isolate") else "nothing to operate",
            )
            return
        for o in self.ops:
            verb = {
                "close": ("关闭", "Close"),
                "open": ("断开", "Open"),
                "deenergise": ("停电", "De-energise"),
            }.get(o.get("operation", "close"), ("操作", "Operate"))
            name = o.get("name") or o["asset_id"]
            self.add(
                step,
                "operate",
                _txt(f"{verb[0]} {name}", f"{verb[1]} {name}"),
                [*self.cite_root, f"capability:{self.utility}.isolate"],
                operation=o,
            )

    def notify_customers(self, step: dict[str, Any]) -> None:
        imp = self.ensure_impact()
        if imp.get("method", "").startswith("not computed"):
            self.manual(step, "no impact capability")
            return
        out = self.out_customers()
        crit = [c for c in out if c.get("critical")]
        names = "、".join(str(c.get("name") or c["customer_id"]) for c in crit[:10])
        self.add(
            step,
            "notify",
            _txt(
                f"通知 {len(out)} 户用户，其中重点单位 {len(crit)} 个：{names or '无'}",
                f"Notify {len(out)} customers, {len(crit)} critical sites: {names or 'none'}",
            ),
            [*self.cite_root, f"impact:{imp.get('method', 'adapter')}"],
            customer_ids=[c["customer_id"] for c in out],
            critical_sites=[c["customer_id"] for c in crit],
        )

    def alternative_supply(self, step: dict[str, Any]) -> None:
        if self.ensure_impact().get("method", "").startswith("not computed"):
            self.manual(step, "no impact capability")
            return
        own = OWN_FACILITIES.get(self.utility, frozenset())
        crit = [
            c
            for c in self.out_customers()
            if c.get("critical") and c.get("category", "") not in own
        ]
        zh, en = ALT_SUPPLY.get(self.utility, ("替代供应", "alternative supply"))
        if not crit:
            self.manual(step, "no critical site without supply")
            return
        for c in crit:
            name = c.get("name") or c["customer_id"]
            self.add(
                step,
                "alternative_supply",
                _txt(
                    f"派送{zh}至 {name}（{c.get('category', '')}）",
                    f"Send a {en} to {name} ({c.get('category', '')})",
                ),
                [
                    *self.cite_root,
                    f"impact:customer:{c['customer_id']}",
                    "rule:critical_site_alternative_supply",
                ],
                target_customer_id=c["customer_id"],
                category=c.get("category", ""),
                x_m=c.get("x_m"),
                y_m=c.get("y_m"),
            )

    def restore_via_ties(self, step: dict[str, Any]) -> None:
        if not has(self.ad, "restore_via_ties"):
            self.manual(step, "no tie restoration capability")
            return
        self.ensure_ops()
        res = self.ad.restore_via_ties(self.inc, self.ops) or {}
        self.restored |= set(res.get("restored_customer_ids", []))
        ops = res.get("operations", [])
        if not ops:
            self.manual(step, "no tie can restore the healthy sections")
            return
        for o in ops:
            name = o.get("name") or o["asset_id"]
            self.add(
                step,
                "operate",
                _txt(
                    f"合上 {name}（本步骤共恢复 {len(self.restored)} 户）",
                    f"Close {name} (this step restores {len(self.restored)} customers)",
                ),
                [*self.cite_root, f"capability:{self.utility}.restore_via_ties"],
                operation={**o, "utility": o.get("utility", self.utility)},
                restored_customer_ids=sorted(self.restored),
            )

    def hazard_zone(self, step: dict[str, Any]) -> None:
        if self.hazard is None and has(self.ad, "hazard_zone"):
            self.hazard = self.ad.hazard_zone(self.inc)
        if not self.hazard:
            self.manual(step, "no hazard-zone capability")
            return
        h = self.hazard
        self.add(
            step,
            "hazard_zone",
            _txt(
                f"以({h['x_m']:.0f}, {h['y_m']:.0f})为中心划定半径 {h['radius_m']:.0f} 米警戒区，禁止火源",
                f"Hazard zone radius {h['radius_m']:.0f} m around ({h['x_m']:.0f}, {h['y_m']:.0f}); no ignition sources",
            ),
            [*self.cite_root, f"capability:gas.hazard_zone:{h.get('method', '')}"],
            zone={k: h[k] for k in ("x_m", "y_m", "radius_m")},
        )

    def evacuate(self, step: dict[str, Any]) -> None:
        if self.hazard is None:
            self.hazard_zone(step) if has(self.ad, "hazard_zone") else None
        if not self.hazard:
            self.manual(step, "no hazard zone computed")
            return
        inside = self.hazard.get("customers", [])
        persons = self.hazard.get("persons", len(inside))
        self.add(
            step,
            "evacuate",
            _txt(
                f"疏散警戒区内 {len(inside)} 户（约 {persons} 人）",
                f"Evacuate {len(inside)} premises (about {persons} people) inside the zone",
            ),
            [*self.cite_root, f"hazard_zone:r={self.hazard['radius_m']}m"],
            customer_ids=[c["customer_id"] for c in inside],
            persons=persons,
        )

    def deenergise_cables(self, step: dict[str, Any]) -> None:
        targets: dict[str, list[str]] = {}
        for link in getattr(self.inc, "cascade", []):
            if (
                link.get("kind") in ("ignition_risk", "substation_flooding")
                and link.get("to_utility") == "power"
            ):
                targets.setdefault(link["to_asset"], []).extend(link.get("cites", []))
        if self.hazard is None and has(self.ad, "hazard_zone"):
            self.hazard = self.ad.hazard_zone(self.inc)
        hz = self.hazard or {}
        for a in hz.get("assets", []):
            if a.get("utility") == "power":
                targets.setdefault(a["asset_id"], []).append(f"hazard_zone:r={hz.get('radius_m')}m")
        if not targets:
            self.manual(step, "no power asset at risk")
            return
        for asset, cites in sorted(targets.items()):
            why = (
                "在警戒区外的开关操作"
                if any(
                    c.startswith(("hazard_zone", "dependency")) and "flooding" not in c
                    for c in cites
                )
                else "水淹前有序停运"
            )
            why_en = (
                "switch operated outside the hazard zone"
                if why.startswith("在")
                else "before the water reaches it"
            )
            self.add(
                step,
                "operate",
                _txt(f"对 {asset} 停电（{why}）", f"De-energise {asset} ({why_en})"),
                [*self.cite_root, *sorted(set(cites)), "rule:keep_ignition_sources_out"],
                operation={
                    "asset_id": asset,
                    "operation": "deenergise",
                    "utility": "power",
                    "operable": True,
                },
            )

    def restore(self, step: dict[str, Any]) -> None:
        names = "、".join(
            str(o.get("name") or o["asset_id"]) for o in self.ops if o.get("operation") == "close"
        )
        if names:
            self.add(
                step,
                "restore",
                _txt(f"{step['zh-CN']}：{names}", f"{step['en']}: {names}"),
                [f"plan:{self.plan['id']}#{step['id']}", f"capability:{self.utility}.isolate"],
            )
        else:
            self.manual(step)


def fill_plan(
    incident: Any,
    plan: dict[str, Any],
    adapter: Any,
    crews: CrewContext | None = None,
    utility: str | None = None,
    site: tuple[float | None, float | None] | None = None,
    impact_override: dict[str, Any] | None = None,
    cite_root: list[str] | None = None,
) -> dict[str, Any]:
    """Fill one plan; returns ``{"plan_id", "title", "basis", "actions", "impact", "hazard", "restored"}``."""
    f = _Filler(
        incident,
        plan,
        adapter,
        crews,
        utility or incident.utility,
        site or (incident.x_m, incident.y_m),
        impact_override,
        cite_root or _root_cites(incident),
    )
    for step in plan["steps"]:
        handler = getattr(f, step["action"], None)
        if handler is None:
            f.manual(step)
        else:
            handler(step)
    return {
        "plan_id": plan["id"],
        "title": plan["title"],
        "basis": plan.get("basis", ""),
        "file": plan.get("file", ""),
        "match": plan.get("match", {}),
        "actions": f.actions,
        "impact": f.impact or {},
        "hazard": f.hazard,
        "restored": sorted(f.restored),
        "operations": f.ops,
    }


def _root_cites(incident: Any) -> list[str]:
    loc = getattr(incident, "location", {}) or {}
    best = loc.get("best_candidate") or {}
    if best:
        return [f"evidence:{best.get('from')}", f"location:best_candidate:{best.get('asset_id')}"]
    ids = [e.evidence_id for e in getattr(incident, "evidence", [])][:5]
    return [f"location:{loc.get('method', 'unknown')}", *[f"evidence:{i}" for i in ids]]


def recommend(
    incident: Any,
    adapters: dict[str, Any],
    crews: CrewContext | None = None,
    plans: list[dict[str, Any]] | None = None,
    plan_kind: str | None = None,
) -> dict[str, Any]:
    """Retrieve and fill plans for the incident and its cascade; sets ``incident.plan/actions/impact``.

    The primary plan answers ``plan_kind`` (default ``incident.kind``; ``verify_<utility>`` for
    an incident still to verify); one extra plan is filled per cascade link kind with a plan
    (e.g. pumping station power loss), using the cascade's customers as its impact.
    """
    first = plan_kind or incident.kind
    kinds = [first, *[c["kind"] for c in incident.cascade]]
    matched = retrieve(incident.utility, kinds, plans)
    filled: list[dict[str, Any]] = []
    primary = next((p for p in matched if first in p["kinds"]), None)
    if primary is not None:
        filled.append(fill_plan(incident, primary, adapters.get(incident.utility), crews))
    done = {primary["id"]} if primary else set()
    for link in incident.cascade:
        plan = next(
            (p for p in matched if link["kind"] in p["kinds"] and p["id"] not in done), None
        )
        if plan is None:
            continue
        done.add(plan["id"])
        util = link["to_utility"] if plan["utility"] == link["to_utility"] else plan["utility"]
        imp = {"customers": link.get("customers") or [], "method": link.get("method", "cascade")}
        ad = adapters.get(util)
        pos = _asset_xy(ad, link["to_asset"]) or (incident.x_m, incident.y_m)
        p2 = copy.deepcopy(plan)
        p2["_cascade"] = True
        filled.append(
            fill_plan(
                incident,
                p2,
                ad,
                crews,
                utility=util,
                site=pos,
                impact_override=imp,
                cite_root=[*link.get("cites", []), f"cascade:{link['kind']}:{link['to_asset']}"],
            )
        )
    incident.plan = {
        "plans": [{k: v for k, v in f.items() if k not in ("actions",)} for f in filled],
        "retrieved": [p["id"] for p in matched],
    }
    incident.actions = [a for f in filled for a in f["actions"]]
    if filled:
        imp = filled[0]["impact"]
        restored = set(filled[0]["restored"])
        custs = imp.get("customers", [])
        still = [c for c in custs if c["customer_id"] not in restored]
        hh_all = imp.get(
            "households_out", sum(1 for c in custs if c.get("category", "household") == "household")
        )
        hh = (
            sum(1 for c in still if c.get("category", "household") == "household")
            if restored
            else hh_all
        )
        frac = float(imp.get("fraction_customers_out", 0.0) or 0.0)
        incident.impact = {
            **incident.impact,
            "customers_out": [c["customer_id"] for c in still],
            "customers_lost_at_onset": len(custs),
            "customers_restored_by_ties": len(restored),
            "households_out": hh,
            "fraction_customers_out": frac * len(still) / len(custs) if custs else frac,
            "critical_sites_out": sum(1 for c in still if c.get("critical")),
            "impact_method": imp.get("method", ""),
        }
        persons = [int(f["hazard"].get("persons", 0)) for f in filled if f.get("hazard")]
        if persons:
            incident.impact["evacuated"] = max(persons)
    return incident.plan


def _asset_xy(adapter: Any, asset_id: str) -> tuple[float, float] | None:
    if has(adapter, "asset_xy"):
        xy = adapter.asset_xy(asset_id)
        if xy:
            return float(xy[0]), float(xy[1])
    return None
