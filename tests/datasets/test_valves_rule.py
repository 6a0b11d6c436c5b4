"""The gas and water valve rules on tiny purpose-made networks."""

from __future__ import annotations

import pandapipes as pps

from lifeline.datasets.gas_town import gas_valve_layer


def _net() -> pps.pandapipesNet:
    # station 0 -> trunk 0-1-2-3-4-5 (100 m pipes); branch at 2 -> 6-7 (100 m each); stub at 3 -> 8 (20 m)
    net = pps.create_empty_network(fluid="hgas")
    for _ in range(9):
        pps.create_junction(net, pn_bar=1.0, tfluid_k=283.15)
    net.junction["type"] = "junction"
    pps.create_ext_grid(net, 0, p_bar=1.0, t_k=283.15)
    for a, b, km in (
        (0, 1, 0.1),
        (1, 2, 0.1),
        (2, 3, 0.1),
        (3, 4, 0.1),
        (4, 5, 0.1),
        (2, 6, 0.1),
        (6, 7, 0.1),
        (3, 8, 0.02),
    ):
        pps.create_pipe_from_parameters(net, a, b, length_km=km, diameter_m=0.1)
    return net


def test_station_branch_and_spacing_valves() -> None:
    v = gas_valve_layer(_net())
    pairs = set(zip(v["pipe"], v["junction"], strict=True))
    assert (0, 0) in pairs  # station outlet
    assert (5, 2) in pairs and (2, 2) in pairs  # both branches leaving the branch point 2
    assert not any(p == 7 for p, _ in pairs)  # the 20 m stub gets no branch valve
    # no main run longer than the spacing without a valve: trunk 3-4-5 (after the valve at 2) gets one
    assert any(p in (3, 4) for p, _ in pairs)
    assert v.valve_id.is_unique


def _water_net() -> object:
    # reservoir R -> pumps -> WW; trunk WW-A-B-C-D (100 m pipes); at B a branch B-E1..E6 (6 x 100 m);
    # a 20 m dead-end stub C-S; D-B closes a loop through X (distribution, 2 x 60 m)
    import wntr

    wn = wntr.network.WaterNetworkModel()
    wn.add_reservoir("R", base_head=150.0, coordinates=(-20, 0))
    for i, n in enumerate(("WW", "A", "B", "C", "D")):
        wn.add_junction(n, elevation=100.0, coordinates=(100 * i, 0))
    for k in range(1, 7):
        wn.add_junction(f"E{k}", elevation=100.0, coordinates=(200, -100 * k))
    wn.add_junction("S", elevation=100.0, coordinates=(300, 20))
    wn.add_junction("X", elevation=100.0, coordinates=(300, 60))
    wn.add_pump("PU", "R", "WW", pump_type="POWER", pump_parameter=10.0)
    for name, a, b, length in (
        ("t0", "WW", "A", 100),
        ("t1", "A", "B", 100),
        ("t2", "B", "C", 100),
        ("t3", "C", "D", 100),
        ("s1", "C", "S", 20),
        ("x1", "D", "X", 60),
        ("x2", "X", "B", 60),
        *((f"e{k}", "B" if k == 1 else f"E{k - 1}", f"E{k}", 100) for k in range(1, 7)),
    ):
        wn.add_pipe(name, a, b, length=length, diameter=0.1, roughness=120)
    return wn


def test_water_valves_at_trunk_branches_and_by_spacing() -> None:
    from lifeline.datasets.water_town import MAIN_VALVE_SPACING_M, water_valve_layer

    v = water_valve_layer(_water_net(), trunk_pipes=["t1", "t2", "t3"])
    pairs = set(zip(v["node"], v["link"], strict=True))
    assert ("WW", "t0") in pairs  # station outlet
    # the trunk branch point B: a valve on every leg (both trunk directions and the branches)
    assert {("B", "t1"), ("B", "t2"), ("B", "e1"), ("B", "x2")} <= pairs
    assert ("C", "t2") in pairs and ("D", "t3") not in pairs  # D joins two pipes: no branch
    assert not any(link == "s1" for _, link in pairs)  # the 20 m stub is shut at the house
    # the 600 m branch gets line valves: no unvalved stretch longer than the spacing
    on_branch = sorted(int(link[1:]) for _, link in pairs if link.startswith("e"))
    stops = [0, *[k - 1 for k in on_branch[1:]], 6]
    assert max(b - a for a, b in zip(stops[:-1], stops[1:], strict=True)) * 100 <= (
        MAIN_VALVE_SPACING_M
    )
    assert v.valve.is_unique and v.valve.str.startswith("WV").all()
