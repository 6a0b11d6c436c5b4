"""Power part of the simulated day: pandapower AC power flows every 15 minutes driven by BDEW
standard load profiles, for smart meters, MV feeder heads and LV substations."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd

from lifeline.scenarios.events import FeederFault, window
from lifeline.scenarios.profiles import commercial_kw, household_kw, pv_factor, water_factor

STEP = pd.Timedelta("15min")
#: annual consumption of a household per kW of its lv_schutterwald design load (kWh/a per kW)
KWH_PER_KW = 1500.0
HH_MAX_MW = 0.011
SITE_SHAPES = {
    "hospital": (0.65, "g"),
    "school": (0.1, "g"),
    "care_home": (0.55, "h"),
    "pumping_station": (0.2, "w"),
}


def _load_matrix(
    town: Any, ts: pd.DatetimeIndex, rng: np.random.Generator
) -> tuple[pd.Index, np.ndarray]:
    """Active power (MW) of every load of the joined net at each quarter hour (loads x steps)."""
    from lifeline.datasets.power_town import LV_OFFSET
    from lifeline.datasets.water_town import RESIDENTIAL_PATTERN

    net = town.power
    mid = ts + STEP / 2
    n = len(ts)
    h = household_kw(ts, 1000.0)  # kW per 1000 kWh/a
    g = commercial_kw(ts, 1000.0)
    p = np.zeros((len(net.load), n))
    idx = net.load.index
    cust = town.customers
    crit = cust[cust.critical]
    crit_loads = {
        int(a.rsplit(":", 1)[-1]): c
        for a, c in zip(crit.power_asset_id, crit.category, strict=True)
    }
    is_hh = (idx >= LV_OFFSET) & ~idx.isin(list(crit_loads))
    hh_kw = net.load.p_mw.to_numpy()[is_hh] * 1000.0
    annual = hh_kw * KWH_PER_KW
    indiv = rng.lognormal(0.0, 0.15, (is_hh.sum(), 1)) * rng.lognormal(
        -0.06, 0.35, (is_hh.sum(), n)
    )
    # a household's quarter-hour mean stays below its connection's practical limit (11 kW)
    p[is_hh] = np.minimum(h[None, :] * (annual[:, None] / 1000.0) * indiv / 1000.0, HH_MAX_MW)
    w = water_factor(mid, RESIDENTIAL_PATTERN)
    for i, lid in enumerate(idx):
        if lid in crit_loads:
            base, kind = SITE_SHAPES.get(crit_loads[lid], (0.5, "g"))
            shape = {"g": g / g.max(), "h": h / h.max(), "w": w / w.max()}[kind]
            p[i] = net.load.at[lid, "p_mw"] * (base + (1 - base) * shape) * rng.normal(1.0, 0.02, n)
        elif (
            lid < LV_OFFSET
        ):  # MV station loads outside the village: half household, half commercial
            mix = 0.5 * h / h.mean() + 0.5 * g / g.mean()
            p[i] = (
                net.load.at[lid, "p_mw"]
                * net.load.at[lid, "scaling"]
                * 0.45
                * mix
                * rng.normal(1.0, 0.03, n)
            )
    return idx, np.clip(p, 0.0, None)


def _tripped_line(net: Any, line: int, heads: dict[str, int], feeder_of_bus: pd.Series) -> int:
    """The line whose protection clears a fault on ``line``.

    MV line: the head breaker of its MV feeder. LV line: the fuse at the substation of its LV
    feeder, i.e. the first line on the path from the LV busbar to the fault.
    """
    import networkx as nx
    import pandapower.topology as top

    from lifeline.datasets.power_town import LV_OFFSET
    from lifeline.errors import NotFoundError

    if line not in net.line.index:
        raise NotFoundError(f"no power line {line}", where="FeederFault.line")
    ends = (int(net.line.at[line, "from_bus"]), int(net.line.at[line, "to_bus"]))
    if line < LV_OFFSET:
        for b in ends:
            fid = str(feeder_of_bus.get(b, ""))
            if fid in heads:
                return heads[fid]
        return line
    g = top.create_nxgraph(net, respect_switches=True, include_trafos=False)
    g.remove_nodes_from([b for b in net.bus.index if net.bus.at[b, "vn_kv"] > 1.0])
    sources = {int(b) for b in net.trafo.lv_bus if b in g}
    try:
        _, path = nx.multi_source_dijkstra(g, sources, target=ends[0])
    except nx.NetworkXNoPath:
        return line
    if len(path) < 2:
        return line
    for key in g[path[0]][path[1]]:
        if key[0] == "line":
            return int(key[1])
    return line


def simulate_power(
    town: Any, start: pd.Timestamp, rng: np.random.Generator, events: list[Any]
) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Run the 15-minute power flows of the day; return (readings, station energised per
    minute, smart-meter supply events)."""
    import pandapower as pp

    from lifeline.datasets.zones import power_feeders

    net = copy.deepcopy(town.power)
    ts = pd.date_range(start, periods=96, freq=STEP)
    load_idx, p = _load_matrix(town, ts, rng)
    pv = pv_factor(ts + STEP / 2, rng)
    sgen_p = net.sgen.p_mw.to_numpy()
    tan_phi = np.tan(np.arccos(0.95))
    feeder_of_bus, heads = power_feeders(net)
    hv = net.trafo[net.trafo.vn_hv_kv > 60]
    busbars = set(hv.lv_bus)
    lv_tr = net.trafo[net.trafo.vn_hv_kv < 60]
    from lifeline.scenarios.script import _station_bus

    station_bus = _station_bus(town)
    faults = [e for e in events if isinstance(e, FeederFault)]
    trips = [_tripped_line(net, f.line, heads, feeder_of_bus) for f in faults]
    minute = pd.date_range(start, periods=1440, freq="60s")
    in_service0 = net.line.in_service.copy()

    def run(k: int, out_lines: list[int]) -> dict[str, np.ndarray]:
        net.load["p_mw"] = p[:, k]
        net.load["q_mvar"] = p[:, k] * tan_phi
        net.sgen["p_mw"] = sgen_p * pv[k]
        net.line["in_service"] = in_service0
        if out_lines:
            net.line.loc[out_lines, "in_service"] = False
        pp.runpp(net, init="dc" if k == 0 else "results", calculate_voltage_angles=True)
        vm = net.res_bus.vm_pu
        hl = sorted(heads.values())
        side = ["from" if net.line.at[h, "from_bus"] in busbars else "to" for h in hl]
        return {
            "current": net.res_line.loc[hl, "i_ka"].fillna(0.0).to_numpy() * 1000.0,
            "p_head": np.nan_to_num(
                np.array([net.res_line.at[h, f"p_{s}_mw"] for h, s in zip(hl, side, strict=True)])
            ),
            "p_trafo": net.res_trafo.loc[lv_tr.index, "p_lv_mw"].fillna(0.0).to_numpy() * -1.0,
            "v_lv": vm.loc[lv_tr.lv_bus].fillna(0.0).to_numpy(),
            "energised": vm.reindex(net.load.bus).notna().to_numpy(),
            "station": np.array([bool(np.isfinite(vm.get(station_bus, np.nan)))]),
        }

    normal = [run(k, []) for k in range(96)]
    fault_mask_min = np.zeros(1440, bool)
    fault_mask_q = np.zeros(96, bool)
    faulted: dict[int, dict[str, np.ndarray]] = {}
    near = np.zeros((len(faults), 96), bool)  # fault i matters at quarter k (or a neighbour)
    for i, f in enumerate(faults):
        fault_mask_min |= window(f, minute).to_numpy()
        wq = window(f, ts).to_numpy() | window(f, ts + STEP - pd.Timedelta("1s")).to_numpy()
        fault_mask_q |= wq
        near[i] = wq | np.roll(wq, -1) | np.roll(wq, 1)
    for kk in np.flatnonzero(near.any(axis=0)):
        faulted[int(kk)] = run(int(kk), [trips[i] for i in range(len(faults)) if near[i, kk]])

    def series(key: str) -> np.ndarray:
        a = np.array([r[key] for r in normal])  # steps x items
        x = np.arange(1440) / 15.0
        res = np.column_stack([np.interp(x, np.arange(96), a[:, j]) for j in range(a.shape[1])])
        if faulted:
            b = np.array([faulted.get(k, normal[k])[key] for k in range(96)])
            fb = np.column_stack([np.interp(x, np.arange(96), b[:, j]) for j in range(b.shape[1])])
            res[fault_mask_min] = fb[fault_mask_min]
        return res

    frames = []
    hl = sorted(heads.values())
    sens = town.sensors.set_index("asset_id")
    cur = series("current")
    ph = series("p_head")
    pt = series("p_trafo")
    vl = series("v_lv")

    def add(
        asset_ids: list[str],
        quantity: str,
        values: np.ndarray,
        sigma_rel: float,
        sigma_abs: float,
        dec: int,
    ) -> None:
        s = town.sensors
        for j, aid in enumerate(asset_ids):
            row = s[(s.asset_id == aid) & (s.quantity == quantity)]
            if row.empty:
                continue
            v = values[:, j]
            noisy = v * (1 + rng.normal(0, sigma_rel, len(v))) + rng.normal(0, sigma_abs, len(v))
            noisy = np.where(v == 0.0, 0.0, noisy)
            frames.append(
                pd.DataFrame(
                    {
                        "sensor_id": row.sensor_id.iloc[0],
                        "ts": minute,
                        "value": np.round(noisy, dec),
                    }
                )
            )

    add([f"power:line:{h}" for h in hl], "current_a", cur, 0.005, 0.2, 1)
    add([f"power:line:{h}" for h in hl], "p_mw", ph, 0.005, 0.002, 4)
    add([f"power:trafo:{t}" for t in lv_tr.index], "p_mw", pt, 0.005, 0.0005, 4)
    add([f"power:bus:{b}" for b in lv_tr.lv_bus], "voltage_pu", vl, 0.0, 0.001, 4)
    del sens
    meter_events = _supply_events(town, net, normal, faulted, fault_mask_min, minute)
    station_on = np.ones(1440, bool)
    if faulted and not all(bool(r["station"][0]) for r in faulted.values()):
        station_on[fault_mask_min] = False
    return pd.concat(frames, ignore_index=True), station_on, meter_events


def _supply_events(
    town: Any,
    net: Any,
    normal: list[dict[str, np.ndarray]],
    faulted: dict[int, dict[str, np.ndarray]],
    fault_mask_min: np.ndarray,
    minute: pd.DatetimeIndex,
) -> pd.DataFrame:
    """Smart-meter ``last_gasp`` / ``restore`` events of customers whose load loses or regains
    supply (columns of ``schema.METER_EVENT``); a meter reports within a minute."""
    energised = np.array([normal[m // 15]["energised"] for m in range(1440)])  # minutes x loads
    for m in np.flatnonzero(fault_mask_min):
        energised[m] = faulted.get(int(m) // 15, normal[int(m) // 15])["energised"]
    col = {f"power:load:{i}": k for k, i in enumerate(net.load.index)}
    rows = []
    for cid, load in zip(town.customers.customer_id, town.customers.power_asset_id, strict=True):
        k = col.get(str(load))
        if k is None:
            continue
        on = energised[:, k].astype(int)
        for m in np.flatnonzero(np.diff(on)):
            kind = "last_gasp" if on[m + 1] == 0 else "restore"
            ts = minute[m + 1]
            rows.append(
                {
                    "event_id": f"{kind}:{cid}@{ts:%Y%m%dT%H%M%S}",
                    "ts": ts,
                    "kind": kind,
                    "utility": "power",
                    "customer_id": str(cid),
                    "element": "",
                    "source": "drill",
                }
            )
    from lifeline.model.schema import conform

    return conform("meter_event", pd.DataFrame(rows))
