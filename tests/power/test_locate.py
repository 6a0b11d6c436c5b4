"""outage device, fault section and FLISR plan on purpose-made faults (tiny nets and mv_oberrhein)."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path

import pytest

from tests.power.nets import (
    by_name,
    independent_check,
    lv_radial,
    mv_two_feeders,
    write_events,
    write_fpi,
)

pp = pytest.importorskip("pandapower")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifeline.config import get_settings

    monkeypatch.setenv("LIFELINE_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()


def _save(net, path: Path) -> Path:
    pp.to_json(net, str(path))
    return path


def _run(net, tmp_path: Path, rows, fpi_installed=None):
    from lifeline.power.locate import locate_files

    netf = _save(net, tmp_path / "net.json")
    ev = write_events(tmp_path / "events.csv", rows)
    fpi = write_fpi(tmp_path / "fpi.csv", fpi_installed) if fpi_installed is not None else None
    out = tmp_path / "out.json"
    res = locate_files(netf, ev, fpi, out)
    assert json.loads(out.read_text()) == res
    return res


def _mv_fault_rows(net, fault_line: str, cb: str, fired: list[str]) -> list[tuple[float, str, int]]:
    rows: list[tuple[float, str, int]] = [(0.0, "breaker_trip", by_name(net.switch, cb))]
    rows += [(0.5 + i * 0.1, "fpi", by_name(net.switch, n)) for i, n in enumerate(fired)]
    return rows


def test_breaker_trip_with_full_fpi_coverage_isolates_the_section_and_restores_through_the_tie(
    tmp_path: Path,
) -> None:
    net = mv_two_feeders()
    fault = by_name(net.line, "La2")  # a2 -> a3
    fired = ["Sa0dn", "Sa1up", "Sa1dn", "Sa2up"]  # path to the fault + its upstream end
    lbs = [int(i) for i in net.switch.index[net.switch.type == "LBS"]]
    rows = _mv_fault_rows(net, "La2", "Sa0up", fired)
    rows += [
        (1.0 + i, "last_gasp", int(i))
        for i in net.load.index[net.load.name.str.startswith("load_a")]
    ]
    res = _run(net, tmp_path, rows, fpi_installed=lbs)
    assert res["outage_device"] == {"element": "switch", "index": by_name(net.switch, "Sa0up")}
    assert res["fault_section"]["lines"] == [fault]
    feeder_a = {int(i) for i in net.load.index[net.load.name.str.startswith("load_a")]}
    assert set(res["unsupplied_loads"]) == feeder_a
    # everything but the faulted section's own customers comes back (a3 sits at its end bus:
    # the section is the line only, so all four feeder-A customers are restorable)
    assert set(res["restored_loads"]) == feeder_a
    assert by_name(net.switch, "tie_ab_sw") in res["plan"]["close"]
    chk = independent_check(net, res["plan"], fault)
    assert not chk["fault_fed"] and chk["radial"]
    assert chk["min_vm_pu"] >= 0.93 and chk["max_line"] <= 100 and chk["max_trafo"] <= 100
    assert set(res["restored_loads"]) <= chk["supplied"]
    assert set(net.load.index) - feeder_a <= chk["supplied"]  # nobody who had supply is cut
    assert res["checks"]["min_vm_pu"] == pytest.approx(chk["min_vm_pu"], abs=1e-6)


def test_partial_fpi_coverage_reports_every_section_the_evidence_allows(tmp_path: Path) -> None:
    net = mv_two_feeders()
    fault = by_name(net.line, "La2")
    # only Sa0dn and Sa3up are fitted; Sa0dn fires, Sa3up (beyond the fault) stays silent
    installed = [by_name(net.switch, "Sa0dn"), by_name(net.switch, "Sa3up")]
    res = _run(
        net, tmp_path, _mv_fault_rows(net, "La2", "Sa0up", ["Sa0dn"]), fpi_installed=installed
    )
    lines = set(res["fault_section"]["lines"])
    assert fault in lines
    # La1 and La2 are consistent with the evidence; La3 would have lit Sa3up, La0 would not light Sa0dn
    assert lines == {by_name(net.line, "La1"), by_name(net.line, "La2")}
    chk = independent_check(net, res["plan"], fault)
    assert (
        not chk["fault_fed"]
        and chk["radial"]
        and chk["min_vm_pu"] >= 0.93
        and chk["max_line"] <= 100
    )


def test_one_tie_would_overload_so_the_plan_sheds_or_uses_a_second_tie(tmp_path: Path) -> None:
    net = mv_two_feeders(load_a_mw=2.0, load_b_mw=2.0, thin_b=True, tie_c=True)
    fault = by_name(net.line, "La1")  # a1 -> a2: a2, a3, a4 are dark behind it
    # check the test is meaningful: the naive plan (one tie, everything) overloads
    naive = {
        "open": [by_name(net.switch, "Sa1up"), by_name(net.switch, "Sa1dn")],
        "close": [by_name(net.switch, "tie_ab_sw")],
    }
    chk = independent_check(net, naive, fault)
    assert chk["max_line"] > 100 or chk["min_vm_pu"] < 0.93
    lbs = [int(i) for i in net.switch.index[net.switch.type == "LBS"]]
    res = _run(
        net, tmp_path, _mv_fault_rows(net, "La1", "Sa0up", ["Sa0dn", "Sa1up"]), fpi_installed=lbs
    )
    assert res["fault_section"]["lines"] == [fault]
    chk = independent_check(net, res["plan"], fault)
    assert not chk["fault_fed"] and chk["radial"]
    assert chk["min_vm_pu"] >= 0.93 and chk["max_line"] <= 100 and chk["max_trafo"] <= 100
    assert set(res["restored_loads"]) <= chk["supplied"]
    dark = {by_name(net.load, f"load_a{i}") for i in (2, 3, 4)}
    assert set(res["restored_loads"]) & dark, "something behind the fault must come back"
    # the best plan splits the dark area between the two ties (each alone would overload)
    ties = {by_name(net.switch, "tie_ab_sw"), by_name(net.switch, "tie_ac_sw")}
    assert ties <= set(res["plan"]["close"])
    assert dark <= set(res["restored_loads"])
    assert set(res["restored_loads"]) | set(res["unserved_loads"]) == set(res["unsupplied_loads"])


def _lv_rows(
    net, loads: list[int], rng: random.Random, t0: float, p_lg: float
) -> list[tuple[float, str, int]]:
    rows = []
    for i in loads:
        if rng.random() < p_lg:
            rows.append((t0 + rng.uniform(0.2, 15), "last_gasp", i))
        elif rng.random() < 0.3:
            rows.append((t0 + rng.uniform(120, 900), "call", i))
    return rows


def _downstream_loads(net, switch: int) -> set[int]:
    import pandapower.topology as top

    n2 = copy.deepcopy(net)
    n2.switch.at[switch, "closed"] = False
    live: set[int] = set()
    for comp in top.connected_components(top.create_nxgraph(n2, respect_switches=True)):
        if comp & set(n2.ext_grid.bus):
            live |= comp
    return {int(i) for i, b in n2.load.bus.items() if b not in live}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lv_outage_with_lost_meters_and_noise_names_the_fuse(tmp_path: Path, seed: int) -> None:
    net = lv_radial()
    rng = random.Random(seed)
    fuse = by_name(net.switch, "fuse_f0")
    cut = sorted(_downstream_loads(net, fuse))
    rows = _lv_rows(net, cut, rng, 100.0, p_lg=0.65)
    noise = by_name(net.load, "hh_f1b3_0")  # an unrelated customer's own fault, 40 min later
    rows += [(2500.0, "last_gasp", noise), (2700.0, "call", noise)]
    res = _run(net, tmp_path, rows)
    assert res["outage_device"] == {"element": "switch", "index": fuse}
    assert set(res["unsupplied_loads"]) == set(cut)
    assert noise not in res["unsupplied_loads"]
    assert fuse in res["plan"]["open"]
    chk = independent_check(net, res["plan"], None)
    assert set(net.load.index) - set(cut) <= chk["supplied"]


def test_lv_branch_fuse_not_its_feeder_fuse(tmp_path: Path) -> None:
    net = lv_radial()
    branch = by_name(net.switch, "fuse_branch")
    cut = sorted(_downstream_loads(net, branch))
    rows = [(10 + i, "last_gasp", c) for i, c in enumerate(cut[:-1])]  # one meter lost
    res = _run(net, tmp_path, rows)
    assert res["outage_device"] == {"element": "switch", "index": branch}


def test_series_devices_name_the_one_farthest_downstream(tmp_path: Path) -> None:
    net = lv_radial()
    up, dn = by_name(net.switch, "series_up"), by_name(net.switch, "series_dn")
    assert _downstream_loads(net, up) == _downstream_loads(net, dn)
    cut = sorted(_downstream_loads(net, dn))
    res = _run(net, tmp_path, [(5 + i, "last_gasp", c) for i, c in enumerate(cut)])
    assert res["outage_device"] == {"element": "switch", "index": dn}


def test_two_overlapping_lv_outages_give_two_devices(tmp_path: Path) -> None:
    net = lv_radial()
    a, b = by_name(net.switch, "fuse_f1"), by_name(net.switch, "fuse_branch")
    rng = random.Random(7)
    rows = _lv_rows(net, sorted(_downstream_loads(net, a)), rng, 0.0, 0.8)
    rows += _lv_rows(net, sorted(_downstream_loads(net, b)), rng, 900.0, 0.8)
    res = _run(net, tmp_path, rows)
    assert isinstance(res["outage_device"], list)
    assert {d["index"] for d in res["outage_device"]} == {a, b}


def test_mv_oberrhein_breaker_trip_and_fpis(tmp_path: Path) -> None:
    import networkx as nx
    import pandapower.networks as pn
    import pandapower.topology as top

    net = pn.mv_oberrhein()
    cb = int(net.switch.index[net.switch.type == "CB"][0])
    # a line fed through that breaker, far from it: found with pandapower's own graph
    g = top.create_nxgraph(net, respect_switches=True, include_switches=False)
    n2 = copy.deepcopy(net)
    n2.switch.at[cb, "closed"] = False
    live: set[int] = set()
    for comp in top.connected_components(top.create_nxgraph(n2, respect_switches=True)):
        if comp & set(n2.ext_grid.bus):
            live |= comp
    behind = [
        int(i) for i, r in net.line.iterrows() if r.from_bus not in live and r.to_bus not in live
    ]
    src = int(net.switch.at[cb, "bus"])
    fault = max(
        behind, key=lambda ln: nx.shortest_path_length(g, src, int(net.line.at[ln, "from_bus"]))
    )
    path_buses = nx.shortest_path(g, src, int(net.line.at[fault, "from_bus"]))
    up_bus = path_buses[-1]
    if nx.shortest_path_length(g, src, int(net.line.at[fault, "to_bus"])) < len(path_buses) - 1:
        up_bus = int(net.line.at[fault, "to_bus"])
        path_buses = nx.shortest_path(g, src, up_bus)
    path_lines = set()
    for u, v in zip(path_buses, path_buses[1:], strict=False):
        for key in g.get_edge_data(u, v):
            if key[0] == "line":
                path_lines.add(int(key[1]))
    sw = net.switch[(net.switch.et == "l") & net.switch.closed]
    fired = {int(i) for i, r in sw.iterrows() if r.element in path_lines}
    fired |= {int(i) for i, r in sw.iterrows() if r.element == fault and r.bus == up_bus}
    fired.discard(cb)
    installed = [int(i) for i in net.switch.index[net.switch.type == "LBS"]]
    rows = [(0.0, "breaker_trip", cb)] + [(1.0, "fpi", s) for s in sorted(fired)]
    from lifeline.power.evidence import build_evidence, read_events
    from lifeline.power.locate import locate

    ev = build_evidence(read_events(write_events(tmp_path / "ev.csv", rows)), set(installed))
    res = locate(net, ev)
    assert res["outage_device"] == {"element": "switch", "index": cb}
    lines = set(res["fault_section"]["lines"])
    assert fault in lines
    # full coverage: exactly the fault line's switch-free section (lines joined at a bus
    # without a switch between them)
    switched = {
        (int(r.bus), int(r.element)) for _, r in net.switch[net.switch.et == "l"].iterrows()
    }
    at_bus: dict[int, list[int]] = {}
    for ln, r in net.line.iterrows():
        for b in (int(r.from_bus), int(r.to_bus)):
            if (b, int(ln)) not in switched:
                at_bus.setdefault(b, []).append(int(ln))
    section, todo = {fault}, [fault]
    while todo:
        ln = todo.pop()
        for b in (int(net.line.at[ln, "from_bus"]), int(net.line.at[ln, "to_bus"])):
            if (b, ln) in switched:
                continue
            for other in at_bus.get(b, []):
                if other not in section:
                    section.add(other)
                    todo.append(other)
    assert lines == section
    chk = independent_check(net, res["plan"], fault)
    assert not chk["fault_fed"] and chk["radial"]
    assert chk["min_vm_pu"] >= 0.93 and chk["max_line"] <= 100 and chk["max_trafo"] <= 100
    assert set(res["restored_loads"]) <= chk["supplied"]
    assert set(net.load.index) - set(res["unsupplied_loads"]) <= chk["supplied"]


def test_fault_right_after_the_breaker_keeps_it_open_and_feeds_the_feeder_from_the_tie(
    tmp_path: Path,
) -> None:
    net = mv_two_feeders()
    fault = by_name(net.line, "La0")  # busbar -> a1: the breaker itself bounds the section
    cb = by_name(net.switch, "Sa0up")
    lbs = [int(i) for i in net.switch.index[net.switch.type == "LBS"]]
    # fault current passes only the breaker (La0's upstream end): every indicator stays silent
    res = _run(net, tmp_path, _mv_fault_rows(net, "La0", "Sa0up", []), fpi_installed=lbs)
    assert res["fault_section"]["lines"] == [fault]
    assert cb in res["plan"]["open"] and cb not in res["plan"]["close"]
    chk = independent_check(net, res["plan"], fault)
    assert not chk["fault_fed"] and chk["radial"]
    feeder_a = {int(i) for i in net.load.index[net.load.name.str.startswith("load_a")]}
    assert feeder_a <= chk["supplied"] and set(res["restored_loads"]) == feeder_a


def test_customers_whose_supply_came_back_are_not_unsupplied(tmp_path: Path) -> None:
    net = lv_radial()
    fuse = by_name(net.switch, "fuse_f2")
    cut = sorted(_downstream_loads(net, fuse))
    rows = [(5 + i, "last_gasp", c) for i, c in enumerate(cut)]
    back = cut[:3]
    rows += [(600 + i, "restore", c) for i, c in enumerate(back)]
    res = _run(net, tmp_path, rows)
    assert res["outage_device"] == {"element": "switch", "index": fuse}
    assert set(res["unsupplied_loads"]) == set(cut) - set(back)
