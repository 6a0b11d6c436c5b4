"""The power utility adapter of a city (DESIGN.md): the pandapower net, an AC power flow, the
line an incident is on, FLISR (isolate the faulted section, restore the rest through ties,
power-flow verified) and the customers cut by a set of operations.

The faulted section and the tripped device come from a ``lifeline.power.locate`` result in an
alarm's ``detail`` (``outage_device``, ``fault_section.lines``) when there is one; else from the
line nearest the incident, with its feeder breaker (the first line switch on the path from the
source) as the tripped device.
"""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd

from lifeline.respond.adapters import AdapterBase, customers_on, impact_summary, ref_of


def power_locate_result(incident: Any) -> dict[str, Any] | None:
    """The first alarm detail holding a ``lifeline.power.locate`` result (fault_section.lines)."""
    for e in incident.evidence:
        fs = e.detail.get("fault_section") if e.kind == "alarm" else None
        if isinstance(fs, dict) and fs.get("lines"):
            return e.detail  # type: ignore[no-any-return]
    return None


class PowerAdapter(AdapterBase):
    """Power capabilities on a city's pandapower net (sections, FLISR, topology).

    ``search`` bounds the FLISR search (default: up to 2 ties, no extra opens, 10 power flows),
    which keeps one plan to a few seconds on a joined MV+LV net.
    """

    utility = "power"
    element_kind = "line"

    def __init__(self, city: Any, inoperable: set[str] | None = None, search: Any = None) -> None:
        super().__init__(city, inoperable)
        self.search = search

    def flisr(
        self, lines: list[int], device: int | None = None, key: str | None = None
    ) -> dict[str, Any]:
        """FLISR for a fault on ``lines`` (pandapower indices) tripped by switch ``device``
        (default: the feeder breaker, the first line switch from the source to the faulted
        section). Memoised by ``key``."""
        k = ("flisr", key or ",".join(map(str, lines)))
        if k not in self._memo:
            from lifeline.power.restore import SearchParams, plan_restoration
            from lifeline.power.topology import build_sections, supply_tree

            net = self.city.power
            g = build_sections(net)
            tree = supply_tree(g)
            region = {g.line_section[x] for x in lines}
            if device is None:  # the feeder breaker: the first line switch from the source
                path = tree.path_switches(next(iter(region)))
                on_line = [sw for sw in path if str(net.switch.at[sw, "et"]) == "l"]
                device = on_line[0] if on_line else (path[0] if path else None)
            outage = set(tree.cut.get(device, frozenset())) if device is not None else set(region)
            outage |= region
            params = self.search or SearchParams(
                max_ties=2, max_extra_open=0, max_power_flows=10, time_budget_s=15.0
            )
            plan = plan_restoration(
                copy.deepcopy(net),
                g,
                outage,
                region,
                [device] if device is not None else [],
                params=params,
            )
            buses = sorted({int(b) for s in outage for b in g.section_buses.get(s, [])})
            self._memo[k] = {
                "line": f"power:line:{lines[0]}",
                "device": device,
                "plan": plan,
                "outage_loads": sorted(g.loads_of(outage)),
                "outage_buses": buses,
            }
        return self._memo[k]  # type: ignore[no-any-return]

    def _flisr(self, incident: Any) -> dict[str, Any]:
        located = power_locate_result(incident)
        if located is not None:  # lifeline.power.locate output carried by an alarm's detail
            lines = [int(x) for x in located["fault_section"]["lines"]]
            dev = located.get("outage_device")
            dev = dev[0] if isinstance(dev, list) else dev
            device = int(dev["index"]) if isinstance(dev, dict) else None
            return self.flisr(lines, device, key=incident.incident_id)
        line = self.locate(incident)
        return self.flisr([int(ref_of(line))], None, key=incident.incident_id)

    def _reported(self, incident: Any) -> pd.DataFrame:
        ids = {c for e in incident.evidence for c in e.customers()}
        return self.city.customers[self.city.customers.customer_id.isin(ids)]

    def isolate_asset(self, asset_id: str) -> list[dict[str, Any]]:
        """Open the switches that isolate the section of line ``asset_id`` (verified plan)."""
        return [
            self._op(f"power:switch:{s}", "open", f"开关/switch {s}")
            for s in self.flisr([int(ref_of(asset_id))])["plan"].open
        ]

    def affected_assets(self, incident: Any) -> list[str]:
        """Faulted line and every bus that lost supply when the protection tripped (an LV
        outage: the reporting customers' loads)."""
        if incident.kind == "power_lv_outage":
            return sorted(set(self._reported(incident).power_asset_id.astype(str)))
        f = self._flisr(incident)
        return [f["line"], *[f"power:bus:{b}" for b in f["outage_buses"]]]

    def isolate(self, incident: Any) -> list[dict[str, Any]]:
        """Open the switches that isolate the faulted section (verified plan)."""
        return [
            self._op(f"power:switch:{s}", "open", f"开关/switch {s}")
            for s in self._flisr(incident)["plan"].open
        ]

    def impact(self, incident: Any, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """Customers on loads that lost supply when the protection tripped; for an LV outage
        (no MV evidence) only the customers who reported it (its extent is not known yet)."""
        if incident.kind == "power_lv_outage":
            rep = self._reported(incident)
            return impact_summary(
                customers_on(rep, "customer_id", set(rep.customer_id)),
                len(self.city.customers),
                "reporting customers (LV outage; extent not known)",
            )
        loads = {f"power:load:{i}" for i in self._flisr(incident)["outage_loads"]}
        return self._impact("power_asset_id", loads, "pandapower sections (tripped device cut set)")

    def restore_via_ties(self, incident: Any, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """Switches closed by the verified FLISR plan (re-closed upstream devices and ties) and
        the customers they restore."""
        plan = self._flisr(incident)["plan"]
        if not plan.feasible:
            return {"operations": [], "restored_customer_ids": [], "checks": {"feasible": False}}
        ties = set(plan.detail.get("ties", []))
        ops = [
            self._op(
                f"power:switch:{s}",
                "close",
                f"联络开关/tie {s}" if s in ties else f"重合/re-close {s}",
            )
            for s in plan.close
        ]
        loads = {f"power:load:{i}" for i in plan.restored_loads}
        custs = self.city.customers[self.city.customers.power_asset_id.isin(loads)]
        return {
            "operations": ops,
            "restored_customer_ids": custs.customer_id.astype(str).tolist(),
            "checks": {
                "min_vm_pu": plan.min_vm_pu,
                "max_loading_percent": plan.max_loading_percent,
                "feasible": plan.feasible,
            },
        }

    def impact_of(self, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """Customers on buses left unsupplied once the switches opened by ``operations`` are
        open (closed ones closed) and de-energised elements are out (pandapower topology)."""

        net = copy.deepcopy(self.city.power)
        for o in operations:
            parts = o["asset_id"].split(":")
            if len(parts) != 3 or not parts[2].lstrip("-").isdigit():
                continue
            kind, idx, op = parts[1], int(parts[2]), o.get("operation")
            if kind == "switch" and op in ("open", "close") and idx in net.switch.index:
                net.switch.loc[idx, "closed"] = op == "close"
            elif kind in ("trafo", "line", "bus") and op in ("deenergise", "open"):
                getattr(net, kind).loc[idx, "in_service"] = False
        return self._outage(net, "pandapower topology after the operations")

    def outage_impact(self, asset_ids: list[str]) -> dict[str, Any]:
        """Customers cut when the given power elements (trafo, line, bus, manhole cable) go out."""
        net = copy.deepcopy(self.city.power)
        for a in asset_ids:
            parts = a.split(":")
            if len(parts) == 3 and parts[1] in ("trafo", "line", "bus") and parts[2].isdigit():
                getattr(net, parts[1]).loc[int(parts[2]), "in_service"] = False
        return self._outage(net, "pandapower topology (unsupplied buses)")

    def _outage(self, net: Any, method: str) -> dict[str, Any]:
        import pandapower.topology as top

        dead = set(top.unsupplied_buses(net))
        loads = {
            f"power:load:{i}"
            for i, b in zip(net.load.index, net.load.bus, strict=True)
            if int(b) in dead
        }
        return self._impact("power_asset_id", loads, method)
