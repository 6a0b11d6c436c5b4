"""``lifeline city validate``: everything a later step relies on, checked at once.

:func:`validate_city` reads the package, builds the city without stopping at the first problem
(:func:`lifeline.model.build.build_city` with ``strict=False``), then checks what only the whole
city shows: network coordinates that cannot be in the declared CRS (degrees, outside the CRS's
area of use, networks kilometres apart), customers outside the networks, the grading table, and
whether every network solves (:mod:`lifeline.model.checks`). Every problem names its file, line
and field; exit code 0 ok (warnings allowed), 1 problems, 2 unusable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lifeline.model.package import CityPackageError, Package, Report

#: a network whose centre lies further than this outside its CRS's area of use is misplaced (°)
AREA_MARGIN_DEG = 2.0
#: networks of one city further apart than this are in different places (m)
NETWORK_GAP_M = 20_000.0
#: model field holding the coordinates, per utility (for messages)
COORD_FIELD = {
    "water": "[COORDINATES]",
    "power": "bus.geo",
    "gas": "junction_geodata",
    "drainage": "[COORDINATES]",
}


@dataclass
class Validation:
    """The outcome of validating one package."""

    root: Path
    report: Report
    city: Any = None
    solves: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 ok, 1 problems, 2 unusable."""
        return self.report.exit_code

    def inventory(self) -> dict[str, Any]:
        """Counts of what the city holds (empty when it could not be built)."""
        c = self.city
        if c is None:
            return {}
        return {
            "networks": {u: str(p.name) for u, p in c.networks.items()},
            "assets": {
                f"{u}:{k}": int(n)
                for (u, k), n in c.assets.groupby(["utility", "kind"]).size().items()
            },
            "customers": len(c.customers),
            "critical_sites": int(c.customers.critical.sum()) if len(c.customers) else 0,
            "sensors": len(c.sensors),
            "districts": len(c.districts),
            "zones": len(c.zones),
            "dependencies": len(c.dependencies),
            "water_valves": len(c.water_valves),
            "gas_valves": len(c.gas_valves),
            "crews": len(c.crews),
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-able result (``lifeline city validate --json``)."""
        c = self.city
        return {
            "package": str(self.root),
            "city": None
            if c is None
            else {"name": c.name, "name_zh": c.name_zh, "crs": c.crs, "timezone": c.timezone},
            "ok": self.exit_code == 0,
            "exit_code": self.exit_code,
            "errors": len(self.report.errors),
            "warnings": len(self.report.warnings),
            "problems": [p.as_dict() for p in self.report.problems],
            "solves": self.solves,
            "inventory": self.inventory(),
        }


def validate_city(root: str | Path, solve: bool = True, progress: bool = False) -> Validation:
    """Validate the city package at ``root``; never raises for a bad package (see module doc)."""
    from lifeline.model.build import build_city
    from lifeline.model.package import read_package

    root = Path(root)
    try:
        pkg = read_package(root)
    except CityPackageError as exc:
        return Validation(root, exc.report)
    rep = pkg.report
    if rep.unusable:
        return Validation(root, rep)
    try:
        city = build_city(pkg, progress=progress, strict=False)
    except CityPackageError:
        return Validation(root, rep)
    except Exception as exc:  # a model that loads but breaks a derivation: report, never trace
        rep.unusable = True
        rep.error(".", f"the city cannot be built: {type(exc).__name__}: {exc}")
        return Validation(root, rep)
    v = Validation(root, rep, city)
    if not city.networks:
        rep.unusable = True
        rep.error(
            "city.yaml", "no network could be loaded (see the errors above)", field="networks"
        )
        return v
    check_coordinates(pkg, city)
    check_outside_share(pkg)
    check_grading(pkg)
    note_derived(pkg, city)
    if solve:
        from lifeline.model.checks import check_models

        models: dict[str, Any] = {
            u: city.model(u) for u in ("water", "power", "gas") if u in city.networks
        }
        v.solves = check_models(models, dict(city.networks), rep, pkg.root)
    return v


def _section_line(path: Path, section: str) -> int | None:
    """1-based line of ``[SECTION]`` in an INP file."""
    try:
        for no, raw in enumerate(path.read_text(errors="replace").splitlines(), start=1):
            if raw.strip().upper() == section.upper():
                return no
    except OSError:
        return None
    return None


def check_coordinates(pkg: Package, city: Any) -> None:
    """Errors for network coordinates that cannot be in the package's CRS (the most common
    mistake): degrees instead of metres, outside the CRS's area of use, networks far apart."""
    from pyproj import CRS

    from lifeline.model.geo import to_lonlat

    rep = pkg.report
    a = city.assets
    a = a[a.kind != "manhole"]
    centres: dict[str, tuple[float, float]] = {}
    crs = CRS.from_user_input(city.crs)
    area = crs.area_of_use
    for util, path in city.networks.items():
        sel = a[a.utility == util]
        x, y = sel.x_m.to_numpy(float), sel.y_m.to_numpy(float)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            continue
        x, y = x[ok], y[ok]
        fname = pkg.rel(path)
        fld = COORD_FIELD.get(util, "coordinates")
        line = _section_line(path, fld) if fld.startswith("[") else None
        if np.all(np.abs(x) <= 180) and np.all(np.abs(y) <= 90):
            rep.error(
                fname,
                f"coordinates span x {x.min():.4f}…{x.max():.4f}, y {y.min():.4f}…{y.max():.4f}: "
                f"these look like longitude/latitude degrees, but {city.crs} is in metres — "
                "reproject the model into the package crs (wrong CRS is the most common mistake)",
                line,
                fld,
            )
            continue
        cx, cy = float(np.median(x)), float(np.median(y))
        centres[util] = (cx, cy)
        lon, lat = to_lonlat([cx], [cy], city.crs)
        lo, la = float(lon[0]), float(lat[0])
        if area is not None and (
            not (np.isfinite(lo) and np.isfinite(la))
            or lo < area.west - AREA_MARGIN_DEG
            or lo > area.east + AREA_MARGIN_DEG
            or la < area.south - AREA_MARGIN_DEG
            or la > area.north + AREA_MARGIN_DEG
        ):
            where = f"lon {lo:.3f}, lat {la:.3f}" if np.isfinite(lo) else "no valid place"
            rep.error(
                fname,
                f"the {util} network's centre ({cx:.0f}, {cy:.0f}) is at {where} in {city.crs}, "
                f"outside that CRS's area of use ({area.name}: lon {area.west:g}…{area.east:g}, "
                f"lat {area.south:g}…{area.north:g}): the crs in city.yaml or the model's "
                "coordinates are wrong (the most common mistake)",
                line,
                fld,
            )
    utils = sorted(centres)
    for i, u in enumerate(utils):
        for w in utils[i + 1 :]:
            d = float(np.hypot(centres[u][0] - centres[w][0], centres[u][1] - centres[w][1]))
            if d > NETWORK_GAP_M:
                rep.error(
                    pkg.rel(city.networks[w]),
                    f"the {w} network lies {d / 1000:.0f} km from the {u} network: one of them is "
                    "probably in another CRS (all models must use the package crs)",
                    None,
                    COORD_FIELD.get(w, "coordinates"),
                )


def check_outside_share(pkg: Package) -> None:
    """One summary error when most rows of a table lie outside the networks' extent."""
    rep = pkg.report
    for fname, table in (("customers.csv", "customers"), ("sensors.csv", "sensors")):
        df = pkg.tables.get(table)
        if df is None or not len(df):
            continue
        n_out = sum(
            1
            for p in rep.errors
            if p.file == fname and p.field == "x,y" and "outside the networks' extent" in p.message
        )
        if n_out >= max(3, len(df) // 2):
            rep.error(
                fname,
                f"{n_out} of {len(df)} rows lie outside the networks' extent: the coordinates are "
                "probably in another CRS than the package crs (the most common mistake)",
                None,
                "x,y",
            )


def check_grading(pkg: Package) -> None:
    """The package's grading table parses and every threshold names its source."""
    if not pkg.grading:
        pkg.report.warn("grading.yaml", "absent: the shipped default grading table is used")
        return
    from lifeline.errors import ConfigError
    from lifeline.incidents.grading import rules_from_mapping

    try:
        rules_from_mapping(pkg.grading, "grading.yaml")
    except ConfigError as exc:
        where = str(exc.where or "").split(": ", 1)
        pkg.report.error("grading.yaml", exc.message, field=where[1] if len(where) > 1 else "")


def note_derived(pkg: Package, city: Any) -> None:
    """Warnings for what is derived rather than read (zones always are)."""
    z = city.zones
    for util, what in (("water", "DMAs"), ("power", "feeders"), ("gas", "gas districts")):
        n = int((z.utility == util).sum()) if len(z) else 0
        if util in city.networks and n:
            rep_file = pkg.rel(city.networks[util])
            pkg.report.warn(
                rep_file, f"{what}: {n} derived from the network (rules in docs/cities.md)"
            )
