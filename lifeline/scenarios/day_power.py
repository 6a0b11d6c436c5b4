"""Power part of the simulated day: pandapower AC power flows every 15 minutes on any city's
grid, driven by BDEW standard load profiles in the city's local time.

Loads are shaped by who they serve (the customer table): a critical site or another
non-household customer by its category (:data:`CATEGORY_SHAPES`), a household load (customers
of category household, or an LV load — bus below :data:`LV_KV` — with no customer) by the H25
household profile, any other MV load by a half-household, half-commercial mix. Every power
sensor reads its element's result (bus voltage, line or transformer current, power at the
upstream end, external-grid infeed). A fault trips the protection that clears it
(:func:`protection`): the MV feeder's head breaker, or the fuse at the LV substation; smart
meters of customers that lose supply send ``last_gasp`` / ``restore``, a tripped breaker that
is a pandapower switch sends ``breaker_trip`` / ``breaker_close`` and fault passage indicators
between the breaker and the fault (switches marked ``fpi`` in the net's switch table) send
``fpi``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lifeline.scenarios.events import FeederFault, utc, window
from lifeline.scenarios.profiles import (
    WATER_DIURNAL,
    commercial_kw,
    household_kw,
    pv_factor,
    water_factor,
)

STEP = pd.Timedelta("15min")
#: buses below this nominal voltage (kV) are low voltage
LV_KV = 1.0
#: annual consumption of a household per kW of its design load (kWh/a per kW)
KWH_PER_KW = 1500.0
#: a household connection's practical limit of a quarter-hour mean (MW)
HH_MAX_MW = 0.011
#: (base share, shape) of a load by its customers' category: ``g`` commercial (BDEW G25),
#: ``h`` household (H25), ``w`` water pumping (diurnal water use)
CATEGORY_SHAPES = {
    "hospital": (0.65, "g"),
    "school": (0.1, "g"),
    "care_home": (0.55, "h"),
    "pumping_station": (0.2, "w"),
    "commercial": (0.25, "g"),
    "industry": (0.6, "g"),
    "other": (0.5, "g"),
}
#: the switch types that can clear a fault (pandapower: CB circuit breaker; empty = unknown)
BREAKER_TYPES = ("CB", "", "NONE", "NAN")


@dataclass
class LoadRole:
    """How one load is shaped: ``household`` (``n`` households), a customer category, or
    ``mv_mix`` (an MV load that serves no customer of the table)."""

    kind: str
    n: int = 1


def load_roles(city: Any) -> dict[int, LoadRole]:
    """The role of every load of ``city.power`` from the customer table and bus voltages."""
    net = city.power
    cust = city.customers
    by_load: dict[int, list[tuple[str, bool]]] = {}
    for a, cat, crit in zip(
        cust.power_asset_id.fillna(""), cust.category, cust.critical, strict=True
    ):
        a = str(a)
        if a.startswith("power:load:"):
            by_load.setdefault(int(a.rsplit(":", 1)[-1]), []).append((str(cat), bool(crit)))
    vn = net.bus.vn_kv
    out: dict[int, LoadRole] = {}
    for lid, bus in zip(net.load.index, net.load.bus, strict=True):
        who = by_load.get(int(lid), [])
        crit = [c for c, k in who if k]
        hh = [c for c, _ in who if c == "household"]
        if crit:
            out[int(lid)] = LoadRole(crit[0])
        elif hh:
            out[int(lid)] = LoadRole("household", len(hh))
        elif who:
            out[int(lid)] = LoadRole(who[0][0])
        elif float(vn.at[bus]) < LV_KV:
            out[int(lid)] = LoadRole("household")
        else:
            out[int(lid)] = LoadRole("mv_mix", 0)
    return out


def _load_matrix(
    city: Any, ts: pd.DatetimeIndex, rng: np.random.Generator
) -> tuple[pd.Index, np.ndarray]:
    """Active power (MW) of every load of the net at each quarter hour (loads x steps)."""
    net = city.power
    tz = str(city.timezone)
    mid = ts + STEP / 2
    n = len(ts)
    h = household_kw(ts, 1000.0, tz)  # kW per 1000 kWh/a
    g = commercial_kw(ts, 1000.0, tz)
    p = np.zeros((len(net.load), n))
    idx = net.load.index
    roles = load_roles(city)
    is_hh = np.array([roles[int(i)].kind == "household" for i in idx], dtype=bool)
    n_hh = np.array([max(1, roles[int(i)].n) for i in idx[is_hh]], dtype=float)
    annual = net.load.p_mw.to_numpy()[is_hh] * 1000.0 * KWH_PER_KW
    # one household varies a lot from quarter to quarter; n households on one load average out
    sigma = 0.35 / np.sqrt(n_hh)
    indiv = rng.lognormal(0.0, 0.15, (is_hh.sum(), 1)) * rng.lognormal(
        -0.5 * sigma[:, None] ** 2, sigma[:, None], (is_hh.sum(), n)
    )
    p[is_hh] = np.minimum(
        h[None, :] * (annual[:, None] / 1000.0) * indiv / 1000.0, HH_MAX_MW * n_hh[:, None]
    )
    w = water_factor(mid, WATER_DIURNAL, tz)
    shapes = {"g": g / g.max(), "h": h / h.max(), "w": w / w.max()}
    for i, lid in enumerate(idx):
        role = roles[int(lid)]
        if role.kind == "household":
            continue
        if role.kind == "mv_mix":  # an MV station load: half household, half commercial
            mix = 0.5 * h / h.mean() + 0.5 * g / g.mean()
            p[i] = (
                net.load.at[lid, "p_mw"]
                * net.load.at[lid, "scaling"]
                * 0.45
                * mix
                * rng.normal(1.0, 0.03, n)
            )
        else:
            base, kind = CATEGORY_SHAPES.get(role.kind, CATEGORY_SHAPES["other"])
            shape = shapes[kind]
            p[i] = net.load.at[lid, "p_mw"] * (base + (1 - base) * shape) * rng.normal(1.0, 0.02, n)
    return idx, np.clip(p, 0.0, None)


def source_distance(net: Any) -> dict[int, int]:
    """Hops (lines, transformers, closed bus switches) from the nearest external grid, per bus."""
    import networkx as nx
    import pandapower.topology as top

    g = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
    src = [int(b) for b in net.ext_grid.bus if b in g]
    if not src:
        return {}
    return {
        int(k): int(v) for k, v in nx.multi_source_dijkstra_path_length(g, src, weight=None).items()
    }


def upstream_bus(net: Any, line: int, dist: dict[int, int]) -> int:
    """The end of ``line`` nearer the external grid (its from-bus when unknown)."""
    a, b = int(net.line.at[line, "from_bus"]), int(net.line.at[line, "to_bus"])
    big = 1 << 30
    return b if dist.get(b, big) < dist.get(a, big) else a


def _is_lv(net: Any, line: int) -> bool:
    return float(net.bus.at[int(net.line.at[line, "from_bus"]), "vn_kv"]) < LV_KV


def _tripped_line(net: Any, line: int, heads: dict[str, int], feeder_of_bus: pd.Series) -> int:
    """The line whose protection clears a fault on ``line``.

    MV line: the head breaker of its MV feeder (:func:`lifeline.model.zones.power_feeders`). LV
    line (buses below :data:`LV_KV`): the fuse at the substation of its LV feeder, i.e. the
    first line on the path from the LV busbar to the fault.
    """
    import networkx as nx
    import pandapower.topology as top

    from lifeline.errors import NotFoundError

    if line not in net.line.index:
        raise NotFoundError(f"no power line {line}", where="FeederFault.line")
    ends = (int(net.line.at[line, "from_bus"]), int(net.line.at[line, "to_bus"]))
    if not _is_lv(net, line):
        for b in ends:
            fid = str(feeder_of_bus.get(b, ""))
            if fid in heads:
                return heads[fid]
        return line
    g = top.create_nxgraph(net, respect_switches=True, include_trafos=False)
    g.remove_nodes_from([b for b in net.bus.index if net.bus.at[b, "vn_kv"] >= LV_KV])
    sources = {int(b) for b in net.trafo.lv_bus if b in g}
    try:
        _, path = nx.multi_source_dijkstra(g, sources, target=ends[0])
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return line
    if len(path) < 2:
        return line
    for key in g[path[0]][path[1]]:
        if key[0] == "line":
            return int(key[1])
    return line


@dataclass
class Protection:
    """What clears one fault: the line taken out (``tripped``), the breaker switch that opens
    (None for a fuse or a breaker not in the model) and the switches whose fault passage
    indicators see the fault current."""

    fault_line: int
    tripped: int
    breaker: int | None = None
    fpi: list[int] = field(default_factory=list)


def _fpi_installed(net: Any) -> set[int]:
    if "fpi" not in net.switch.columns:
        return set()
    col = net.switch["fpi"]
    on = col.map(lambda v: str(v).strip().lower() in ("true", "1", "yes", "1.0"))
    return {int(i) for i in net.switch.index[on.to_numpy(bool)]}


def protection(
    net: Any,
    line: int,
    heads: dict[str, int],
    feeder_of_bus: pd.Series,
    dist: dict[int, int] | None = None,
) -> Protection:
    """The protection that clears a fault on ``line`` (see :func:`_tripped_line`), its breaker
    switch (a line switch of type CB — or of no type — at the tripped line's upstream end) and
    the fault passage indicators on the path from the breaker to the fault (switches whose
    ``fpi`` column in ``net.switch`` is true; none when the column is absent)."""
    import networkx as nx
    import pandapower.topology as top

    dist = source_distance(net) if dist is None else dist
    tripped = _tripped_line(net, line, heads, feeder_of_bus)
    up = upstream_bus(net, tripped, dist)
    sw = net.switch[(net.switch.et == "l") & (net.switch.element == tripped)]
    sw = sw[sw.bus == up]
    kinds = sw.type.fillna("").astype(str).str.upper()
    brk = sw.index[kinds.isin(BREAKER_TYPES).to_numpy()]
    out = Protection(line, tripped, int(brk[0]) if len(brk) else None)
    fitted = _fpi_installed(net)
    if not fitted:
        return out
    fault_up = upstream_bus(net, line, dist)
    g = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
    try:
        path = nx.shortest_path(g, up, fault_up)
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        path = [up]
    lines = {
        int(k[1]) for a, b in zip(path, path[1:], strict=False) for k in g[a][b] if k[0] == "line"
    }
    s = net.switch.loc[sorted(fitted)]
    s = s[s.et == "l"]
    seen = s[s.element.isin(lines) | ((s.element == line) & (s.bus == fault_up))]
    out.fpi = sorted(int(i) for i in seen.index)
    return out


def pump_buses(city: Any) -> dict[str, int]:
    """Water pump name → the power bus it needs (the dependency table's ``supply`` rows: a
    ``power:bus:<i>`` or a ``power:load:<i>``'s bus)."""
    if not (city.has("water") and city.has("power")):
        return {}
    deps = city.dependencies
    out: dict[str, int] = {}
    for p in city.water.pump_name_list:
        bus = city.supply_bus(f"water:pump:{p}")
        if bus is None and len(deps):
            hit = deps[(deps.asset_id == f"water:pump:{p}") & (deps.kind == "supply")]
            for dep in hit.depends_on_asset_id.astype(str):
                if dep.startswith("power:load:"):
                    lid = int(dep.rsplit(":", 1)[1])
                    if lid in city.power.load.index:
                        bus = int(city.power.load.at[lid, "bus"])
                        break
        if bus is not None:
            out[str(p)] = int(bus)
    return out


#: (relative, absolute noise, decimals) of a power sensor's reading by quantity
NOISE = {"current_a": (0.005, 0.2, 1), "p_mw": (0.005, 0.001, 4), "voltage_pu": (0.0, 0.001, 4)}


def _sensor_reader(net: Any, sensors: pd.DataFrame, dist: dict[int, int]) -> Any:
    """A function of the solved net returning one value per power sensor (0 when dead)."""
    rows = []
    for r in sensors.itertuples():
        _, kind, ref = (str(r.asset_id).split(":", 2) + ["", ""])[:3]
        rows.append((str(r.quantity), kind, int(ref) if ref.lstrip("-").isdigit() else -1))
    side = {
        i: "from" if upstream_bus(net, int(i), dist) == int(net.line.at[i, "from_bus"]) else "to"
        for q, k, i in rows
        if k == "line" and i in net.line.index
    }

    def read(net: Any) -> np.ndarray:
        out = np.zeros(len(rows))
        for j, (q, kind, i) in enumerate(rows):
            v = np.nan
            if kind == "bus" and q == "voltage_pu":
                v = net.res_bus.vm_pu.get(i, np.nan)
            elif kind == "line" and i in net.res_line.index:
                if q == "current_a":
                    v = net.res_line.at[i, "i_ka"] * 1000.0
                elif q == "p_mw":
                    v = net.res_line.at[i, f"p_{side[i]}_mw"]
            elif kind == "trafo" and i in net.res_trafo.index:
                if q == "current_a":  # HV side, as its rating (lifeline.power.detectors)
                    v = net.res_trafo.at[i, "i_hv_ka"] * 1000.0
                elif q == "p_mw":
                    v = -net.res_trafo.at[i, "p_lv_mw"]  # delivered to the LV side
            elif kind == "ext_grid" and q == "p_mw" and i in net.res_ext_grid.index:
                v = net.res_ext_grid.at[i, "p_mw"]
            out[j] = 0.0 if not np.isfinite(v) else float(v)
        return out

    return read


def simulate_power(
    city: Any, start: pd.Timestamp, rng: np.random.Generator, events: list[Any]
) -> tuple[pd.DataFrame, dict[str, np.ndarray], pd.DataFrame]:
    """Run the 15-minute power flows of the day on ``city``; return (readings of every power
    sensor, pump name → powered per minute (1440 booleans), smart-meter and switchgear events)."""
    import pandapower as pp

    from lifeline.model.zones import power_feeders

    net = copy.deepcopy(city.power)
    ts = pd.date_range(start, periods=96, freq=STEP)
    _, p = _load_matrix(city, ts, rng)
    pv = pv_factor(ts + STEP / 2, rng, str(city.timezone))
    sgen_p = net.sgen.p_mw.to_numpy()
    tan_phi = np.tan(np.arccos(0.95))
    feeder_of_bus, heads = power_feeders(net)
    dist = source_distance(net)
    pumps = pump_buses(city)
    faults = [e for e in events if isinstance(e, FeederFault)]
    prot = [protection(net, f.line, heads, feeder_of_bus, dist) for f in faults]
    minute = pd.date_range(start, periods=1440, freq="60s")
    in_service0 = net.line.in_service.copy()
    sensors = city.sensors[city.sensors.utility == "power"].reset_index(drop=True)
    read = _sensor_reader(net, sensors, dist)
    pump_bus = [pumps[k] for k in sorted(pumps)]

    def run(k: int, out_lines: list[int]) -> dict[str, np.ndarray]:
        net.load["p_mw"] = p[:, k]
        net.load["q_mvar"] = p[:, k] * tan_phi
        net.sgen["p_mw"] = sgen_p * pv[k]
        net.line["in_service"] = in_service0
        if out_lines:
            net.line.loc[out_lines, "in_service"] = False
        pp.runpp(net, init="dc" if k == 0 else "results", calculate_voltage_angles=True)
        vm = net.res_bus.vm_pu
        return {
            "sensors": read(net),
            "energised": vm.reindex(net.load.bus).notna().to_numpy(),
            "pumps": np.array([bool(np.isfinite(vm.get(b, np.nan))) for b in pump_bus]),
        }

    normal = [run(k, []) for k in range(96)]
    fault_mask_min = np.zeros(1440, bool)
    faulted: dict[int, dict[str, np.ndarray]] = {}
    near = np.zeros((len(faults), 96), bool)  # fault i matters at quarter k (or a neighbour)
    for i, f in enumerate(faults):
        fault_mask_min |= window(f, minute).to_numpy()
        wq = window(f, ts).to_numpy() | window(f, ts + STEP - pd.Timedelta("1s")).to_numpy()
        near[i] = wq | np.roll(wq, -1) | np.roll(wq, 1)
    for kk in np.flatnonzero(near.any(axis=0)):
        faulted[int(kk)] = run(
            int(kk), [prot[i].tripped for i in range(len(faults)) if near[i, kk]]
        )

    def series(key: str) -> np.ndarray:
        a = np.array([r[key] for r in normal]).reshape(96, -1)  # steps x items
        if a.shape[1] == 0:
            return np.zeros((1440, 0))
        x = np.arange(1440) / 15.0
        res = np.column_stack(
            [np.interp(x, np.arange(96), a[:, j]) for j in range(a.shape[1])]
        ).reshape(1440, a.shape[1])
        if faulted:
            b = np.array([faulted.get(k, normal[k])[key] for k in range(96)]).reshape(96, -1)
            fb = np.column_stack(
                [np.interp(x, np.arange(96), b[:, j]) for j in range(b.shape[1])]
            ).reshape(1440, b.shape[1])
            res[fault_mask_min] = fb[fault_mask_min]
        return res

    from lifeline.scenarios.day import at_interval

    frames = []
    values = series("sensors")
    for j, r in enumerate(sensors.itertuples()):
        rel, ab, dec = NOISE.get(str(r.quantity), (0.005, 0.001, 4))
        if str(r.asset_id).startswith("power:line:") and r.quantity == "p_mw":
            ab = 0.002
        elif r.quantity == "p_mw":
            ab = 0.0005
        v = values[:, j]
        noisy = v * (1 + rng.normal(0, rel, len(v))) + rng.normal(0, ab, len(v))
        noisy = np.where(v == 0.0, 0.0, noisy)
        t, val = at_interval(minute, noisy, int(r.interval_s))
        frames.append(
            pd.DataFrame({"sensor_id": r.sensor_id, "ts": t, "value": np.round(val, dec)})
        )
    meter_events = pd.concat(
        [
            _supply_events(city, net, normal, faulted, fault_mask_min, minute),
            _switch_events(faults, prot, start),
        ],
        ignore_index=True,
    )
    pump_on: dict[str, np.ndarray] = {}
    on = series("pumps") > 0.5
    for j, name in enumerate(sorted(pumps)):
        pump_on[name] = on[:, j]
    readings = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({"sensor_id": [], "ts": [], "value": []})
    )
    return readings, pump_on, meter_events


def _event_row(
    kind: str, ts: pd.Timestamp, customer: str = "", element: str = ""
) -> dict[str, Any]:
    subject = customer or element
    return {
        "event_id": f"{kind}:{subject}@{ts:%Y%m%dT%H%M%S}",
        "ts": ts,
        "kind": kind,
        "utility": "power",
        "customer_id": customer,
        "element": element,
        "source": "drill",
    }


def _switch_events(
    faults: list[FeederFault], prot: list[Protection], start: pd.Timestamp
) -> pd.DataFrame:
    """``breaker_trip`` at each fault (and ``breaker_close`` at its end within the day) of a
    breaker that is a switch of the net, and ``fpi`` from the indicators that saw the fault."""
    from lifeline.model.schema import conform

    end_of_day = utc(start) + pd.Timedelta("1D")
    rows = []
    for f, pr in zip(faults, prot, strict=True):
        t0 = utc(f.start)
        if not utc(start) <= t0 < end_of_day:
            continue
        if pr.breaker is not None:
            rows.append(_event_row("breaker_trip", t0, element=f"switch:{pr.breaker}"))
            if f.end is not None and utc(f.end) < end_of_day:
                rows.append(_event_row("breaker_close", utc(f.end), element=f"switch:{pr.breaker}"))
        rows += [_event_row("fpi", t0, element=f"switch:{s}") for s in pr.fpi]
    return conform("meter_event", pd.DataFrame(rows))


def _supply_events(
    city: Any,
    net: Any,
    normal: list[dict[str, np.ndarray]],
    faulted: dict[int, dict[str, np.ndarray]],
    fault_mask_min: np.ndarray,
    minute: pd.DatetimeIndex,
) -> pd.DataFrame:
    """Smart-meter ``last_gasp`` / ``restore`` events of customers whose load loses or regains
    supply (columns of ``schema.METER_EVENT``); a meter reports within a minute."""
    from lifeline.model.schema import conform

    energised = np.array([normal[m // 15]["energised"] for m in range(1440)])  # minutes x loads
    for m in np.flatnonzero(fault_mask_min):
        energised[m] = faulted.get(int(m) // 15, normal[int(m) // 15])["energised"]
    col = {f"power:load:{i}": k for k, i in enumerate(net.load.index)}
    rows = []
    for cid, load in zip(city.customers.customer_id, city.customers.power_asset_id, strict=True):
        k = col.get(str(load))
        if k is None:
            continue
        on = energised[:, k].astype(int)
        for m in np.flatnonzero(np.diff(on)):
            kind = "last_gasp" if on[m + 1] == 0 else "restore"
            rows.append(_event_row(kind, minute[m + 1], customer=str(cid)))
    return conform("meter_event", pd.DataFrame(rows))
