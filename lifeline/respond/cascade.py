"""Cascades across utilities, from the town's dependency table (``schema.DEPENDENCY``).

* power out → dependent assets with ``kind == "supply"`` (water pumping station, electric gas
  equipment) stop: ``pumping_station_power_loss`` (water) / ``gas_equipment_power_loss``; the
  affected water customers come from the water adapter's ``outage_impact`` (a simulation).
* gas leak → power assets with a ``proximity`` dependency on the leaking gas assets, or inside
  the hazard zone: ``ignition_risk`` (recommend de-energising the cable).
* water burst → assets with a ``flooding`` dependency on the burst pipe: ``substation_flooding``
  (power at risk; power adapter ``outage_impact``).
* waterlogging (drainage) → assets with a ``flooding`` dependency on a node of the predicted
  flood area (a waterlogging point): ``substation_flooding`` for a transformer,
  ``cable_well_flooding`` for a cable well (power/telecom at risk).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from lifeline.respond.adapters import has


def _impact_summary(imp: dict[str, Any] | None) -> dict[str, Any]:
    if not imp:
        return {
            "customers_affected": None,
            "critical_sites": [],
            "method": "not computed (no adapter)",
        }
    custs = imp.get("customers", [])
    return {
        "customers_affected": len(custs),
        "critical_sites": [
            {
                "customer_id": c.get("customer_id"),
                "name": c.get("name", ""),
                "category": c.get("category", ""),
            }
            for c in custs
            if c.get("critical")
        ],
        "customers": custs,
        "method": imp.get("method", ""),
    }


def cascade_chain(
    incident: Any,
    dependencies: pd.DataFrame,
    affected_assets: list[str],
    adapters: dict[str, Any],
    hazard: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Cascade links for an incident whose own utility has ``affected_assets`` out or leaking.

    Dependants of one kind on the same failed asset (e.g. both pumps of a station on one bus)
    form one link (``to_assets``) with one impact computation.

    Each link: ``{"kind", "from_asset", "from_utility", "to_asset", "to_assets", "to_utility", "dependency",
    "customers_affected", "critical_sites", "cites"}``.
    """
    links: list[dict[str, Any]] = []
    if dependencies is None or dependencies.empty:
        return links
    deps = dependencies.to_dict("records")
    affected = set(affected_assets)
    util = incident.utility
    seen: set[tuple[str, str]] = set()
    groups: dict[tuple[str, str, str], dict[str, Any]] = {}
    for d in deps:
        src, dst = str(d["depends_on_asset_id"]), str(d["asset_id"])
        kind = str(d.get("kind", ""))
        link_kind = None
        if util == "power" and kind == "supply" and src in affected:
            link_kind = (
                "pumping_station_power_loss"
                if d.get("utility") == "water"
                else f"{d.get('utility')}_equipment_power_loss"
            )
            to_asset, to_util, from_asset = dst, str(d.get("utility")), src
        elif util == "gas" and kind == "proximity":
            gas_side, other = (src, dst) if d.get("depends_on_utility") == "gas" else (dst, src)
            other_util = d.get("utility") if other == dst else d.get("depends_on_utility")
            if gas_side in affected and other_util == "power":
                link_kind, to_asset, to_util, from_asset = "ignition_risk", other, "power", gas_side
        elif util in ("water", "drainage") and kind == "flooding" and src in affected:
            link_kind, to_asset, to_util, from_asset = (
                "cable_well_flooding"
                if util == "drainage" and ":manhole:" in dst
                else "substation_flooding",
                dst,
                str(d.get("utility")),
                src,
            )
        if link_kind is None or (link_kind, to_asset) in seen:
            continue
        seen.add((link_kind, to_asset))
        key = (
            (link_kind, from_asset, to_util)
            if link_kind != "ignition_risk"
            else (link_kind, to_asset, to_util)
        )
        if (
            key in groups
        ):  # e.g. both pumps of one station on the same bus: one link, one simulation
            groups[key]["to_assets"].append(to_asset)
            groups[key]["cites"].append(f"dependency:{dst}->{src}:{kind}")
            continue
        groups[key] = {
            "kind": link_kind,
            "from_asset": from_asset,
            "from_utility": util,
            "to_asset": to_asset,
            "to_assets": [to_asset],
            "to_utility": to_util,
            "dependency": {"kind": kind, "distance_m": d.get("distance_m")},
            "cites": [f"dependency:{dst}->{src}:{kind}"],
        }
    for link in groups.values():
        ad: Any = adapters.get(link["to_utility"])
        imp = (
            ad.outage_impact(link["to_assets"])
            if has(ad, "outage_impact") and link["kind"] != "ignition_risk"
            else None
        )
        links.append({**link, **_impact_summary(imp)})
    if util == "gas" and hazard:
        for a in hazard.get("assets", []):
            if a.get("utility") == "power" and ("ignition_risk", a["asset_id"]) not in seen:
                seen.add(("ignition_risk", a["asset_id"]))
                links.append(
                    {
                        "kind": "ignition_risk",
                        "from_asset": affected_assets[0] if affected_assets else "",
                        "from_utility": "gas",
                        "to_asset": a["asset_id"],
                        "to_assets": [a["asset_id"]],
                        "to_utility": "power",
                        "dependency": {
                            "kind": "inside_hazard_zone",
                            "radius_m": hazard.get("radius_m"),
                        },
                        "customers_affected": None,
                        "critical_sites": [],
                        "method": "hazard zone",
                        "cites": [f"hazard_zone:r={hazard.get('radius_m')}m"],
                    }
                )
    return links
