"""Solve checks and exports of the demo town (used by ``lifeline town`` and the tests)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd

from lifeline.datasets.town import Town


def solve_all(town: Town) -> dict[str, dict[str, Any]]:
    """Solve each network once (on copies) and report whether it solved and its key figures.

    power: AC power flow (min/max bus voltage, pu); gas: steady pipeflow (min pressure, bar gauge);
    water: 24 h EPANET pressure-driven run (min/max junction pressure at demand nodes, m).
    """
    from lifeline.datasets.gas_town import solve_gas
    from lifeline.datasets.power_town import solve_power
    from lifeline.datasets.water_town import run_water
    from lifeline.errors import NetworkModelError

    out: dict[str, dict[str, Any]] = {}
    try:
        net = copy.deepcopy(town.power)
        solve_power(net)
        out["power"] = {
            "solved": True,
            "vm_pu_min": float(net.res_bus.vm_pu.min()),
            "vm_pu_max": float(net.res_bus.vm_pu.max()),
        }
    except NetworkModelError as exc:
        out["power"] = {"solved": False, "error": str(exc)}
    try:
        g = copy.deepcopy(town.gas)
        solve_gas(g)
        out["gas"] = {
            "solved": True,
            "p_bar_min": float(g.res_junction.p_bar.min()),
            "p_bar_max": float(g.res_junction.p_bar.max()),
        }
    except NetworkModelError as exc:
        out["gas"] = {"solved": False, "error": str(exc)}
    try:
        wn = copy.deepcopy(town.water)
        res = run_water(wn)
        dem_nodes = [
            n
            for n in wn.junction_name_list
            if any(d.base_value > 0 for d in wn.get_node(n).demand_timeseries_list)
        ]
        p = res.node["pressure"][dem_nodes]
        out["water"] = {
            "solved": True,
            "pressure_m_min": float(p.min().min()),
            "pressure_m_max": float(p.max().max()),
            "demand_nodes": len(dem_nodes),
        }
    except NetworkModelError as exc:
        out["water"] = {"solved": False, "error": str(exc)}
    return out


def export_town(town: Town, out: Path) -> list[Path]:
    """Write the town's models and tables to directory ``out``; return the files written.

    water.inp (EPANET 2.2, PDD), power.json (pandapower), gas.json (pandapipes, metres), and CSVs:
    customers, sensors, assets, dependencies, zones, districts, water_valves (valve,node,link),
    gas_valves (valve_id,pipe,junction), water_customers (customer_id,node,category,critical),
    gas_customers (customer_id,junction,category,critical).
    """
    import pandapipes as pps
    import pandapower as pp
    import wntr

    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    wntr.network.write_inpfile(town.water, str(out / "water.inp"), version=2.2, units="LPS")
    pp.to_json(town.power, str(out / "power.json"))
    pps.to_json(town.gas, str(out / "gas.json"))
    files += [out / "water.inp", out / "power.json", out / "gas.json"]
    for name in ("customers", "sensors", "assets", "dependencies", "zones", "districts"):
        getattr(town, name).to_csv(out / f"{name}.csv", index=False)
        files.append(out / f"{name}.csv")
    town.water_valves[["valve", "node", "link"]].to_csv(out / "water_valves.csv", index=False)
    town.gas_valves[["valve_id", "pipe", "junction"]].to_csv(out / "gas_valves.csv", index=False)
    c = town.customers
    wc = pd.DataFrame(
        {
            "customer_id": c.customer_id,
            "node": c.water_asset_id.str.removeprefix("water:junction:"),
            "category": c.category,
            "critical": c.critical,
        }
    )
    wc.to_csv(out / "water_customers.csv", index=False)
    gc = c[c.gas_asset_id.fillna("") != ""]
    sink = gc.gas_asset_id.str.removeprefix("gas:sink:").astype(int)
    gcus = pd.DataFrame(
        {
            "customer_id": gc.customer_id,
            "junction": town.gas.sink.loc[sink, "junction"].to_numpy(),
            "category": gc.category,
            "critical": gc.critical,
        }
    )
    gcus.to_csv(out / "gas_customers.csv", index=False)
    files += [
        out / "water_valves.csv",
        out / "gas_valves.csv",
        out / "water_customers.csv",
        out / "gas_customers.csv",
    ]
    return files
