"""The drainage utility adapter of a city: the SWMM model, the predicted flood area of an
incident, the roads to close, and who and what is in the water.

* **flood area**: the nodes the warning detector's SWMM forecast predicts to pond (the alarm
  detail's ``flood_nodes``, from :func:`lifeline.drainage.ponding.flood_area`) and the
  waterlogging points warned; observed depth gauges above their threshold count too;
* **isolate** = close the roads: every warned waterlogging point (an underpass, a low street)
  and every other node predicted to pond more than a lane's 15 cm;
* **impact**: customers and critical sites within ``radius_m`` of a node of the flood area
  (their entrances and basements take water first), and other utilities' assets there
  (transformers, cable wells, pumps) for the warnings to them;
* plan steps of the drainage plans (:meth:`fill_step`): mobile pump trucks to the predicted
  points, starting and checking the pump stations, warning the other utilities' assets.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lifeline.respond.adapters import AdapterBase, customers_on, impact_summary

LANE_M = 0.15


class DrainageAdapter(AdapterBase):
    """Drainage capabilities on a city's SWMM model and its waterlogging points."""

    utility = "drainage"
    element_kind = "junction"

    def __init__(
        self, city: Any, inoperable: set[str] | None = None, radius_m: float = 50.0
    ) -> None:
        super().__init__(city, inoperable)
        self.radius_m = radius_m
        pts = getattr(city, "waterlogging_points", None)
        self.points = (
            {str(r.node): r._asdict() for r in pts.itertuples(index=False)}
            if pts is not None and len(pts)
            else {}
        )

    # ---- the flood area ----------------------------------------------------------------------
    def flood_area(self, incident: Any) -> list[dict[str, Any]]:
        """Nodes predicted (or observed) to pond, deepest first: ``{"node", "asset_id",
        "peak_m", "x_m", "y_m", "point_id"?}``."""
        nodes: dict[str, dict[str, Any]] = {}
        for e in incident.evidence:
            if e.kind != "alarm":
                continue
            d = e.detail or {}
            for f in d.get("flood_nodes", []) or []:
                n = str(f.get("node"))
                if n not in nodes or nodes[n]["peak_m"] < float(f.get("peak_m") or 0):
                    nodes[n] = {"node": n, "peak_m": float(f.get("peak_m") or 0.0)}
            if d.get("node") and d.get("point_id"):
                n = str(d["node"])
                peak = max(
                    float(d.get("expected_peak_m") or 0.0), float(d.get("observed_m") or 0.0)
                )
                if n not in nodes or nodes[n]["peak_m"] < peak:
                    nodes[n] = {"node": n, "peak_m": peak}
                nodes[n]["point_id"] = d["point_id"]
        out = []
        for n, rec in nodes.items():
            aid = f"drainage:node:{n}"
            x, y = self._xy.get(aid, (None, None))
            p = self.points.get(n)
            out.append(
                {
                    **rec,
                    "asset_id": aid,
                    "x_m": x,
                    "y_m": y,
                    **(
                        {"point_id": p["point_id"], "name": p["name"], "name_zh": p["name_zh"]}
                        if p
                        else {}
                    ),
                }
            )
        return sorted(out, key=lambda r: (-r["peak_m"], r["node"]))

    def affected_assets(self, incident: Any) -> list[str]:
        """The nodes of the flood area (what the cascade table's ``flooding`` rows depend on)."""
        return [f["asset_id"] for f in self.flood_area(incident)]

    def _near(self, incident: Any) -> tuple[np.ndarray, np.ndarray]:
        area = [f for f in self.flood_area(incident) if f["x_m"] is not None]
        xy = np.array([[f["x_m"], f["y_m"]] for f in area], dtype=float).reshape(-1, 2)
        return xy, np.array([f["peak_m"] for f in area], dtype=float)

    def isolation_area(self, incident: Any) -> dict[str, Any]:
        """Nothing is taken out of service by a waterlogging plan (roads are closed, nobody's
        supply is cut): no isolation area. The map draws the predicted flood area from the
        warnings instead (``GET /api/drainage/points``)."""
        return {
            "utility": "drainage",
            "assets": [],
            "method": "none: the predicted flood area is the waterlogging map layer",
        }

    # ---- isolate: close the roads ------------------------------------------------------------
    def isolate(self, incident: Any) -> list[dict[str, Any]]:
        """Close every warned point's road and every node predicted to pond over 15 cm."""
        ops = []
        for f in self.flood_area(incident):
            if f.get("point_id") or f["peak_m"] >= LANE_M:
                name = (
                    f"{f.get('name_zh') or f['node']}/{f.get('name') or f['node']}"
                    if f.get("point_id")
                    else f"{f['node']}号检查井路段/street at manhole {f['node']}"
                )
                op = self._op(f["asset_id"], "close", f"{name} ({f['peak_m']:.2f} m)")
                op["kind"] = "road_closure"
                op["peak_m"] = f["peak_m"]
                ops.append(op)
        return ops

    # ---- impact ------------------------------------------------------------------------------
    def impact(self, incident: Any, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """Customers within ``radius_m`` of the flood area (module doc)."""
        xy, _ = self._near(incident)
        c = self.city.customers
        if not len(xy) or not len(c):
            return impact_summary([], len(c), "drainage flood area (SWMM forecast): empty")
        cx, cy = c.x_m.to_numpy(float), c.y_m.to_numpy(float)
        d = np.min(np.hypot(cx[:, None] - xy[None, :, 0], cy[:, None] - xy[None, :, 1]), axis=1)
        ids = set(c.customer_id[d <= self.radius_m].astype(str))
        out = impact_summary(
            customers_on(c.assign(_id=c.customer_id.astype(str)), "_id", ids),
            len(c),
            f"drainage flood area (SWMM forecast; customers within {self.radius_m:.0f} m)",
        )
        out["households_out"] = 0  # warned, not cut off
        out["supply_lost"] = False
        area = self.flood_area(incident)
        warned = [f for f in area if f.get("point_id")]
        out["grading_fields"] = {
            "max_ponding_m": round(max((f["peak_m"] for f in warned), default=0.0), 3),
            "waterlogging_points": len(warned),
            "critical_sites_in_flood_area": sum(1 for c in out["customers"] if c["critical"]),
        }
        return out

    def assets_at_risk(self, incident: Any) -> list[dict[str, Any]]:
        """Other utilities' assets (transformers, cable wells, pumps, regulators) within
        ``radius_m`` of the flood area."""
        xy, peak = self._near(incident)
        a = self.assets
        sel = a[
            (a.utility != "drainage")
            & a.kind.isin(["trafo", "manhole", "pump", "regulator", "tank", "reservoir"])
        ]
        if not len(xy) or not len(sel):
            return []
        d = np.hypot(
            sel.x_m.to_numpy(float)[:, None] - xy[None, :, 0],
            sel.y_m.to_numpy(float)[:, None] - xy[None, :, 1],
        )
        k = np.argmin(d, axis=1)
        dm = d[np.arange(len(sel)), k]
        out = []
        for i in np.flatnonzero(dm <= self.radius_m):
            r = sel.iloc[int(i)]
            out.append(
                {
                    "asset_id": str(r.asset_id),
                    "utility": str(r.utility),
                    "kind": str(r.kind),
                    "distance_m": round(float(dm[i]), 1),
                    "peak_m": round(float(peak[k[i]]), 3),
                }
            )
        return sorted(out, key=lambda r: (r["distance_m"], r["asset_id"]))

    # ---- drainage plan steps -----------------------------------------------------------------
    def fill_step(self, step: dict[str, Any], incident: Any) -> list[dict[str, Any]] | None:
        """Actions for the drainage plan steps ``pump_trucks``, ``check_pumps`` and
        ``warn_assets`` (None for other steps): dicts with ``kind``, ``text`` (zh-CN, en),
        ``cites`` and extra fields."""
        action = step["action"]
        if action == "pump_trucks":
            out = []
            for f in self.flood_area(incident):
                if not f.get("point_id"):
                    continue
                n = max(1, int(np.ceil(f["peak_m"] / 0.3)))
                name = f.get("name_zh") or f["node"]
                out.append(
                    {
                        "kind": "pump_truck",
                        "text": {
                            "zh-CN": f"派 {n} 台移动泵车到 {name}（预计积水 {f['peak_m']:.2f} 米）",
                            "en": f"Send {n} mobile pump truck(s) to {f.get('name') or f['node']} "
                            f"(predicted ponding {f['peak_m']:.2f} m)",
                        },
                        "cites": [f"forecast:flood_node:{f['node']}", "rule:one_truck_per_0.3m"],
                        "target_asset_id": f["asset_id"],
                        "trucks": n,
                        "x_m": f["x_m"],
                        "y_m": f["y_m"],
                    }
                )
            return out
        if action == "check_pumps":
            return [
                {
                    "kind": "pump_station",
                    "text": {
                        "zh-CN": f"启动并检查泵 {p}（集水井 {w}），备用泵就位",
                        "en": f"Start and check pump {p} (wet well {w}); standby pump ready",
                    },
                    "cites": [f"network:drainage:pump:{p}"],
                    "target_asset_id": f"drainage:conduit:{p}",
                }
                for p, w in self._pumps()
            ]
        if action == "warn_assets":
            return [
                {
                    "kind": "warn_utility",
                    "text": {
                        "zh-CN": f"通知{_UTIL_ZH.get(a['utility'], a['utility'])}单位：{a['asset_id']}"
                        f"（{a['distance_m']:.0f} 米内预计积水 {a['peak_m']:.2f} 米）",
                        "en": f"Warn {a['utility']}: {a['asset_id']} ({a['peak_m']:.2f} m of "
                        f"water predicted within {a['distance_m']:.0f} m)",
                    },
                    "cites": [f"flood_area:r={self.radius_m:.0f}m", f"asset:{a['asset_id']}"],
                    "target_asset_id": a["asset_id"],
                    "to_utility": a["utility"],
                }
                for a in self.assets_at_risk(incident)
            ]
        return None

    def _pumps(self) -> list[tuple[str, str]]:
        from lifeline.drainage.model import _sections

        text = self.city.drainage_inp_path.read_text(encoding="utf-8", errors="replace")
        return [(r[0], r[1]) for r in _sections(text).get("PUMPS", []) if len(r) >= 3]


_UTIL_ZH = {"power": "供电", "telecom": "通信", "water": "供水", "gas": "燃气"}
