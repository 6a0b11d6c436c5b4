"""Response adapters over the demo town (``lifeline.datasets.town.Town``) and the utility models.

* :class:`WaterTownAdapter` — isolation valves, segment and pressure-driven low service from
  :func:`lifeline.water.isolate.isolate` (WNTR); pumps-off cascade by a WNTR pressure-driven run.
* :class:`PowerTownAdapter` — FLISR on the pandapower net (:mod:`lifeline.power.topology`,
  :func:`lifeline.power.restore.plan_restoration`, power-flow verified); element outages by
  pandapower topology (unsupplied buses).
* :class:`GasTownAdapter` — shut-off valves (:func:`lifeline.gas.shutoff.shut_off` on the
  town's gas valve layer), customers cut by connectivity, hazard radius from HyRAM
  (:func:`lifeline.gas.hazard.hazard_radius`) with the assets and customers inside it.
* :func:`street_graph_from_pipes` and :func:`default_crews` for dispatch.

Everything is computed on demand and memoised per incident id.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict, deque
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from lifeline.respond.crews import default_crews, street_graph_from_pipes

__all__ = [
    "GasTownAdapter",
    "PowerTownAdapter",
    "WaterTownAdapter",
    "default_crews",
    "street_graph_from_pipes",
    "town_adapters",
]

#: persons per household used for evacuation counts (demo assumption)
PERSONS_PER_HOUSEHOLD = 2.3


def _ref(asset_id: str) -> str:
    return asset_id.rsplit(":", 1)[-1]


def _customers(customers: pd.DataFrame, col: str, asset_ids: set[str]) -> list[dict[str, Any]]:
    sel = customers[customers[col].isin(asset_ids)]
    return [
        {
            "customer_id": str(r.customer_id),
            "name": str(r.name),
            "category": str(r.category),
            "critical": bool(r.critical),
            "x_m": float(r.x_m),
            "y_m": float(r.y_m),
        }
        for r in sel.itertuples(index=False)
    ]


def _impact(customers: list[dict[str, Any]], total: int, method: str) -> dict[str, Any]:
    hh = sum(1 for c in customers if c["category"] == "household")
    return {
        "customers": customers,
        "households_out": hh,
        "fraction_customers_out": len(customers) / total if total else 0.0,
        "method": method,
    }


class _Base:
    utility = ""

    def __init__(self, town: Any, inoperable: set[str] | None = None) -> None:
        self.town = town
        self.assets = town.assets
        self._xy = {
            a: (float(x), float(y))
            for a, x, y in zip(self.assets.asset_id, self.assets.x_m, self.assets.y_m, strict=True)
        }
        self.inoperable = set(inoperable or ())
        self._memo: dict[tuple[str, str], Any] = {}

    def asset_xy(self, asset_id: str) -> tuple[float, float] | None:
        """Position of an asset (m)."""
        return self._xy.get(asset_id)

    def inoperable_assets(self) -> set[str]:
        """Assets marked inoperable (from the constructor)."""
        return set(self.inoperable)

    def _nearest(self, incident: Any, kind: str) -> str:
        best = (incident.location or {}).get("best_candidate") or {}
        aid = str(best.get("asset_id") or "")
        if aid.startswith(f"{self.utility}:{kind}:"):
            return aid
        for e in incident.evidence:
            for a in e.asset_ids:
                if a.startswith(f"{self.utility}:{kind}:"):
                    return a
        sel = self.assets[(self.assets.utility == self.utility) & (self.assets.kind == kind)]
        d = np.hypot(
            sel.x_m.to_numpy() - float(incident.x_m), sel.y_m.to_numpy() - float(incident.y_m)
        )
        return str(sel.asset_id.iloc[int(np.argmin(d))])

    def _op(self, asset_id: str, operation: str, name: str = "") -> dict[str, Any]:
        x, y = self._xy.get(asset_id, (None, None))
        return {
            "asset_id": asset_id,
            "operation": operation,
            "name": name or _ref(asset_id),
            "x_m": x,
            "y_m": y,
            "operable": asset_id not in self.inoperable,
            "utility": self.utility,
        }


class WaterTownAdapter(_Base):
    """Water capabilities on the town's WNTR model and valve layer."""

    utility = "water"

    def __init__(
        self, town: Any, inoperable: set[str] | None = None, work_dir: Path | None = None
    ) -> None:
        super().__init__(town, inoperable)
        from lifeline.config import get_settings

        self.work_dir = work_dir or get_settings().cache_dir / "respond"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.valves_csv = self.work_dir / "town_water_valves.csv"
        town.water_valves.to_csv(self.valves_csv, index=False)

    def _iso(self, incident: Any) -> dict[str, Any]:
        key = ("iso", incident.incident_id)
        if key not in self._memo:
            from lifeline.water.isolate import isolate

            pipe = self._nearest(incident, "pipe")
            res = isolate(
                self.town.water_inp_path, _ref(pipe), valves=self.valves_csv, simulate=True
            )
            res["pipe_asset_id"] = pipe
            self._memo[key] = res
        return self._memo[key]

    def affected_assets(self, incident: Any) -> list[str]:
        """The burst pipe (for flooding dependencies)."""
        return [self._iso(incident)["pipe_asset_id"]]

    def isolate(self, incident: Any) -> list[dict[str, Any]]:
        """Close the valves bounding the burst pipe's segment."""
        return [
            self._op(f"water:valve:{v['valve']}", "close", f"阀门/valve {v['valve']}")
            for v in self._iso(incident)["valves_to_close"]
        ]

    def impact(self, incident: Any, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """Customers on the segment, on parts cut off, and on junctions below service (PDD)."""
        res = self._iso(incident)
        nodes = (
            set(res["segment"]["junctions"])
            | set(res["cut_off_unintended"])
            | {d["node"] for d in res.get("low_service_pdd", [])}
        )
        custs = _customers(
            self.town.customers, "water_asset_id", {f"water:junction:{n}" for n in nodes}
        )
        return _impact(
            custs, len(self.town.customers), "WNTR segment isolation + pressure-driven low service"
        )

    def outage_impact(
        self, asset_ids: list[str], min_pressure_m: float = 10.0, hours: int = 6
    ) -> dict[str, Any]:
        """Customers who lose water when the pumps in ``asset_ids`` stop.

        Junctions no longer connected to a reservoir or tank lose supply outright; if any source
        remains, a WNTR pressure-driven run over ``hours`` finds junctions below
        ``min_pressure_m`` among the connected ones.
        """
        import networkx as nx
        import wntr

        from lifeline.water.network import load_network

        pumps = [_ref(a) for a in asset_ids if a.startswith("water:pump:")]
        if not pumps:
            return _impact([], len(self.town.customers), "no pump affected")
        wn = load_network(self.town.water_inp_path)
        g = nx.Graph()
        g.add_nodes_from(wn.node_name_list)
        for name, link in wn.links():
            if name not in pumps and link.initial_status != wntr.network.LinkStatus.Closed:
                g.add_edge(link.start_node_name, link.end_node_name)
        sources = set(wn.reservoir_name_list) | set(wn.tank_name_list)
        fed: set[str] = set()
        for comp in nx.connected_components(g):
            if comp & sources:
                fed |= comp
        low = [n for n in wn.junction_name_list if n not in fed]
        method = f"WNTR network topology: pumps {pumps} off, {len(low)} junctions without a source"
        if fed - sources:
            for p in pumps:
                wn.get_link(p).initial_status = wntr.network.LinkStatus.Closed
            wn.options.time.duration = hours * 3600
            wn.options.hydraulic.demand_model = "PDD"
            wn.options.hydraulic.unbalanced = "CONTINUE"  # a depressurised network may not balance
            wn.options.hydraulic.unbalanced_value = 10
            try:
                res = wntr.sim.EpanetSimulator(wn).run_sim(
                    file_prefix=str(self.work_dir / "pumps_off")
                )
                pr = res.node["pressure"][[n for n in wn.junction_name_list if n in fed]]
                low += [n for n in pr.columns if float(pr[n].min()) < min_pressure_m]
                method += f"; WNTR PDD over {hours} h, pressure < {min_pressure_m} m"
            except Exception as exc:  # a disconnected model may not solve: keep the topology result
                method += f"; PDD run failed ({type(exc).__name__})"
        custs = _customers(
            self.town.customers, "water_asset_id", {f"water:junction:{n}" for n in low}
        )
        return _impact(custs, len(self.town.customers), method)


def _power_locate_result(incident: Any) -> dict[str, Any] | None:
    """The first alarm detail holding a ``lifeline.power.locate`` result (fault_section.lines)."""
    for e in incident.evidence:
        fs = e.detail.get("fault_section") if e.kind == "alarm" else None
        if isinstance(fs, dict) and fs.get("lines"):
            return e.detail
    return None


class PowerTownAdapter(_Base):
    """Power capabilities on the town's pandapower net (sections, FLISR, topology).

    The faulted section and the tripped device come from a ``lifeline.power.locate`` result in
    an alarm's ``detail`` (``outage_device``, ``fault_section.lines``) when there is one; else
    from the line nearest the incident, with its feeder-head switch as the tripped device.

    ``search`` bounds the FLISR search (default: up to 2 ties, no extra opens, 10 power flows),
    which keeps one plan to a few seconds on the joined MV+LV town net.
    """

    utility = "power"

    def __init__(self, town: Any, inoperable: set[str] | None = None, search: Any = None) -> None:
        super().__init__(town, inoperable)
        self.search = search

    def _flisr(self, incident: Any) -> dict[str, Any]:
        key = ("flisr", incident.incident_id)
        if key not in self._memo:
            from lifeline.power.restore import SearchParams, plan_restoration
            from lifeline.power.topology import build_sections, supply_tree

            net = self.town.power
            g = build_sections(net)
            tree = supply_tree(g)
            located = _power_locate_result(incident)
            if located is not None:  # lifeline.power.locate output carried by an alarm's detail
                lines = [int(x) for x in located["fault_section"]["lines"]]
                line = f"power:line:{lines[0]}"
                region = {g.line_section[x] for x in lines}
                dev = located.get("outage_device")
                dev = dev[0] if isinstance(dev, list) else dev
                device = int(dev["index"]) if isinstance(dev, dict) else None
            else:  # nearest line to the incident; the feeder-head switch is taken as tripped
                line = self._nearest(incident, "line")
                region = {g.line_section[int(_ref(line))]}
                path = tree.path_switches(next(iter(region)))
                device = path[0] if path else None
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
            self._memo[key] = {
                "line": line,
                "device": device,
                "plan": plan,
                "outage_loads": sorted(g.loads_of(outage)),
                "outage_buses": buses,
            }
        return self._memo[key]

    def _reported(self, incident: Any) -> pd.DataFrame:
        ids = {e.customer_id for e in incident.evidence if e.customer_id}
        return self.town.customers[self.town.customers.customer_id.isin(ids)]

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
            return _impact(
                _customers(rep, "customer_id", set(rep.customer_id)),
                len(self.town.customers),
                "reporting customers (LV outage; extent not known)",
            )
        loads = {f"power:load:{i}" for i in self._flisr(incident)["outage_loads"]}
        return _impact(
            _customers(self.town.customers, "power_asset_id", loads),
            len(self.town.customers),
            "pandapower sections (tripped device cut set)",
        )

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
        custs = self.town.customers[self.town.customers.power_asset_id.isin(loads)]
        return {
            "operations": ops,
            "restored_customer_ids": custs.customer_id.astype(str).tolist(),
            "checks": {
                "min_vm_pu": plan.min_vm_pu,
                "max_loading_percent": plan.max_loading_percent,
                "feasible": plan.feasible,
            },
        }

    def outage_impact(self, asset_ids: list[str]) -> dict[str, Any]:
        """Customers cut when the given power elements (trafo, line, bus, manhole cable) go out."""
        import pandapower.topology as top

        net = copy.deepcopy(self.town.power)
        for a in asset_ids:
            parts = a.split(":")
            if len(parts) == 3 and parts[1] in ("trafo", "line", "bus") and parts[2].isdigit():
                getattr(net, parts[1]).loc[int(parts[2]), "in_service"] = False
        dead = set(top.unsupplied_buses(net))
        loads = {
            f"power:load:{i}"
            for i, b in zip(net.load.index, net.load.bus, strict=True)
            if int(b) in dead
        }
        return _impact(
            _customers(self.town.customers, "power_asset_id", loads),
            len(self.town.customers),
            "pandapower topology (unsupplied buses)",
        )


class GasTownAdapter(_Base):
    """Gas capabilities on the town's pandapipes net and valve layer; hazard radius from HyRAM."""

    utility = "gas"
    HAZARD_KINDS = ("manhole", "trafo", "switch")

    def __init__(
        self, town: Any, inoperable: set[str] | None = None, leak_rate_kg_s: float = 0.005
    ) -> None:
        super().__init__(town, inoperable)
        self.leak_rate_kg_s = leak_rate_kg_s
        self._net = self._reduce(town.gas)

    @staticmethod
    def _reduce(pn: Any) -> SimpleNamespace:
        """The topology arrays :func:`lifeline.gas.shutoff.shut_off` reads (no sensitivities)."""
        from lifeline.gas import network as gnet

        jx, jy = gnet._junction_xy(pn)
        z, zb = np.zeros(0, int), np.zeros(0, bool)
        try:
            v, va, vb, vo, pv, pvp, pvj, pvo = gnet._valves(pn)
        except Exception:  # no usable valve table
            v, va, vb, vo, pv, pvp, pvj, pvo = z, z, z, zb, z, z, z, zb
        sinks = pn.sink.junction.to_numpy(dtype=int)
        main = ~np.isin(pn.junction.index.to_numpy(dtype=int), sinks)
        return SimpleNamespace(
            junction=pn.junction.index.to_numpy(dtype=int),
            jx=jx,
            jy=jy,
            candidate=main,
            pipe=pn.pipe.index.to_numpy(dtype=int),
            pipe_from=pn.pipe.from_junction.to_numpy(dtype=int),
            pipe_to=pn.pipe.to_junction.to_numpy(dtype=int),
            pipe_in_service=pn.pipe.in_service.to_numpy(dtype=bool),
            valve=v,
            valve_from=va,
            valve_to=vb,
            valve_opened=vo,
            pvalve=pv,
            pvalve_pipe=pvp,
            pvalve_junction=pvj,
            pvalve_opened=pvo,
            sink_junction=sinks,
            supply_junction=pn.ext_grid.junction.to_numpy(dtype=int),
            supply_p_bar=float(pn.ext_grid.p_bar.iloc[0]) if len(pn.ext_grid) else 0.1,
        )

    def _shut(self, incident: Any) -> dict[str, Any]:
        key = ("shut", incident.incident_id)
        if key not in self._memo:
            from lifeline.gas.shutoff import shut_off

            pipe = self._nearest(incident, "pipe")
            pidx = int(_ref(pipe))
            i = int(np.flatnonzero(self._net.pipe == pidx)[0])
            res = shut_off(self._net, int(self._net.pipe_from[i]), pidx, self.town.gas_valves)  # type: ignore[arg-type]
            res["pipe_asset_id"] = pipe
            res["cut_sinks"] = self._cut_sinks(set(res["pipes_isolated"]))
            self._memo[key] = res
        return self._memo[key]

    def _cut_sinks(self, removed: set[int]) -> list[int]:
        n = self._net
        adj: dict[int, list[int]] = defaultdict(list)
        for p, a, b, ok in zip(n.pipe, n.pipe_from, n.pipe_to, n.pipe_in_service, strict=True):
            if ok and int(p) not in removed:
                adj[int(a)].append(int(b))
                adj[int(b)].append(int(a))
        seen = {int(s) for s in n.supply_junction}
        q = deque(seen)
        while q:
            u = q.popleft()
            for w in adj[u]:
                if w not in seen:
                    seen.add(w)
                    q.append(w)
        return [i for i, j in enumerate(n.sink_junction) if int(j) not in seen]

    def affected_assets(self, incident: Any) -> list[str]:
        """The leaking pipe and the isolated pipes (for proximity dependencies)."""
        s = self._shut(incident)
        rest = sorted({f"gas:pipe:{p}" for p in s["pipes_isolated"]} - {s["pipe_asset_id"]})
        return [s["pipe_asset_id"], *rest]

    def isolate(self, incident: Any) -> list[dict[str, Any]]:
        """Close the shut-off valves (or squeeze off the pipe when no valve bounds it)."""
        s = self._shut(incident)
        if s["method"] == "squeeze_off":
            return [
                self._op(
                    s["pipe_asset_id"], "close", f"夹管/squeeze-off pipe {_ref(s['pipe_asset_id'])}"
                )
            ]
        return [
            self._op(
                f"gas:valve:{v}" if not v.startswith("valve:") else f"gas:{v}",
                "close",
                f"阀门/valve {v}",
            )
            for v in s["valves"]
        ]

    def impact(self, incident: Any, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """Customers on sinks disconnected from every supply once the segment is closed."""
        sinks = {f"gas:sink:{i}" for i in self._shut(incident)["cut_sinks"]}
        return _impact(
            _customers(self.town.customers, "gas_asset_id", sinks),
            len(self.town.customers),
            "gas network connectivity after shut-off",
        )

    def hazard_zone(self, incident: Any) -> dict[str, Any]:
        """HyRAM hazard radius at the network pressure, widened to cover methane seen in wells."""
        from lifeline.gas.hazard import hazard_radius

        x, y = float(incident.x_m), float(incident.y_m)
        seen = [
            math.hypot(float(e.x_m) - x, float(e.y_m) - y)
            for e in incident.evidence
            if e.kind == "alarm" and e.located
        ]
        rate = next(
            (
                float(e.detail["rate_kg_per_s"])
                for e in incident.evidence
                if isinstance(e.detail.get("rate_kg_per_s"), int | float)
            ),
            self.leak_rate_kg_s,
        )
        r, dist = hazard_radius(rate, self._net.supply_p_bar, max(seen, default=0.0))
        a = self.assets
        inside = a[
            (a.utility == "power")
            & a.kind.isin(self.HAZARD_KINDS)
            & (np.hypot(a.x_m - x, a.y_m - y) <= r)
        ]
        c = self.town.customers
        cin = c[np.hypot(c.x_m - x, c.y_m - y) <= r]
        custs = _customers(cin, "customer_id", set(cin.customer_id))
        return {
            "x_m": x,
            "y_m": y,
            "radius_m": r,
            "assets": [
                {
                    "asset_id": str(r_.asset_id),
                    "utility": "power",
                    "kind": str(r_.kind),
                    "x_m": float(r_.x_m),
                    "y_m": float(r_.y_m),
                }
                for r_ in inside.itertuples(index=False)
            ],
            "customers": custs,
            "persons": int(
                round(PERSONS_PER_HOUSEHOLD * sum(1 for k in custs if k["category"] == "household"))
            ),
            "method": f"HyRAM radius at {self._net.supply_p_bar:.2f} bar, leak {rate} kg/s",
            "distances_m": dist,
        }


def town_adapters(town: Any, inoperable: set[str] | None = None) -> dict[str, Any]:
    """The three adapters for ``town`` keyed by utility."""
    return {
        "water": WaterTownAdapter(town, inoperable),
        "power": PowerTownAdapter(town, inoperable),
        "gas": GasTownAdapter(town, inoperable),
    }
