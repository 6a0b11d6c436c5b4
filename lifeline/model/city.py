"""A city: its lifeline networks, reference tables, CRS and timezone (``load_city(dir)``).

A city is data. A package folder (``city.yaml`` plus network models and CSV tables, see
docs/cities.md) is read by :func:`load_city` into a :class:`City`: the networks as WNTR,
pandapower, pandapipes and SWMM models (loaded on first use) and the reference tables of
:mod:`lifeline.model.schema` (assets, customers, sensors, zones, districts, dependencies) plus the
water and gas valve layers and the crews. What the package leaves out (valves, crews,
dependencies, zones) is derived once and cached under ``settings.cache_dir / 'cities'``.

    from lifeline.model.city import load_city
    city = load_city("examples/city")       # CityPackageError listing the problems if invalid
    city.water                              # wntr.network.WaterNetworkModel
    city.local_time(ts)                     # "2026-07-15 11:10 CST"
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

#: utilities whose network a city package may hold, and the model format of each
NETWORK_FORMATS = {
    "water": "EPANET 2.2 INP",
    "power": "pandapower JSON (pandapower.to_json)",
    "gas": "pandapipes JSON (pandapipes.to_json)",
    "drainage": "EPA SWMM 5 INP",
}
#: tables held by a City (attribute name -> schema table, None for internal layers)
TABLES = {
    "assets": "asset",
    "customers": "customer",
    "sensors": "sensor",
    "zones": "zone",
    "districts": "district",
    "dependencies": "dependency",
    "water_valves": None,  # valve, node, link
    "gas_valves": None,  # valve_id, pipe, junction
    "crews": None,  # crew_id, utility, name, x_m, y_m, available
    "waterlogging_points": None,  # point_id, node, threshold_m, name, name_zh (drainage)
    "known_leaks": None,  # pipe, start, end, kind, peak, note (water; naive UTC times)
}
#: bump when the derivation of a city's tables changes (it keys the cache)
DERIVE_VERSION = "city-v5"


@dataclass
class City:
    """One city's networks and tables. Coordinates are metres in ``crs``; times are UTC inside
    and shown in ``timezone``.

    ``networks`` maps a utility to its model file; ``water``, ``power``, ``gas`` give the loaded
    models (on first access). ``meta`` records build facts (derivation notes, versions).
    """

    name: str
    crs: str
    timezone: str
    name_zh: str = ""
    root: Path | None = None
    networks: dict[str, Path] = field(default_factory=dict)
    assets: pd.DataFrame = field(default_factory=pd.DataFrame)
    customers: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensors: pd.DataFrame = field(default_factory=pd.DataFrame)
    zones: pd.DataFrame = field(default_factory=pd.DataFrame)
    districts: pd.DataFrame = field(default_factory=pd.DataFrame)
    dependencies: pd.DataFrame = field(default_factory=pd.DataFrame)
    water_valves: pd.DataFrame = field(default_factory=pd.DataFrame)
    gas_valves: pd.DataFrame = field(default_factory=pd.DataFrame)
    crews: pd.DataFrame = field(default_factory=pd.DataFrame)
    waterlogging_points: pd.DataFrame = field(default_factory=pd.DataFrame)
    known_leaks: pd.DataFrame = field(default_factory=pd.DataFrame)
    grading: dict[str, Any] | None = None
    policies: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    cache_dir: Path | None = None
    _models: dict[str, Any] = field(default_factory=dict, repr=False)

    # ---- network models ---------------------------------------------------------------------
    def has(self, utility: str) -> bool:
        """True when the city has a network model of ``utility``."""
        return utility in self.networks or utility in self._models

    def model(self, utility: str) -> Any:
        """The loaded network model of ``utility`` (read from its file on first use)."""
        if utility not in self._models:
            if utility not in self.networks:
                from lifeline.errors import NotFoundError

                raise NotFoundError(f"the city has no {utility} network", where=self.name)
            from lifeline.model.networks import load_network

            self._models[utility] = load_network(utility, self.networks[utility])
        return self._models[utility]

    @property
    def water(self) -> Any:
        """The water network (``wntr.network.WaterNetworkModel``)."""
        return self.model("water")

    @water.setter
    def water(self, wn: Any) -> None:
        self._models["water"] = wn

    @property
    def power(self) -> Any:
        """The power network (pandapower net)."""
        return self.model("power")

    @power.setter
    def power(self, net: Any) -> None:
        self._models["power"] = net

    @property
    def gas(self) -> Any:
        """The gas network (pandapipes net)."""
        return self.model("gas")

    @gas.setter
    def gas(self, net: Any) -> None:
        self._models["gas"] = net

    @property
    def water_inp_path(self) -> Path:
        """The water network's INP file."""
        return self.networks["water"]

    @property
    def drainage_inp_path(self) -> Path:
        """The drainage network's SWMM INP file."""
        return self.networks["drainage"]

    # ---- geometry and time ------------------------------------------------------------------
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

    def local_time(self, ts: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """``ts`` (UTC or aware) shown in the city's timezone, e.g. ``2026-07-15 11:10 CST``."""
        from lifeline.timefmt import format_local

        return format_local(ts, self.timezone, fmt)

    def supply_bus(self, asset_id: str) -> int | None:
        """The power bus that ``asset_id`` (a pump, a regulator) needs power from, from the
        dependency table's ``supply`` rows; None without one."""
        d = self.dependencies
        hit = d[(d.asset_id == asset_id) & (d.kind == "supply")]
        for dep in hit.depends_on_asset_id.astype(str):
            if dep.startswith("power:bus:"):
                return int(dep.rsplit(":", 1)[1])
        return None

    def version(self) -> str:
        """A key that changes when the city's package changes (keys caches of simulations)."""
        return str(
            self.meta.get("version") or (self.cache_dir.name if self.cache_dir else self.name)
        )

    def utilities(self) -> list[str]:
        """Utilities with a network in this city, in the canonical order."""
        return [u for u in NETWORK_FORMATS if self.has(u)]


def package_digest(root: Path) -> str:
    """A short hash of every file in the package folder (names, sizes, modification times)."""
    h = hashlib.sha256(DERIVE_VERSION.encode())
    for p in sorted(root.rglob("*")):
        if p.is_file():
            st = p.stat()
            h.update(f"{p.relative_to(root)}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def city_cache_dir(root: Path, cache_dir: Path | None = None) -> Path:
    """Where the derived tables of the package at ``root`` are cached."""
    from lifeline.config import get_settings

    base = Path(cache_dir) if cache_dir is not None else get_settings().cache_dir
    slug = "".join(ch if ch.isalnum() else "-" for ch in root.resolve().name)[:40]
    return base / "cities" / f"{slug}-{package_digest(root)}"


def load_city(root: str | Path, cache_dir: Path | None = None, progress: bool = False) -> City:
    """Read the city package at ``root`` into a :class:`City`.

    Raises :class:`lifeline.model.package.CityPackageError` (with every problem: file, line,
    field) when the package cannot be used. Derived tables are cached; a changed file rebuilds.
    """
    from lifeline.model.build import build_city
    from lifeline.model.package import read_package

    root = Path(root)
    pkg = read_package(root)
    cdir = city_cache_dir(root, cache_dir)
    if (cdir / "meta.json").exists():
        try:
            return _read_cached(pkg, cdir)
        except Exception:  # an unreadable cache: rebuild it
            shutil.rmtree(cdir, ignore_errors=True)
    city = build_city(pkg, progress=progress)
    _write_cached(city, cdir)
    city.cache_dir = cdir
    return city


def _write_cached(city: City, cdir: Path) -> None:
    import os

    tmp = cdir.with_name(f"{cdir.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for attr in TABLES:
        df = getattr(city, attr)
        _parquet_safe(df).to_parquet(tmp / f"{attr}.parquet", index=False)
    (tmp / "meta.json").write_text(json.dumps(city.meta, indent=1, default=str))
    shutil.rmtree(cdir, ignore_errors=True)
    try:
        tmp.rename(cdir)
    except OSError:  # another process finished the same build first: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: v if v is None or isinstance(v, str) else str(v))
    return out


def _read_cached(pkg: Any, cdir: Path) -> City:
    from lifeline.model.schema import conform

    tables: dict[str, pd.DataFrame] = {}
    for attr, schema in TABLES.items():
        df = pd.read_parquet(cdir / f"{attr}.parquet")
        tables[attr] = conform(schema, df) if schema else df
    return City(
        name=pkg.name,
        name_zh=pkg.name_zh,
        crs=pkg.crs,
        timezone=pkg.timezone,
        root=pkg.root,
        networks=dict(pkg.networks),
        grading=pkg.grading,
        policies=pkg.policies,
        meta=json.loads((cdir / "meta.json").read_text()),
        cache_dir=cdir,
        **tables,
    )


def resolve_city(root: str | Path | None = None, progress: bool = True) -> City:
    """The city every command works on: the package at ``root`` (``--city DIR``), or the demo
    town when ``root`` is None or empty. Raises CityPackageError for an invalid package."""
    if root is None or str(root) == "":
        from lifeline.datasets.town import load_town

        return load_town()
    return load_city(root, progress=progress)


def city_timezone(root: str | Path | None = None, store: Any = None) -> str:
    """The timezone times are shown in: the package's at ``root`` (only ``city.yaml`` is read),
    else the imported city's (store metadata ``city.timezone``), else the demo town's."""
    if root is not None and str(root) != "":
        from lifeline.model.package import CityPackageError, read_settings

        tz = read_settings(Path(root)).get("timezone", "")
        if not tz:
            from lifeline.model.package import Report

            rep = Report(unusable=True)
            rep.error("city.yaml", "required", field="timezone")
            raise CityPackageError(rep, str(root))
        return str(tz)
    if store is not None:
        tz = store.get_meta().get("city.timezone", "")
        if tz:
            return str(tz)
    from lifeline.datasets.town import TIMEZONE

    return TIMEZONE
