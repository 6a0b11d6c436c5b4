"""Isolation on the chain network: valves, segment, unintended cut-off, customers, timing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from lifeline.errors import InputError, NotFoundError
from lifeline.water.isolate import isolate, summary

NET = Path(__file__).parents[1] / "data" / "water" / "chain.inp"


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifeline.config import get_settings

    monkeypatch.setenv("LIFELINE_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()


def test_isolate_with_valve_file(tmp_path: Path) -> None:
    valves = tmp_path / "valves.csv"
    # valves around p3 (j3–j4) and on p6 next to j6: closing p3 leaves j4, j5 fed through p7 … no:
    # p7 joins j2–j6, so j4 and j5 stay fed via j6–p5; only the segment p3 is lost.
    valves.write_text("valve,node,link\nV1,j3,p3\nV2,j4,p3\nV3,j6,p6\nV4,j1,p1\n")
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "customer_id,node,category,critical\nc1,j4,household,0\nc2,j7,hospital,1\nc3,j3,school,true\n"
    )
    res = isolate(NET, "p3", valves, customers, simulate=True)
    assert sorted(v["valve"] for v in res["valves_to_close"]) == ["V1", "V2"]
    assert res["segment"]["pipes"] == ["p3"]
    assert res["cut_off_unintended"] == []
    assert res["customers_losing_water"] == []
    # isolating p6 closes V3 only (j7 is a dead end): j7 is in the segment with its hospital
    res = isolate(NET, "p6", valves, customers, simulate=True)
    assert [v["valve"] for v in res["valves_to_close"]] == ["V3"]
    assert res["segment"]["junctions"] == ["j7"]
    assert [c["customer_id"] for c in res["critical_sites"]] == ["c2"]
    assert res["lost_volume_m3_per_h"] == pytest.approx(2.0, rel=1e-3)
    assert "V3" in summary(res)


def test_isolate_unintended_cut_off(tmp_path: Path) -> None:
    valves = tmp_path / "valves.csv"
    valves.write_text("valve,node,link\nV1,j1,p1\nV2,j2,p1\n")
    res = isolate(NET, "p1", valves, simulate=False)
    # closing p1 disconnects everything downstream of j1 from the reservoir
    assert set(res["cut_off_unintended"]) == {"j2", "j3", "j4", "j5", "j6", "j7"}
    assert res["lost_volume_m3_per_h"] == pytest.approx(7.0, rel=1e-3)


def test_generated_valve_layer_and_speed() -> None:
    res = isolate(NET, "p4", simulate=False)
    assert res["valve_layer"].startswith("generated")
    assert "p4" in res["segment"]["pipes"]
    t = time.perf_counter()
    isolate(NET, "p4", simulate=False)
    assert time.perf_counter() - t < 0.2


def test_isolate_bad_input(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        isolate(NET, "nope", simulate=False)
    bad = tmp_path / "valves.csv"
    bad.write_text("valve,node,link\nV1,j1,p5\n")
    with pytest.raises(InputError, match=":2"):
        isolate(NET, "p1", bad, simulate=False)
    with pytest.raises(InputError, match="valve file not found"):
        isolate(NET, "p1", tmp_path / "absent.csv")
    from lifeline.errors import NetworkModelError

    with pytest.raises(NetworkModelError, match="not found"):
        isolate(tmp_path / "absent.inp", "p1")


def _starving_net(tmp_path: Path) -> Path:
    """chain.inp with the loop pipe p7 made long and thin: closing p3 starves j4…j7 through it."""
    import wntr

    wn = wntr.network.WaterNetworkModel(str(NET))
    p7 = wn.get_link("p7")
    p7.length, p7.diameter = 3000.0, 0.04
    for j in ("j5", "j6", "j7"):
        wn.get_node(j).demand_timeseries_list[0].base_value *= 2
    out = tmp_path / "starve.inp"
    wntr.network.io.write_inpfile(wn, str(out))
    return out


def _wntr_low_service(inp: Path, closed: list[str], skip: set[str]) -> dict[str, float]:
    """Reference: WNTR EpanetSimulator PDD runs (base and closed), nodes served < 50 %."""
    import wntr

    def served(close: list[str]) -> tuple[Any, Any]:
        wn = wntr.network.WaterNetworkModel(str(inp))
        for name in close:
            wn.get_link(name).initial_status = wntr.network.LinkStatus.Closed
        wn.options.time.duration = 0
        wn.options.hydraulic.demand_model = "PDD"
        wn.options.hydraulic.required_pressure = 10.0
        wn.options.hydraulic.minimum_pressure = 0.0
        r = wntr.sim.EpanetSimulator(wn).run_sim(file_prefix=str(tmp / "ref"))
        return r.node["demand"].iloc[0], wntr.metrics.expected_demand(wn).iloc[0]

    tmp = inp.parent
    got0, exp = served([])
    got, _ = served(closed)
    return {
        str(n): float(got[n] / exp[n])
        for n in exp.index
        if n not in skip and exp[n] > 0 and got0[n] >= 0.5 * exp[n] and got[n] < 0.5 * exp[n]
    }


def test_toolkit_pdd_matches_wntr_simulator(tmp_path: Path) -> None:
    inp = _starving_net(tmp_path)
    valves = tmp_path / "valves.csv"
    valves.write_text("valve,node,link\nV1,j3,p3\nV2,j4,p3\n")
    res = isolate(inp, "p3", valves, simulate=True)
    assert res["pdd_status"] == "solved"
    assert res["segment"]["pipes"] == ["p3"] and res["cut_off_unintended"] == []
    ref = _wntr_low_service(inp, ["p3"], set())
    assert ref, "the purpose-made case must starve some node"
    got = {d["node"]: d["served_fraction"] for d in res["low_service_pdd"]}
    assert set(got) == set(ref)
    for n, frac in ref.items():
        assert got[n] == pytest.approx(frac, abs=2e-3)
    # the starved nodes count as losing water, and their unserved demand is in the volume lost
    assert {c["node"] for c in res["customers_losing_water"]} == set(ref)
    assert res["lost_volume_m3_per_h"] == pytest.approx(
        sum(d["unserved_m3h"] for d in res["low_service_pdd"]), rel=1e-3
    )
    # closing the dead-end p6 (segment j7) leaves the main path open: nobody else starves
    valves.write_text("valve,node,link\nV1,j3,p3\nV2,j4,p3\nV3,j6,p6\n")
    res = isolate(inp, "p6", valves, simulate=True)
    assert res["segment"]["junctions"] == ["j7"]
    assert res["pdd_status"] == "solved" and res["low_service_pdd"] == []
    assert _wntr_low_service(inp, ["p6"], {"j7"}) == {}


def test_warm_isolate_does_not_parse_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import wntr

    import lifeline.water.isolate as iso
    import lifeline.water.network as netmod
    import lifeline.water.pdd as pdd

    inp = _starving_net(tmp_path)
    valves = tmp_path / "valves.csv"
    valves.write_text("valve,node,link\nV1,j3,p3\nV2,j4,p3\n")
    iso.precompute(inp, valves)

    def boom(*a: Any, **k: Any) -> Any:
        raise AssertionError("network parsed on the hot path")

    for mod in (iso, pdd, netmod):
        monkeypatch.setattr(mod, "load_network", boom)
    monkeypatch.setattr(wntr.network, "WaterNetworkModel", boom)
    res = iso.isolate(inp, "p3", valves, simulate=True)  # first PDD check of this segment
    assert res["pdd_status"] == "solved" and res["low_service_pdd"]


def test_unsolved_pdd_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    import lifeline.water.pdd as pdd

    monkeypatch.setattr(
        pdd, "solve_served", lambda base, closed, dry=(): (None, ["EPANET failed: 110"])
    )
    res = isolate(NET, "p4", simulate=True)
    assert res["pdd_status"] == "unsolved" and res["low_service_pdd"] == []
    assert "could not solve" in summary(res)


def test_warm_cli_process_does_not_import_wntr(tmp_path: Path) -> None:
    """After the precomputation a new process answers without importing wntr (~1.5 s of imports)."""
    import json
    import os
    import subprocess
    import sys

    import lifeline.water.isolate as iso

    inp = _starving_net(tmp_path)
    iso.precompute(inp)
    code = (
        "import json, sys\n"
        "from lifeline.water.isolate import isolate\n"
        f"r = isolate({str(inp)!r}, 'p4')\n"
        "print(json.dumps([r['pdd_status'], 'wntr' in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        check=True,
    )
    assert json.loads(out.stdout) == ["solved", False]


def test_pdd_with_a_large_cut_off(tmp_path: Path) -> None:
    """Closing p1 cuts j2…j7 off: they are run dry, the rest solves and nobody else is blamed."""
    valves = tmp_path / "valves.csv"
    valves.write_text("valve,node,link\nV1,j1,p1\nV2,j2,p1\n")
    res = isolate(NET, "p1", valves, simulate=True)
    assert res["pdd_status"] == "solved", res["pdd_messages"]
    assert res["low_service_pdd"] == []
    assert set(res["cut_off_unintended"]) == {"j2", "j3", "j4", "j5", "j6", "j7"}
    from lifeline.water.pdd import pdd_base, solve_served

    base = pdd_base(NET)
    served, _ = solve_served(base, ["p1"], set(res["cut_off_unintended"]))
    assert served is not None
    got = dict(zip(base.junctions, served, strict=True))
    assert got["j1"] == pytest.approx(1.0 / 3600, rel=1e-3)  # j1 keeps its full 1 m³/h
    assert all(got[n] == 0.0 for n in res["cut_off_unintended"])
