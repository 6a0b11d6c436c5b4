"""Power: pandapower's ``mv_oberrhein`` (20 kV) and ``lv_schutterwald`` (0.4 kV) joined into one model.

Join rule (documented in docs/town.md):

* every LV element keeps its index plus :data:`LV_OFFSET` (LV bus 1234 becomes bus 101234);
* each LV substation's MV-side bus is named ``MS_bus_idx_<n>`` and sits a few metres from MV bus
  ``n`` of ``mv_oberrhein``: the transformer's HV side is moved onto that MV bus and the LV
  network's stand-in external grid is dropped. The MV load that stood for the whole MV/LV station
  at that bus is removed (the LV households now carry the load).
* the one extra station (``MS_bus_idx_ZUSATZ``, 'additional', ~356 m from the nearest MV bus)
  keeps its MV bus and is connected to the nearest MV bus by a new 20 kV cable
  (NA2XS2Y 1x185 RM/25 12/20 kV) of the measured length.

All geodata are reprojected from WGS84 lon/lat to EPSG:25832 metres (the ``geo`` columns still
hold GeoJSON strings, but in town metres).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifeline.datasets.geo import geojson_to_town, point_xy

#: index offset of every LV element (bus, line, load, switch, trafo) in the joined model
LV_OFFSET = 100_000
#: the MV feeder cable type used for the new connection of the extra substation
MV_CABLE = "NA2XS2Y 1x185 RM/25 12/20 kV"
#: an LV substation's MV bus farther than this from its named MV bus is cable-connected instead
JOIN_MAX_M = 50.0


def _shift(df: pd.DataFrame, cols: tuple[str, ...]) -> pd.DataFrame:
    out = df.copy()
    out.index = out.index + LV_OFFSET
    for c in cols:
        out[c] = out[c] + LV_OFFSET
    return out


def build_power() -> tuple[Any, dict[str, Any]]:
    """Build the joined MV+LV pandapower network of Schutterwald.

    Returns ``(net, info)`` where ``info`` records the join: ``joined`` maps each LV substation
    transformer index (joined numbering) to the MV bus it was placed on and the gap in metres.
    """
    import pandapower as pp
    import pandapower.networks as pn

    mv = pn.mv_oberrhein()
    lv = pn.lv_schutterwald()
    for net in (mv, lv):
        net.bus["geo"] = net.bus["geo"].map(geojson_to_town)
        net.line["geo"] = net.line["geo"].map(geojson_to_town)

    mv_xy = np.array([point_xy(g) for g in mv.bus["geo"]])
    ms_buses = lv.bus.index[lv.bus.vn_kv > 1.0]
    # tables from lv with shifted indices
    bus = _shift(lv.bus.drop(index=ms_buses), ())
    line = _shift(lv.line, ("from_bus", "to_bus"))
    load = _shift(lv.load, ("bus",))
    switch = _shift(lv.switch, ("bus", "element"))
    trafo = _shift(lv.trafo, ("lv_bus",))

    joined: dict[int, dict[str, Any]] = {}
    drop_mv_loads: list[int] = []
    extra_ms: list[int] = []
    for t_idx, row in lv.trafo.iterrows():
        ms = int(row.hv_bus)
        name = str(lv.bus.at[ms, "name"])
        x, y = point_xy(lv.bus.at[ms, "geo"])
        d = np.hypot(mv_xy[:, 0] - x, mv_xy[:, 1] - y)
        suffix = name.rsplit("_", 1)[-1]
        target = int(suffix) if suffix.isdigit() and int(suffix) in mv.bus.index else None
        gap = float(d[mv.bus.index.get_loc(target)]) if target is not None else float("inf")
        if target is None or gap > JOIN_MAX_M:
            near = int(mv.bus.index[int(np.argmin(d))])
            if float(d.min()) <= JOIN_MAX_M:
                target, gap = near, float(d.min())
        new_t = int(t_idx) + LV_OFFSET
        if target is not None and gap <= JOIN_MAX_M:
            trafo.at[new_t, "hv_bus"] = target
            drop_mv_loads += list(mv.load.index[mv.load.bus == target])
            joined[new_t] = {"mv_bus": target, "gap_m": round(gap, 1), "lv_ms_bus": name}
        else:
            extra_ms.append(ms)
            trafo.at[new_t, "hv_bus"] = ms + LV_OFFSET
            joined[new_t] = {
                "mv_bus": None,
                "gap_m": round(float(d.min()), 1),
                "lv_ms_bus": name,
                "cable_from": int(mv.bus.index[int(np.argmin(d))]),
            }

    net = mv
    next_mv_line = int(mv.line.index.max()) + 1  # new MV cables stay below LV_OFFSET
    net.load = net.load.drop(index=sorted(set(drop_mv_loads)))
    extra_bus = _shift(lv.bus.loc[extra_ms], ())
    net.bus = pd.concat([net.bus, extra_bus, bus])
    net.line = pd.concat([net.line, line])
    net.load = pd.concat([net.load, load])
    net.switch = pd.concat([net.switch, switch])
    net.trafo = pd.concat([net.trafo, trafo])
    for t, j in joined.items():
        if j["mv_bus"] is None:
            hv = int(net.trafo.at[t, "hv_bus"])
            src = j["cable_from"]
            lid = pp.create_line(
                net,
                src,
                hv,
                length_km=max(j["gap_m"], 1.0) / 1000.0,
                std_type=MV_CABLE,
                name=f"MV cable to {j['lv_ms_bus']}",
                index=next_mv_line,
            )
            next_mv_line += 1
            a, b = point_xy(net.bus.at[src, "geo"]), point_xy(net.bus.at[hv, "geo"])
            net.line.at[lid, "geo"] = (
                '{"type": "LineString", "coordinates": '
                f"[[{a[0]:.3f}, {a[1]:.3f}], [{b[0]:.3f}, {b[1]:.3f}]]}}"
            )
            j["new_line"] = int(lid)
    for tab in (
        "res_bus",
        "res_line",
        "res_load",
        "res_switch",
        "res_trafo",
        "res_ext_grid",
        "res_sgen",
    ):
        if tab in net:
            net[tab] = net[tab].iloc[0:0]
    net.name = "Schutterwald MV+LV (mv_oberrhein + lv_schutterwald, joined)"
    return net, {"joined": joined, "lv_offset": LV_OFFSET}


def solve_power(net: Any) -> None:
    """Run an AC power flow on ``net`` (pandapower ``runpp``); raise NetworkModelError if it fails."""
    import pandapower as pp

    from lifeline.errors import NetworkModelError

    try:
        pp.runpp(net, init="dc", calculate_voltage_angles=True)
    except Exception as exc:  # pandapower raises its own LoadflowNotConverged
        raise NetworkModelError(f"power flow did not converge: {exc}", where="town power") from exc
