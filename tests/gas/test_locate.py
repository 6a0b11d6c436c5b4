"""Leak localisation on a small simulated pandapipes network; shut-off; the CLI contract."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lifeline.errors import InputError, NetworkModelError
from lifeline.gas.io import read_readings, read_sensors
from lifeline.gas.network import load_network
from lifeline.gas.pressure import scan_pressures
from lifeline.gas.service import locate_files
from lifeline.gas.shutoff import shut_off
from tests.gas.conftest import LEAK_J, SENSOR_J


def test_sensitivity_reciprocity_and_cache(gas_case: dict) -> None:
    net = load_network(gas_case["net"], np.array(SENSOR_J), cache_dir=gas_case["cache"])
    assert list((gas_case["cache"] / "gas").glob("sens_*.npz")), "sensitivity matrix is cached"
    again = load_network(gas_case["net"], np.array(SENSOR_J), cache_dir=gas_case["cache"])
    np.testing.assert_allclose(again.sens, net.sens)
    # a sink far from the supply drops pressures more than one next to it
    far, near = net.pos(np.array([11]))[0], net.pos(np.array([1]))[0]
    assert net.sens[1, :, far].max() > net.sens[1, :, near].max() > 0


def test_pressure_scan_finds_simulated_leak(gas_case: dict) -> None:
    sensors = read_sensors(gas_case["sensors"])
    r = read_readings(gas_case["readings"])
    net = load_network(gas_case["net"], np.array(SENSOR_J), cache_dir=gas_case["cache"])
    p_ids = [f"P{k + 1}" for k in range(len(SENSOR_J))]
    scan = scan_pressures(net, r, p_ids, net.candidate)
    assert scan.ok
    true = net.pos(np.array([LEAK_J]))[0]
    assert scan.stat[true] >= 0.8 * scan.stat.max()
    b = scan.best
    assert math.hypot(net.jx[b] - net.jx[true], net.jy[b] - net.jy[true]) <= 150.0
    assert 0.0033 <= scan.rate[true] <= 0.04  # simulated 0.01 kg/s: within a factor of 3-4
    assert abs(pd.Timestamp(scan.t0[true]) - pd.Timestamp("2024-05-01 02:00")) <= pd.Timedelta(
        minutes=30
    )
    assert len(sensors) == 7


def test_locate_fuses_pressure_and_manholes(gas_case: dict) -> None:
    out = locate_files(
        gas_case["net"], gas_case["sensors"], gas_case["readings"], cache_dir=gas_case["cache"]
    )
    leak = out["leak"]
    assert leak is not None
    lx, ly = gas_case["leak_xy"]
    assert math.hypot(leak["x"] - lx, leak["y"] - ly) <= 30.0
    assert leak["rate_kg_per_s"] > 0
    causes = {a["sensor_id"]: a["cause"] for a in out["alarms"]}
    assert causes["CH4-PWR-001"] == "gas_leak"
    assert "CH4-SEW-003" not in causes
    assert out["hazard_radius_m"] >= 100.0
    # no valves: squeeze-off of the leaking pipe
    assert out["shut_off"]["valves"] == [] and out["shut_off"]["pipes_isolated"] == [leak["pipe"]]


def test_shut_off_with_valves_isolates_segment(gas_case: dict) -> None:
    net = load_network(gas_case["net"], np.array(SENSOR_J), cache_dir=gas_case["cache"])
    # pipe between junctions 6 and 7 (row 1); valves on the pipes leaving that row segment
    pipes = {
        (int(a), int(b)): int(p)
        for p, a, b in zip(net.pipe, net.pipe_from, net.pipe_to, strict=True)
    }
    p67 = pipes[(6, 7)]
    valves = pd.DataFrame(
        [
            ("V1", pipes[(5, 6)], 6),
            ("V2", pipes[(7, 11)], 7),
            ("V3", pipes[(3, 7)], 7),
            ("V9", pipes[(0, 1)], 0),
        ],
        columns=["valve_id", "pipe", "junction"],
    )
    plan = shut_off(net, 7, p67, valves)
    assert plan["method"] == "valves"
    assert plan["valves"] == ["V1", "V2", "V3"]  # V9 is elsewhere
    assert p67 in plan["pipes_isolated"]
    assert plan["customers_cut"] == 2  # the houses of junctions 6 and 7
    # without one of the bounding valves the segment reaches the supply: squeeze-off instead
    fallback = shut_off(net, 7, p67, valves[~valves["valve_id"].isin(["V3", "V9"])])
    assert fallback["method"] == "squeeze_off" and fallback["customers_cut"] == 0


def test_cli_contract_and_gz(gas_case: dict, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lifeline.cli import app

    monkeypatch.setenv("LIFELINE_CACHE_DIR", str(gas_case["cache"]))
    from lifeline.config import get_settings

    get_settings.cache_clear()
    gz = tmp_path / "readings.csv.gz"
    gz.write_bytes(gzip.compress(gas_case["readings"].read_bytes()))
    out = tmp_path / "out.json"
    res = CliRunner().invoke(app, ["gas", "locate", "--network", str(gas_case["net"]), "--sensors", str(gas_case["sensors"]),
                                   "--readings", str(gz), "--out", str(out)])  # fmt: skip
    assert res.exit_code == 0, res.output
    o = json.loads(out.read_text())
    assert set(o) >= {"alarms", "leak", "shut_off", "hazard_radius_m"}
    assert set(o["leak"]) >= {"junction", "pipe", "x", "y", "rate_kg_per_s"}
    assert set(o["shut_off"]) >= {"valves", "pipes_isolated", "customers_cut"}
    for a in o["alarms"]:
        assert a["level"] in (1, 2) and a["cause"] in ("gas_leak", "other", "sensor_fault")


def test_bad_inputs(gas_case: dict, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "s.csv"
    bad.write_text("sensor_id,kind,junction,x\nP1,pressure_bar,0,1\n")
    with pytest.raises(InputError, match="missing column"):
        read_sensors(bad)
    bad.write_text("sensor_id,kind,junction,x,y\nP1,voltage,0,1,2\n")
    with pytest.raises(InputError, match=r"s.csv:2"):
        read_sensors(bad)
    r = tmp_path / "r.csv"
    r.write_text("ts,sensor_id,value\n2024-01-01 00:00:00,P1,abc\n")
    with pytest.raises(InputError, match=r"r.csv:2.*value"):
        read_readings(r)
    with pytest.raises(InputError, match="not found"):
        read_readings(tmp_path / "missing.csv")
    net = tmp_path / "net.json"
    net.write_text("{not json")
    with pytest.raises(NetworkModelError):
        load_network(net, np.array([0]), cache_dir=tmp_path)
    with pytest.raises(InputError, match="junction 999"):
        load_network(gas_case["net"], np.array([999]), cache_dir=tmp_path)


def test_shut_off_honours_pandapipes_valves(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pandapipes as pp

    net = pp.create_empty_network(fluid="hgas")
    j = [pp.create_junction(net, 1.0, 283.15, geodata=(100.0 * i, 0.0)) for i in range(6)]
    pp.create_ext_grid(net, j[0], p_bar=1.0, t_k=283.15)
    pp.create_pipe_from_parameters(net, j[0], j[1], 0.1, inner_diameter_mm=90.0)
    pp.create_valve(net, j[1], j[2], et="ju", inner_diameter_mm=90.0)
    leak_pipe = pp.create_pipe_from_parameters(net, j[2], j[3], 0.1, inner_diameter_mm=90.0)
    p45 = pp.create_pipe_from_parameters(net, j[4], j[5], 0.1, inner_diameter_mm=90.0)
    pp.create_valve(net, j[3], j[4], et="ju", inner_diameter_mm=90.0)
    pp.create_valve(net, j[5], p45, et="pi", inner_diameter_mm=90.0)  # on pipe 4-5 at junction 5
    for k in (1, 2, 5):
        pp.create_sink(net, j[k], mdot_kg_per_s=0.001)
    path = tmp_path / "v.json"
    pp.to_json(net, str(path))
    gn = load_network(path, np.array([j[1]]), cache_dir=tmp_path)
    plan = shut_off(gn, j[2], leak_pipe, None)
    assert plan["method"] == "valves"
    assert plan["valves"] == ["valve:0", "valve:1"]
    assert plan["pipes_isolated"] == [leak_pipe]
    assert plan["customers_cut"] == 2  # the sink on the leaking segment and the one beyond it
    plan2 = shut_off(gn, j[4], p45, None)  # leak on pipe 4-5: valve 1 (ju) and valve 2 (pi)
    assert plan2["valves"] == ["valve:1", "valve:2"]
    assert plan2["customers_cut"] == 1  # junction 5 has no other feed
