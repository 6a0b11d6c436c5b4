"""The demo town's synthetic water network: two feeds, a looped trunk, DMAs fed from two sides,
valve segments that cut a few customers, service pressures, and the tower when the pumps stop."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest

SHARE = 0.05  # a segment closure may cut at most this share of the customers (trunk)


@pytest.fixture(scope="module")
def files(town: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("town_water")
    valves, customers = d / "valves.csv", d / "customers.csv"
    town.water_valves.to_csv(valves, index=False)
    c = town.customers
    pd.DataFrame(
        {
            "customer_id": c.customer_id,
            "node": c.water_asset_id.str.removeprefix("water:junction:"),
            "category": c.category,
            "critical": c.critical,
        }
    ).to_csv(customers, index=False)
    return valves, customers


def _demand_nodes(wn: Any) -> list[str]:
    return [
        n
        for n in wn.junction_name_list
        if any(d.base_value > 0 for d in wn.get_node(n).demand_timeseries_list)
    ]


def test_two_feeds_a_tower_and_a_looped_trunk(town: Any) -> None:
    wn = town.water
    assert wn.tank_name_list == ["T1"] and wn.reservoir_name_list == ["R1"]
    feeds = [wn.get_link(p) for p in ("PT1", "PT2")]
    assert {f.start_node_name for f in feeds} == {"WW"}
    e1, e2 = (f.end_node_name for f in feeds)
    g = nx.Graph()
    for _name, lk in wn.pipes():
        if "WW" not in (lk.start_node_name, lk.end_node_name):
            g.add_edge(lk.start_node_name, lk.end_node_name, length=lk.length)
    # two entries into the street network, far apart along the streets
    assert nx.shortest_path_length(g, e1, e2, weight="length") >= 400.0
    trunk = set(town.meta["water_trunk_pipes"])
    assert len(trunk) > 20
    tg = nx.Graph()
    for p in trunk:
        lk = wn.get_link(p)
        tg.add_edge(lk.start_node_name, lk.end_node_name)
    # with the two transmission mains the trunk is a ring: no single trunk pipe splits it
    for p in ("PT1", "PT2"):
        tg.add_edge(wn.get_link(p).start_node_name, wn.get_link(p).end_node_name)
    assert nx.is_connected(tg) and not list(nx.bridges(tg))
    dn = {p: wn.get_link(p).diameter for p in wn.pipe_name_list}
    assert min(dn[p] for p in trunk) > 0.149 > np.median([dn[p] for p in dn if p not in trunk])


def test_every_dma_has_two_metered_inlets_from_the_trunk(town: Any) -> None:
    from lifeline.datasets.water_town import run_water

    wn = copy.deepcopy(town.water)
    flow = run_water(wn).link["flowrate"]
    zone = town.assets.set_index("asset_id")["zone_id"].astype(str)
    sources = {"WW", *wn.reservoir_name_list, *wn.tank_name_list}

    def z(node: str) -> str:  # the station and the tower feed the DMAs: a zone of their own
        return "source" if node in sources else str(zone.get(f"water:junction:{node}", ""))

    s = town.sensors
    metered = set(s.loc[s.quantity == "flow_m3h", "asset_id"].str.removeprefix("water:pipe:"))
    trunk = set(town.meta["water_trunk_pipes"]) | {"PT1", "PT2", "PT3"}
    inlets: dict[str, set[str]] = {}
    for name in trunk:
        lk = wn.get_link(name)
        a, b = z(lk.start_node_name), z(lk.end_node_name)
        if a == b:
            continue
        assert name in metered  # every trunk crossing into a DMA is metered
        q = flow[name]
        if float(q.max()) > 1e-5:  # water enters b at some hour of the day
            inlets.setdefault(b, set()).add(name)
        if float(q.min()) < -1e-5:
            inlets.setdefault(a, set()).add(name)
    dmas = set(town.zones.loc[town.zones.kind == "dma", "zone_id"])
    assert len(dmas) >= 2
    assert all(len(inlets.get(d, ())) >= 2 for d in dmas), inlets


def test_trunk_segments_cut_few_customers(town: Any, files: tuple[Path, Path]) -> None:
    from lifeline.water.isolate import isolate, segments

    valves, customers = files
    seg = segments(town.water_inp_path, valves)
    trunk = set(town.meta["water_trunk_pipes"]) | {"PT1", "PT2", "PT3"}
    first: dict[int, str] = {}
    for i, name in enumerate(seg.links):
        if name in trunk:
            first.setdefault(int(seg.link_seg[i]), name)
    assert len(first) > 10
    n = len(town.customers)
    for pipe in first.values():
        res = isolate(town.water_inp_path, pipe, valves=valves, customers=customers)
        assert res["pdd_status"] == "solved"
        assert len(res["customers_losing_water"]) <= SHARE * n, pipe


def test_only_dead_end_branches_cut_more_than_a_few_percent(
    town: Any, files: tuple[Path, Path]
) -> None:
    from lifeline.water.isolate import isolate, segments

    valves, customers = files
    seg = segments(town.water_inp_path, valves)
    first: dict[int, str] = {}
    for i, name in enumerate(seg.links):
        if seg.link_kind[i] == "Pipe":
            first.setdefault(int(seg.link_seg[i]), name)
    n = len(town.customers)
    cut = []
    for pipe in first.values():
        res = isolate(town.water_inp_path, pipe, valves, customers, simulate=False)
        k = len(res["customers_losing_water"])
        cut.append(k)
        assert k <= SHARE * n or res["cut_off_unintended"], pipe
    assert len(cut) > 100 and np.median(cut) <= 0.01 * n


def test_pressures_within_service_at_peak_and_night(town: Any) -> None:
    from lifeline.datasets.water_town import run_water

    wn = copy.deepcopy(town.water)
    res = run_water(wn)
    p = res.node["pressure"][_demand_nodes(wn)]
    hours = (p.index / 3600).astype(int) % 24
    night, peak = p[(hours >= 2) & (hours < 5)], p[(hours >= 7) & (hours < 9)]
    for part in (night, peak):
        assert len(part) and float(part.min().min()) >= 20.0 and float(part.max().max()) <= 60.0
    assert float(night.mean().mean()) > float(peak.mean().mean())  # less headloss at night


def test_when_the_pumps_stop_the_tower_supplies_for_a_while(town: Any) -> None:
    from wntr.network.elements import LinkStatus

    from lifeline.datasets.water_town import run_water

    wn = copy.deepcopy(town.water)
    for p in wn.pump_name_list:
        wn.get_link(p).initial_status = LinkStatus.Closed
    res = run_water(wn, duration_s=6 * 3600)
    p = res.node["pressure"][_demand_nodes(wn)]
    level = res.node["pressure"]["T1"]
    hour1 = p[p.index <= 3600]
    assert float(hour1.min().min()) >= 20.0  # the tower holds the town in service at first
    assert float(level.iloc[-1]) < float(level.iloc[0])  # ... while it drains
    # PB1 (the bypass) only opens once the tower has run dry: the town then falls below service
    assert float(p.min(axis=1).min()) < 15.0
