"""The scripted demo day: three incidents and the hotline calls they bring.

- 03:10 UTC a water main bursts next to a substation (flooding risk for power);
- 09:20 UTC gas leaks from a main and seeps into a power cable well;
- 15:40 UTC an MV line faults on the feeder that supplies the water pumping station, whose pumps
  stop (cascade into water) until the feeder is restored at 17:40.

Everything is chosen from the town's own tables (dependencies, sections), not hard-coded ids, so
the script follows the town if it is rebuilt. The day is a drill: its readings, meter events and
calls are published into the live engine, which does the detection
(:mod:`lifeline.scenarios.demo`, :mod:`lifeline.api.replay`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from lifeline.scenarios.events import BurstMain, Event, FeederFault, GasLeak

BURST_AT = pd.Timedelta(hours=3, minutes=10)
BURST_FOR = pd.Timedelta(hours=4)  # isolated by the crew after four hours
GAS_AT = pd.Timedelta(hours=9, minutes=20)
FAULT_AT = pd.Timedelta(hours=15, minutes=40)
FAULT_FOR = pd.Timedelta(hours=2)


def _burst_pipe(town: Any) -> str:
    """The water pipe next to a substation (flooding dependency) farthest from every water source
    (reservoirs and tanks, counted in links).

    A burst there floods the substation, and isolating it cuts a street, not the whole town.
    """
    import networkx as nx

    deps = town.dependencies
    pipes = deps.loc[deps["kind"] == "flooding", "depends_on_asset_id"].astype(str)
    g = nx.Graph(town.water.to_graph().to_undirected())
    sources = {*town.water.reservoir_name_list, *town.water.tank_name_list}
    hops = nx.multi_source_dijkstra_path_length(g, sources, weight=lambda u, v, d: 1)
    best, best_hops = "", -1
    for asset_id in pipes:
        link = town.water.get_link(asset_id.split(":")[-1])
        h = min(hops.get(link.start_node_name, 0), hops.get(link.end_node_name, 0))
        if h > best_hops:
            best, best_hops = link.name, h
    return best


def _leak_manhole(town: Any) -> str:
    """The power cable well with a methane detector that lies closest to a gas main."""
    deps = town.dependencies
    prox = deps[
        (deps["kind"] == "proximity")
        & deps["asset_id"].astype(str).str.startswith("power:manhole:")
    ]
    watched = set(
        town.sensors.loc[town.sensors["quantity"] == "methane_pct_lel", "asset_id"].astype(str)
    )
    prox = prox[prox["asset_id"].astype(str).isin(watched)].sort_values("distance_m")
    return str(prox["asset_id"].iloc[0])


def _station_feeder_line(town: Any) -> int:
    """An MV line in the switchable section that feeds the substation of the pumping station.

    The station hangs on an LV bus; its substation transformer's MV bus lies in an MV section
    whose loss trips the feeder breaker and de-energises the whole substation, station included.
    """
    import networkx as nx
    import pandapower.topology as top

    from lifeline.power.topology import build_sections

    net = town.power
    station = _station_bus(town)
    lv_side = nx.node_connected_component(top.create_nxgraph(net, include_trafos=False), station)
    trafo = net.trafo[net.trafo["lv_bus"].isin(lv_side)].iloc[0]
    g = build_sections(net)
    lines = g.section_lines[g.bus_section[int(trafo["hv_bus"])]]
    return int(sorted(lines)[0])


def _station_bus(town: Any) -> int:
    """The power bus feeding the water pumps (from the dependency table)."""
    for p in town.water.pump_name_list:
        bus = town.supply_bus(f"water:pump:{p}")
        if bus is not None:
            return bus
    raise ValueError("no water pump depends on a power bus")


def demo_events(town: Any, start: pd.Timestamp) -> list[Event]:
    """The three scripted events of the demo day starting at ``start`` (UTC midnight)."""
    start = pd.Timestamp(start)
    pipe = town.water.get_link(_burst_pipe(town))
    return [
        BurstMain(
            junction=pipe.start_node_name,
            start=start + BURST_AT,
            flow_m3h=40.0,
            end=start + BURST_AT + BURST_FOR,
        ),
        GasLeak(manhole=_leak_manhole(town), start=start + GAS_AT, leak_kg_s=0.02),
        FeederFault(
            line=_station_feeder_line(town),
            start=start + FAULT_AT,
            end=start + FAULT_AT + FAULT_FOR,
        ),
    ]


def day_complaints(
    town: Any, start: pd.Timestamp, seed: int = 0, meter_events: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The hotline tickets and app reports of the demo day: the calls each scripted event
    brings and two unrelated ones (see :func:`lifeline.scenarios.calls.event_complaints`;
    ``meter_events``: the day's, so that outage calls come from customers who lost supply)."""
    from lifeline.scenarios.calls import event_complaints

    return event_complaints(
        town,
        demo_events(town, start),
        start,
        seed=seed,
        unrelated=True,
        meter_events=meter_events,
    )
