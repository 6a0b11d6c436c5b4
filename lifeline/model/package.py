"""The city package format: reading ``city.yaml`` and the CSV / GeoJSON tables, with every
problem recorded as file, line, field and message (see docs/cities.md).

:func:`read_package` never stops at the first problem: it returns a :class:`Package` whose
``report`` lists them. Only a package that cannot be read at all (no ``city.yaml``, not YAML)
raises :class:`CityPackageError` at once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from lifeline.errors import InputError

#: table name -> (default file, required columns, optional columns)
TABLE_FILES: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "customers": (
        "customers.csv",
        ("customer_id", "name", "category", "critical", "x", "y"),
        ("water_node", "power_load", "gas_junction", "address"),
    ),
    "sensors": (
        "sensors.csv",
        ("sensor_id", "utility", "quantity", "unit", "element", "x", "y", "interval_s"),
        ("valid_min", "valid_max", "host"),
    ),
    "valves": ("valves.csv", ("valve_id", "pipe", "node"), ()),
    "crews": ("crews.csv", ("crew_id", "utility", "name", "x", "y"), ()),
    "dependencies": ("dependencies.csv", ("asset", "depends_on", "kind"), ("distance_m",)),
    # extensions (optional, documented in docs/cities.md)
    "manholes": ("manholes.csv", ("manhole_id", "host", "x", "y"), ("name",)),
    "attributes": (
        "attributes.csv",
        ("asset",),
        ("install_year", "material", "design_life_y", "name"),
    ),
    "waterlogging_points": (
        "waterlogging_points.csv",
        ("point_id", "node", "threshold_m"),
        ("name", "name_zh"),
    ),
    "known_leaks": ("known_leaks.csv", ("pipe", "start"), ("end", "kind", "peak", "note")),
}
CATEGORIES = (
    "household",
    "hospital",
    "school",
    "care_home",
    "industry",
    "commercial",
    "pumping_station",
    "other",
)
#: (utility, quantity) -> (unit, element kinds allowed; () = a manhole position, no element)
QUANTITIES: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    ("water", "pressure_m"): ("m", ("node",)),
    ("water", "flow_m3h"): ("m3/h", ("link",)),
    ("water", "level_m"): ("m", ("node",)),
    ("power", "voltage_pu"): ("pu", ("bus",)),
    ("power", "current_a"): ("A", ("line", "trafo")),
    ("power", "p_mw"): ("MW", ("line", "trafo", "ext_grid")),
    ("gas", "pressure_bar"): ("bar", ("junction",)),
    ("gas", "methane_pct_lel"): ("%LEL", ()),
    # extensions: the gas regulator station's outflow; drainage (SWMM element names)
    ("gas", "flow_m3h"): ("m3/h", ("ext_grid",)),
    ("drainage", "rain_mm_h"): ("mm/h", ("gauge",)),
    ("drainage", "level_m"): ("m", ("node",)),
    ("drainage", "depth_m"): ("m", ("node",)),
    ("drainage", "flow_m3s"): ("m3/s", ("link",)),
    ("drainage", "pump_on"): ("1", ("link",)),
}
UNIT_ALIASES = {
    "m³/h": "m3/h",
    "m^3/h": "m3/h",
    "m³/s": "m3/s",
    "m^3/s": "m3/s",
    "%lel": "%LEL",
    "% lel": "%LEL",
    "a": "A",
    "mw": "MW",
    "p.u.": "pu",
    "mm/hr": "mm/h",
}
HOSTS = ("power", "telecom", "drainage", "water", "gas")
UTILITIES = ("water", "power", "gas", "drainage")


@dataclass
class Problem:
    """One problem of a package: ``level`` error | warning, where (file, line, field), what."""

    level: str
    file: str
    message: str
    line: int | None = None
    field: str = ""

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{self.level}: {where}: {self.field + ': ' if self.field else ''}{self.message}"

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "level": self.level,
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class Report:
    """Problems found in a package, in the order found."""

    problems: list[Problem] = field(default_factory=list)
    unusable: bool = False

    def error(self, file: str, message: str, line: int | None = None, field: str = "") -> None:
        """Record an error (the package cannot be used as it is)."""
        self.problems.append(Problem("error", file, message, line, field))

    def warn(self, file: str, message: str, line: int | None = None, field: str = "") -> None:
        """Record a warning (something will be derived or ignored)."""
        self.problems.append(Problem("warning", file, message, line, field))

    @property
    def errors(self) -> list[Problem]:
        """The errors."""
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        """The warnings."""
        return [p for p in self.problems if p.level == "warning"]

    @property
    def exit_code(self) -> int:
        """0 ok (warnings allowed), 1 problems, 2 unusable."""
        return 2 if self.unusable else (1 if self.errors else 0)

    def text(self, limit: int = 200) -> str:
        """The problems as lines (at most ``limit``, then a count of the rest)."""
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"… and {len(self.problems) - limit} more")
        return "\n".join(lines)


class CityPackageError(InputError):
    """A city package that cannot be used; ``report`` holds every problem found."""

    def __init__(self, report: Report, where: str) -> None:
        self.report = report
        n = len(report.errors)
        head = f"the city package has {n} error{'s' if n != 1 else ''}"
        super().__init__(f"{head} (run `lifeline city validate`):\n{report.text(50)}", where)


@dataclass
class Package:
    """A city package as read from its folder: settings, network files and raw tables (strings,
    with a ``_line`` column giving the file line of each row)."""

    root: Path
    name: str = ""
    name_zh: str = ""
    crs: str = ""
    timezone: str = ""
    networks: dict[str, Path] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    districts: list[dict[str, Any]] | None = None
    grading: dict[str, Any] | None = None
    policies: dict[str, Any] | None = None
    report: Report = field(default_factory=Report)

    def rel(self, path: Path | str) -> str:
        """A file's name relative to the package folder (for messages)."""
        p = Path(path)
        try:
            return str(p.relative_to(self.root))
        except ValueError:
            return str(p)


def read_package(root: str | Path) -> Package:
    """Read the package at ``root``: ``city.yaml``, network file paths and tables.

    Raises CityPackageError only when ``city.yaml`` is missing or not a YAML mapping (unusable);
    every other problem is recorded in ``Package.report``."""
    import yaml

    root = Path(root)
    pkg = Package(root=root)
    rep = pkg.report
    cfg_path = root / "city.yaml"
    if not root.is_dir():
        rep.unusable = True
        rep.error(str(root), "not a folder")
        raise CityPackageError(rep, str(root))
    if not cfg_path.is_file():
        rep.unusable = True
        rep.error("city.yaml", "missing: a city package is a folder with a city.yaml")
        raise CityPackageError(rep, str(root))
    try:
        cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        rep.unusable = True
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        rep.error("city.yaml", f"not valid YAML: {exc}", (line + 1) if line is not None else None)
        raise CityPackageError(rep, str(cfg_path)) from exc
    if not isinstance(cfg, dict):
        rep.unusable = True
        rep.error("city.yaml", "must be a mapping of keys (name, crs, timezone, networks, …)")
        raise CityPackageError(rep, str(cfg_path))
    _settings(pkg, cfg)
    _networks(pkg, cfg.get("networks"))
    for name, (default, required, optional) in TABLE_FILES.items():
        fname = cfg.get(name, default)
        path = root / str(fname)
        if name in cfg and not path.is_file():
            rep.error("city.yaml", f"file {fname!r} not found", field=name)
            continue
        if path.is_file():
            pkg.files[name] = path
            df = _read_csv(pkg, path, required, optional)
            if df is not None:
                pkg.tables[name] = df
    dfile = root / str(cfg.get("districts", "districts.geojson"))
    if dfile.is_file():
        pkg.files["districts"] = dfile
        pkg.districts = _read_districts(pkg, dfile)
    elif "districts" in cfg:
        rep.error("city.yaml", f"file {cfg['districts']!r} not found", field="districts")
    else:
        rep.warn("districts.geojson", "absent: the whole city becomes one district")
    for key in ("grading", "policies"):
        gfile = root / str(cfg.get(key, f"{key}.yaml"))
        if gfile.is_file():
            try:
                val = yaml.safe_load(gfile.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                rep.error(pkg.rel(gfile), f"not valid YAML: {exc}")
                continue
            if not isinstance(val, dict):
                rep.error(pkg.rel(gfile), "must be a mapping")
                continue
            setattr(pkg, key, val)
    for name in ("valves", "crews", "dependencies"):
        if name not in pkg.files:
            what = {
                "valves": "water isolation valves are generated (WNTR strategic N-2 layer)",
                "crews": "two crews per utility are placed at its depots",
                "dependencies": "dependencies are derived (supply, proximity, flooding rules)",
            }[name]
            if name != "valves" or "water" in pkg.networks:
                rep.warn(TABLE_FILES[name][0], f"absent: {what}")
    return pkg


def read_settings(root: Path) -> dict[str, Any]:
    """``city.yaml`` of the package at ``root`` as a mapping (CityPackageError when it is
    missing or not a YAML mapping); the tables are not read."""
    import yaml

    rep = Report(unusable=True)
    path = Path(root) / "city.yaml"
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        rep.error("city.yaml", f"cannot read: {exc}")
        raise CityPackageError(rep, str(root)) from exc
    if not isinstance(cfg, dict):
        rep.error("city.yaml", "must be a mapping of keys (name, crs, timezone, networks, …)")
        raise CityPackageError(rep, str(root))
    return cfg


def _settings(pkg: Package, cfg: dict[str, Any]) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from lifeline.model.geo import check_crs

    rep = pkg.report
    for key in ("name", "crs", "timezone"):
        if not str(cfg.get(key) or "").strip():
            rep.error("city.yaml", "required", field=key)
    pkg.name = str(cfg.get("name") or "").strip()
    pkg.name_zh = str(cfg.get("name_zh") or "").strip()
    pkg.crs = str(cfg.get("crs") or "").strip()
    pkg.timezone = str(cfg.get("timezone") or "").strip()
    if pkg.crs:
        try:
            check_crs(pkg.crs)
        except ValueError as exc:
            rep.error("city.yaml", str(exc), field="crs")
            pkg.report.unusable = True
    if pkg.timezone:
        try:
            ZoneInfo(pkg.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            rep.error(
                "city.yaml",
                f"unknown timezone {pkg.timezone!r} (use an IANA name such as Asia/Shanghai)",
                field="timezone",
            )


def _networks(pkg: Package, nets: Any) -> None:
    rep = pkg.report
    if not isinstance(nets, dict) or not nets:
        rep.error(
            "city.yaml",
            "at least one network is required (water: *.inp, power: *.json, gas: *.json, drainage: *.inp)",
            field="networks",
        )
        rep.unusable = True
        return
    for util, fname in nets.items():
        if util not in UTILITIES:
            rep.error(
                "city.yaml",
                f"unknown utility {util!r} (use {', '.join(UTILITIES)})",
                field="networks",
            )
            continue
        p = pkg.root / str(fname)
        if not p.is_file():
            rep.error("city.yaml", f"network file {fname!r} not found", field=f"networks.{util}")
            continue
        pkg.networks[util] = p


def _read_csv(
    pkg: Package, path: Path, required: tuple[str, ...], optional: tuple[str, ...]
) -> pd.DataFrame | None:
    rep = pkg.report
    rel = pkg.rel(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        rep.error(rel, "not UTF-8 text")
        return None
    except pd.errors.EmptyDataError:
        rep.error(rel, "empty file (expected a header line)")
        return None
    except pd.errors.ParserError as exc:
        line, msg = _parser_problem(str(exc))
        rep.error(rel, f"not a readable CSV: {msg}", line)
        return None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        rep.error(
            rel, f"missing column(s) {', '.join(missing)}; the header is {list(df.columns)}", 1
        )
        return None
    extra = [c for c in df.columns if c not in required + optional]
    if extra:
        rep.warn(rel, f"column(s) {', '.join(extra)} are not used", 1)
    for c in optional:
        if c not in df.columns:
            df[c] = ""
    df = df.fillna("").astype(str).apply(lambda s: s.str.strip())  # short rows: empty fields
    df["_line"] = range(2, len(df) + 2)
    return df


def _parser_problem(text: str) -> tuple[int | None, str]:
    """(file line, message) of a pandas CSV parser error."""
    import re

    msg = text.strip().removeprefix("Error tokenizing data. C error: ")
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", msg)
    if m:
        return (
            int(m.group(2)),
            f"{m.group(3)} fields where the header has {m.group(1)} (a stray comma or an unquoted text with a comma?)",
        )
    m = re.search(r"EOF inside string starting at row (\d+)", msg)
    if m:
        return int(m.group(1)) + 1, 'a quote (") opened on this line is never closed'
    return None, msg


def _read_districts(pkg: Package, path: Path) -> list[dict[str, Any]] | None:
    rep = pkg.report
    rel = pkg.rel(path)
    try:
        gj = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        rep.error(rel, f"not valid GeoJSON: {exc}")
        return None
    if not isinstance(gj, dict) or gj.get("type") != "FeatureCollection":
        rep.error(rel, "must be a GeoJSON FeatureCollection")
        return None
    out = []
    seen: set[str] = set()
    for i, f in enumerate(gj.get("features") or []):
        where = f"feature {i}"
        props = (f or {}).get("properties") or {}
        geom = (f or {}).get("geometry") or {}
        did = str(props.get("district_id") or "").strip()
        if not did:
            rep.error(rel, f"{where}: missing", field="district_id")
            continue
        if did in seen:
            rep.error(rel, f"{where}: duplicate district_id {did!r}", field="district_id")
            continue
        seen.add(did)
        if geom.get("type") not in ("Polygon", "MultiPolygon"):
            rep.error(
                rel, f"{where} ({did}): geometry must be Polygon or MultiPolygon", field="geometry"
            )
            continue
        out.append(
            {
                "district_id": did,
                "name": str(props.get("name") or did),
                "name_zh": str(props.get("name_zh") or ""),
                "level": str(props.get("level") or "district"),
                "parent_id": str(props.get("parent_id") or ""),
                "geometry": geom,
            }
        )
    if not out:
        rep.error(rel, "no usable district")
    return out
