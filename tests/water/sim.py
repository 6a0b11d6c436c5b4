"""Purpose-made test data: a WNTR/EPANET simulation of Net3 with noisy demands and a burst."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from lifeline.water.leaks import Model, Prepared
    from lifeline.water.network import PipeGraph


def net_path(name: str = "Net3") -> Path:
    """Path of an example network shipped with WNTR (EPA example networks, public domain)."""
    import wntr

    return Path(wntr.__file__).parent / "library" / "networks" / f"{name}.inp"


def steady_net3(out_dir: Path) -> Path:
    """Net3 without its pump controls (pumps always on): a purpose-made test network, written
    in m³/h (CMH), the unit :func:`simulate` writes the flows in."""
    import wntr

    path = out_dir / "net3_steady.inp"
    if not path.is_file():
        wn = wntr.network.WaterNetworkModel(str(net_path()))
        for name in list(wn.control_name_list):
            wn.remove_control(name)
        wntr.network.write_inpfile(wn, str(path), units="CMH")
    return path


def simulate(
    out_dir: Path,
    burst_pipe: str | None,
    burst_hour: int,
    days: int = 28,
    burst_m3h: float = 300.0,
    seed: int = 0,
    n_sensors: int = 18,
    ramp_hours: int = 0,
    holiday: int | None = None,
    second: tuple[str, int] | None = None,
) -> tuple[Path, Path, list[str]]:
    """Simulate ``days`` of hourly SCADA on Net3 into ``out_dir`` (BattLeDIM layout).

    Demands get ±10 % hourly noise per node; a constant burst of ``burst_m3h`` m³/h starts at
    ``burst_hour`` in the middle of ``burst_pipe`` (with ``ramp_hours`` > 0 it grows linearly to
    that flow over as many hours: an incipient leak); on day ``holiday`` (0-based) every demand is
    30 % lower; ``second`` (pipe, hour): a second burst of the same flow. Returns (network INP,
    scada folder, sensor node ids).
    """
    import wntr

    rng = np.random.default_rng(seed)
    base_inp = steady_net3(out_dir)
    wn = wntr.network.WaterNetworkModel(str(base_inp))
    n_steps = days * 24
    wn.options.time.duration = (n_steps - 1) * 3600
    wn.options.time.hydraulic_timestep = 3600
    wn.options.time.pattern_timestep = 3600
    wn.options.time.report_timestep = 3600
    for name, j in wn.junctions():
        for k, d in enumerate(j.demand_timeseries_list):
            if d.base_value <= 0:
                continue
            base = d.pattern.multipliers if d.pattern is not None else np.ones(1)
            mult = np.resize(np.asarray(base, dtype=float), n_steps)
            day_factor = np.repeat(1 + 0.03 * rng.standard_normal(days), 24)
            if holiday is not None:
                day_factor[holiday * 24 : (holiday + 1) * 24] *= 0.7
            mult = mult * day_factor * (1 + 0.1 * rng.standard_normal(n_steps))
            pname = f"noise_{name}_{k}"
            wn.add_pattern(pname, mult.tolist())
            d.pattern_name = pname
    bursts = [(burst_pipe, burst_hour, ramp_hours, "burst")] if burst_pipe is not None else []
    if second is not None:
        bursts.append((second[0], second[1], 0, "burst2"))
    for pipe, hour, ramp, name in bursts:
        wn = wntr.morph.split_pipe(wn, pipe, f"{pipe}_B", name.upper())
        pat = np.clip((np.arange(n_steps) - hour + 1) / max(ramp, 1), 0.0, 1.0)
        wn.add_pattern(name, pat.tolist())
        wn.get_node(name.upper()).add_demand(burst_m3h / 3600.0, name)
    res = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(out_dir / "sim"))
    idx = pd.date_range("2021-03-01", periods=n_steps, freq="1h")
    juncs = list(wntr.network.WaterNetworkModel(str(base_inp)).junction_name_list)
    sensors = juncs[:: max(1, len(juncs) // n_sensors)][:n_sensors]
    p = res.node["pressure"][sensors].to_numpy() + 0.02 * rng.standard_normal(
        (n_steps, len(sensors))
    )
    scada = out_dir / "scada"
    scada.mkdir(parents=True, exist_ok=True)

    def write(df: pd.DataFrame, kind: str) -> None:
        df = df.copy()
        df.index = idx.strftime("%Y-%m-%d %H:%M:%S")
        df.index.name = "Timestamp"
        df.to_csv(scada / f"2021_SCADA_{kind}.csv", sep=";", decimal=",", float_format="%.3f")

    write(pd.DataFrame(p, columns=sensors), "Pressures")
    src = [
        name
        for name, link in wn.links()
        if {link.start_node_name, link.end_node_name} & set(wn.reservoir_name_list)
    ]
    flows = (
        res.link["flowrate"][src].to_numpy()
        * 3600
        * (1 + 0.005 * rng.standard_normal((n_steps, len(src))))
    )
    write(pd.DataFrame(flows, columns=src), "Flows")
    write(res.node["pressure"][wn.tank_name_list].reset_index(drop=True), "Levels")
    return base_inp, scada, sensors


def calibrated(
    out_dir: Path, burst_pipe: str | None, burst_hour: int, **kw: Any
) -> tuple[Path, Prepared, Model, PipeGraph]:
    """:func:`simulate` (``kw`` passed on), then the hourly residual model calibrated on the
    first ``calib_days`` and the whole run prepared: (INP, Prepared, Model, PipeGraph)."""
    from lifeline.water import leaks as lk
    from lifeline.water.network import load_network, pipe_graph, sensitivity
    from lifeline.water.scada import read_scada

    out_dir.mkdir(parents=True, exist_ok=True)
    inp, scada, sensors = simulate(out_dir, burst_pipe, burst_hour, **kw)
    wn = load_network(inp)
    h = lk.hourly(read_scada(scada))
    graph = pipe_graph(wn)
    prm = lk.LeakParams()
    model = lk.calibrate(h.iloc[: prm.calib_days * 24], wn, sensitivity(inp, sensors), graph, prm)
    return inp, lk.prepare(h, model), model, graph
