"""What the ``lifeline risk`` and ``lifeline sensors`` commands do, as plain functions.

Inputs are either a city (``--city DIR``, a city package; default the demo town: water, gas and
power with customers, valve layers and asset records) or an EPANET INP (water only; valves from a CSV
or a generated WNTR strategic N-1 layer; customers from a CSV or one per demand node; pipe ages
from an --assets CSV or a documented synthetic assignment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lifeline.errors import InputError
from lifeline.risk.criticality import Criticality
from lifeline.risk.executors import Executor


@dataclass
class Inputs:
    """Loaded inputs. ``crs`` is None for an INP without a declared CRS."""

    name: str
    wn: Any
    inp_path: Path
    water_valves: pd.DataFrame
    customers: pd.DataFrame | None
    crs: str | None
    town: Any = None
    records: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _town_records(assets: pd.DataFrame, utility: str) -> pd.DataFrame:
    a = assets[(assets.utility == utility) & (assets.kind == "pipe")]
    return pd.DataFrame(
        {
            "pipe": a.ref.astype(str).to_numpy(),
            "install_year": a.install_year.to_numpy(),
            "material": a.material.fillna("").astype(str).to_numpy(),
            "diameter_m": a.diameter_m.to_numpy(),
            "design_life_y": a.design_life_y.to_numpy(),
            "age_source": "town asset table",
        }
    )


def load_inputs(
    network: Path | None = None,
    valves: Path | None = None,
    customers: Path | None = None,
    assets: Path | None = None,
    crs: str | None = None,
    city: Path | None = None,
) -> Inputs:
    """Load a city (``network`` None: the package at ``city``, default the demo town) or an
    EPANET INP with optional CSVs."""
    from lifeline.risk.ageing import read_assets_csv

    if network is None:
        from lifeline.model.city import resolve_city

        town = resolve_city(city)
        if not town.has("water"):
            raise InputError(f"the city {town.name!r} has no water network", "--city")
        recs = {u: _town_records(town.assets, u) for u in ("water", "gas") if town.has(u)}
        if assets is not None:
            recs["water"] = read_assets_csv(str(assets))
        return Inputs(
            town.name if city is not None else "demo town",
            town.water,
            Path(town.water_inp_path),
            town.water_valves,
            town.customers,
            crs or town.crs,
            town=town,
            records=recs,
        )
    from lifeline.water.isolate import generate_valves, read_customers, read_valves
    from lifeline.water.network import load_network

    wn = load_network(network)
    notes = []
    if valves is not None:
        vl = read_valves(valves, wn)
    else:
        vl = generate_valves(wn)
        notes.append("valve layer: generated (WNTR strategic N-1, seed 0)")
    cust = None
    if customers is not None:
        c = read_customers(customers, set(wn.node_name_list))
        cust = pd.DataFrame(
            {
                "customer_id": c.customer_id,
                "critical": c.critical,
                "water_asset_id": "water:junction:" + c["node"].astype(str),
            }
        )
    else:
        notes.append("customers: one per demand node (no --customers file)")
    recs = {}
    if assets is not None:
        recs["water"] = read_assets_csv(str(assets))
    else:
        notes.append("pipe ages and materials: SYNTHETIC seeded assignment (no --assets file)")
    return Inputs(Path(network).stem, wn, Path(network), vl, cust, crs, records=recs, notes=notes)


def criticality(
    inp: Inputs,
    utilities: list[str],
    executor: Executor | None = None,
    hour_s: int | None = None,
    required_m: float = 20.0,
    chunks: int | None = None,
) -> dict[str, Criticality]:
    """Criticality tables per utility (``water``, ``gas``, ``power``; gas/power need the town)."""
    from lifeline.risk import criticality as crit
    from lifeline.risk.networks import from_pandapipes, from_wntr
    from lifeline.risk.pdd import PddSettings, peak_hour_s

    out: dict[str, Criticality] = {}
    for u in utilities:
        if u in ("gas", "power") and inp.town is None:
            raise InputError(
                f"{u} criticality needs a city (--city, or the demo town) — an INP file is water only",
                "--utility",
            )
        if u in ("gas", "power") and not inp.town.has(u):
            raise InputError(f"the city has no {u} network", "--utility")
        if u == "water":
            net = from_wntr(inp.wn, inp.water_valves, inp.customers)
            st = PddSettings(
                hour_s=peak_hour_s(inp.wn) if hour_s is None else hour_s, required_m=required_m
            )
            out[u] = crit.water(net, inp.inp_path.read_text(), executor, st, chunks)
        elif u == "gas":
            out[u] = crit.topological(
                from_pandapipes(inp.town.gas, inp.town.gas_valves, inp.customers)
            )
        elif u == "power":
            out[u] = crit.power(inp.town.power, inp.customers)
        else:
            raise InputError(f"unknown utility {u!r} (water, gas, power)", "--utility")
    return out


def rank(
    inp: Inputs, crits: dict[str, Criticality], year: int, critical_weight: float
) -> pd.DataFrame:
    """Ranked renewal list over the pipe utilities in ``crits`` (water, gas)."""
    from lifeline.risk.networks import from_pandapipes, from_wntr
    from lifeline.risk.rank import pipe_attributes, rank_pipes

    parts = []
    for u, c in crits.items():
        if u == "water":
            net = from_wntr(inp.wn, inp.water_valves, inp.customers)
        elif u == "gas":
            net = from_pandapipes(inp.town.gas, inp.town.gas_valves, inp.customers)
        else:
            continue
        parts.append(
            rank_pipes(pipe_attributes(net, inp.records.get(u)), c, year, critical_weight).drop(
                columns="rank"
            )
        )
    df = (
        pd.concat(parts, ignore_index=True)
        .sort_values("risk", ascending=False, kind="stable")
        .reset_index(drop=True)
    )
    df.insert(0, "rank", range(1, len(df) + 1))
    return df
