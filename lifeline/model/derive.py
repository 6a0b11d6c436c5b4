"""What a city package may leave out, derived from its networks and tables by documented rules.

* **dependencies** (``schema.DEPENDENCY``):
  - *supply*: a water pump needs power from the bus of the nearest ``pumping_station``
    customer's power load within :data:`STATION_MAX_M`, else from the nearest power bus within
    :data:`SUPPLY_MAX_M`; a gas regulator station (pandapipes external grid) from the nearest
    low-voltage bus within :data:`SUPPLY_MAX_M`;
  - *proximity*: a manhole within :data:`PROXIMITY_MAX_M` of a gas main (gas leaking from the
    main seeps into it);
  - *flooding*: a distribution transformer within :data:`FLOODING_MAX_M` of a water pipe (a
    burst floods it).
* **districts**: without ``districts.geojson``, one district covering the city's extent.
* **district of a point**: the smallest district polygon containing it ("" outside all).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifeline.model.schema import conform

#: a pump station's power supply is looked for within this distance (m)
STATION_MAX_M = 500.0
SUPPLY_MAX_M = 300.0
#: a manhole counts as "near a gas main" within this distance (m)
PROXIMITY_MAX_M = 12.0
#: a transformer within this distance of a water pipe is flooded when the pipe bursts (m)
FLOODING_MAX_M = 40.0


def _dep(asset: str, depends_on: str, kind: str, distance_m: float) -> dict[str, str | float]:
    return {
        "asset_id": asset,
        "utility": asset.split(":", 1)[0],
        "depends_on_asset_id": depends_on,
        "depends_on_utility": depends_on.split(":", 1)[0],
        "kind": kind,
        "distance_m": round(float(distance_m), 2),
    }


def _nearest(cand: pd.DataFrame, x: float, y: float, max_m: float) -> tuple[str, float] | None:
    if cand.empty:
        return None
    d = np.hypot(cand.x_m.to_numpy(float) - x, cand.y_m.to_numpy(float) - y)
    i = int(np.nanargmin(d)) if np.isfinite(d).any() else -1
    if i < 0 or d[i] > max_m:
        return None
    return str(cand.asset_id.iloc[i]), float(d[i])


def derive_dependencies(
    assets: pd.DataFrame, customers: pd.DataFrame, power: Any = None, gas: Any = None
) -> pd.DataFrame:
    """Cross-utility dependencies by the rules of this module (schema DEPENDENCY)."""
    from shapely import LineString, Point, STRtree

    rows: list[dict[str, Any]] = []
    a = assets
    buses = a[(a.utility == "power") & (a.kind == "bus")]
    lv_buses = buses
    if power is not None and len(buses):
        lv = {f"power:bus:{i}" for i in power.bus.index[power.bus.vn_kv < 1.0]}
        lv_buses = buses[buses.asset_id.isin(lv)] if lv else buses
    stations = customers[customers.category == "pumping_station"]
    for p in a[(a.utility == "water") & (a.kind == "pump")].itertuples():
        hit = None
        if len(stations) and power is not None:
            d = np.hypot(stations.x_m.to_numpy(float) - p.x_m, stations.y_m.to_numpy(float) - p.y_m)
            i = int(np.argmin(d))
            load = str(stations.power_asset_id.iloc[i] or "")
            if d[i] <= STATION_MAX_M and load.startswith("power:load:"):
                bus = int(power.load.at[int(load.rsplit(":", 1)[1]), "bus"])
                hit = (f"power:bus:{bus}", float(d[i]))
        hit = hit or _nearest(buses, p.x_m, p.y_m, SUPPLY_MAX_M)
        if hit:
            rows.append(_dep(str(p.asset_id), hit[0], "supply", hit[1]))
    for r in a[(a.utility == "gas") & (a.kind == "regulator")].itertuples():
        hit = _nearest(lv_buses, r.x_m, r.y_m, SUPPLY_MAX_M)
        if hit:
            rows.append(_dep(str(r.asset_id), hit[0], "supply", hit[1]))
    if gas is not None:
        from lifeline.gas.valves import main_pipes

        gd = gas.junction_geodata
        mp = main_pipes(gas)
        if len(mp):
            geoms = [
                LineString([gd.loc[u, ["x", "y"]].tolist(), gd.loc[v, ["x", "y"]].tolist()])
                for u, v in zip(mp.from_junction, mp.to_junction, strict=True)
            ]
            tree = STRtree(geoms)
            ids = [int(i) for i in mp.index]
            for m in a[a.kind == "manhole"].itertuples():
                i, d = tree.query_nearest(Point(m.x_m, m.y_m), return_distance=True)
                if len(i) and d[0] <= PROXIMITY_MAX_M:
                    rows.append(
                        _dep(str(m.asset_id), f"gas:pipe:{ids[int(i[0])]}", "proximity", d[0])
                    )
    pipes = a[(a.utility == "water") & (a.kind == "pipe")]
    trafos = a[(a.utility == "power") & (a.kind == "trafo")]
    if power is not None and len(trafos):
        dist_tr = {f"power:trafo:{i}" for i in power.trafo.index[power.trafo.vn_hv_kv < 60]}
        trafos = trafos[trafos.asset_id.isin(dist_tr)]
    if len(pipes) and len(trafos):
        from shapely import wkt

        geoms = [wkt.loads(g) for g in pipes.geometry_wkt]
        tree = STRtree(geoms)
        for t in trafos.itertuples():
            i, d = tree.query_nearest(Point(t.x_m, t.y_m), return_distance=True)
            if len(i) and d[0] <= FLOODING_MAX_M:
                rows.append(
                    _dep(str(t.asset_id), str(pipes.asset_id.iloc[int(i[0])]), "flooding", d[0])
                )
    return conform("dependency", pd.DataFrame(rows))


def whole_city_district(
    name: str, name_zh: str, bounds: tuple[float, float, float, float]
) -> pd.DataFrame:
    """One district covering ``bounds`` (used when the package has no districts.geojson)."""
    x0, y0, x1, y1 = bounds
    poly = f"POLYGON (({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"
    return conform(
        "district",
        pd.DataFrame(
            [
                {
                    "district_id": "city",
                    "name": name,
                    "name_zh": name_zh,
                    "level": "city",
                    "parent_id": "",
                    "geometry_wkt": poly,
                }
            ]
        ),
    )


class DistrictIndex:
    """Point-in-polygon lookup over a district table (the smallest containing polygon wins)."""

    def __init__(self, districts: pd.DataFrame) -> None:
        from shapely import STRtree, wkt

        d = districts[districts.geometry_wkt.notna() & (districts.geometry_wkt != "")]
        self.ids = [str(x) for x in d.district_id]
        self.geoms = [wkt.loads(g) for g in d.geometry_wkt]
        self.areas = np.array([g.area for g in self.geoms])
        self.tree = STRtree(self.geoms) if self.geoms else None

    def assign(self, x: Any, y: Any) -> np.ndarray:
        """District id for each point (metres); "" outside every district."""
        import shapely

        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        out = np.full(len(x), "", dtype=object)
        if self.tree is None or len(x) == 0:
            return out
        ok = np.isfinite(x) & np.isfinite(y)
        pts = shapely.points(np.where(ok, x, 0.0), np.where(ok, y, 0.0))
        pi, gi = self.tree.query(pts, predicate="within")
        best = np.full(len(x), np.inf)
        for p, g in zip(pi, gi, strict=True):
            if ok[p] and self.areas[g] < best[p]:
                best[p] = self.areas[g]
                out[p] = self.ids[g]
        return out
