"""The water utility adapter of a city (DESIGN.md): the EPANET model, a pressure-driven solve,
the pipe an incident is on, the valves that isolate it, and the customers cut by a set of
operations.

* isolation: valve segments of the city's valve layer and pressure-driven low service on the
  closed network (:func:`lifeline.water.isolate.isolate`, EPANET toolkit);
* impact of operations: the nodes no longer connected to a reservoir or tank once the given
  valves (and pipes) are closed (valve-layer segments);
* pumps off (cascade from a power outage): nodes without a source, then a WNTR pressure-driven
  run for the rest.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from lifeline.respond.adapters import AdapterBase, ref_of


class WaterAdapter(AdapterBase):
    """Water capabilities on a city's WNTR model and valve layer."""

    utility = "water"
    element_kind = "pipe"

    def __init__(
        self, city: Any, inoperable: set[str] | None = None, work_dir: Path | None = None
    ) -> None:
        super().__init__(city, inoperable)
        from lifeline.config import get_settings

        self.work_dir = work_dir or get_settings().cache_dir / "respond"
        self.work_dir.mkdir(parents=True, exist_ok=True)
        # a city built without a valve layer has none (then no isolation by valves)
        text = city.water_valves.reindex(columns=["valve", "node", "link"]).to_csv(index=False)
        key = hashlib.sha1(text.encode()).hexdigest()[:12]
        self.valves_csv = self.work_dir / f"water_valves_{key}.csv"
        if not self.valves_csv.is_file():
            tmp = self.valves_csv.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.replace(self.valves_csv)

    # ---- isolate ----------------------------------------------------------------------------
    def isolation(self, pipe_asset_id: str) -> dict[str, Any]:
        """The :func:`lifeline.water.isolate.isolate` result for a pipe (memoised)."""
        key = ("iso", pipe_asset_id)
        if key not in self._memo:
            from lifeline.water.isolate import isolate

            res = isolate(
                self.city.water_inp_path,
                ref_of(pipe_asset_id),
                valves=self.valves_csv,
                simulate=True,
            )
            res["pipe_asset_id"] = pipe_asset_id
            self._memo[key] = res
        return self._memo[key]  # type: ignore[no-any-return]

    def _iso(self, incident: Any) -> dict[str, Any]:
        key = ("pipe", incident.incident_id)
        if key not in self._memo:
            self._memo[key] = self.locate(incident)
        return self.isolation(self._memo[key])

    def isolate_asset(self, asset_id: str) -> list[dict[str, Any]]:
        """Close the valves bounding the segment of pipe ``asset_id``."""
        return [
            self._op(f"water:valve:{v['valve']}", "close", f"阀门/valve {v['valve']}")
            for v in self.isolation(asset_id)["valves_to_close"]
        ]

    def affected_assets(self, incident: Any) -> list[str]:
        """The burst pipe (for flooding dependencies)."""
        return [self._iso(incident)["pipe_asset_id"]]

    def isolate(self, incident: Any) -> list[dict[str, Any]]:
        """Close the valves bounding the burst pipe's segment."""
        return self.isolate_asset(self._iso(incident)["pipe_asset_id"])

    def isolation_area(self, incident: Any) -> dict[str, Any]:
        """The pipes of the isolated segment (what the dashboard draws for the incident)."""
        seg = self._iso(incident).get("segment") or {}
        ids = [f"water:pipe:{p}" for p in seg.get("pipes", [])]
        return {"utility": "water", "assets": ids, "method": "isolated segment (WNTR)"}

    # ---- impact -----------------------------------------------------------------------------
    def impact(self, incident: Any, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """Customers on the segment, on parts cut off, and on junctions below service (PDD)."""
        res = self._iso(incident)
        nodes = (
            set(res["segment"]["junctions"])
            | set(res["cut_off_unintended"])
            | {d["node"] for d in res.get("low_service_pdd", [])}
        )
        return self._impact(
            "water_asset_id",
            {f"water:junction:{n}" for n in nodes},
            "WNTR segment isolation + pressure-driven low service",
        )

    def impact_of(self, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """Customers on nodes left without a source (reservoir or tank) once the valves and
        pipes closed by ``operations`` are closed (topology of the valve layer)."""
        from lifeline.water.isolate import _components, segments

        seg = segments(self.city.water_inp_path, self.valves_csv)
        closed = {
            ref_of(o["asset_id"])
            for o in operations
            if o.get("operation") == "close" and o["asset_id"].startswith("water:valve:")
        }
        shut_links = {
            ref_of(o["asset_id"])
            for o in operations
            if o.get("operation") == "close"
            and o["asset_id"].startswith(("water:pipe:", "water:pump:"))
        }
        nidx = {n: i for i, n in enumerate(seg.nodes)}
        lidx = {n: i for i, n in enumerate(seg.links)}
        cut_at = {(lidx[v["link"]], nidx[v["node"]]) for v in seg.valves if v["valve"] in closed}
        nn = len(seg.nodes)
        a, b = [], []
        for li, (u, w) in enumerate(seg.link_ends):
            if seg.links[li] in shut_links:
                continue
            for x in (int(u), int(w)):
                if (li, x) not in cut_at:
                    a.append(nn + li)
                    b.append(x)
        lab = _components(nn + len(seg.links), np.array(a, dtype=int), np.array(b, dtype=int))
        fed = {lab[s] for s in seg.sources}
        dry = {seg.nodes[i] for i in range(nn) if lab[i] not in fed}
        return self._impact(
            "water_asset_id",
            {f"water:junction:{n}" for n in dry},
            f"valve-layer topology: {len(closed)} valve(s) closed, {len(dry)} node(s) without a source",
        )

    def outage_impact(
        self, asset_ids: list[str], min_pressure_m: float = 10.0, hours: int = 6
    ) -> dict[str, Any]:
        """Customers who lose water when the pumps in ``asset_ids`` stop.

        Junctions no longer connected to a reservoir or tank lose supply outright; if any source
        remains, a WNTR pressure-driven run over ``hours`` finds junctions below
        ``min_pressure_m`` among the connected ones.
        """
        pumps = sorted(ref_of(a) for a in asset_ids if a.startswith("water:pump:"))
        if not pumps:
            return self._impact("water_asset_id", set(), "no pump affected")
        # a property of the network, not of an incident: computed once per set of pumps
        key = ("pumps_off", tuple(pumps), min_pressure_m, hours)
        cache = self.__dict__.setdefault("_network_memo", {})
        if key not in cache:
            cache[key] = self._pumps_off(pumps, min_pressure_m, hours)
        low, method = cache[key]
        return self._impact("water_asset_id", {f"water:junction:{n}" for n in low}, method)

    def _pumps_off(
        self, pumps: list[str], min_pressure_m: float, hours: int
    ) -> tuple[list[str], str]:
        import tempfile

        import networkx as nx
        import wntr

        wn = wntr.network.WaterNetworkModel(str(self.city.water_inp_path))
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
                with tempfile.TemporaryDirectory() as tmp:  # processes must not share files
                    res = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=f"{tmp}/pumps_off")
                pr = res.node["pressure"][[n for n in wn.junction_name_list if n in fed]]
                low += [n for n in pr.columns if float(pr[n].min()) < min_pressure_m]
                method += f"; WNTR PDD over {hours} h, pressure < {min_pressure_m} m"
            except Exception as exc:  # a disconnected model may not solve: keep the topology result
                method += f"; PDD run failed ({type(exc).__name__})"
        return low, method
