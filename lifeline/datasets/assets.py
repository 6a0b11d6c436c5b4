"""The asset table of the demo town: every element of the three networks plus manholes and valves."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifeline.datasets.geo import line_coords, point_xy, wkt_line, wkt_point
from lifeline.model.schema import conform

DESIGN_LIFE_Y = {"grey cast iron": 100.0, "ductile iron, cement-lined": 80.0, "PE 100": 80.0}


def _points(prefix: str, kind: str, refs: Any, x: Any, y: Any, **extra: Any) -> pd.DataFrame:
    refs = [str(r) for r in refs]
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    df = pd.DataFrame(
        {
            "asset_id": [f"{prefix}:{kind}:{r}" for r in refs],
            "utility": prefix,
            "kind": kind,
            "ref": refs,
            "x_m": x,
            "y_m": y,
            "geometry_wkt": [wkt_point(a, b) for a, b in zip(x, y, strict=True)],
        }
    )
    for k, v in extra.items():
        df[k] = v
    return df


def _lines(prefix: str, kind: str, refs: Any, coords: list[Any], **extra: Any) -> pd.DataFrame:
    mid = np.array([np.mean(np.asarray(c, dtype=float), axis=0) for c in coords])
    df = pd.DataFrame(
        {
            "asset_id": [f"{prefix}:{kind}:{r}" for r in refs],
            "utility": prefix,
            "kind": kind,
            "ref": [str(r) for r in refs],
            "x_m": mid[:, 0],
            "y_m": mid[:, 1],
            "geometry_wkt": [wkt_line(c) for c in coords],
        }
    )
    for k, v in extra.items():
        df[k] = v
    return df


def power_assets(net: Any, feeder_of_bus: pd.Series) -> pd.DataFrame:
    """Buses, lines, switches, transformers, loads, static generators and external grids."""
    bxy = pd.DataFrame([point_xy(g) for g in net.bus.geo], index=net.bus.index, columns=["x", "y"])
    zone = feeder_of_bus.reindex(net.bus.index).fillna("")
    parts = [
        _points(
            "power",
            "bus",
            net.bus.index,
            bxy.x,
            bxy.y,
            name=net.bus.name.astype(str).to_numpy(),
            zone_id=zone.to_numpy(),
        )
    ]
    coords = []
    for _lid, r in net.line.iterrows():
        c = line_coords(r.geo)
        coords.append(c if c else [bxy.loc[r.from_bus].tolist(), bxy.loc[r.to_bus].tolist()])
    parts.append(
        _lines(
            "power",
            "line",
            net.line.index,
            coords,
            name=net.line.name.astype(str).to_numpy(),
            zone_id=zone.loc[net.line.from_bus].to_numpy(),
            length_m=net.line.length_km.to_numpy() * 1000,
            material=net.line.std_type.astype(str).to_numpy(),
        )
    )
    sw = net.switch
    parts.append(
        _points(
            "power",
            "switch",
            sw.index,
            bxy.loc[sw.bus].x,
            bxy.loc[sw.bus].y,
            name=sw.name.astype(str).to_numpy(),
            zone_id=zone.loc[sw.bus].to_numpy(),
        )
    )
    tr = net.trafo
    parts.append(
        _points(
            "power",
            "trafo",
            tr.index,
            bxy.loc[tr.lv_bus].x,
            bxy.loc[tr.lv_bus].y,
            name=tr.name.astype(str).to_numpy(),
            zone_id=zone.loc[tr.lv_bus].to_numpy(),
        )
    )
    ld = net.load
    parts.append(
        _points(
            "power",
            "load",
            ld.index,
            bxy.loc[ld.bus].x,
            bxy.loc[ld.bus].y,
            name=ld.name.astype(str).to_numpy(),
            zone_id=zone.loc[ld.bus].to_numpy(),
        )
    )
    sg = net.sgen
    parts.append(
        _points(
            "power",
            "sgen",
            sg.index,
            bxy.loc[sg.bus].x,
            bxy.loc[sg.bus].y,
            name=sg.name.astype(str).to_numpy(),
            zone_id=zone.loc[sg.bus].to_numpy(),
        )
    )
    eg = net.ext_grid
    parts.append(
        _points(
            "power",
            "ext_grid",
            eg.index,
            bxy.loc[eg.bus].x,
            bxy.loc[eg.bus].y,
            name=eg.name.astype(str).to_numpy(),
            zone_id="power:substation",
        )
    )
    return pd.concat(parts, ignore_index=True)


def gas_assets(net: Any, district_of_junction: pd.Series, valves: pd.DataFrame) -> pd.DataFrame:
    """Junctions, pipes, sinks, the regulator station and the generated valves."""
    gd = net.junction_geodata
    zone = district_of_junction
    j = net.junction
    parts = [
        _points(
            "gas",
            "junction",
            j.index,
            gd.loc[j.index].x,
            gd.loc[j.index].y,
            name=j.name.astype(str).to_numpy(),
            zone_id=zone.loc[j.index].to_numpy(),
        )
    ]
    p = net.pipe
    coords = [
        [gd.loc[a, ["x", "y"]].tolist(), gd.loc[b, ["x", "y"]].tolist()]
        for a, b in zip(p.from_junction, p.to_junction, strict=True)
    ]
    std = p.get("stanet_std_type", p.std_type).astype(str)
    parts.append(
        _lines(
            "gas",
            "pipe",
            p.index,
            coords,
            name=p.name.astype(str).to_numpy(),
            zone_id=zone.loc[p.from_junction].to_numpy(),
            length_m=p.length_km.to_numpy() * 1000,
            diameter_m=p.inner_diameter_mm.to_numpy() / 1000,
            material=std.to_numpy(),
            design_life_y=60.0,
        )
    )
    s = net.sink
    parts.append(
        _points(
            "gas",
            "sink",
            s.index,
            gd.loc[s.junction].x,
            gd.loc[s.junction].y,
            name=s.name.astype(str).to_numpy(),
            zone_id=zone.loc[s.junction].to_numpy(),
        )
    )
    eg = net.ext_grid
    parts.append(
        _points(
            "gas",
            "regulator",
            [f"R{i + 1}" for i in range(len(eg))],
            gd.loc[eg.junction].x,
            gd.loc[eg.junction].y,
            name="District regulator station (ext_grid)",
            zone_id=zone.loc[eg.junction].to_numpy(),
        )
    )
    vx, vy = _valve_xy(gd, p, valves["pipe"], valves["junction"])
    parts.append(
        _points(
            "gas",
            "valve",
            valves.valve_id,
            vx,
            vy,
            name="main shut-off valve",
            zone_id=zone.loc[valves.junction].to_numpy(),
        )
    )
    return pd.concat(parts, ignore_index=True)


def _valve_xy(
    gd: pd.DataFrame, pipes: pd.DataFrame, pipe_ids: Any, junctions: Any, off: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for pid, jn in zip(pipe_ids, junctions, strict=True):
        r = pipes.loc[pid]
        other = r.to_junction if r.from_junction == jn else r.from_junction
        a = gd.loc[jn, ["x", "y"]].to_numpy(dtype=float)
        b = gd.loc[other, ["x", "y"]].to_numpy(dtype=float)
        v = b - a
        n = np.linalg.norm(v)
        pnt = a + (v / n) * min(off, n / 2) if n > 0 else a
        xs.append(pnt[0])
        ys.append(pnt[1])
    return np.array(xs), np.array(ys)


def water_assets(
    wn: Any, dma_of_node: pd.Series, pipe_meta: dict[str, dict[str, Any]], valves: pd.DataFrame
) -> pd.DataFrame:
    """Junctions, reservoir, tanks, pumps, pipes and valve-layer valves of the synthetic water network."""
    parts = []
    for kind, names in (
        ("junction", wn.junction_name_list),
        ("reservoir", wn.reservoir_name_list),
        ("tank", wn.tank_name_list),
    ):
        if not names:
            continue
        xy = np.array([wn.get_node(n).coordinates for n in names])
        parts.append(
            _points(
                "water",
                kind,
                names,
                xy[:, 0],
                xy[:, 1],
                zone_id=dma_of_node.loc[names].to_numpy(),
                name="synthetic",
            )
        )
    for kind, names in (("pipe", wn.pipe_name_list), ("pump", wn.pump_name_list)):
        links = [wn.get_link(n) for n in names]
        coords = [[list(lk.start_node.coordinates), list(lk.end_node.coordinates)] for lk in links]
        extra: dict[str, Any] = {
            "zone_id": dma_of_node.loc[[lk.start_node_name for lk in links]].to_numpy(),
            "name": "synthetic",
        }
        if kind == "pipe":
            extra["length_m"] = [lk.length for lk in links]
            extra["diameter_m"] = [lk.diameter for lk in links]
            extra["material"] = [pipe_meta.get(n, {}).get("material", "") for n in names]
            extra["install_year"] = [pipe_meta.get(n, {}).get("install_year", pd.NA) for n in names]
            extra["design_life_y"] = [DESIGN_LIFE_Y.get(m, 80.0) for m in extra["material"]]
        parts.append(_lines("water", kind, names, coords, **extra))
    vx, vy = [], []
    for node, link in zip(valves.node, valves.link, strict=True):
        lk = wn.get_link(link)
        a = np.asarray(wn.get_node(node).coordinates, dtype=float)
        other = lk.end_node if lk.start_node_name == node else lk.start_node
        v = np.asarray(other.coordinates, dtype=float) - a
        n = float(np.linalg.norm(v))
        pnt = a + v / n * min(2.0, n / 2) if n > 0 else a
        vx.append(pnt[0])
        vy.append(pnt[1])
    parts.append(
        _points(
            "water",
            "valve",
            valves.valve,
            vx,
            vy,
            name="isolation valve (rule, docs/town.md)",
            zone_id=dma_of_node.loc[valves.node].to_numpy(),
        )
    )
    return pd.concat(parts, ignore_index=True)


def finish_assets(df: pd.DataFrame, district_of: Any) -> pd.DataFrame:
    """Attach district ids (from a callable on x, y arrays) and conform to the ASSET schema."""
    df = df.copy()
    df["district_id"] = district_of(df.x_m.to_numpy(), df.y_m.to_numpy())
    for c in ("zone_id", "name", "material"):
        if c in df:
            df[c] = df[c].fillna("")
    return conform("asset", df)
