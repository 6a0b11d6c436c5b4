"""Consistency of the Schutterwald demo town: links, sensors, dependencies, geometry, solves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifeline.model.schema import ASSET, CUSTOMER, DEPENDENCY, SENSOR


def test_tables_follow_the_schema(town: Any) -> None:
    for df, schema in (
        (town.assets, ASSET),
        (town.customers, CUSTOMER),
        (town.sensors, SENSOR),
        (town.dependencies, DEPENDENCY),
    ):
        assert list(df.columns) == list(schema)
    assert town.crs == "EPSG:25832"
    assert town.assets.asset_id.is_unique
    assert town.sensors.sensor_id.is_unique
    assert town.customers.customer_id.is_unique
    prefixes = town.assets.asset_id.str.split(":").str[0]
    assert (prefixes == town.assets.utility).all()


def test_every_customer_is_linked_to_power_gas_and_water(town: Any) -> None:
    ids = set(town.assets.asset_id)
    c = town.customers
    hh = c[c.category == "household"]
    assert len(hh) == 1506
    assert c.power_asset_id.isin(ids).all()
    assert c.water_asset_id.isin(ids).all()
    assert c.water_asset_id.str.startswith("water:junction:").all()
    assert hh.gas_asset_id.isin(ids).all()
    assert hh.power_asset_id.is_unique and hh.gas_asset_id.is_unique
    # every LV household load of lv_schutterwald serves exactly one customer
    lv_loads = {
        f"power:load:{i}" for i, n in town.power.load.name.items() if str(n).startswith("HH_")
    }
    assert set(hh.power_asset_id) == lv_loads
    # the gas house node lies within about 1 m of the household's LV bus (nearly all of them)
    junction = hh.gas_asset_id.str.removeprefix("gas:junction:").astype(int).to_numpy()
    assert set(junction) <= set(town.gas.sink.junction)
    gxy = town.gas.junction_geodata.loc[junction, ["x", "y"]].to_numpy()
    gap = np.hypot(gxy[:, 0] - hh.x_m.to_numpy(), gxy[:, 1] - hh.y_m.to_numpy())
    assert np.mean(gap < 1.5) > 0.99
    # the water junction is in the street the house-connection cable reaches (a short service)
    a = town.assets.set_index("asset_id")
    wxy = a.loc[hh.water_asset_id, ["x_m", "y_m"]].to_numpy()
    service_m = np.hypot(*(wxy - hh[["x_m", "y_m"]].to_numpy()).T)
    assert np.median(service_m) < 30 and np.percentile(service_m, 95) < 60


def test_critical_sites_on_real_elements(town: Any) -> None:
    c = town.customers
    crit = c[c.critical]
    cats = crit.category.value_counts()
    assert cats.get("hospital", 0) >= 1 and cats.get("school", 0) >= 2
    assert cats.get("care_home", 0) >= 1 and cats.get("pumping_station", 0) == 1
    ps = crit[crit.category == "pumping_station"].iloc[0]
    load = int(ps.power_asset_id.rsplit(":", 1)[-1])
    station_bus = int(town.power.load.at[load, "bus"])
    assert ps.water_asset_id == "water:junction:WW"
    dep = town.dependencies
    pumps = dep[(dep.utility == "water") & (dep.kind == "supply")]
    assert set(pumps.asset_id) == {f"water:pump:{p}" for p in town.water.pump_name_list}
    assert (pumps.depends_on_asset_id == f"power:bus:{station_bus}").all()
    assert {town.supply_bus(a) for a in pumps.asset_id} == {station_bus}
    for r in crit.itertuples():
        if r.category != "pumping_station":
            assert r.gas_asset_id.startswith("gas:junction:")


def test_sensors_sit_on_existing_assets(town: Any) -> None:
    s = town.sensors
    assert s.asset_id.isin(set(town.assets.asset_id)).all()
    assert (s.interval_s > 0).all()
    assert (s.valid_min < s.valid_max).all()
    need = {
        "pressure_m",
        "flow_m3h",
        "pressure_bar",
        "methane_pct_lel",
        "current_a",
        "p_mw",
        "voltage_pu",
    }
    assert need <= set(s.quantity)
    # smart meters are customers that send supply events, not sensors
    assert "meter_kwh" not in set(s.quantity)
    assert s.element.fillna("").ne("").sum() == (s.quantity != "methane_pct_lel").sum()
    methane = s[s.quantity == "methane_pct_lel"]
    hosts = set(methane.asset_id.str.split(":").str[0])
    assert {"power", "drainage", "telecom"} <= hosts
    # every methane detector's manhole is near a gas main (proximity dependency, metres)
    dep = town.dependencies.set_index("asset_id")
    assert (dep.loc[methane.asset_id, "distance_m"] <= 15.0).all()


def test_dependency_targets_and_zones_exist(town: Any) -> None:
    ids = set(town.assets.asset_id)
    d = town.dependencies
    assert d.asset_id.isin(ids).all() and d.depends_on_asset_id.isin(ids).all()
    assert {"supply", "proximity", "flooding"} <= set(d.kind)
    reg = d[d.asset_id.str.startswith("gas:regulator:")]
    assert len(reg) == 1 and reg.depends_on_utility.iloc[0] == "power"
    zones = set(town.zones.zone_id) | {"power:substation", ""}
    assert town.assets.zone_id.fillna("").isin(zones).all()
    assert {"dma", "feeder", "gas_district"} <= set(town.zones.kind)
    dist = town.districts
    assert dist.name_zh.str.len().gt(0).all() and dist.name.str.len().gt(0).all()
    assert town.assets.district_id.isin(set(dist.district_id)).all()
    assert town.customers.district_id.isin(set(dist.district_id)).all()


def test_one_map_in_metres_near_schutterwald(town: Any) -> None:
    from lifeline.model.geo import to_lonlat

    x0, y0, x1, y1 = town.bbox
    for df in (town.assets, town.customers, town.sensors):
        assert df.x_m.between(x0, x1).all() and df.y_m.between(y0, y1).all()
    assert x1 - x0 < 30_000 and y1 - y0 < 30_000
    lon, lat = to_lonlat([town.customers.x_m.mean()], [town.customers.y_m.mean()], town.crs)
    assert abs(lon[0] - 7.88) < 0.03 and abs(lat[0] - 48.455) < 0.03
    # the three networks overlay: gas house nodes, water junctions and LV buses share the village
    gxy = town.gas.junction_geodata
    wxy = np.array([town.water.get_node(n).coordinates for n in town.water.junction_name_list])
    assert abs(gxy.x.mean() - wxy[:, 0].mean()) < 300 and abs(gxy.y.mean() - wxy[:, 1].mean()) < 300


def test_valve_layers_reference_real_elements(town: Any) -> None:
    wv = town.water_valves
    assert list(wv.columns) == ["valve", "node", "link"] and len(wv) > 20
    for r in wv.itertuples():
        link = town.water.get_link(r.link)
        assert r.node in (link.start_node_name, link.end_node_name)
    gv = town.gas_valves
    assert list(gv.columns) == ["valve_id", "pipe", "junction"] and len(gv) > 20
    p = town.gas.pipe.loc[gv["pipe"]]
    assert (
        (p.from_junction.to_numpy() == gv.junction.to_numpy())
        | (p.to_junction.to_numpy() == gv.junction.to_numpy())
    ).all()


def test_each_network_solves(town: Any) -> None:
    from lifeline.datasets.checks import solve_all

    r = solve_all(town)
    assert r["power"]["solved"] and 0.9 < r["power"]["vm_pu_min"] <= r["power"]["vm_pu_max"] < 1.1
    assert r["gas"]["solved"] and 0.9 < r["gas"]["p_bar_min"] <= 1.0
    assert r["water"]["solved"] and r["water"]["demand_nodes"] > 500
    assert r["water"]["pressure_m_min"] > 20.0 and r["water"]["pressure_m_max"] < 70.0
    assert town.water.options.hydraulic.demand_model in ("PDD", "PDA")


def test_export_validate_import(town: Any, tmp_path: Path) -> None:
    """`lifeline town export` writes a city package that validates and imports: the same
    assets, customers, sensors, dependencies and districts come back through load_city."""
    from typer.testing import CliRunner

    from lifeline.cli import app
    from lifeline.model.city import load_city
    from lifeline.model.validate import validate_city
    from lifeline.store import open_store

    pkg = tmp_path / "pkg"
    r = CliRunner().invoke(app, ["town", "export", str(pkg)])
    assert r.exit_code == 0, r.output
    for f in ("city.yaml", "water.inp", "power.json", "gas.json", "districts.geojson"):
        assert (pkg / f).stat().st_size > 0, f
    for f in ("customers", "sensors", "valves", "crews", "dependencies", "manholes"):
        assert (pkg / f"{f}.csv").stat().st_size > 0, f
    cust = pd.read_csv(pkg / "customers.csv", dtype=str, keep_default_na=False)
    assert list(cust.columns[:9]) == [
        "customer_id",
        "name",
        "category",
        "critical",
        "x",
        "y",
        "water_node",
        "power_load",
        "gas_junction",
    ]
    v = validate_city(pkg, solve=False)
    assert v.report.errors == [], v.report.text()
    back = load_city(pkg, cache_dir=tmp_path / "cache")
    for attr, key in (
        ("assets", "asset_id"),
        ("customers", "customer_id"),
        ("sensors", "sensor_id"),
        ("districts", "district_id"),
    ):
        assert set(getattr(back, attr)[key]) == set(getattr(town, attr)[key]), attr
    t = town.customers.set_index("customer_id")
    b = back.customers.set_index("customer_id").loc[t.index]
    for col in ("water_asset_id", "power_asset_id", "gas_asset_id", "district_id"):
        assert (b[col].fillna("") == t[col].fillna("")).all(), col
    assert len(back.dependencies) == len(town.dependencies)
    db = tmp_path / "town.duckdb"
    r = CliRunner().invoke(app, ["city", "import", str(pkg), "--db", str(db)])
    assert r.exit_code == 0, r.output
    with open_store(str(db)) as st:
        assert st.count("customer") == len(town.customers)
        assert st.count("asset") == len(town.assets)
        assert st.get_meta()["city.crs"] == town.crs
