"""Writing a City as a city package (the inverse of :func:`lifeline.model.city.load_city`)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from lifeline.model.city import City

#: network file names in a written package
NETWORK_FILES = {
    "water": "water.inp",
    "power": "power.json",
    "gas": "gas.json",
    "drainage": "drainage.inp",
}


def _ref(asset_id: Any) -> str:
    return str(asset_id or "").rsplit(":", 1)[-1] if asset_id else ""


def sensor_element(asset_id: str, quantity: str) -> str:
    """The city package ``element`` of a sensor on ``asset_id`` (``node:J1``, ``bus:3``, …)."""
    util, kind, ref = (asset_id.split(":", 2) + ["", ""])[:3]
    if kind == "manhole" or quantity == "methane_pct_lel":
        return ""
    if util == "water":
        return f"{'node' if kind in ('junction', 'tank', 'reservoir') else 'link'}:{ref}"
    if util == "gas" and kind == "regulator":
        return f"ext_grid:{int(ref.lstrip('R')) - 1}"
    if util == "drainage":
        return (
            f"{'link' if kind == 'conduit' else 'gauge' if kind == 'raingauge' else 'node'}:{ref}"
        )
    return f"{kind}:{ref}"


def _gas_junction(city: City, asset_id: str) -> str:
    if not asset_id:
        return ""
    kind, ref = asset_id.split(":")[1:3]
    if kind == "junction":
        return ref
    if kind == "sink":
        return str(int(city.gas.sink.at[int(ref), "junction"]))
    return ""


def _districts_geojson(districts: pd.DataFrame) -> dict[str, Any]:
    from shapely import wkt
    from shapely.geometry import mapping

    feats = []
    for d in districts.itertuples():
        if not isinstance(d.geometry_wkt, str) or not d.geometry_wkt:
            continue
        feats.append(
            {
                "type": "Feature",
                "properties": {
                    "district_id": d.district_id,
                    "name": d.name,
                    "name_zh": d.name_zh,
                    "level": d.level,
                    "parent_id": d.parent_id,
                },
                "geometry": mapping(wkt.loads(d.geometry_wkt)),
            }
        )
    return {"type": "FeatureCollection", "features": feats}


def write_package(city: City, out: str | Path) -> list[Path]:
    """Write ``city`` to folder ``out`` in the city package format; returns the files written."""
    import yaml

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    nets: dict[str, str] = {}
    for util in city.utilities():
        dst = out / NETWORK_FILES[util]
        src = city.networks.get(util)
        if util not in city._models and src is not None:
            shutil.copyfile(src, dst)
        elif util == "water":
            import wntr

            units = getattr(city.water.options.hydraulic, "inpfile_units", None)
            # SI units (a model built in code defaults to US gallons per minute)
            wntr.network.write_inpfile(
                city.water,
                str(dst),
                version=2.2,
                units=units if units not in (None, "GPM") else "LPS",
            )
        elif util == "power":
            import pandapower as pp

            pp.to_json(city.power, str(dst))
        elif util == "gas":
            import pandapipes as pps

            pps.to_json(city.gas, str(dst))
        else:
            shutil.copyfile(src, dst)  # type: ignore[arg-type]
        nets[util] = dst.name
        files.append(dst)
    cfg: dict[str, Any] = {"name": city.name}
    if city.name_zh:
        cfg["name_zh"] = city.name_zh
    cfg.update({"crs": city.crs, "timezone": city.timezone, "networks": nets})
    (out / "city.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False))
    files.insert(0, out / "city.yaml")
    (out / "districts.geojson").write_text(
        json.dumps(_districts_geojson(city.districts), ensure_ascii=False)
    )
    files.append(out / "districts.geojson")

    c = city.customers
    cust = pd.DataFrame(
        {
            "customer_id": c.customer_id,
            "name": c.name,
            "category": c.category,
            "critical": c.critical.map(lambda v: "true" if bool(v) else "false"),
            "x": c.x_m.round(3),
            "y": c.y_m.round(3),
            "water_node": [_ref(a) for a in c.water_asset_id.fillna("")],
            "power_load": [_ref(a) for a in c.power_asset_id.fillna("")],
            "gas_junction": [_gas_junction(city, str(a)) for a in c.gas_asset_id.fillna("")],
            "address": c.address.fillna(""),
        }
    )
    s = city.sensors
    elements = [
        e if isinstance(e, str) and e else sensor_element(str(a), str(q))
        for e, a, q in zip(
            s.get("element", pd.Series("", index=s.index)), s.asset_id, s.quantity, strict=True
        )
    ]
    a_util = dict(
        zip(city.assets.asset_id.astype(str), city.assets.utility.astype(str), strict=True)
    )
    hosts = [
        (h if isinstance(h, str) and h else a_util.get(str(a), ""))
        if q == "methane_pct_lel"
        else ""
        for h, a, q in zip(
            s.get("host", pd.Series("", index=s.index)), s.asset_id, s.quantity, strict=True
        )
    ]
    sens = pd.DataFrame(
        {
            "sensor_id": s.sensor_id,
            "utility": s.utility,
            "quantity": s.quantity,
            "unit": s.unit,
            "element": elements,
            "x": s.x_m.round(3),
            "y": s.y_m.round(3),
            "interval_s": s.interval_s,
            "valid_min": s.valid_min,
            "valid_max": s.valid_max,
            "host": hosts,
        }
    )
    tables: dict[str, pd.DataFrame] = {"customers": cust, "sensors": sens}
    if len(city.water_valves):
        v = city.water_valves
        tables["valves"] = pd.DataFrame({"valve_id": v.valve, "pipe": v.link, "node": v.node})
    if len(city.crews):
        cr = city.crews
        tables["crews"] = pd.DataFrame(
            {
                "crew_id": cr.crew_id,
                "utility": cr.utility,
                "name": cr.get("name", cr.crew_id),
                "x": cr.x_m.round(3),
                "y": cr.y_m.round(3),
            }
        )
    d = city.dependencies
    tables["dependencies"] = pd.DataFrame(
        {
            "asset": d.asset_id,
            "depends_on": d.depends_on_asset_id,
            "kind": d.kind,
            "distance_m": d.distance_m,
        }
    )
    mh = city.assets[city.assets.kind == "manhole"]
    if len(mh):
        tables["manholes"] = pd.DataFrame(
            {
                "manhole_id": mh.ref,
                "host": mh.utility,
                "x": mh.x_m.round(3),
                "y": mh.y_m.round(3),
                "name": mh.name,
            }
        )
    a = city.assets
    known = a[a.install_year.notna() | (a.material.fillna("") != "")]
    if len(known):
        tables["attributes"] = pd.DataFrame(
            {
                "asset": known.asset_id,
                "install_year": known.install_year.astype("Int64"),
                "material": known.material.fillna(""),
                "design_life_y": known.design_life_y,
            }
        )
    wp = city.waterlogging_points
    if wp is not None and len(wp):
        tables["waterlogging_points"] = wp[
            ["point_id", "node", "threshold_m", "name", "name_zh"]
        ].reset_index(drop=True)
    kl = city.known_leaks
    if kl is not None and len(kl):
        from lifeline.model.known_leaks import as_csv_table

        tables["known_leaks"] = as_csv_table(kl)
    for name, df in tables.items():
        path = out / f"{name}.csv"
        df.to_csv(path, index=False)
        files.append(path)
    if city.grading:
        (out / "grading.yaml").write_text(yaml.safe_dump(city.grading, allow_unicode=True))
        files.append(out / "grading.yaml")
    return files
