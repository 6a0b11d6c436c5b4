"""From a package's CSV rows to the city's tables, checking every row against the networks.

Each function takes the raw table (strings, ``_line`` = file line), records problems in the
package report (file, line, field) and returns the rows it could use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lifeline.model.package import (
    CATEGORIES,
    HOSTS,
    QUANTITIES,
    UNIT_ALIASES,
    UTILITIES,
    Package,
)
from lifeline.model.schema import conform


@dataclass
class Extent:
    """The networks' extent (m) with a margin; points outside it are probably in another CRS."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float
    crs: str = ""

    @classmethod
    def of(cls, x: np.ndarray, y: np.ndarray, crs: str) -> Extent | None:
        """Extent of the finite points, widened by 10 % of its size and at least 1 km."""
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any():
            return None
        x0, x1, y0, y1 = x[ok].min(), x[ok].max(), y[ok].min(), y[ok].max()
        m = max(1000.0, 0.1 * max(x1 - x0, y1 - y0))
        return cls(x0 - m, y0 - m, x1 + m, y1 + m, crs)

    def inside(self, x: float, y: float) -> bool:
        """True when (x, y) lies inside."""
        return self.xmin <= x <= self.xmax and self.ymin <= y <= self.ymax

    def why_outside(self, x: float, y: float) -> str:
        """A message for a point outside, with the most likely cause."""
        hint = (
            "these look like longitude/latitude degrees: give coordinates in the package's crs"
            if abs(x) <= 180 and abs(y) <= 90
            else "check the CRS (the most common mistake) and the coordinate order (x = east)"
        )
        return (
            f"({x:.1f}, {y:.1f}) lies outside the networks' extent "
            f"x {self.xmin:.0f}…{self.xmax:.0f}, y {self.ymin:.0f}…{self.ymax:.0f} in {self.crs}: {hint}"
        )


@dataclass
class Elements:
    """The element ids of a city's network models, for reference checks."""

    water_nodes: dict[str, str] = field(default_factory=dict)  # id -> junction|tank|reservoir
    water_links: dict[str, str] = field(default_factory=dict)  # id -> pipe|pump|control_valve
    water_link_ends: dict[str, tuple[str, str]] = field(default_factory=dict)
    power: dict[str, set[int]] = field(default_factory=dict)  # table -> indices
    power_load_bus: dict[int, int] = field(default_factory=dict)
    gas_junctions: set[int] = field(default_factory=set)
    gas_ext_grids: list[int] = field(default_factory=list)
    drainage_nodes: set[str] = field(default_factory=set)
    drainage_links: set[str] = field(default_factory=set)
    drainage_gauges: set[str] = field(default_factory=set)
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)  # asset id -> x, y

    @classmethod
    def of(cls, models: dict[str, Any], assets: pd.DataFrame) -> Elements:
        """Collect ids from the loaded models and positions from the asset table."""
        e = cls()
        wn = models.get("water")
        if wn is not None:
            for kind, names in (
                ("junction", wn.junction_name_list),
                ("tank", wn.tank_name_list),
                ("reservoir", wn.reservoir_name_list),
            ):
                e.water_nodes.update({str(n): kind for n in names})
            for kind, names in (
                ("pipe", wn.pipe_name_list),
                ("pump", wn.pump_name_list),
                ("control_valve", wn.valve_name_list),
            ):
                for n in names:
                    lk = wn.get_link(n)
                    e.water_links[str(n)] = kind
                    e.water_link_ends[str(n)] = (str(lk.start_node_name), str(lk.end_node_name))
        net = models.get("power")
        if net is not None:
            for t in ("bus", "line", "trafo", "ext_grid", "load", "switch"):
                e.power[t] = {int(i) for i in getattr(net, t).index}
            e.power_load_bus = {
                int(i): int(b) for i, b in zip(net.load.index, net.load.bus, strict=True)
            }
        gas = models.get("gas")
        if gas is not None:
            e.gas_junctions = {int(i) for i in gas.junction.index}
            e.gas_ext_grids = [int(i) for i in gas.ext_grid.index]
        dr = models.get("drainage_elements")
        if dr is not None:
            e.drainage_nodes, e.drainage_links, e.drainage_gauges = dr
        e.positions = {
            str(a): (float(x), float(y))
            for a, x, y in zip(assets.asset_id, assets.x_m, assets.y_m, strict=True)
        }
        return e


def _float(v: str) -> float | None:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _int(v: str) -> int | None:
    x = _float(v)
    return int(x) if x is not None and x == int(x) else None


def _duplicates(pkg: Package, df: pd.DataFrame, col: str, fname: str) -> pd.Series:
    """Mask of rows whose ``col`` is empty or repeats an earlier row (each recorded)."""
    bad = pd.Series(False, index=df.index)
    first: dict[str, int] = {}
    for i, (v, line) in enumerate(zip(df[col], df["_line"], strict=True)):
        if not v:
            pkg.report.error(fname, "empty id", line, col)
            bad.iloc[i] = True
        elif v in first:
            pkg.report.error(fname, f"duplicate id {v!r} (first on line {first[v]})", line, col)
            bad.iloc[i] = True
        else:
            first[v] = line
    return bad


def convert_customers(pkg: Package, el: Elements, extent: Extent | None) -> pd.DataFrame:
    """customers.csv → ``schema.CUSTOMER`` rows (district_id filled later)."""
    df = pkg.tables.get("customers")
    fname = "customers.csv"
    if df is None:
        return conform("customer", pd.DataFrame())
    rep = pkg.report
    bad = _duplicates(pkg, df, "customer_id", fname)
    rows = []
    for r, skip in zip(df.to_dict("records"), bad, strict=True):
        line = int(r["_line"])
        ok = not skip
        cat = r["category"].lower()
        if cat not in CATEGORIES:
            rep.error(
                fname,
                f"unknown category {r['category']!r} (use {'|'.join(CATEGORIES)})",
                line,
                "category",
            )
            ok = False
        crit = r["critical"].lower()
        if crit not in ("true", "false", "1", "0", "yes", "no"):
            rep.error(fname, f"{r['critical']!r} is not true|false", line, "critical")
            ok = False
        x, y = _float(r["x"]), _float(r["y"])
        if x is None or y is None:
            rep.error(fname, "x and y must be numbers (metres in the package crs)", line, "x,y")
            ok = False
        elif extent is not None and not extent.inside(x, y):
            rep.error(fname, extent.why_outside(x, y), line, "x,y")
            ok = False
        ids = {"water": "", "power": "", "gas": ""}
        wnode = r.get("water_node", "")
        if wnode:
            if not el.water_nodes:
                rep.error(fname, "the city has no water network", line, "water_node")
            elif el.water_nodes.get(wnode) != "junction":
                rep.error(
                    fname, f"water junction {wnode!r} not in the EPANET model", line, "water_node"
                )
                ok = False
            else:
                ids["water"] = f"water:junction:{wnode}"
        pload = r.get("power_load", "")
        if pload:
            i = _int(pload)
            if i is None or i not in el.power.get("load", set()):
                rep.error(
                    fname,
                    f"power load {pload!r} not in the pandapower net's load table",
                    line,
                    "power_load",
                )
                ok = False
            else:
                ids["power"] = f"power:load:{i}"
        gj = r.get("gas_junction", "")
        if gj:
            i = _int(gj)
            if i is None or i not in el.gas_junctions:
                rep.error(
                    fname, f"gas junction {gj!r} not in the pandapipes net", line, "gas_junction"
                )
                ok = False
            else:
                ids["gas"] = f"gas:junction:{i}"
        if ok:
            rows.append(
                {
                    "customer_id": r["customer_id"],
                    "name": r["name"],
                    "category": cat,
                    "critical": crit in ("true", "1", "yes"),
                    "x_m": x,
                    "y_m": y,
                    "water_asset_id": ids["water"],
                    "power_asset_id": ids["power"],
                    "gas_asset_id": ids["gas"],
                    "address": r.get("address", "") or r["name"],
                }
            )
    return conform("customer", pd.DataFrame(rows))


def _sensor_asset(utility: str, kind: str, ref: str, el: Elements) -> tuple[str | None, str]:
    """(asset id, problem) of a sensor's element ``kind:ref``."""
    if utility == "water":
        if kind == "node":
            k = el.water_nodes.get(ref)
            return (
                (f"water:{k}:{ref}", "") if k else (None, f"node {ref!r} not in the EPANET model")
            )
        k = el.water_links.get(ref)
        return (f"water:{k}:{ref}", "") if k else (None, f"link {ref!r} not in the EPANET model")
    if utility == "power":
        i = _int(ref)
        if i is None or i not in el.power.get(kind, set()):
            return None, f"{kind} {ref!r} not in the pandapower net"
        return f"power:{kind}:{i}", ""
    if utility == "gas":
        i = _int(ref)
        if kind == "ext_grid":
            if i is None or i not in el.gas_ext_grids:
                return None, f"ext_grid {ref!r} not in the pandapipes net"
            return f"gas:regulator:R{el.gas_ext_grids.index(i) + 1}", ""
        if i is None or i not in el.gas_junctions:
            return None, f"junction {ref!r} not in the pandapipes net"
        return f"gas:junction:{i}", ""
    if utility == "drainage":
        pool = {"node": el.drainage_nodes, "link": el.drainage_links, "gauge": el.drainage_gauges}[
            kind
        ]
        if ref not in pool:
            return None, f"{kind} {ref!r} not in the SWMM model"
        akind = {"node": "node", "link": "conduit", "gauge": "raingauge"}[kind]
        return f"drainage:{akind}:{ref}", ""
    return None, f"unknown utility {utility!r}"


def convert_sensors(
    pkg: Package, el: Elements, extent: Extent | None
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """sensors.csv → ``schema.SENSOR`` rows, and the methane detectors' manholes to create
    (``{"sensor_id", "host", "x_m", "y_m"}``) when no manhole lies at their position."""
    df = pkg.tables.get("sensors")
    fname = "sensors.csv"
    if df is None:
        return conform("sensor", pd.DataFrame()), []
    rep = pkg.report
    bad = _duplicates(pkg, df, "sensor_id", fname)
    rows, wells = [], []
    for r, skip in zip(df.to_dict("records"), bad, strict=True):
        line = int(r["_line"])
        ok = not skip
        util, q = r["utility"].lower(), r["quantity"]
        if util not in UTILITIES:
            rep.error(
                fname,
                f"unknown utility {r['utility']!r} (use {'|'.join(UTILITIES)})",
                line,
                "utility",
            )
            continue
        spec = QUANTITIES.get((util, q))
        if spec is None:
            known = sorted(k[1] for k in QUANTITIES if k[0] == util)
            rep.error(
                fname, f"unknown {util} quantity {q!r} (use {', '.join(known)})", line, "quantity"
            )
            continue
        unit = UNIT_ALIASES.get(r["unit"].lower(), r["unit"])
        if unit != spec[0]:
            rep.error(
                fname, f"unit {r['unit']!r} does not fit {q} (expected {spec[0]})", line, "unit"
            )
            ok = False
        x, y = _float(r["x"]), _float(r["y"])
        if (r["x"] or r["y"]) and (x is None or y is None):
            rep.error(fname, "x and y must be numbers (metres in the package crs)", line, "x,y")
            ok = False
        if x is not None and y is not None and extent is not None and not extent.inside(x, y):
            rep.error(fname, extent.why_outside(x, y), line, "x,y")
            ok = False
        element, asset, host = r["element"], None, r.get("host", "").lower()
        if not spec[1]:  # a methane detector in a manhole: x, y and host
            if x is None or y is None:
                rep.error(fname, "a methane detector needs x, y of its manhole", line, "x,y")
                ok = False
            if host not in HOSTS:
                rep.error(
                    fname,
                    f"host must be one of {'|'.join(HOSTS)} (the manhole's owner)",
                    line,
                    "host",
                )
                ok = False
            element = ""
        else:
            kind, _, ref = element.partition(":")
            if kind not in spec[1] or not ref:
                want = " | ".join(f"{k}:<id>" for k in spec[1])
                rep.error(
                    fname, f"element {element!r} does not fit {q} (use {want})", line, "element"
                )
                ok = False
            else:
                asset, why = _sensor_asset(util, kind, ref, el)
                if asset is None:
                    rep.error(fname, why, line, "element")
                    ok = False
                elif x is None or y is None:
                    x, y = el.positions.get(asset, (None, None))  # type: ignore[assignment]
        interval = _int(r["interval_s"])
        if interval is None or interval <= 0:
            rep.error(
                fname,
                f"{r['interval_s']!r} is not a positive whole number of seconds",
                line,
                "interval_s",
            )
            ok = False
        lo = _float(r.get("valid_min", "")) if r.get("valid_min") else -math.inf
        hi = _float(r.get("valid_max", "")) if r.get("valid_max") else math.inf
        if lo is None or hi is None or lo >= hi:
            rep.error(
                fname, "valid_min must be a number below valid_max", line, "valid_min,valid_max"
            )
            ok = False
        if not ok:
            continue
        if not spec[1]:
            wells.append(
                {"sensor_id": r["sensor_id"], "host": host, "x_m": x, "y_m": y, "line": line}
            )
        rows.append(
            {
                "sensor_id": r["sensor_id"],
                "asset_id": asset or "",
                "utility": util,
                "quantity": q,
                "unit": spec[0],
                "interval_s": interval,
                "valid_min": lo,
                "valid_max": hi,
                "x_m": x,
                "y_m": y,
                "element": element,
                "host": host,
            }
        )
    return conform("sensor", pd.DataFrame(rows)), wells


def convert_valves(pkg: Package, el: Elements) -> pd.DataFrame | None:
    """valves.csv → the water valve layer (``valve, node, link``); None when absent."""
    df = pkg.tables.get("valves")
    if df is None:
        return None
    fname = "valves.csv"
    bad = _duplicates(pkg, df, "valve_id", fname)
    rows = []
    for r, skip in zip(df.to_dict("records"), bad, strict=True):
        line = int(r["_line"])
        ends = el.water_link_ends.get(r["pipe"])
        if ends is None:
            pkg.report.error(fname, f"pipe {r['pipe']!r} not in the EPANET model", line, "pipe")
            continue
        if r["node"] not in ends:
            pkg.report.error(
                fname,
                f"node {r['node']!r} is not an end of pipe {r['pipe']} ({ends[0]}, {ends[1]})",
                line,
                "node",
            )
            continue
        if not skip:
            rows.append({"valve": r["valve_id"], "node": r["node"], "link": r["pipe"]})
    return pd.DataFrame(rows, columns=["valve", "node", "link"])


def convert_crews(pkg: Package, extent: Extent | None) -> pd.DataFrame | None:
    """crews.csv → ``crew_id, utility, name, x_m, y_m, available``; None when absent."""
    df = pkg.tables.get("crews")
    if df is None:
        return None
    fname = "crews.csv"
    bad = _duplicates(pkg, df, "crew_id", fname)
    rows = []
    for r, skip in zip(df.to_dict("records"), bad, strict=True):
        line = int(r["_line"])
        x, y = _float(r["x"]), _float(r["y"])
        if r["utility"].lower() not in UTILITIES:
            pkg.report.error(fname, f"unknown utility {r['utility']!r}", line, "utility")
            continue
        if x is None or y is None:
            pkg.report.error(fname, "x and y must be numbers", line, "x,y")
            continue
        if extent is not None and not extent.inside(x, y):
            pkg.report.error(fname, extent.why_outside(x, y), line, "x,y")
            continue
        if not skip:
            rows.append(
                {
                    "crew_id": r["crew_id"],
                    "utility": r["utility"].lower(),
                    "name": r["name"],
                    "x_m": x,
                    "y_m": y,
                    "available": True,
                }
            )
    return pd.DataFrame(rows, columns=["crew_id", "utility", "name", "x_m", "y_m", "available"])


def convert_dependencies(pkg: Package, known: set[str]) -> pd.DataFrame | None:
    """dependencies.csv → ``schema.DEPENDENCY``; refs must name assets of the city."""
    df = pkg.tables.get("dependencies")
    if df is None:
        return None
    fname = "dependencies.csv"
    rows = []
    for r in df.to_dict("records"):
        line = int(r["_line"])
        ok = True
        for col in ("asset", "depends_on"):
            ref = r[col]
            if ref.count(":") < 2:
                pkg.report.error(fname, f"{ref!r} is not <utility>:<element>:<id>", line, col)
                ok = False
            elif ref not in known:
                pkg.report.error(fname, f"{ref!r} is not an asset of the city", line, col)
                ok = False
        if not r["kind"]:
            pkg.report.error(fname, "empty", line, "kind")
            ok = False
        if ok:
            rows.append(
                {
                    "asset_id": r["asset"],
                    "utility": r["asset"].split(":", 1)[0],
                    "depends_on_asset_id": r["depends_on"],
                    "depends_on_utility": r["depends_on"].split(":", 1)[0],
                    "kind": r["kind"],
                    "distance_m": _float(r.get("distance_m", "")) or 0.0,
                }
            )
    return conform("dependency", pd.DataFrame(rows))


def convert_attributes(pkg: Package) -> dict[str, dict[str, Any]]:
    """attributes.csv → asset id -> {install_year, material, design_life_y, name}."""
    df = pkg.tables.get("attributes")
    out: dict[str, dict[str, Any]] = {}
    if df is None:
        return out
    for r in df.to_dict("records"):
        rec: dict[str, Any] = {}
        if r.get("install_year"):
            y = _int(r["install_year"])
            if y is None:
                pkg.report.error("attributes.csv", "not a year", int(r["_line"]), "install_year")
            else:
                rec["install_year"] = y
        if r.get("design_life_y"):
            rec["design_life_y"] = _float(r["design_life_y"])
        for k in ("material", "name"):
            if r.get(k):
                rec[k] = r[k]
        out[r["asset"]] = rec
    return out


def manhole_rows(pkg: Package, wells: list[dict[str, Any]], extent: Extent | None) -> pd.DataFrame:
    """Manhole assets: those of manholes.csv, and one per methane detector with no listed
    manhole within 3 m (its id ``<host>:manhole:<sensor_id>``). Adds ``asset_id`` to ``wells``."""
    rows: list[dict[str, Any]] = []
    df = pkg.tables.get("manholes")
    if df is not None:
        fname = "manholes.csv"
        bad = _duplicates(pkg, df, "manhole_id", fname)
        for r, skip in zip(df.to_dict("records"), bad, strict=True):
            line = int(r["_line"])
            x, y, host = _float(r["x"]), _float(r["y"]), r["host"].lower()
            if host not in HOSTS:
                pkg.report.error(fname, f"host must be one of {'|'.join(HOSTS)}", line, "host")
                continue
            if x is None or y is None:
                pkg.report.error(fname, "x and y must be numbers", line, "x,y")
                continue
            if extent is not None and not extent.inside(x, y):
                pkg.report.error(fname, extent.why_outside(x, y), line, "x,y")
                continue
            if not skip:
                rows.append(
                    {
                        "asset_id": f"{host}:manhole:{r['manhole_id']}",
                        "utility": host,
                        "ref": r["manhole_id"],
                        "name": r.get("name", "") or "manhole",
                        "x_m": x,
                        "y_m": y,
                    }
                )
    xy = np.array([[r["x_m"], r["y_m"]] for r in rows]) if rows else np.zeros((0, 2))
    for w in wells:
        d = np.hypot(xy[:, 0] - w["x_m"], xy[:, 1] - w["y_m"]) if len(xy) else np.zeros(0)
        same = [i for i in np.argsort(d) if d[i] <= 3.0 and rows[i]["utility"] == w["host"]]
        if same:
            w["asset_id"] = rows[same[0]]["asset_id"]
            continue
        aid = f"{w['host']}:manhole:{w['sensor_id']}"
        rows.append(
            {
                "asset_id": aid,
                "utility": w["host"],
                "ref": w["sensor_id"],
                "name": "manhole",
                "x_m": w["x_m"],
                "y_m": w["y_m"],
            }
        )
        xy = np.vstack([xy, [w["x_m"], w["y_m"]]])
        w["asset_id"] = aid
    from lifeline.model.geo import wkt_point

    out = pd.DataFrame(rows, columns=["asset_id", "utility", "ref", "name", "x_m", "y_m"])
    out["kind"] = "manhole"
    out["geometry_wkt"] = [wkt_point(a, b) for a, b in zip(out.x_m, out.y_m, strict=True)]
    return out
