"""`lifeline gas locate` as a function: inputs in, the contract's JSON-able dict out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lifeline.errors import InputError
from lifeline.gas.io import METHANE_KIND, PRESSURE_KIND, read_readings, read_sensors, read_valves
from lifeline.gas.locate import LocateConfig, alarm_causes, fuse
from lifeline.gas.methane import AlarmConfig, methane_features
from lifeline.gas.network import GasNetwork, load_network
from lifeline.gas.pressure import scan_pressures
from lifeline.gas.shutoff import leak_pipe_for, shut_off


def analyse(
    net: GasNetwork,
    sensors: pd.DataFrame,
    readings: pd.DataFrame,
    valves: pd.DataFrame | None = None,
    alarm_cfg: AlarmConfig | None = None,
    locate_cfg: LocateConfig | None = None,
    with_hazard: bool = True,
) -> dict:
    """Alarms, leak, shut-off and hazard radius for one window of readings (see docs/gas.md)."""
    acfg = alarm_cfg or AlarmConfig()
    lcfg = locate_cfg or LocateConfig()
    p_ids = sensors.loc[sensors["kind"] == PRESSURE_KIND, "sensor_id"].tolist()
    m = sensors[sensors["kind"] == METHANE_KIND]
    xy = {str(r.sensor_id): (float(r.x), float(r.y)) for r in m.itertuples(index=False)}
    scan = scan_pressures(net, readings, p_ids, net.candidate)
    feats = methane_features(readings, list(xy), acfg)
    pos, ev = fuse(net, scan, feats, xy, lcfg, rise_min=acfg.rise_min)
    leak = None
    leak_xy = None
    leak_t0 = None
    shut = {"valves": [], "pipes_isolated": [], "customers_cut": 0}
    radius = 100.0
    hazard_detail: dict = {}
    if pos is not None and ev is not None:
        junction = int(net.junction[pos])
        leak_xy = (float(net.jx[pos]), float(net.jy[pos]))
        members = [f for f in feats if f.sensor_id in set(ev.members)]
        toward = None
        if members:
            toward = tuple(np.mean([xy[f.sensor_id] for f in members], axis=0))
        pipe = leak_pipe_for(net, junction, toward)  # type: ignore[arg-type]
        rate = float(scan.rate[pos]) if scan.ok else 0.0
        if scan.ok and not np.isnat(scan.t0[pos]):
            leak_t0 = pd.Timestamp(scan.t0[pos])
        onsets = [f.onset_ts for f in members if f.onset_ts is not None]
        if onsets and (leak_t0 is None or min(onsets) < leak_t0):
            leak_t0 = min(onsets)
        leak = {
            "junction": junction,
            "pipe": pipe,
            "x": round(leak_xy[0], 2),
            "y": round(leak_xy[1], 2),
            "rate_kg_per_s": round(rate, 5),
            "start_ts": leak_t0.strftime("%Y-%m-%d %H:%M:%S") if leak_t0 is not None else None,
            "evidence": ev.kind,
            "manholes": ev.members,
            "pressure_stat": round(float(scan.stat[pos]) if scan.ok else 0.0, 1),
        }
        shut = shut_off(net, junction, pipe, valves)
    alarms = alarm_causes(feats, xy, leak_xy, leak_t0, ev, lcfg, acfg)
    if leak is not None:
        seen = [
            float(np.hypot(xy[a["sensor_id"]][0] - leak_xy[0], xy[a["sensor_id"]][1] - leak_xy[1]))  # type: ignore[index]
            for a in alarms
            if a["cause"] == "gas_leak"
        ]
        if with_hazard:
            from lifeline.gas.hazard import hazard_radius

            p_leak = float(net.p_level[0, pos])  # main pressure at low demand (bar g)
            radius, hazard_detail = hazard_radius(rate, p_leak, max(seen, default=0.0))
        else:
            radius = max(100.0, max(seen, default=0.0) + 50.0)
    out = {"alarms": alarms, "leak": leak, "shut_off": shut, "hazard_radius_m": radius}
    if hazard_detail:
        out["hazard"] = {k: round(v, 3) for k, v in hazard_detail.items()}
    return out


def locate_files(
    network: str | Path,
    sensors: str | Path,
    readings: str | Path,
    valves: str | Path | None = None,
    alarm_cfg: AlarmConfig | None = None,
    cache_dir: Path | None = None,
) -> dict:
    """Read the files of the ``lifeline gas locate`` contract and run :func:`analyse`."""
    s = read_sensors(sensors)
    r = read_readings(readings)
    known = set(s["sensor_id"])
    unknown = sorted(set(r["sensor_id"]) - known)
    if unknown and len(unknown) == r["sensor_id"].nunique():
        raise InputError(
            f"no reading belongs to a listed sensor (e.g. {unknown[0]!r})", where=str(readings)
        )
    r = r[r["sensor_id"].isin(known)]
    pj = s.loc[s["kind"] == PRESSURE_KIND, "junction"].to_numpy(dtype=int)
    net = load_network(network, pj, cache_dir=cache_dir)
    v = read_valves(valves) if valves else None
    if v is not None:
        pipes = set(int(p) for p in net.pipe)
        for i, row in enumerate(v.itertuples(index=False)):
            if int(row.pipe) not in pipes:
                raise InputError(
                    f"valve {row.valve_id}: pipe {row.pipe} is not in the network",
                    where=f"{valves}:{i + 2}",
                )
    return analyse(net, s, r, v, alarm_cfg)
