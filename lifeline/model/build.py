"""Building a :class:`~lifeline.model.city.City` from a read package: load the networks, make
the asset table, convert and check the CSV tables, derive what is missing.

Every problem goes to the package report; :func:`build_city` raises
:class:`~lifeline.model.package.CityPackageError` at the end when there are errors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifeline.model.city import City
from lifeline.model.known_leaks import convert_known_leaks
from lifeline.model.package import CityPackageError, Package
from lifeline.model.schema import conform
from lifeline.model.waterlogging import convert_points


def _drainage_assets(el: Any) -> pd.DataFrame:
    from lifeline.model.geo import wkt_line, wkt_point

    rows = []
    for name, kind in el.nodes.items():
        x, y = el.coords.get(name, (np.nan, np.nan))
        rows.append(
            {
                "asset_id": f"drainage:node:{name}",
                "utility": "drainage",
                "kind": kind,
                "ref": name,
                "name": name,
                "x_m": x,
                "y_m": y,
                "geometry_wkt": wkt_point(x, y),
            }
        )
    for name in sorted(el.gauges):  # a rain gauge placed on the map ([SYMBOLS])
        if name in el.gauge_coords:
            x, y = el.gauge_coords[name]
            rows.append(
                {
                    "asset_id": f"drainage:raingauge:{name}",
                    "utility": "drainage",
                    "kind": "raingauge",
                    "ref": name,
                    "name": name,
                    "x_m": x,
                    "y_m": y,
                    "geometry_wkt": wkt_point(x, y),
                }
            )
    for name, (kind, a, b) in el.links.items():
        pts = [el.coords.get(a), *el.vertices.get(name, []), el.coords.get(b)]
        pts = [p for p in pts if p is not None]
        if not pts:
            continue
        xy = np.array(pts, dtype=float)
        rows.append(
            {
                "asset_id": f"drainage:conduit:{name}",
                "utility": "drainage",
                "kind": kind,
                "ref": name,
                "name": name,
                "x_m": float(xy[:, 0].mean()),
                "y_m": float(xy[:, 1].mean()),
                "geometry_wkt": wkt_line(pts) if len(pts) > 1 else wkt_point(*pts[0]),
                "length_m": float(np.hypot(*np.diff(xy, axis=0).T).sum()),
            }
        )
    return pd.DataFrame(rows)


def _load_models(pkg: Package) -> dict[str, Any]:
    from lifeline.errors import LifelineError
    from lifeline.model.networks import load_network

    models: dict[str, Any] = {}
    for util, path in pkg.networks.items():
        try:
            if util == "drainage":
                from lifeline.drainage.elements import read_elements

                el = read_elements(path)
                models["drainage"] = el
                models["drainage_elements"] = (
                    set(el.nodes),
                    set(el.links),
                    set(el.gauges),
                )
            else:
                models[util] = load_network(util, path)
        except LifelineError as exc:
            _network_problem(pkg, util, path, exc.message)
    return models


def _network_problem(pkg: Package, util: str, path: Any, message: str) -> None:
    """Record a network that does not load; for an INP, EPANET's own parser names the lines."""
    rel = pkg.rel(path)
    if util == "water":
        from lifeline.water.epanet import inp_problems

        try:
            found = inp_problems(path)
        except (OSError, ImportError):
            found = []
        for line, section, msg in found:
            pkg.report.error(rel, f"EPANET: {msg}", line, section or "networks.water")
        if found:
            return
    pkg.report.error(rel, f"cannot load the {util} network: {message}", field=f"networks.{util}")


def _network_assets(
    pkg: Package, models: dict[str, Any], valves_from_csv: Any
) -> tuple[list[pd.DataFrame], dict[str, Any]]:
    """Asset rows of every loaded network, and the derived layers (valves, zone ids)."""
    from lifeline.model.assets import bus_positions, gas_assets, power_assets, water_assets
    from lifeline.model.tables import convert_attributes
    from lifeline.model.zones import gas_districts, power_feeders, water_dmas

    rep = pkg.report
    parts: list[pd.DataFrame] = []
    layers: dict[str, Any] = {"dma": [], "feeders": {}, "gas_districts": []}
    attrs = convert_attributes(pkg)
    wn = models.get("water")
    if wn is not None:
        from lifeline.water.valves import generate_valves

        dma = water_dmas(wn)
        valves = valves_from_csv(wn)
        if valves is None:
            valves = generate_valves(wn)
            layers["valves_generated"] = True
        layers["water_valves"] = valves
        layers["dma"] = list(dma.unique())
        xy = np.array([wn.get_node(n).coordinates for n in wn.node_name_list], dtype=float)
        if len(xy) and np.all(xy == 0):
            rep.error(pkg.rel(pkg.networks["water"]), "no node has coordinates ([COORDINATES])")
        parts.append(water_assets(wn, dma, valves, attrs))
    net = models.get("power")
    if net is not None:
        bxy = bus_positions(net)
        missing = bxy.index[bxy.x.isna() | bxy.y.isna()]
        if len(missing):
            rep.error(
                pkg.rel(pkg.networks["power"]),
                f"{len(missing)} bus(es) without geodata, e.g. {list(missing[:5])}: "
                "every bus needs a position (bus.geo) in the package crs",
                field="bus.geo",
            )
        else:
            feeder_of_bus, heads = power_feeders(net)
            layers["feeders"] = heads
            parts.append(power_assets(net, feeder_of_bus))
    gas = models.get("gas")
    if gas is not None:
        from lifeline.gas.valves import gas_valve_layer

        if "junction_geodata" not in gas or len(gas.junction_geodata) < len(gas.junction):
            rep.error(
                pkg.rel(pkg.networks["gas"]),
                "every junction needs a position (junction_geodata) in the package crs",
                field="junction_geodata",
            )
        else:
            gd = gas_districts(gas)
            layers["gas_districts"] = list(gd.unique())
            gv = (
                gas_valve_layer(gas)
                if len(gas.ext_grid)
                else pd.DataFrame(columns=["valve_id", "pipe", "junction"])
            )
            layers["gas_valves"] = gv
            parts.append(gas_assets(gas, gd, gv))
    if "drainage" in models:
        parts.append(_drainage_assets(models["drainage"]))
    return parts, layers


def build_city(pkg: Package, progress: bool = False, strict: bool = True) -> City:
    """Build the City of ``pkg`` (networks loaded, tables converted and checked, the rest
    derived). Raises CityPackageError when the report has errors; with ``strict=False`` returns
    what could be built (networks that did not load left out) and leaves the errors in
    ``pkg.report`` (``lifeline city validate`` does this to check everything at once)."""
    from lifeline.model.assets import finish_assets
    from lifeline.model.derive import DistrictIndex, derive_dependencies, whole_city_district
    from lifeline.model.tables import (
        Elements,
        Extent,
        convert_crews,
        convert_customers,
        convert_dependencies,
        convert_sensors,
        convert_valves,
        manhole_rows,
    )
    from lifeline.model.zones import zones_table
    from lifeline.progress import make_progress

    rep = pkg.report
    if rep.unusable:
        raise CityPackageError(rep, str(pkg.root))
    with make_progress(transient=True, disable=not progress) as bar:
        task = bar.add_task(f"building city {pkg.name or pkg.root.name}", total=4)
        models = _load_models(pkg)
        bar.advance(task)
        el0 = Elements.of(models, pd.DataFrame(columns=["asset_id", "x_m", "y_m"]))

        def valves_from_csv(wn: Any) -> Any:
            return convert_valves(pkg, el0)

        parts, layers = _network_assets(pkg, models, valves_from_csv)
        net_assets = (
            pd.concat(parts, ignore_index=True)
            if parts
            else pd.DataFrame(columns=["asset_id", "x_m", "y_m"])
        )
        extent = Extent.of(net_assets.x_m.to_numpy(float), net_assets.y_m.to_numpy(float), pkg.crs)
        bar.advance(task)
        el = Elements.of(models, net_assets)
        sensors, wells = convert_sensors(pkg, el, extent)
        mh = manhole_rows(pkg, wells, extent)
        if wells:
            sid_asset = {w["sensor_id"]: w["asset_id"] for w in wells}
            sensors["asset_id"] = [
                sid_asset.get(s, a)
                for s, a in zip(sensors.sensor_id, sensors.asset_id, strict=True)
            ]
        raw = pd.concat([net_assets, mh], ignore_index=True) if len(mh) else net_assets
        if pkg.districts:
            from shapely.geometry import shape

            districts = conform(
                "district",
                pd.DataFrame(
                    [
                        {
                            **{k: v for k, v in d.items() if k != "geometry"},
                            "geometry_wkt": shape(d["geometry"]).wkt,
                        }
                        for d in pkg.districts
                    ]
                ),
            )
        elif extent is not None:
            districts = whole_city_district(
                pkg.name, pkg.name_zh, (extent.xmin, extent.ymin, extent.xmax, extent.ymax)
            )
        else:
            districts = conform("district", pd.DataFrame())
        index = DistrictIndex(districts)
        assets = finish_assets(raw, index.assign) if len(raw) else conform("asset", raw)
        outside = assets[assets.district_id.fillna("") == ""]
        if pkg.districts and len(outside):
            rep.warn(
                pkg.rel(pkg.files["districts"]),
                f"{len(outside)} of {len(assets)} assets lie outside every district, "
                f"e.g. {', '.join(outside.asset_id.astype(str).head(3))}",
            )
        customers = convert_customers(pkg, el, extent)
        customers["district_id"] = index.assign(customers.x_m, customers.y_m)
        c_out = customers[customers.district_id == ""]
        if pkg.districts and len(c_out):
            raw_c = pkg.tables["customers"]
            line_of = dict(zip(raw_c.customer_id, raw_c["_line"], strict=True))
            dname = pkg.rel(pkg.files["districts"])
            for cid in c_out.customer_id.astype(str):
                rep.error(
                    "customers.csv",
                    f"customer {cid} lies outside every district of {dname} (its incidents "
                    "could not be routed): extend a district or fix x, y",
                    int(line_of.get(cid, 0)) or None,
                    "x,y",
                )
        bar.advance(task)
        known = set(assets.asset_id.astype(str))
        deps = convert_dependencies(pkg, known)
        if deps is None:
            deps = derive_dependencies(assets, customers, models.get("power"), models.get("gas"))
        crews = convert_crews(pkg, extent)
        top = next((d for d in districts.itertuples() if d.level == "city"), None)
        zones = zones_table(
            layers["dma"],
            layers["feeders"],
            layers["gas_districts"],
            top.district_id if top else "",
        )
        city = City(
            name=pkg.name,
            name_zh=pkg.name_zh,
            crs=pkg.crs,
            timezone=pkg.timezone,
            root=pkg.root,
            networks={u: p for u, p in pkg.networks.items() if u in models},
            assets=assets,
            customers=conform("customer", customers),
            sensors=sensors,
            zones=zones,
            districts=districts,
            dependencies=deps,
            water_valves=layers.get(
                "water_valves", pd.DataFrame(columns=["valve", "node", "link"])
            ),
            gas_valves=layers.get(
                "gas_valves", pd.DataFrame(columns=["valve_id", "pipe", "junction"])
            ),
            waterlogging_points=convert_points(pkg, models),
            known_leaks=convert_known_leaks(pkg, models),
            grading=pkg.grading,
            policies=pkg.policies,
            meta={
                "derived": {
                    "water_valves": bool(layers.get("valves_generated")),
                    "crews": crews is None,
                    "dependencies": "dependencies" not in pkg.tables,
                    "districts": not pkg.districts,
                },
                "warnings": [str(p) for p in rep.warnings],
            },
        )
        for util in ("water", "power", "gas"):
            if util in models:
                city._models[util] = models[util]
        if crews is None:
            from lifeline.respond.crews import default_crews

            crews = default_crews(city)
        city.crews = crews
        bar.advance(task)
    if rep.errors and strict:
        raise CityPackageError(rep, str(pkg.root))
    return city
