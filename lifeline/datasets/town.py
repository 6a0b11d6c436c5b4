"""The Schutterwald demo town: three lifeline networks, customers and sensors on one map.

``load_town()`` builds the town once (about a minute) and caches the derived artefacts under
``settings.cache_dir / 'town' / TOWN_VERSION``; later loads read the cache in seconds.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifeline.datasets.geo import TOWN_CRS
from lifeline.model.schema import conform

#: bump whenever the build changes what it produces (it keys the cache)
TOWN_VERSION = "schutterwald-v3"
#: IANA time zone of the demo town: operators read local times in it (``lifeline.timefmt``)
TIMEZONE = "Europe/Berlin"
_TABLES = (
    "assets",
    "customers",
    "sensors",
    "zones",
    "districts",
    "dependencies",
    "water_valves",
    "gas_valves",
)
_FILES = ("water.inp", "power.json", "gas.json", *(f"{t}.parquet" for t in _TABLES))


class _Lazy:
    """Sentinel (a class, so copies keep its identity): the network is read from the cache on first use."""


@dataclass
class Town:
    """The demo town. Tables follow lifeline.model.schema; coordinates are EPSG:25832 metres.

    ``power`` is the joined pandapower net, ``gas`` the pandapipes net and ``water`` the (synthetic)
    WNTR model; ``water_valves`` has columns valve,node,link and ``gas_valves`` valve_id,pipe,junction.
    ``meta`` records build facts (pumping-station bus, join gaps, solve checks).
    A town read from the cache loads its three network models lazily, on first access.
    """

    power: Any
    gas: Any
    water: Any
    water_inp_path: Path
    assets: pd.DataFrame
    customers: pd.DataFrame
    sensors: pd.DataFrame
    zones: pd.DataFrame
    districts: pd.DataFrame
    dependencies: pd.DataFrame
    water_valves: pd.DataFrame
    gas_valves: pd.DataFrame
    crs: str = TOWN_CRS
    meta: dict[str, Any] = field(default_factory=dict)
    cache_dir: Path | None = None

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if value is _Lazy:
            value = object.__getattribute__(self, "_read_network")(name)
            object.__setattr__(self, name, value)
        return value

    def _read_network(self, name: str) -> Any:
        d = object.__getattribute__(self, "cache_dir")
        if name == "power":
            import pandapower as pp

            return pp.from_json(str(d / "power.json"))
        if name == "gas":
            import pandapipes as pps

            return pps.from_json(str(d / "gas.json"))
        from lifeline.water.network import load_network

        return load_network(d / "water.inp")

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in metres of every asset, with a 100 m margin."""
        a = self.assets
        return (
            float(a.x_m.min()) - 100,
            float(a.y_m.min()) - 100,
            float(a.x_m.max()) + 100,
            float(a.y_m.max()) + 100,
        )


def _households_and_sites() -> dict[str, Any]:
    from lifeline.datasets.gas_town import build_gas
    from lifeline.datasets.people import bus_xy, match_households, place_sites
    from lifeline.datasets.power_town import build_power
    from lifeline.datasets.water_town import build_water

    power, pinfo = build_power()
    gas = build_gas()
    hh = match_households(power, gas)
    extra_t = next(t for t, j in pinfo["joined"].items() if j["mv_bus"] is None)
    station_bus = int(power.trafo.at[extra_t, "lv_bus"])
    sites = place_sites(power, gas, hh, station_bus)
    hh["q"] = hh.persons * 0.125 / 86400.0
    dem = hh.groupby("main_junction").q.sum()
    cnt = hh.groupby("main_junction").size()
    extra = [
        (int(r.main_junction), float(r.water_m3s), str(r.category))
        for r in sites.itertuples()
        if r.water_m3s > 0
    ]
    anchor = tuple(bus_xy(power).loc[station_bus].to_numpy())
    wn, winfo = build_water(gas, dem, cnt, extra, anchor)
    return {
        "power": power,
        "gas": gas,
        "wn": wn,
        "hh": hh,
        "sites": sites,
        "pinfo": pinfo,
        "winfo": winfo,
        "station_bus": station_bus,
    }


def _customers(hh: pd.DataFrame, sites: pd.DataFrame, districts: Any) -> pd.DataFrame:
    rows = pd.DataFrame(
        {
            "customer_id": [f"C{i + 1:05d}" for i in range(len(hh))],
            "name": hh.name.to_numpy(),
            "category": "household",
            "critical": False,
            "x_m": hh.x.to_numpy(),
            "y_m": hh.y.to_numpy(),
            "power_asset_id": [f"power:load:{i}" for i in hh.load],
            "gas_asset_id": [f"gas:sink:{i}" for i in hh.sink],
            "water_asset_id": [f"water:junction:J{i}" for i in hh.main_junction],
            "address": [
                f"Schutterwald, OSM building {str(n).removeprefix('HH_')}" for n in hh.name
            ],
        }
    )
    crit = pd.DataFrame(
        {
            "customer_id": [f"CRIT-{k}" for k in sites.key],
            "name": sites.name.to_numpy(),
            "category": sites.category.to_numpy(),
            "critical": True,
            "x_m": sites.x.to_numpy(),
            "y_m": sites.y.to_numpy(),
            "power_asset_id": [f"power:load:{i}" for i in sites.load],
            "gas_asset_id": [f"gas:sink:{s}" if s >= 0 else "" for s in sites.sink],
            "water_asset_id": [
                "water:junction:WW" if c == "pumping_station" else f"water:junction:J{j}"
                for c, j in zip(sites.category, sites.main_junction, strict=True)
            ],
            "address": "Schutterwald (fictional placement)",
        }
    )
    df = pd.concat([crit, rows], ignore_index=True)
    df["district_id"] = districts.assign(df.x_m.to_numpy(), df.y_m.to_numpy())
    return conform("customer", df)


def build_town(out_dir: Path) -> Town:
    """Build the town from the bundled pandapower/pandapipes networks and write it to ``out_dir``."""
    import wntr

    from lifeline.datasets.assets import finish_assets, gas_assets, power_assets, water_assets
    from lifeline.datasets.gas_town import gas_valve_layer, solve_gas
    from lifeline.datasets.power_town import solve_power
    from lifeline.datasets.sensors import build_dependencies, build_sensors, manholes
    from lifeline.datasets.water_town import run_water, water_valve_layer
    from lifeline.datasets.zones import (
        Districts,
        gas_districts,
        power_feeders,
        water_dmas,
        zones_table,
    )
    from lifeline.progress import make_progress

    with make_progress(transient=True) as progress:
        task = progress.add_task("building the Schutterwald demo town", total=5)
        b = _households_and_sites()
        progress.advance(task)
        power, gas, wn = b["power"], b["gas"], b["wn"]
        solve_power(power)
        solve_gas(gas)
        res = run_water(wn)
        jn = wn.junction_name_list
        p = res.node["pressure"][jn]
        checks = {
            "power_vm_pu_min": float(power.res_bus.vm_pu.min()),
            "gas_p_bar_min": float(gas.res_junction.p_bar.min()),
            "water_pressure_m_min": float(p.min().min()),
            "water_pressure_m_max": float(p.max().max()),
        }
        progress.advance(task)
        dma = water_dmas(wn)
        feeder_of_bus, heads = power_feeders(power)
        gdist = gas_districts(gas)
        w_valves = water_valve_layer(wn)
        g_valves = gas_valve_layer(gas)
        hh_xy = b["hh"][["x", "y"]].to_numpy()
        raw = pd.concat(
            [
                power_assets(power, feeder_of_bus),
                gas_assets(gas, gdist, g_valves),
                water_assets(wn, dma, b["winfo"]["pipe_meta"], w_valves),
            ],
            ignore_index=True,
        )
        bounds = (
            float(raw.x_m.min()) - 50,
            float(raw.y_m.min()) - 50,
            float(raw.x_m.max()) + 50,
            float(raw.y_m.max()) + 50,
        )
        districts = Districts(hh_xy, bounds)
        mh = manholes(power, gas)
        gz = gdist.to_numpy()
        mh_zone = []
        gxy = gas.junction_geodata[["x", "y"]].to_numpy()
        for x, y in zip(mh.x_m, mh.y_m, strict=True):
            mh_zone.append(gz[int(np.argmin(np.hypot(gxy[:, 0] - x, gxy[:, 1] - y)))])
        raw = pd.concat(
            [raw, mh.drop(columns=["near_gas_pipe", "distance_m"]).assign(zone_id=mh_zone)],
            ignore_index=True,
        )
        assets = finish_assets(raw, districts.assign)
        progress.advance(task)
        customers = _customers(b["hh"], b["sites"], districts)
        sensors = build_sensors(
            assets, wn, gas, power, mh, dma, heads, [int(i) for i in b["hh"].load]
        )
        deps = build_dependencies(assets, wn, gas, power, mh, b["station_bus"])
        zones = zones_table(list(dma.unique()), heads, list(gdist.unique()))
        progress.advance(task)
        town = Town(
            power=power,
            gas=gas,
            water=wn,
            water_inp_path=out_dir / "water.inp",
            assets=assets,
            customers=customers,
            sensors=sensors,
            zones=zones,
            districts=districts.table(),
            dependencies=deps,
            water_valves=w_valves,
            gas_valves=g_valves,
            cache_dir=out_dir,
            meta={
                "version": TOWN_VERSION,
                "station_bus": b["station_bus"],
                "checks": checks,
                "join": {str(k): v for k, v in b["pinfo"]["joined"].items()},
                "water_loops_added": b["winfo"]["loops_added"],
                "water_entry_junction": b["winfo"]["entry_junction"],
                "household_gas_gap_m_max": float(b["hh"].gap_m.max()),
                "household_gas_gap_m_median": float(b["hh"].gap_m.median()),
            },
        )
        _save(town, out_dir, wntr)
        progress.advance(task)
    return town


def _save(town: Town, out_dir: Path, wntr: Any) -> None:
    import os

    import pandapipes as pps
    import pandapower as pp

    tmp = out_dir.with_name(f"{out_dir.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    wntr.network.write_inpfile(town.water, tmp / "water.inp", version=2.2, units="LPS")
    pp.to_json(town.power, str(tmp / "power.json"))
    pps.to_json(town.gas, str(tmp / "gas.json"))
    for t in _TABLES:
        getattr(town, t).to_parquet(tmp / f"{t}.parquet", index=False)
    (tmp / "meta.json").write_text(json.dumps(town.meta, indent=1, default=str))
    shutil.rmtree(out_dir, ignore_errors=True)
    try:
        tmp.rename(out_dir)
    except OSError:  # another process finished the same build first: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
    town.water_inp_path = out_dir / "water.inp"


def town_cache_dir(cache_dir: Path | None = None) -> Path:
    """Where the built town of :data:`TOWN_VERSION` lives (``<cache_dir>/town/<version>``)."""
    from lifeline.config import get_settings

    base = cache_dir if cache_dir is not None else get_settings().cache_dir
    return Path(base) / "town" / TOWN_VERSION


def load_town(cache_dir: Path | None = None) -> Town:
    """Load the demo town, building and caching it on first use.

    ``cache_dir`` defaults to ``settings.cache_dir``; the town lives in ``<cache_dir>/town/<version>``.
    Tables are read at once (about a second); the power, gas and water models on first access.
    """
    d = town_cache_dir(cache_dir)
    if not (d / "meta.json").exists() or not all((d / f).exists() for f in _FILES):
        return build_town(d)
    try:
        return _read(d)
    except Exception:  # an unreadable cache: rebuild it
        return build_town(d)


def _read(d: Path) -> Town:
    tables = {t: pd.read_parquet(d / f"{t}.parquet") for t in _TABLES}
    for t, schema in (
        ("assets", "asset"),
        ("customers", "customer"),
        ("sensors", "sensor"),
        ("zones", "zone"),
        ("districts", "district"),
        ("dependencies", "dependency"),
    ):
        tables[t] = conform(schema, tables[t])
    return Town(
        power=_Lazy,
        gas=_Lazy,
        water=_Lazy,
        water_inp_path=d / "water.inp",
        crs=TOWN_CRS,
        meta=json.loads((d / "meta.json").read_text()),
        cache_dir=d,
        **tables,
    )
