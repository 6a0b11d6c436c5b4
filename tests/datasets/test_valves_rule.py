"""The gas valve rule on a tiny purpose-made pandapipes network."""

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
