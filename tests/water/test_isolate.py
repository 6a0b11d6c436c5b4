"""Isolation on the chain network: valves, segment, unintended cut-off, customers, timing."""

from __future__ import annotations

import time
from pathlib import Path

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
