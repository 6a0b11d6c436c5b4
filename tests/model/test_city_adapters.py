"""The utility adapters on the second city (Net3, CIGRE MV, a pandapipes network in
EPSG:32648): isolate a pipe, FLISR on a line, gas shut-off; results checked against the
network topology independently of the adapters."""

from __future__ import annotations

import json
from typing import Any

import networkx as nx
import pandas as pd
import pytest

from lifeline.respond.adapters import city_adapters


@pytest.fixture(scope="module")
def ads(ykt: Any) -> dict[str, Any]:
    return city_adapters(ykt)


def test_adapters_are_built_per_utility(ykt: Any, ads: dict[str, Any]) -> None:
    from lifeline.gas.adapter import GasAdapter
    from lifeline.power.adapter import PowerAdapter
    from lifeline.respond.adapters import town_adapters
    from lifeline.water.adapter import WaterAdapter

    assert isinstance(ads["water"], WaterAdapter)
    assert isinstance(ads["power"], PowerAdapter) and isinstance(ads["gas"], GasAdapter)
    assert town_adapters is city_adapters
    sim = ads["power"].simulate()
    assert sim["solved"] and 0.9 < sim["vm_pu_min"] < 1.0


def _segment_pipe(ykt: Any, ads: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A pipe whose isolation segment serves customers."""
    served = set(ykt.customers.water_asset_id)
    for p in sorted(ykt.water.pipe_name_list):
        res = ads["water"].isolation(f"water:pipe:{p}")
        if {f"water:junction:{j}" for j in res["segment"]["junctions"]} & served:
            return f"water:pipe:{p}", res
    raise AssertionError("no segment with customers")


def test_water_isolate_a_pipe(ykt: Any, ads: dict[str, Any]) -> None:
    w = ads["water"]
    pipe, res = _segment_pipe(ykt, ads)
    ops = w.isolate_asset(pipe)
    assert ops and all(o["operation"] == "close" for o in ops)
    assert all(o["asset_id"].startswith("water:valve:") and o["x_m"] is not None for o in ops)
    closed = {o["asset_id"].removeprefix("water:valve:") for o in ops}
    valves = ykt.water_valves.set_index("valve").loc[sorted(closed)]
    # independently: remove the closed valves' links at their nodes and the pipe's segment is cut
    wn = ykt.water
    g = nx.Graph()
    cut_at = set(zip(valves["link"], valves["node"], strict=True))
    for name in wn.link_name_list:
        lk = wn.get_link(name)
        for end in (lk.start_node_name, lk.end_node_name):
            if (name, end) not in cut_at:
                g.add_edge(("l", name), ("n", end))
    fed: set[Any] = set()
    for src in list(wn.reservoir_name_list) + list(wn.tank_name_list):
        fed |= nx.node_connected_component(g, ("n", src))
    dry = {n for n in wn.junction_name_list if ("n", n) not in fed}
    assert set(res["segment"]["junctions"]) <= dry
    imp = w.impact_of(ops)
    got = {c["customer_id"] for c in imp["customers"]}
    c = ykt.customers
    assert got == set(c[c.water_asset_id.isin({f"water:junction:{n}" for n in dry})].customer_id)
    assert got and imp["households_out"] <= len(got)


def test_power_flisr_on_a_line(ykt: Any, ads: dict[str, Any]) -> None:
    """A fault on CIGRE line 2 (bus 3 - bus 4): the feeder breaker trips, the faulted line is
    switched out, the breaker re-closes; the radial buses behind it (4, 5, 6) stay out."""
    p = ads["power"]
    net = ykt.power
    f = p.flisr([2])
    dev = net.switch.loc[f["device"]]
    assert dev["type"] == "CB" and dev["et"] == "l" and int(dev["bus"]) == 1
    plan = f["plan"]
    assert plan.feasible and plan.open
    assert all(int(net.switch.at[s, "element"]) == 2 for s in plan.open)
    assert f["device"] in plan.close
    ops = p.isolate_asset("power:line:2")
    assert [o["asset_id"] for o in ops] == [f"power:switch:{s}" for s in plan.open]
    out = p.impact_of([{"asset_id": o["asset_id"], "operation": "open"} for o in ops])
    behind = set(net.load.index[net.load.bus.isin([4, 5, 6])])
    c = ykt.customers
    want = set(c[c.power_asset_id.isin({f"power:load:{i}" for i in behind})].customer_id)
    assert {x["customer_id"] for x in out["customers"]} == want and want
    assert not set(plan.restored_loads) & behind


def test_gas_shut_off(ykt: Any, ads: dict[str, Any]) -> None:
    g = ads["gas"]
    net = ykt.gas
    mains = net.pipe[~net.pipe.name.str.startswith("service")]
    checked = 0
    for pi in mains.index:
        s = g.shut(f"gas:pipe:{pi}")
        if s["method"] != "valves" or not s["cut_junctions"]:
            continue
        ops = g.isolate_asset(f"gas:pipe:{pi}")
        assert {o["asset_id"] for o in ops} == {f"gas:valve:{v}" for v in s["valves"]}
        # independently: each closed valve separates its pipe from its junction; BFS from the
        # regulator station over what is left
        layer = ykt.gas_valves.set_index("valve_id")
        cut_at = {(int(layer.at[v, "pipe"]), int(layer.at[v, "junction"])) for v in s["valves"]}
        gg = nx.Graph()
        gg.add_nodes_from(("j", int(j)) for j in net.junction.index)
        for k, r in net.pipe.iterrows():
            for end in (int(r.from_junction), int(r.to_junction)):
                if (int(k), end) not in cut_at:
                    gg.add_edge(("p", int(k)), ("j", end))
        fed = nx.node_connected_component(gg, ("j", int(net.ext_grid.junction.iloc[0])))
        dry = {j for kind, j in gg.nodes if kind == "j" and (kind, j) not in fed}
        assert set(s["cut_junctions"]) == dry
        # the shut-off planner's own count of sinks cut agrees
        assert s["customers_cut"] == int(net.sink.junction.isin(dry).sum())
        c = ykt.customers
        want = set(
            c[c.gas_asset_id.isin({f"gas:junction:{j}" for j in s["cut_junctions"]})].customer_id
        )
        got = {x["customer_id"] for x in g.impact_of(ops)["customers"]}
        assert got == want
        checked += bool(want)
    assert checked >= 2


def _alarm(a: pd.DataFrame, aid: str, asset: str, minutes: int, utility: str, det: str) -> Any:
    from lifeline.incidents.evidence import Evidence

    r = a.loc[asset]
    loc = [
        {
            "asset_id": asset,
            "confidence": 0.8,
            "x_m": float(r.x_m),
            "y_m": float(r.y_m),
            "zone_id": r.zone_id,
        }
    ]
    return Evidence.from_alarm(
        {
            "alarm_id": aid,
            "ts": pd.Timestamp("2026-06-01T08:00Z") + pd.Timedelta(minutes=minutes),
            "utility": utility,
            "detector": det,
            "severity": 3,
            "location": json.dumps(loc),
        }
    )


def test_incidents_get_plans_on_the_second_city(ykt: Any) -> None:
    """A burst main, a gas leak next to a manhole and a line fault, assessed with the city's
    adapters, crews and grading table: plans pass the safety rules, grades come from the city's
    grading.yaml, incidents are routed to its districts."""
    from lifeline.incidents.correlate import Correlator
    from lifeline.incidents.grading import city_rules
    from lifeline.incidents.pipeline import assess
    from lifeline.respond.crews import city_street_graph
    from lifeline.respond.fill import CrewContext

    a = ykt.assets.set_index("asset_id")
    deps = ykt.dependencies
    gpipe = deps[deps.kind == "proximity"].depends_on_asset_id.iloc[0]
    cor = Correlator()
    cor.add(_alarm(a, "w1", "water:pipe:20", 0, "water", "pressure_drop"))
    cor.add(_alarm(a, "g1", gpipe, 30, "gas", "methane_manhole"))
    cor.add(_alarm(a, "p1", "power:line:2", 60, "power", "feeder_fault"))
    assert len(cor.incidents) == 3
    rules = city_rules(ykt)
    assert rules.origin.endswith("ykt/grading.yaml")
    crews = CrewContext(city_street_graph(ykt), ykt.crews)
    districts = set(ykt.districts.district_id)
    for inc in cor.incidents:
        assess(
            inc,
            city_adapters(ykt),
            deps,
            ykt.districts,
            crews,
            rules,
            extra_impact={"duration_h": 2},
        )
        assert all(r["passed"] for r in inc.safety), (inc.utility, inc.safety)
        assert inc.grading["rules"] == rules.origin
        assert inc.district_id in districts
        assert any(x["kind"] == "dispatch" for x in inc.actions)
        if inc.utility == "gas":
            assert any(x["kind"] == "evacuate" for x in inc.actions)
            assert any(c["kind"] == "ignition_risk" for c in inc.cascade)
