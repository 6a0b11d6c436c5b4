"""The gas utility adapter of a city (DESIGN.md): the pandapipes net, a steady pipeflow, the pipe
a leak is on, the shut-off valves (:func:`lifeline.gas.shutoff.shut_off` on the city's gas valve
layer), the customers cut by a set of operations (junctions no longer connected to a regulator
station; customers are linked to ``gas:junction:<index>``) and the hazard zone (HyRAM radius).
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import numpy as np

from lifeline.respond.adapters import AdapterBase, customers_on, ref_of

#: persons per household used for evacuation counts (demo assumption)
PERSONS_PER_HOUSEHOLD = 2.3


def reduce_network(pn: Any) -> SimpleNamespace:
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


class GasAdapter(AdapterBase):
    """Gas capabilities on a city's pandapipes net and valve layer; hazard radius from HyRAM."""

    utility = "gas"
    element_kind = "pipe"
    #: power assets that can ignite gas (besides manholes of any owner)
    HAZARD_KINDS = ("manhole", "trafo", "switch")

    def __init__(
        self, city: Any, inoperable: set[str] | None = None, leak_rate_kg_s: float = 0.005
    ) -> None:
        super().__init__(city, inoperable)
        self.leak_rate_kg_s = leak_rate_kg_s
        self._net = reduce_network(city.gas)
        # a city built without a valve layer has none
        gv = city.gas_valves.reindex(columns=["valve_id", "pipe", "junction"])
        self._layer = {
            str(v): (int(p), int(j))
            for v, p, j in zip(gv["valve_id"], gv["pipe"], gv["junction"], strict=True)
        }

    # ---- isolate ----------------------------------------------------------------------------
    def shut(self, pipe_asset_id: str) -> dict[str, Any]:
        """The :func:`lifeline.gas.shutoff.shut_off` result for a leak on a pipe (memoised),
        with the junctions it cuts off (``cut_junctions``)."""
        key = ("shut", pipe_asset_id)
        if key not in self._memo:
            from lifeline.gas.shutoff import shut_off

            pidx = int(ref_of(pipe_asset_id))
            i = int(np.flatnonzero(self._net.pipe == pidx)[0])
            res = shut_off(self._net, int(self._net.pipe_from[i]), pidx, self.city.gas_valves)  # type: ignore[arg-type]
            res["pipe_asset_id"] = pipe_asset_id
            res["cut_junctions"] = self.cut_junctions(*self._closure(self._ops(res)))
            self._memo[key] = res
        return self._memo[key]  # type: ignore[no-any-return]

    def _shut(self, incident: Any) -> dict[str, Any]:
        key = ("pipe", incident.incident_id)
        if key not in self._memo:
            self._memo[key] = self.locate(incident)
        return self.shut(self._memo[key])

    def _ops(self, s: dict[str, Any]) -> list[dict[str, Any]]:
        if s["method"] == "squeeze_off":
            pipe = s["pipe_asset_id"]
            return [self._op(pipe, "close", f"夹管/squeeze-off pipe {ref_of(pipe)}")]
        return [
            self._op(
                f"gas:valve:{v}" if not v.startswith("valve:") else f"gas:{v}",
                "close",
                f"阀门/valve {v}",
            )
            for v in s["valves"]
        ]

    def isolate_asset(self, asset_id: str) -> list[dict[str, Any]]:
        """Close the shut-off valves around pipe ``asset_id`` (or squeeze it off)."""
        return self._ops(self.shut(asset_id))

    def affected_assets(self, incident: Any) -> list[str]:
        """The leaking pipe and the isolated pipes (for proximity dependencies)."""
        s = self._shut(incident)
        rest = sorted({f"gas:pipe:{p}" for p in s["pipes_isolated"]} - {s["pipe_asset_id"]})
        return [s["pipe_asset_id"], *rest]

    def isolate(self, incident: Any) -> list[dict[str, Any]]:
        """Close the shut-off valves (or squeeze off the pipe when no valve bounds it)."""
        return self._ops(self._shut(incident))

    # ---- impact -----------------------------------------------------------------------------
    def cut_junctions(
        self,
        removed_pipes: set[int] = frozenset(),  # type: ignore[assignment]
        cut_ends: set[tuple[int, int]] = frozenset(),  # type: ignore[assignment]
    ) -> list[int]:
        """Junctions not connected to any supply once ``removed_pipes`` are out and each pipe of
        ``cut_ends`` (pipe, junction) is separated from that junction (a closed line valve)."""
        import networkx as nx

        n = self._net
        g = nx.Graph()
        g.add_nodes_from(("j", int(j)) for j in n.junction)
        shut = {int(p) for p, op in zip(n.pvalve_pipe, n.pvalve_opened, strict=True) if not op}
        for p, a, b, ok in zip(n.pipe, n.pipe_from, n.pipe_to, n.pipe_in_service, strict=True):
            p = int(p)
            if not ok or p in removed_pipes or p in shut:
                continue
            for end in (int(a), int(b)):
                if (p, end) not in cut_ends:
                    g.add_edge(("p", p), ("j", end))
        for a, b, op in zip(n.valve_from, n.valve_to, n.valve_opened, strict=True):
            if op:
                g.add_edge(("j", int(a)), ("j", int(b)))
        fed: set[Any] = set()
        for s in n.supply_junction:
            if ("j", int(s)) not in fed:
                fed |= nx.node_connected_component(g, ("j", int(s)))
        return sorted(int(j) for j in n.junction if ("j", int(j)) not in fed)

    def _customer_ids(self, junctions: list[int]) -> set[str]:
        """Customer asset ids on ``junctions``: ``gas:junction:<j>`` and the older
        ``gas:sink:<i>`` of the sinks there."""
        js = set(junctions)
        ids = {f"gas:junction:{j}" for j in js}
        sink = self.city.gas.sink
        ids |= {
            f"gas:sink:{i}" for i, j in zip(sink.index, sink.junction, strict=True) if int(j) in js
        }
        return ids

    def impact(self, incident: Any, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """Customers on junctions disconnected from every supply once the shut-off valves are
        closed (or the pipe squeezed off)."""
        return self._impact(
            "gas_asset_id",
            self._customer_ids(self._shut(incident)["cut_junctions"]),
            "gas network connectivity after shut-off",
        )

    def impact_of(self, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """Customers cut off once the valves closed by ``operations`` are closed and the pipes
        closed (squeezed off) are out."""
        cut = self.cut_junctions(*self._closure(operations))
        return self._impact(
            "gas_asset_id",
            self._customer_ids(cut),
            f"gas network connectivity: {len(cut)} junction(s) without supply",
        )

    def _closure(self, operations: list[dict[str, Any]]) -> tuple[set[int], set[tuple[int, int]]]:
        """(pipes out, (pipe, junction) ends cut by closed valves) of ``operations``."""
        removed: set[int] = set()
        cut_ends: set[tuple[int, int]] = set()
        for o in operations:
            if o.get("operation") != "close":
                continue
            aid = str(o["asset_id"])
            if aid.startswith("gas:pipe:"):
                removed.add(int(ref_of(aid)))
            elif aid.startswith("gas:valve:valve:"):  # a pandapipes valve element on a pipe
                k = int(ref_of(aid))
                hit = np.flatnonzero(self._net.pvalve == k)
                if len(hit):
                    cut_ends.add(
                        (int(self._net.pvalve_pipe[hit[0]]), int(self._net.pvalve_junction[hit[0]]))
                    )
            elif aid.startswith("gas:valve:"):
                pj = self._layer.get(aid.removeprefix("gas:valve:"))
                if pj:
                    cut_ends.add(pj)
        return removed, cut_ends

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
        ignition = (a.kind == "manhole") | ((a.utility == "power") & a.kind.isin(self.HAZARD_KINDS))
        inside = a[ignition & (np.hypot(a.x_m - x, a.y_m - y) <= r)]
        c = self.city.customers
        cin = c[np.hypot(c.x_m - x, c.y_m - y) <= r]
        custs = customers_on(cin, "customer_id", set(cin.customer_id))
        return {
            "x_m": x,
            "y_m": y,
            "radius_m": r,
            "assets": [
                {
                    "asset_id": str(r_.asset_id),
                    "utility": str(r_.utility),
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
