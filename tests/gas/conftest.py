"""A small pandapipes gas grid built in the test, with a simulated leak (an extra sink)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SPACING_M = 100.0
LEAK_J = 7  # a main junction of the 4x3 grid
SENSOR_J = [0, 3, 8, 11]


def build_grid():  # type: ignore[no-untyped-def]
    """4x3 grid of mains (PE 110, 100 m), one house per main junction, supply at junction 0."""
    import pandapipes as pp

    net = pp.create_empty_network(fluid="hgas")
    nx, ny = 4, 3
    for k in range(nx * ny):
        i, j = k % nx, k // nx
        pp.create_junction(
            net, pn_bar=1.0, tfluid_k=283.15, geodata=(i * SPACING_M, j * SPACING_M), name=f"M{k}"
        )
    for k in range(nx * ny):
        i, j = k % nx, k // nx
        if i + 1 < nx:
            pp.create_pipe_from_parameters(
                net, k, k + 1, length_km=SPACING_M / 1000, inner_diameter_mm=90.0, k_mm=0.01
            )
        if j + 1 < ny and i in (0, 3):
            pp.create_pipe_from_parameters(
                net, k, k + nx, length_km=SPACING_M / 1000, inner_diameter_mm=90.0, k_mm=0.01
            )
    for k in range(nx * ny):
        i, j = k % nx, k // nx
        h = pp.create_junction(
            net, pn_bar=1.0, tfluid_k=283.15, geodata=(i * SPACING_M + 10, j * SPACING_M + 10)
        )
        pp.create_pipe_from_parameters(
            net, k, h, length_km=0.015, inner_diameter_mm=25.0, k_mm=0.01
        )
        pp.create_sink(net, junction=h, mdot_kg_per_s=0.004)
    pp.create_ext_grid(net, junction=0, p_bar=1.0, t_k=283.15)
    return net


@pytest.fixture(scope="session")
def gas_case(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Network JSON, sensors CSV and readings CSV (6 h, leak of 0.01 kg/s from 02:00 at LEAK_J)."""
    import pandapipes as pp

    d: Path = tmp_path_factory.mktemp("gas")
    net = build_grid()
    pp.to_json(net, str(d / "net.json"))
    rng = np.random.default_rng(1)
    times = pd.date_range("2024-05-01 00:00", "2024-05-01 06:00", freq="5min")
    rows = []
    leak = pp.create_sink(net, junction=LEAK_J, mdot_kg_per_s=0.0)
    t_leak = pd.Timestamp("2024-05-01 02:00")
    for t in times:
        level = 0.6 + 0.6 * np.sin(np.pi * (t.hour * 60 + t.minute) / 720.0)
        net.sink["scaling"] = level
        net.sink.loc[leak, "scaling"] = 1.0
        net.sink.loc[leak, "mdot_kg_per_s"] = 0.01 if t >= t_leak else 0.0
        pp.pipeflow(net)
        for k, j in enumerate(SENSOR_J):
            p = float(net.res_junction.p_bar[j]) + 0.0003 * (k - 1.5) + rng.normal(0, 0.0002)
            rows.append((t, f"P{k + 1}", round(p, 5)))
        # manholes: two near the leak (rising after onset), one far (flat), one biogas far away
        mins = (t - t_leak) / pd.Timedelta(minutes=1)
        near1 = 0.5 + (min(100.0, 3.0 * mins) if mins > 5 else 0.0)
        near2 = 0.3 + (min(60.0, 1.0 * (mins - 15)) if mins > 15 else 0.0)
        rows.append((t, "CH4-PWR-001", round(near1 + rng.normal(0, 0.3), 1)))
        rows.append((t, "CH4-TEL-002", round(max(near2 + rng.normal(0, 0.3), 0), 1)))
        rows.append((t, "CH4-SEW-003", round(abs(rng.normal(0.5, 0.3)), 1)))
    readings = pd.DataFrame(rows, columns=["ts", "sensor_id", "value"]).sort_values(
        ["ts", "sensor_id"]
    )
    readings["ts"] = readings["ts"].dt.strftime("%Y-%m-%d %H:%M:%S")
    readings.to_csv(d / "readings.csv", index=False)
    sens = [
        (f"P{k + 1}", "pressure_bar", j, (j % 4) * SPACING_M, (j // 4) * SPACING_M)
        for k, j in enumerate(SENSOR_J)
    ]
    lx, ly = (LEAK_J % 4) * SPACING_M, (LEAK_J // 4) * SPACING_M
    sens += [
        ("CH4-PWR-001", "methane_pct_lel", "", lx + 4.0, ly + 2.0),
        ("CH4-TEL-002", "methane_pct_lel", "", lx - 40.0, ly + 3.0),
        ("CH4-SEW-003", "methane_pct_lel", "", 0.0 + 3.0, 200.0 - 3.0),
    ]
    pd.DataFrame(sens, columns=["sensor_id", "kind", "junction", "x", "y"]).to_csv(
        d / "sensors.csv", index=False
    )
    return {"dir": d, "net": d / "net.json", "sensors": d / "sensors.csv", "readings": d / "readings.csv",
            "leak_xy": (lx, ly), "cache": d / "cache"}  # fmt: skip
