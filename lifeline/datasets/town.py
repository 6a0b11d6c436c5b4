"""The Schutterwald demo town: a city package built from bundled networks (a loader, as
pandapower's ``networks/lv_schutterwald.py`` is a loader over a data file).

``load_town()`` builds the town once (about a minute), writes it as a city package under
``settings.cache_dir / 'town' / TOWN_VERSION / 'package'`` and reads it back with
:func:`lifeline.model.city.load_city` — the same path as any city's own package. Later loads
read the cache in seconds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifeline.datasets.geo import TOWN_CRS
from lifeline.model.city import City
from lifeline.model.schema import conform

#: bump whenever the build changes what it produces (it keys the cache)
TOWN_VERSION = "schutterwald-v5"
#: the demo town's timezone (reports and the UI show local time)
TIMEZONE = "Europe/Berlin"
NAME, NAME_ZH = "Schutterwald", "舒特瓦尔德"
#: the demo town is a City (the name stays for readability)
Town = City


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
    sink_j = gas.sink["junction"]
    hh["sink_junction"] = sink_j.loc[hh.sink].to_numpy()
    sites["sink_junction"] = [int(sink_j.loc[k]) if k >= 0 else -1 for k in sites.sink]
    hh["q"] = hh.persons * 0.125 / 86400.0
    anchor = tuple(bus_xy(power).loc[station_bus].to_numpy())
    wn, winfo = build_water(power, gas, hh, sites, anchor)
    hh["water_junction"] = winfo["household_junction"]
    sites["water_junction"] = winfo["site_junction"]
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
            "gas_asset_id": [f"gas:junction:{j}" for j in hh.sink_junction],
            "water_asset_id": [f"water:junction:{j}" for j in hh.water_junction],
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
            "gas_asset_id": [
                f"gas:junction:{j}" if s >= 0 else ""
                for s, j in zip(sites.sink, sites.sink_junction, strict=True)
            ],
            "water_asset_id": [
                "water:junction:WW" if c == "pumping_station" else f"water:junction:{j}"
                for c, j in zip(sites.category, sites.water_junction, strict=True)
            ],
            "address": "Schutterwald (fictional placement)",
        }
    )
    df = pd.concat([crit, rows], ignore_index=True)
    df["district_id"] = districts.assign(df.x_m.to_numpy(), df.y_m.to_numpy())
    return conform("customer", df)


def build_town(out_dir: Path) -> City:
    """Build the town from the bundled pandapower/pandapipes networks, write it as a city
    package to ``out_dir / 'package'`` and return it read back through ``load_city``."""
    city = _build(out_dir)
    from lifeline.model.city import load_city
    from lifeline.model.write import write_package

    pkg = out_dir / "package"
    tmp = out_dir.with_name(f"{out_dir.name}.tmp-package")
    shutil.rmtree(tmp, ignore_errors=True)
    write_package(city, tmp)
    (tmp / "meta.json").write_text(json.dumps(city.meta, indent=1, default=str))
    shutil.rmtree(pkg, ignore_errors=True)
    pkg.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(pkg)
    return _with_meta(load_city(pkg, cache_dir=out_dir / "derived"), pkg)


def _build(out_dir: Path) -> City:
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
    from lifeline.model.assets import finish_assets, gas_assets, power_assets, water_assets
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
        w_valves = water_valve_layer(wn, b["winfo"]["trunk_pipes"])
        g_valves = gas_valve_layer(gas)
        hh_xy = b["hh"][["x", "y"]].to_numpy()
        raw = pd.concat(
            [
                power_assets(power, feeder_of_bus),
                gas_assets(gas, gdist, g_valves),
                water_assets(
                    wn,
                    dma,
                    w_valves,
                    {f"water:pipe:{k}": v for k, v in b["winfo"]["pipe_meta"].items()},
                ),
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
            assets, wn, gas, power, mh, dma, heads, trunk_pipes=b["winfo"]["trunk_pipes"]
        )
        deps = build_dependencies(assets, wn, gas, power, mh, b["station_bus"])
        zones = zones_table(list(dma.unique()), heads, list(gdist.unique()))
        progress.advance(task)
        town = City(
            name=NAME,
            name_zh=NAME_ZH,
            crs=TOWN_CRS,
            timezone=TIMEZONE,
            assets=assets,
            customers=customers,
            sensors=sensors,
            zones=zones,
            districts=districts.table(),
            dependencies=deps,
            water_valves=w_valves,
            gas_valves=g_valves,
            meta={
                "version": TOWN_VERSION,
                "checks": checks,
                "join": {str(k): v for k, v in b["pinfo"]["joined"].items()},
                "water_loops": b["winfo"]["loops"],
                "water_entry_junctions": b["winfo"]["entry_junctions"],
                "water_tank": b["winfo"]["tank"],
                "water_tank_volume_m3": b["winfo"]["tank_volume_m3"],
                "water_trunk_pipes": b["winfo"]["trunk_pipes"],
                "household_gas_gap_m_max": float(b["hh"].gap_m.max()),
                "household_gas_gap_m_median": float(b["hh"].gap_m.median()),
            },
        )
        town.water, town.power, town.gas = wn, power, gas
        from lifeline.respond.crews import default_crews

        town.crews = default_crews(town)
        progress.advance(task)
    return town


def _with_meta(city: City, pkg: Path) -> City:
    """``city`` with the build facts the demo package keeps in ``meta.json``."""
    meta = pkg / "meta.json"
    if meta.exists():
        city.meta = {**json.loads(meta.read_text()), **city.meta}
    return city


def town_cache_dir(cache_dir: Path | None = None) -> Path:
    """Where the built town of :data:`TOWN_VERSION` lives (``<cache_dir>/town/<version>``)."""
    from lifeline.config import get_settings

    base = cache_dir if cache_dir is not None else get_settings().cache_dir
    return Path(base) / "town" / TOWN_VERSION


def load_town(cache_dir: Path | None = None) -> City:
    """Load the demo town, building and caching it on first use.

    ``cache_dir`` defaults to ``settings.cache_dir``; the town lives in ``<cache_dir>/town/<version>``
    (its city package in ``package/``). Tables are read at once; network models on first access.
    """
    from lifeline.model.city import load_city

    d = town_cache_dir(cache_dir)
    pkg = d / "package"
    if not (pkg / "meta.json").exists():
        return build_town(d)
    try:
        return _with_meta(load_city(pkg, cache_dir=d / "derived"), pkg)
    except Exception:  # an unreadable cache: rebuild it
        shutil.rmtree(d, ignore_errors=True)
        return build_town(d)


def town_package_dir(cache_dir: Path | None = None) -> Path:
    """The demo town's city package folder (built on first use)."""
    load_town(cache_dir)
    return town_cache_dir(cache_dir) / "package"
