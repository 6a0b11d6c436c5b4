"""Zones of a city's networks, derived from the models: water DMAs, MV feeders, gas districts.

* DMAs: junctions clustered by position (k-means, k = junctions / :data:`JUNCTIONS_PER_DMA`,
  rounded, at least 1), ordered west to east — a stand-in until the utility's own DMA
  boundaries are loaded;
* feeders: everything reachable (closed switches, through transformers) from one line leaving a
  substation busbar (the buses of HV/MV transformers, or of the external grid);
* gas districts: gas junctions clustered by position (k = junctions / :data:`JUNCTIONS_PER_GAS_DISTRICT`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifeline.model.schema import conform

SEED = 25832
#: junctions per derived DMA (a DMA serves 500–3,000 connections; a junction several)
JUNCTIONS_PER_DMA = 350
#: gas junctions per derived gas district
JUNCTIONS_PER_GAS_DISTRICT = 850


def _kmeans(xy: np.ndarray, k: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    k = max(1, min(k, len(xy)))
    if k == 1:
        return np.zeros(len(xy), dtype=int)
    km = KMeans(n_clusters=k, n_init=4, random_state=SEED).fit(xy)
    # order clusters west to east so ids are stable and readable
    order = np.argsort(np.argsort(km.cluster_centers_[:, 0]))
    return np.asarray(order[km.labels_])


def n_clusters(n: int, per: int) -> int:
    """How many clusters for ``n`` items at about ``per`` each (at least 1)."""
    return max(1, int(round(n / per)))


def water_dmas(wn: Any, k: int | None = None) -> pd.Series:
    """DMA id per water node (``water:dma:DMA<n>``), by spatial clustering of the nodes."""
    names = wn.node_name_list
    xy = np.array([wn.get_node(n).coordinates for n in names], dtype=float).reshape(-1, 2)
    k = k or n_clusters(len(wn.junction_name_list), JUNCTIONS_PER_DMA)
    lab = _kmeans(xy, k)
    return pd.Series([f"water:dma:DMA{i + 1}" for i in lab], index=names)


def gas_districts(gas: Any, k: int | None = None) -> pd.Series:
    """Gas district id per gas junction (``gas:district:G<n>``), by spatial clustering."""
    xy = gas.junction_geodata[["x", "y"]].to_numpy(dtype=float)
    k = k or n_clusters(len(xy), JUNCTIONS_PER_GAS_DISTRICT)
    lab = _kmeans(xy, k)
    return pd.Series([f"gas:district:G{i + 1}" for i in lab], index=gas.junction_geodata.index)


def substation_busbars(power: Any) -> set[int]:
    """Buses of HV/MV transformers (HV side above 60 kV); without any, the external grids' buses
    and the LV side of transformers they feed."""
    hv = power.trafo[power.trafo.vn_hv_kv > 60]
    if len(hv):
        return {int(b) for b in set(hv.lv_bus) | set(hv.hv_bus)}
    src = {int(b) for b in power.ext_grid.bus}
    fed = power.trafo[power.trafo.hv_bus.isin(src)]
    return src | {int(b) for b in fed.lv_bus}


def power_feeders(power: Any) -> tuple[pd.Series, dict[str, int]]:
    """Feeder id per bus (``power:feeder:F<line>``) and the head line of each feeder.

    A feeder is everything reachable (closed switches, through transformers) from one line
    leaving a substation busbar (:func:`substation_busbars`).
    """
    import networkx as nx
    import pandapower.topology as top

    g = top.create_nxgraph(power, respect_switches=True, include_out_of_service=False)
    busbars = substation_busbars(power)
    g.remove_nodes_from(busbars)
    out: dict[int, str] = {}
    heads: dict[str, int] = {}
    open_sw = power.switch[(power.switch.et == "l") & ~power.switch.closed.astype(bool)]
    open_lines = set(open_sw.element)
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


def zones_table(
    dma_ids: list[str],
    feeders: dict[str, int],
    gas_ids: list[str],
    district_id: str = "",
    synthetic: bool = False,
) -> pd.DataFrame:
    """The zone table (schema ZONE)."""
    tag = " (synthetic)" if synthetic else ""
    rows = [
        {
            "zone_id": z,
            "utility": "water",
            "kind": "dma",
            "name": f"DMA {z.rsplit('DMA', 1)[-1]}{tag}",
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
    df = pd.DataFrame(rows, columns=["zone_id", "utility", "kind", "name"])
    df["district_id"] = district_id
    return conform("zone", df)
