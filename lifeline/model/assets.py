"""The asset table of a city: every element of its networks plus manholes and valves.

One builder per utility turns a network model into ``schema.ASSET`` rows (``<utility>:<kind>:<ref>``
ids, positions in the city CRS, zone ids); :func:`finish_assets` adds districts.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifeline.model.geo import line_coords, point_xy, wkt_line, wkt_point
from lifeline.model.schema import conform

#: design life (years) by pipe material, for renewal planning when no attribute gives it
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


def bus_positions(net: Any) -> pd.DataFrame:
    """(x, y) of every pandapower bus from ``bus.geo`` (GeoJSON, pandapower 3) or the legacy
    ``bus_geodata`` table; NaN where a bus has none."""
    if "geo" in net.bus.columns and net.bus["geo"].notna().any():
        return pd.DataFrame(
            [point_xy(g) for g in net.bus.geo], index=net.bus.index, columns=["x", "y"]
        )
    gd = getattr(net, "bus_geodata", None)
    if gd is not None and len(gd):
        return gd[["x", "y"]].astype(float).reindex(net.bus.index)
    return pd.DataFrame(np.nan, index=net.bus.index, columns=["x", "y"])


def power_assets(net: Any, feeder_of_bus: pd.Series) -> pd.DataFrame:
    """Buses, lines, switches, transformers, loads, static generators and external grids."""
    bxy = bus_positions(net)
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
    line_zone = _line_zones(net, zone)
    coords = []
    has_geo = "geo" in net.line.columns
    for _lid, r in net.line.iterrows():
        c = line_coords(r.geo) if has_geo else None
        coords.append(c if c else [bxy.loc[r.from_bus].tolist(), bxy.loc[r.to_bus].tolist()])
    parts.append(
        _lines(
            "power",
            "line",
            net.line.index,
            coords,
            name=net.line.name.astype(str).to_numpy(),
            zone_id=line_zone.to_numpy(),
            length_m=net.line.length_km.to_numpy() * 1000,
            material=net.line.std_type.astype(str).to_numpy(),
        )
    )
    sw = net.switch
    if len(sw):
        parts.append(
            _points(
                "power",
                "switch",
                sw.index,
                bxy.loc[sw.bus].x,
                bxy.loc[sw.bus].y,
                name=sw.name.astype(str).to_numpy(),
                # a line switch (a feeder's head breaker too) belongs to its line's feeder
                zone_id=[
                    str(line_zone.get(e, zone.at[b])) if et == "l" else str(zone.at[b])
                    for b, e, et in zip(sw.bus, sw.element, sw.et, strict=True)
                ],
            )
        )
    return pd.concat(parts + _power_rest(net, bxy, zone), ignore_index=True)


def _line_zones(net: Any, zone: pd.Series) -> pd.Series:
    """Zone of each line: the feeder it heads (``power:feeder:F<line>``), else the zone of an
    end outside the substation (its from-bus first)."""
    feeders = set(zone.astype(str))
    out = {}
    for lid, a, b in zip(net.line.index, net.line.from_bus, net.line.to_bus, strict=True):
        fid = f"power:feeder:F{lid}"
        if fid in feeders:
            out[lid] = fid
            continue
        za, zb = str(zone.at[a]), str(zone.at[b])
        out[lid] = zb if za in ("", "power:substation") and zb not in ("", "<NA>") else za
    return pd.Series(out, dtype=object).reindex(net.line.index)


def _power_rest(net: Any, bxy: pd.DataFrame, zone: pd.Series) -> list[pd.DataFrame]:
    parts = []
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
    return parts


def gas_assets(net: Any, district_of_junction: pd.Series, valves: pd.DataFrame) -> pd.DataFrame:
    """Junctions, pipes, sinks, the regulator stations (external grids) and the valves."""
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
    std = p.get("stanet_std_type", p.get("std_type", pd.Series("", index=p.index))).astype(str)
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
    wn: Any,
    dma_of_node: pd.Series,
    valves: pd.DataFrame,
    attributes: dict[str, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """Junctions, tanks, reservoirs, pipes, pumps, control valves and the isolation valves of a
    WNTR model. ``attributes`` maps an asset id to known fields (install_year, material, …)."""
    attributes = attributes or {}
    parts = []
    for kind, names in (
        ("junction", wn.junction_name_list),
        ("tank", wn.tank_name_list),
        ("reservoir", wn.reservoir_name_list),
    ):
        if not names:
            continue
        xy = np.array([wn.get_node(n).coordinates for n in names], dtype=float).reshape(-1, 2)
        parts.append(
            _points(
                "water",
                kind,
                names,
                xy[:, 0],
                xy[:, 1],
                zone_id=dma_of_node.reindex(names).to_numpy(),
                name=[attributes.get(f"water:{kind}:{n}", {}).get("name", "") for n in names],
            )
        )
    for kind, names in (
        ("pipe", wn.pipe_name_list),
        ("pump", wn.pump_name_list),
        ("control_valve", wn.valve_name_list),
    ):
        if not names:
            continue
        links = [wn.get_link(n) for n in names]
        coords = [
            [
                list(lk.start_node.coordinates),
                *[list(v) for v in lk.vertices],
                list(lk.end_node.coordinates),
            ]
            for lk in links
        ]
        ids = [f"water:{kind}:{n}" for n in names]
        extra: dict[str, Any] = {
            "zone_id": dma_of_node.reindex([lk.start_node_name for lk in links]).to_numpy(),
            "name": [attributes.get(a, {}).get("name", "") for a in ids],
        }
        if kind == "pipe":
            extra["length_m"] = [lk.length for lk in links]
            extra["diameter_m"] = [lk.diameter for lk in links]
            mats = [str(attributes.get(a, {}).get("material", "") or "") for a in ids]
            extra["material"] = mats
            extra["install_year"] = [attributes.get(a, {}).get("install_year", pd.NA) for a in ids]
            extra["design_life_y"] = [
                attributes.get(a, {}).get("design_life_y") or DESIGN_LIFE_Y.get(m, 80.0)
                for a, m in zip(ids, mats, strict=True)
            ]
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
    if len(valves):
        parts.append(
            _points(
                "water",
                "valve",
                valves.valve,
                vx,
                vy,
                name="isolation valve",
                zone_id=dma_of_node.reindex(valves.node).to_numpy(),
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
