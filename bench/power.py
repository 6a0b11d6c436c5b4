"""Benchmark of `lifeline power locate` on the power dev set (device, fault section, FLISR).

    .venv/bin/python bench/power.py [--data DIR] [--exhaustive] [--cli] [--synthetic] [--monitor-demo]

Runs :func:`lifeline.power.locate.locate_files` in-process per scenario (warm: one warm-up call
loads pandapower and fills the network cache) and scores against ``truth.json`` (read here only):
device (exact switch; 0.5 each of two; also vs series equivalents); A sections (contains the
fault; minimal = contains it and inside the evidence region; no larger than the true section;
exact evidence region); plans applied independently to the file's normal switch states with the
fault line out of service and one ``pandapower.runpp`` (fault cut from every source, >= 0.93 pu,
line/trafo <= 100 %, no collateral, restored loads supplied); restored MW vs the truth oracle,
the evidence oracle and (``--exhaustive``) an unscreened best-first search of the same space;
unsupplied Jaccard; wall and CPU time per scenario; ``--cli`` cold command time; ``--synthetic``
this bench's own generated MV/LV scenarios; ``--monitor-demo`` a demo-town day through the
monitor. Writes bench/results/power.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _devices(obj: Any) -> list[int]:
    if obj is None:
        return []
    if isinstance(obj, dict):
        return [int(obj["index"])]
    return [int(o["index"]) for o in obj]


def verify_plan(net_path: Path, out: dict[str, Any], truth: dict[str, Any]) -> dict[str, Any]:
    """Apply the plan to a fresh copy of the network file and check it with pandapower."""
    import numpy as np
    import pandapower as pp
    import pandapower.topology as top

    net = pp.from_json(str(net_path))
    for s in out["plan"]["open"]:
        net.switch.at[s, "closed"] = False
    for s in out["plan"]["close"]:
        net.switch.at[s, "closed"] = True
    fault = truth.get("fault", {}).get("index")
    res: dict[str, Any] = {}
    import networkx as nx

    def loops(n: Any) -> int:
        gr = top.create_nxgraph(n, respect_switches=True)
        return gr.number_of_edges() - gr.number_of_nodes() + nx.number_connected_components(gr)

    res["radial"] = loops(net) <= loops(
        pp.from_json(str(net_path))
    )  # no loop the normal state lacks
    # fault line isolation: reachable from a source through a line end without an open switch
    if fault is not None:
        g = top.create_nxgraph(net, respect_switches=True, include_out_of_service=False)
        src = set(net.ext_grid.bus[net.ext_grid.in_service])
        live = set()
        for comp in top.connected_components(g):
            if comp & src:
                live |= comp
        fb, tb = int(net.line.at[fault, "from_bus"]), int(net.line.at[fault, "to_bus"])
        sw = net.switch[(net.switch.et == "l") & (net.switch.element == fault)]
        fed = False
        for b in (fb, tb):
            opened = sw[(sw.bus == b) & (~sw.closed)]
            if b in live and opened.empty:
                fed = True
        res["fault_isolated"] = not fed
        net.line.at[fault, "in_service"] = False
    else:
        res["fault_isolated"] = True
    try:
        pp.runpp(net, numba=False)
        conv = True
    except Exception:
        conv = False
    res["converged"] = conv
    if not conv:
        res["feasible"] = False
        return res
    vm = net.res_bus.vm_pu.to_numpy(dtype=float)
    vmin = float(np.nanmin(vm))
    lmax = float(np.nanmax(net.res_line.loading_percent.to_numpy(dtype=float)))
    tmax = (
        float(np.nanmax(net.res_trafo.loading_percent.to_numpy(dtype=float)))
        if len(net.trafo)
        else 0.0
    )
    supplied = {int(i) for i, b in net.load.bus.items() if not np.isnan(net.res_bus.at[b, "vm_pu"])}
    tripped = set(truth["unsupplied_loads"]) | set(truth.get("noise_loads", []))
    all_loads = {int(i) for i in net.load.index[net.load.in_service]}
    collateral = sorted(all_loads - tripped - supplied)
    not_supplied = sorted(set(out["restored_loads"]) - supplied)
    res.update(
        min_vm_pu=vmin,
        max_line_loading_percent=lmax,
        max_trafo_loading_percent=tmax,
        collateral=collateral,
        restored_not_supplied=not_supplied,
    )
    lim_v, lim_l, lim_t = 0.93, 100.0, 100.0
    if truth["type"] == "B":
        # the LV network file already violates the limits in its normal state (no fault): judge
        # B plans as "no worse than normal" on limits, strictly on collateral and supply
        base = pp.from_json(str(net_path))
        pp.runpp(base, numba=False)
        lim_v = min(lim_v, float(np.nanmin(base.res_bus.vm_pu)))
        lim_l = max(lim_l, float(np.nanmax(base.res_line.loading_percent)))
        lim_t = max(
            lim_t, float(np.nanmax(base.res_trafo.loading_percent)) if len(base.trafo) else 0.0
        )
        res["normal_state"] = {"min_vm_pu": lim_v, "max_line": lim_l, "max_trafo": lim_t}
    res["feasible"] = bool(
        res["fault_isolated"]
        and vmin >= lim_v - 1e-9
        and lmax <= lim_l + 1e-9
        and tmax <= lim_t + 1e-9
        and not collateral
        and not not_supplied
    )
    mw = (net.load.p_mw * net.load.scaling).to_dict()
    res["restored_mw"] = (
        float(
            sum(
                mw[i]
                for i in set(out["restored_loads"]) & supplied & set(truth["unsupplied_loads"])
            )
        )
        if res["feasible"]
        else 0.0
    )
    return res


def exhaustive_mw(net_path: Path, events: Path, fpi: Path | None) -> float:
    """Best restored MW for the method's own region with an unscreened, unbudgeted search."""
    import copy

    from lifeline.power.evidence import build_evidence, read_events, read_fpi_installed
    from lifeline.power.infer import fault_region, infer_devices
    from lifeline.power.locate import load_network
    from lifeline.power.restore import SearchParams, plan_restoration
    from lifeline.power.topology import build_sections, supply_tree

    net = load_network(net_path)
    ev = build_evidence(read_events(events), read_fpi_installed(fpi) if fpi else None)
    g = build_sections(net)
    tree = supply_tree(g)
    devs = infer_devices(g, tree, ev)
    area: set[int] = set()
    region: set[int] = set()
    for d in devs:
        area |= set(tree.cut.get(d.switch, frozenset()))
        region |= fault_region(g, tree, d, ev)[0]
    p = plan_restoration(
        copy.deepcopy(net),
        g,
        area,
        region,
        [d.switch for d in devs],
        params=SearchParams(max_power_flows=100000, time_budget_s=1e9, screen=False),
    )
    return p.restored_mw


def monitor_demo(stress: float = 8.0) -> dict[str, Any]:
    """Replay a demo-town day through the grid monitor: a feeder fault 13:00-14:00 (scenario
    event) and a heat-wave evening (18:00-20:00, the households of one LV substation draw
    ``stress`` times their metered power, e.g. air conditioning). Returns alarm counts."""
    import pandas as pd

    from lifeline.datasets.town import load_town
    from lifeline.power.monitor import GridMonitor
    from lifeline.scenarios.day import FeederFault, simulate_day

    t0 = time.perf_counter()
    town = load_town()
    net = town.power
    start = pd.Timestamp("2024-07-15", tz="UTC")
    head = 62 if 62 in net.line.index else int(net.line.index[0])
    nxt = net.line.index[net.line.from_bus == net.line.at[head, "to_bus"]]
    fault = FeederFault(
        line=int(nxt[0]) if len(nxt) else head,
        start=start + pd.Timedelta(hours=13),
        end=start + pd.Timedelta(hours=14),
    )
    day = simulate_day(town, start, seed=0, events=[fault])
    ps = town.sensors[town.sensors.utility == "power"]
    rd = day[day.sensor_id.isin(ps.sensor_id)].copy()
    lv = net.trafo[net.trafo.vn_hv_kv < 60]
    tr = int(lv.index[len(lv) // 3])
    # the stressed substation's own measurements (smart meters send events, not readings)
    meters = set(ps.sensor_id[(ps.asset_id == f"power:trafo:{tr}") & (ps.quantity == "p_mw")])
    hr = rd.ts.dt.hour
    rd.loc[rd.sensor_id.isin(meters) & (hr >= 18) & (hr < 20), "value"] *= stress
    t1 = time.perf_counter()
    mon = GridMonitor(net, ps[["sensor_id", "asset_id", "quantity"]])
    alarms = mon.alarms(rd)
    t2 = time.perf_counter()
    rows = alarms[["ts", "detector", "severity", "sensors", "score"]]
    out = dict(
        stressed_trafo=tr, stressed_meters=len(meters), stress_factor=stress, fault_line=fault.line
    )
    out["alarms"] = {str(k): int(v) for k, v in alarms.detector.value_counts().items()}
    out["alarm_rows"] = json.loads(rows.to_json(orient="records", date_format="iso"))
    out.update(setup_s=t1 - t0, monitor_day_s=t2 - t1)
    print("monitor demo:", out["alarms"], f"{out['monitor_day_s']:.1f}s for 96 intervals")
    return out


def _live_buses(net: Any) -> set[int]:
    import pandapower.topology as top

    live: set[int] = set()
    src = set(net.ext_grid.bus[net.ext_grid.in_service])
    for comp in top.connected_components(top.create_nxgraph(net, respect_switches=True)):
        if comp & src:
            live |= comp
    return live


def synthetic_mv(net_path: Path, seed: int = 1) -> dict[str, Any]:
    """Every line behind a feeder breaker of the MV network as a fault, with evidence made by
    this bench's own generator (README rules: breaker trip, 30-60 % of closed load-break
    switches fitted with indicators, 3 % of indicators miss, 70-95 % last gasps). Scores device,
    section (contains the fault unless an indicator on the path missed) and plan feasibility
    (independent power flow), and times each scenario."""
    import copy
    import random

    import networkx as nx
    import pandapower as pp
    import pandapower.topology as top

    from lifeline.power.evidence import Event, build_evidence
    from lifeline.power.locate import load_network, locate

    rng = random.Random(seed)
    net = load_network(net_path)
    base = pp.from_json(str(net_path))
    g = top.create_nxgraph(base, respect_switches=True, include_switches=False)
    sw = base.switch
    cbs = [int(i) for i in sw.index[(sw.type == "CB") & sw.closed]]
    lbs = [int(i) for i in sw.index[(sw.type != "CB") & sw.closed]]
    live0 = _live_buses(base)
    rows = []
    for cb in cbs:
        n2 = copy.deepcopy(base)
        n2.switch.at[cb, "closed"] = False
        live = _live_buses(n2)
        dead = live0 - live
        opened = {
            (int(r.bus), int(r.element)) for _, r in sw[~sw.closed & (sw.et == "l")].iterrows()
        }

        def fed_end(i: int, b: int) -> bool:
            return b in dead and (b, i) not in opened  # noqa: B023 - used within this iteration

        behind = [
            int(i)
            for i, r in base.line.iterrows()
            if fed_end(int(i), int(r.from_bus)) or fed_end(int(i), int(r.to_bus))
        ]
        out_loads = sorted(int(i) for i, b in base.load.bus.items() if b in dead)
        src = int(sw.at[cb, "bus"])
        for fault in behind:
            fb, tb = int(base.line.at[fault, "from_bus"]), int(base.line.at[fault, "to_bus"])
            big = 10**9
            dfb = nx.shortest_path_length(g, src, fb) if nx.has_path(g, src, fb) else big
            dtb = nx.shortest_path_length(g, src, tb) if nx.has_path(g, src, tb) else big
            ends = [(d, b) for d, b in ((dfb, fb), (dtb, tb)) if (b, fault) not in opened]
            up = min(ends)[1]
            path = nx.shortest_path(g, src, up)
            path_lines = {
                int(k[1])
                for u, v in itertools.pairwise(path)
                for k in g.get_edge_data(u, v)
                if k[0] == "line"
            }
            fc = {
                int(i)
                for i, r in sw[sw.closed & (sw.et == "l")].iterrows()
                if int(r.element) in path_lines
            }
            fc |= {
                int(i)
                for i, r in sw[sw.closed & (sw.et == "l")].iterrows()
                if int(r.element) == fault and int(r.bus) == up
            }
            installed = {s for s in lbs if rng.random() < rng.uniform(0.3, 0.6)}
            fired = {s for s in fc & installed if rng.random() > 0.03}
            missed = (fc & installed) - fired
            t0 = datetime(2024, 5, 1, tzinfo=UTC)
            evs = [Event(t0, "breaker_trip", cb)] + [
                Event(t0 + timedelta(seconds=1), "fpi", s) for s in sorted(fired)
            ]
            evs += [
                Event(t0 + timedelta(seconds=2), "last_gasp", i)
                for i in out_loads
                if rng.random() < 0.8
            ]
            t = time.perf_counter()
            res = locate(net, build_evidence(evs, installed))
            dt = time.perf_counter() - t
            truth = {"type": "A", "fault": {"index": fault}, "unsupplied_loads": out_loads}
            ver = verify_plan(net_path, res, truth)
            rows.append(
                {
                    "fault": fault,
                    "device_ok": res["outage_device"] == {"element": "switch", "index": cb},
                    "contains": fault in res["fault_section"]["lines"],
                    "indicator_missed": bool(missed),
                    "feasible": ver["feasible"],
                    "radial": ver["radial"],
                    "restored_share": len(res["restored_loads"]) / max(len(out_loads), 1),
                    "time_s": dt,
                }
            )
    clean = [r for r in rows if not r["indicator_missed"]]
    summary = {
        "n": len(rows),
        "device_accuracy": sum(r["device_ok"] for r in rows) / len(rows),
        "section_contains": sum(r["contains"] for r in rows) / len(rows),
        "section_contains_no_missed_indicator": sum(r["contains"] for r in clean)
        / max(len(clean), 1),
        "plans_feasible": sum(r["feasible"] for r in rows) / len(rows),
        "plans_radial": sum(r["radial"] for r in rows) / len(rows),
        "plans_feasible_when_section_holds_fault": sum(r["feasible"] for r in rows if r["contains"])
        / max(sum(r["contains"] for r in rows), 1),
        "restored_customer_share_mean": statistics.fmean(r["restored_share"] for r in rows),
        "time_s_mean": statistics.fmean(r["time_s"] for r in rows),
        "time_s_max": max(r["time_s"] for r in rows),
    }
    print("synthetic MV:", json.dumps(summary))
    return {
        "summary": summary,
        "failures": [
            r
            for r in rows
            if not (r["device_ok"] and r["feasible"] and (r["contains"] or r["indicator_missed"]))
        ][:20],
    }


def synthetic_lv(net_path: Path, n: int = 300, seed: int = 5) -> dict[str, Any]:
    """LV outages made by this bench's own generator on the network: a uniformly drawn device
    (any closed switch that cuts customers), 60-95 % last gasps, 5-30 % calls, 0-3 unrelated
    noise customers, 15 % doubles with a disjoint second device 3-50 min later."""
    import random

    from lifeline.power.evidence import Event, build_evidence
    from lifeline.power.infer import candidate_devices, infer_devices
    from lifeline.power.locate import load_network
    from lifeline.power.topology import build_sections, supply_tree

    net = load_network(net_path)
    g = build_sections(net)
    tree = supply_tree(g)
    devs = [(sws[0], loads) for loads, sws in candidate_devices(g, tree).items()]
    all_loads = sorted(g.load_mw)
    rng = random.Random(seed)
    score = 0.0
    unobservable = 0
    for k in range(n):
        t0 = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=k)
        p_lg, p_call = rng.uniform(0.6, 0.95), rng.uniform(0.05, 0.3)
        d1 = rng.choice(devs)
        chosen = [(d1, t0)]
        if rng.random() < 0.15:
            d2 = rng.choice([d for d in devs if not (d[1] & d1[1])])
            chosen.append((d2, t0 + timedelta(minutes=rng.uniform(3, 50))))
        evs: list[Event] = []
        cut: set[int] = set()
        for (_sw, loads), t in chosen:
            cut |= loads
            for i in loads:
                if rng.random() < p_lg:
                    evs.append(Event(t + timedelta(seconds=rng.uniform(0.1, 20)), "last_gasp", i))
                if rng.random() < p_call:
                    evs.append(Event(t + timedelta(minutes=rng.uniform(2, 30)), "call", i))
        if any(not ({e.ref for e in evs} & loads) for (_sw, loads), _t in chosen):
            unobservable += 1  # a device none of whose customers reported
        for _ in range(rng.randint(0, 3)):
            i = rng.choice([x for x in all_loads if x not in cut])
            evs.append(
                Event(
                    t0 + timedelta(minutes=rng.uniform(-30, 60)),
                    rng.choice(["last_gasp", "call"]),
                    i,
                )
            )
        evs.sort(key=lambda e: e.ts)
        mine = {d.switch for d in infer_devices(g, tree, build_evidence(evs, None))}
        truth = {sw for (sw, _), _ in chosen}
        s = len(truth & mine) / len(truth)
        if len(mine) > len(truth):
            s = min(s, len(truth) / len(mine))
        score += s
    out = {
        "n": n,
        "device_accuracy": score / n,
        "scenarios_with_an_unobservable_device": unobservable,
    }
    print("synthetic LV:", json.dumps(out))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data/power_dev", help="dev set folder")
    ap.add_argument(
        "--exhaustive", action="store_true", help="also run the unscreened exhaustive search"
    )
    ap.add_argument(
        "--cli", action="store_true", help="also time the cold CLI on one A and one B scenario"
    )
    ap.add_argument(
        "--synthetic",
        action="store_true",
        help="also run this bench's own MV (every line) and LV (random) scenarios",
    )
    ap.add_argument(
        "--monitor-demo",
        action="store_true",
        help="also replay a demo-town day through the monitor",
    )
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "power.json"))
    args = ap.parse_args()
    data = Path(args.data)

    from lifeline.power.locate import locate_files

    scen = sorted(p for p in data.iterdir() if p.is_dir() and (p / "events.csv").exists())
    # warm-up: imports, first power flow, network cache
    for sc in scen[:1] + [s for s in scen if s.name.startswith("B")][:1]:
        meta = json.loads((sc / "scenario.json").read_text())
        locate_files((sc / meta["network"]).resolve(), sc / "events.csv")
    rows = []
    for sc in scen:
        meta = json.loads((sc / "scenario.json").read_text())
        net_path = (sc / meta["network"]).resolve()
        fpi = sc / "fpi_installed.csv"
        fpi_arg = fpi if fpi.exists() else None
        t = time.perf_counter()
        c = time.process_time()
        out = locate_files(net_path, sc / "events.csv", fpi_arg)
        dt = time.perf_counter() - t
        cpu = time.process_time() - c
        truth = json.loads((sc / "truth.json").read_text())  # scoring only
        tdev = _devices(truth["outage_device"])
        mdev = _devices(out["outage_device"])
        hit = sum(1 for d in tdev if d in mdev) / len(tdev)
        if len(mdev) > len(tdev):
            hit = min(hit, len(tdev) / len(mdev))
        eqs = [
            set(d.get("equivalents", [d["index"]])) for d in truth.get("outage_devices", [])
        ] or [{d} for d in tdev]
        hit_eq = sum(1 for e in eqs if e & set(mdev)) / len(eqs)
        tu, mu = set(truth["unsupplied_loads"]), set(out["unsupplied_loads"])
        row: dict[str, Any] = {
            "id": sc.name,
            "type": truth["type"],
            "time_s": dt,
            "cpu_s": cpu,
            "device": hit,
            "device_equiv": hit_eq,
            "unsupplied_jaccard": len(tu & mu) / max(len(tu | mu), 1),
        }
        ver = verify_plan(net_path, out, truth)
        row["plan_feasible"] = ver["feasible"]
        row["verify"] = {
            k: v for k, v in ver.items() if k not in ("collateral", "restored_not_supplied")
        }
        if ver.get("collateral"):
            row["verify"]["collateral"] = ver["collateral"][:10]
        if truth["type"] == "A":
            lines = set(out["fault_section"]["lines"])
            fl = truth["fault"]["index"]
            er = set(truth["evidence_region"]["lines"])
            row.update(
                section_contains=fl in lines,
                section_minimal=fl in lines and lines <= er,
                section_acc=fl in lines and len(lines) <= len(truth["fault_section"]["lines"]),
                section_exact_evidence=lines == er,
                evidence_contains_fault=bool(truth["evidence_region"]["contains_fault"]),
                restored_mw=ver.get("restored_mw", 0.0),
                oracle_mw=truth["oracle"]["restored_mw"],
                evidence_oracle_mw=truth["evidence_oracle"]["restored_mw"],
            )
            row["restore_ratio"] = (
                min(1.0, row["restored_mw"] / row["oracle_mw"]) if row["oracle_mw"] > 0 else 1.0
            )
            eo = row["evidence_oracle_mw"]
            row["restore_vs_evidence"] = min(1.0, row["restored_mw"] / eo) if eo > 0 else 1.0
            if args.exhaustive:
                best = exhaustive_mw(net_path, sc / "events.csv", fpi_arg)
                row["exhaustive_mw"] = best
                row["restore_vs_exhaustive"] = (
                    min(1.0, row["restored_mw"] / best) if best > 0 else 1.0
                )
        rows.append(row)
        print(
            f"{sc.name} {dt:5.2f}s (cpu {cpu:4.2f}s) device={hit:.1f} feasible={row['plan_feasible']}"
            + (
                f" section={'ok' if row['section_minimal'] else 'NO'} restored={row['restored_mw']:.2f}"
                f" oracle={row['oracle_mw']:.2f} evidence_oracle={row['evidence_oracle_mw']:.2f}"
                + (f" exhaustive={row['exhaustive_mw']:.2f}" if "exhaustive_mw" in row else "")
                if truth["type"] == "A"
                else f" jaccard={row['unsupplied_jaccard']:.2f}"
            ),
            flush=True,
        )
    a = [r for r in rows if r["type"] == "A"]
    b = [r for r in rows if r["type"] == "B"]
    a_ok = [r for r in a if r["evidence_contains_fault"]]

    def mean(xs: list[float]) -> float:
        return float(statistics.fmean(xs)) if xs else float("nan")

    def m(key: str, rs: list[dict[str, Any]]) -> float:
        return mean([float(r[key]) for r in rs])

    summary: dict[str, Any] = {"n": len(rows), "device_accuracy": m("device", rows)}
    summary.update(device_accuracy_A=m("device", a), device_accuracy_B=m("device", b))
    summary["device_accuracy_equivalents"] = m("device_equiv", rows)
    summary["A_section_contains"] = m("section_contains", a)
    summary["A_section_minimal"] = m("section_minimal", a)
    summary["A_section_minimal_where_evidence_holds_fault"] = m("section_minimal", a_ok)
    summary["A_section_acc"] = m("section_acc", a)
    summary["A_section_exact_evidence_region"] = m("section_exact_evidence", a)
    summary["A_plans_feasible"] = m("plan_feasible", a)
    summary["A_plans_feasible_where_evidence_holds_fault"] = m("plan_feasible", a_ok)
    summary["B_plans_feasible_vs_normal_state"] = m("plan_feasible", b)
    summary["plans_radial"] = mean([float(r["verify"]["radial"]) for r in rows])
    summary["A_restore_ratio"] = m("restore_ratio", a)
    summary["A_restore_vs_evidence"] = m("restore_vs_evidence", a)
    summary["A_restore_vs_evidence_where_evidence_holds_fault"] = m("restore_vs_evidence", a_ok)
    summary["unsupplied_jaccard"] = m("unsupplied_jaccard", rows)
    summary.update(time_s_mean=m("time_s", rows), time_s_max=max(r["time_s"] for r in rows))
    summary.update(cpu_s_mean=m("cpu_s", rows), cpu_s_max=max(r["cpu_s"] for r in rows))
    summary["scenarios_over_2s_wall"] = sum(r["time_s"] > 2.0 for r in rows)
    if args.exhaustive:
        summary["A_restore_vs_exhaustive"] = m("restore_vs_exhaustive", a)
        summary["A_restore_vs_exhaustive_where_evidence_holds_fault"] = m(
            "restore_vs_exhaustive", a_ok
        )
    if args.cli:
        for sc in [s for s in scen if s.name.startswith("A")][:1] + [
            s for s in scen if s.name.startswith("B")
        ][:1]:
            meta = json.loads((sc / "scenario.json").read_text())
            with tempfile.TemporaryDirectory() as td:
                cmd = [str(REPO / ".venv" / "bin" / "lifeline"), "power", "locate"]
                cmd += ["--network", str((sc / meta["network"]).resolve())]
                cmd += ["--events", str(sc / "events.csv"), "--out", str(Path(td) / "o.json")]
                if (sc / "fpi_installed.csv").exists():
                    cmd += ["--fpi-installed", str(sc / "fpi_installed.csv")]
                t = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                summary[f"cli_cold_s_{sc.name}"] = time.perf_counter() - t
    extra: dict[str, Any] = {}
    if args.synthetic:
        extra["synthetic_mv"] = synthetic_mv(data / "mv_oberrhein.json")
        extra["synthetic_lv"] = synthetic_lv(data / "lv_schutterwald.json")
    if args.monitor_demo:
        extra["monitor_demo"] = monitor_demo()
    print(json.dumps(summary, indent=1))
    out_path = Path(args.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(
        json.dumps({"summary": summary, **extra, "scenarios": rows}, indent=1, default=str)
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
