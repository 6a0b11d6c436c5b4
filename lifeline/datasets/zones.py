"""Zones (DMAs, MV feeders, gas districts) and administrative districts of the demo town."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifeline.model.schema import conform

SEED = 25832
N_DMA = 3
N_GAS_DISTRICTS = 3
#: (suffix, English name, Chinese name) of the four village districts, by quadrant
QUADRANTS = (
    ("nw", "Schutterwald North-West", "舒特瓦尔德西北片区", -1, 1),
    ("ne", "Schutterwald North-East", "舒特瓦尔德东北片区", 1, 1),
    ("sw", "Schutterwald South-West", "舒特瓦尔德西南片区", -1, -1),
    ("se", "Schutterwald South-East", "舒特瓦尔德东南片区", 1, -1),
)


def _kmeans(xy: np.ndarray, k: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=4, random_state=SEED).fit(xy)
    # order clusters west to east so ids are stable and readable
    order = np.argsort(np.argsort(km.cluster_centers_[:, 0]))
    return np.asarray(order[km.labels_])


def water_dmas(wn: Any) -> pd.Series:
    """DMA id per water node (``water:dma:DMA<n>``), by spatial clustering of junctions."""
    names = wn.node_name_list
    xy = np.array([wn.get_node(n).coordinates for n in names])
    lab = _kmeans(xy, N_DMA)
    return pd.Series([f"water:dma:DMA{i + 1}" for i in lab], index=names)


def gas_districts(gas: Any) -> pd.Series:
    """Gas district id per gas junction (``gas:district:G<n>``), by spatial clustering."""
    xy = gas.junction_geodata[["x", "y"]].to_numpy()
    lab = _kmeans(xy, N_GAS_DISTRICTS)
    return pd.Series([f"gas:district:G{i + 1}" for i in lab], index=gas.junction_geodata.index)


def power_feeders(power: Any) -> tuple[pd.Series, dict[str, int]]:
    """MV feeder id per bus (``power:feeder:F<line>``) and the head line of each feeder.

    A feeder is everything reachable (closed switches, through transformers) from one line
    leaving an HV/MV substation's MV busbar.
    """
    import networkx as nx
    import pandapower.topology as top

    g = top.create_nxgraph(power, respect_switches=True, include_out_of_service=False)
    hv_trafos = power.trafo[power.trafo.vn_hv_kv > 60]
    busbars = set(hv_trafos.lv_bus) | set(hv_trafos.hv_bus)
    g.remove_nodes_from(busbars)
    out: dict[int, str] = {}
    heads: dict[str, int] = {}
    closed_line_sw = power.switch[(power.switch.et == "l") & ~power.switch.closed]
    open_lines = set(closed_line_sw.element)
    for lid, r in power.line.iterrows():
        if not r.in_service or lid in open_lines:
            continue
        for a, b in ((r.from_bus, r.to_bus), (r.to_bus, r.from_bus)):
            if a in busbars and b in g:
                fid = f"power:feeder:F{lid}"
                heads[fid] = int(lid)
                for n in nx.node_connected_component(g, b):
                    out.setdefault(int(n), fid)
    for b in busbars:
        out[int(b)] = "power:substation"
    return pd.Series(out, dtype="string"), heads


def zones_table(dma_ids: list[str], feeders: dict[str, int], gas_ids: list[str]) -> pd.DataFrame:
    """The zone table (schema ZONE)."""
    rows = [
        {
            "zone_id": z,
            "utility": "water",
            "kind": "dma",
            "name": f"DMA {z.rsplit('DMA', 1)[-1]} (synthetic)",
        }
        for z in sorted(set(dma_ids))
    ]
    rows += [
        {"zone_id": z, "utility": "power", "kind": "feeder", "name": f"MV feeder from line {h}"}
        for z, h in sorted(feeders.items())
    ]
    rows += [
        {
            "zone_id": z,
            "utility": "gas",
            "kind": "gas_district",
            "name": f"Gas district {z.rsplit('G', 1)[-1]}",
        }
        for z in sorted(set(gas_ids))
    ]
    df = pd.DataFrame(rows)
    df["district_id"] = "schutterwald"
    return conform("zone", df)


class Districts:
    """Administrative districts: the village (four quadrants) and the surrounding MV area."""

    def __init__(
        self, village_xy: np.ndarray, all_bounds: tuple[float, float, float, float]
    ) -> None:
        lo = village_xy.min(axis=0) - 150.0
        hi = village_xy.max(axis=0) + 150.0
        self.centre = np.median(village_xy, axis=0)
        self.lo, self.hi = lo, hi
        self.bounds = all_bounds

    def assign(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """District id for each point (metres)."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        inside = (x >= self.lo[0]) & (x <= self.hi[0]) & (y >= self.lo[1]) & (y <= self.hi[1])
        east = x >= self.centre[0]
        north = y >= self.centre[1]
        quad = np.where(north, np.where(east, "ne", "nw"), np.where(east, "se", "sw"))
        return np.where(
            inside, np.char.add("schutterwald-", quad.astype(str)), "ortenau-mv"
        ).astype(object)

    def table(self) -> pd.DataFrame:
        """The district table (schema DISTRICT), polygons as WKT in town metres."""
        (x0, y0), (x1, y1), (cx, cy) = self.lo, self.hi, self.centre

        def box(a: float, b: float, c: float, d: float) -> str:
            return f"POLYGON (({a:.1f} {b:.1f}, {c:.1f} {b:.1f}, {c:.1f} {d:.1f}, {a:.1f} {d:.1f}, {a:.1f} {b:.1f}))"

        rows = [
            {
                "district_id": "schutterwald",
                "name": "Schutterwald",
                "name_zh": "舒特瓦尔德镇",
                "level": "city",
                "parent_id": "",
                "geometry_wkt": box(x0, y0, x1, y1),
            }
        ]
        for suf, en, zh, sx, sy in QUADRANTS:
            xa, xb = (cx, x1) if sx > 0 else (x0, cx)
            ya, yb = (cy, y1) if sy > 0 else (y0, cy)
            rows.append(
                {
                    "district_id": f"schutterwald-{suf}",
                    "name": en,
                    "name_zh": zh,
                    "level": "district",
                    "parent_id": "schutterwald",
                    "geometry_wkt": box(xa, ya, xb, yb),
                }
            )
        bx0, by0, bx1, by1 = self.bounds
        outer = box(bx0, by0, bx1, by1)[:-1] + ", " + box(x0, y0, x1, y1)[9:-1] + ")"
        rows.append(
            {
                "district_id": "ortenau-mv",
                "name": "Surrounding MV supply area (Ortenau)",
                "name_zh": "周边中压供电区",
                "level": "district",
                "parent_id": "",
                "geometry_wkt": outer,
            }
        )
        return conform("district", pd.DataFrame(rows))
