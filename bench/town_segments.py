"""Customers cut per valve segment of the demo town's (synthetic) water network.

Every valve segment of the town's water network (its valve layer, ``town.water_valves``) is
isolated in turn with :func:`lifeline.water.isolate.isolate` — the code behind ``lifeline water
isolate`` and the water plan — with the pressure-driven check on. A customer is cut when its water
junction is in the segment, is cut off from every source once the segment is closed, or falls
below 50 % of its demand in the closed network (PDD). Reported: the number of segments, median,
p90 and maximum customers cut (count and share of all customers), the share of segments cutting
more than 5 % of the customers, and the same for trunk segments when the build marks a trunk
(``meta['water_trunk_pipes']``).

    nice -n 10 .venv/bin/python bench/town_segments.py --label after
    nice -n 10 .venv/bin/python bench/town_segments.py --label before \
        --town-dir <cache>/town/schutterwald-v3     # an older build, read from its cache folder

``--town-dir`` reads an older built town folder (the pre-City cache layout: water.inp,
water_valves.parquet, customers.parquet, meta.json) instead of the current build (``load_town()``). Results of each label are merged into
bench/results/town_segments.json (other labels are kept).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "results" / "town_segments.json"
SHARE_LIMIT = 0.05


def _stats(cut: list[int], n_customers: int) -> dict[str, Any]:
    a = np.asarray(cut, dtype=float)
    if not len(a):
        return {"segments": 0}
    return {
        "segments": len(a),
        "median_customers": float(np.median(a)),
        "p90_customers": float(np.percentile(a, 90)),
        "max_customers": int(a.max()),
        "median_pct": round(100.0 * float(np.median(a)) / n_customers, 2),
        "p90_pct": round(100.0 * float(np.percentile(a, 90)) / n_customers, 2),
        "max_pct": round(100.0 * float(a.max()) / n_customers, 2),
        "share_segments_over_5pct": round(float(np.mean(a > SHARE_LIMIT * n_customers)), 4),
    }


def _network_facts(inp: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """Size of the water model: junctions, pipes, km of mains, DN counts, sources, pressures."""
    import networkx as nx
    import wntr

    wn = wntr.network.WaterNetworkModel(str(inp))
    pipes = [wn.get_link(p) for p in wn.pipe_name_list]
    dn = pd.Series([round(p.diameter * 1000) for p in pipes]).value_counts().sort_index()
    trunk = set(meta.get("water_trunk_pipes") or [])
    checks = meta.get("checks", {})
    return {
        "junctions": len(wn.junction_name_list),
        "pipes": len(pipes),
        "mains_km": round(sum(p.length for p in pipes) / 1000.0, 2),
        "loops": len(nx.cycle_basis(nx.Graph(wn.to_graph().to_undirected()))),
        "dn_counts": {str(k): int(v) for k, v in dn.items()},
        "trunk_pipes": len(trunk),
        "trunk_km": round(sum(wn.get_link(p).length for p in trunk) / 1000.0, 2),
        "reservoirs": list(wn.reservoir_name_list),
        "tanks": list(wn.tank_name_list),
        "pumps": list(wn.pump_name_list),
        "tank_volume_m3": meta.get("water_tank_volume_m3"),
        "build_pressure_m_min": round(float(checks.get("water_pressure_m_min", np.nan)), 1),
        "build_pressure_m_max": round(float(checks.get("water_pressure_m_max", np.nan)), 1),
    }


def hydraulics(inp: Path) -> dict[str, Any]:
    """Service pressures over the design day and how long storage carries the town without pumps.

    Pressures (m) at demand junctions: minimum and maximum at night (02-05 h) and at the morning
    peak (07-09 h) of a 24 h EPANET run. Autonomy: with both pumps stopped at 00:00 or at 17:00
    (model time = local time), the hours until the lowest demand-junction pressure falls below
    the PDD required pressure (None if it stays above for 8 h).
    """
    import wntr
    from wntr.network.controls import Control, ControlAction
    from wntr.network.elements import LinkStatus

    from lifeline.datasets.water_town import run_water

    wn = wntr.network.WaterNetworkModel(str(inp))
    dem = [
        n
        for n in wn.junction_name_list
        if any(d.base_value > 0 for d in wn.get_node(n).demand_timeseries_list)
    ]
    p = run_water(wn).node["pressure"][dem]
    hours = (p.index / 3600).astype(int) % 24
    out: dict[str, Any] = {}
    for label, sel in (
        ("night_02_05", (hours >= 2) & (hours < 5)),
        ("peak_07_09", (hours >= 7) & (hours < 9)),
    ):
        out[f"pressure_m_{label}"] = [
            round(float(p[sel].min().min()), 1),
            round(float(p[sel].max().max()), 1),
        ]
    required = float(wn.options.hydraulic.required_pressure)
    for start_h in (0, 17):
        w = wntr.network.WaterNetworkModel(str(inp))
        for pu in w.pump_name_list:
            act = ControlAction(w.get_link(pu), "status", LinkStatus.Closed)
            w.add_control(
                f"off_{pu}", Control._time_control(w, start_h * 3600, "SIM_TIME", False, act)
            )
        r = run_water(w, duration_s=(start_h + 8) * 3600).node["pressure"][dem]
        after = r[r.index >= start_h * 3600].min(axis=1)
        low = after[after < required]
        out[f"autonomy_h_pumps_off_at_{start_h:02d}"] = (
            round(float(low.index[0] / 3600 - start_h), 2) if len(low) else None
        )
    out["required_pressure_m"] = required
    return out


def town_info_valves() -> str:
    """The valve line of ``lifeline town info --no-solve`` (the current build)."""
    import subprocess
    import sys

    exe = Path(sys.executable).with_name("lifeline")
    out = subprocess.run(
        [str(exe), "town", "info", "--no-solve"], capture_output=True, text=True, check=True
    ).stdout
    return next(line.strip() for line in out.splitlines() if line.startswith("water valves:"))


def read_old_build(town_dir: Path) -> tuple[Path, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(water.inp, valves, customers, meta) of a town folder in the pre-City layout (parquet)."""
    return (
        town_dir / "water.inp",
        pd.read_parquet(town_dir / "water_valves.parquet"),
        pd.read_parquet(town_dir / "customers.parquet"),
        json.loads((town_dir / "meta.json").read_text()),
    )


def read_current_build() -> tuple[Path, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """(water.inp, valves, customers, meta) of the current demo town (``load_town()``)."""
    from lifeline.datasets.town import load_town

    town = load_town()
    return town.water_inp_path, town.water_valves, town.customers, dict(town.meta)


def measure(
    inp: Path, valves: pd.DataFrame, customers: pd.DataFrame, meta: dict[str, Any]
) -> dict[str, Any]:
    """Isolate every valve segment of the network ``inp`` with its ``valves`` (valve,node,link);
    customers (CUSTOMER schema) cut per segment."""
    from lifeline.water.isolate import isolate, segments

    trunk = set(meta.get("water_trunk_pipes") or [])
    with tempfile.TemporaryDirectory() as tmp:
        vcsv = Path(tmp) / "valves.csv"
        ccsv = Path(tmp) / "customers.csv"
        valves[["valve", "node", "link"]].to_csv(vcsv, index=False)
        pd.DataFrame(
            {
                "customer_id": customers.customer_id,
                "node": customers.water_asset_id.str.removeprefix("water:junction:"),
                "category": customers.category,
                "critical": customers.critical,
            }
        ).to_csv(ccsv, index=False)
        seg = segments(inp, vcsv)
        first_pipe: dict[int, str] = {}
        seg_pipes: dict[int, list[str]] = {}
        for i, name in enumerate(seg.links):
            if seg.link_kind[i] != "Pipe":
                continue
            s = int(seg.link_seg[i])
            first_pipe.setdefault(s, name)
            seg_pipes.setdefault(s, []).append(name)
        rows = []
        t0 = time.perf_counter()
        for s, pipe in sorted(first_pipe.items()):
            res = isolate(inp, pipe, valves=vcsv, customers=ccsv, simulate=True)
            rows.append(
                {
                    "segment_pipe": pipe,
                    "pipes": len(seg_pipes[s]),
                    "valves_to_close": len(res["valves_to_close"]),
                    "customers_cut": len(res["customers_losing_water"]),
                    "critical_cut": len(res["critical_sites"]),
                    "trunk": bool(trunk & set(seg_pipes[s])),
                    "pdd_status": res.get("pdd_status", ""),
                }
            )
        secs = time.perf_counter() - t0
    n = len(customers)
    cut = [r["customers_cut"] for r in rows]
    network = _network_facts(inp, meta)
    worst = sorted(rows, key=lambda r: -r["customers_cut"])[:5]
    return {
        "town_version": meta.get("version"),
        "customers": n,
        "valves": len(valves),
        "pipes": sum(1 for k in seg.link_kind if k == "Pipe"),
        "all_segments": _stats(cut, n),
        "trunk_segments": _stats([r["customers_cut"] for r in rows if r["trunk"]], n)
        if trunk
        else None,
        "valves_to_close_median": float(np.median([r["valves_to_close"] for r in rows])),
        "network": network,
        "hydraulics": hydraulics(inp),
        "pdd_unsolved": sum(1 for r in rows if r["pdd_status"] not in ("solved", "")),
        "worst": worst,
        "seconds": round(secs, 1),
    }


def markdown(results: dict[str, Any]) -> str:
    """The before/after table for docs/town.md from the results file."""
    cols = [k for k in ("before", "after") if k in results]
    rows = [
        ("town build", lambda r: str(r["town_version"])),
        ("valves", lambda r: str(r["valves"])),
        ("valve segments (with a pipe)", lambda r: str(r["all_segments"]["segments"])),
        (
            "median customers cut",
            lambda r: (
                f"{r['all_segments']['median_customers']:g} ({r['all_segments']['median_pct']} %)"
            ),
        ),
        (
            "p90 customers cut",
            lambda r: f"{r['all_segments']['p90_customers']:g} ({r['all_segments']['p90_pct']} %)",
        ),
        (
            "max customers cut",
            lambda r: f"{r['all_segments']['max_customers']} ({r['all_segments']['max_pct']} %)",
        ),
        (
            "segments cutting > 5 % of customers",
            lambda r: f"{100 * r['all_segments']['share_segments_over_5pct']:.1f} %",
        ),
        (
            "trunk segments: max customers cut",
            lambda r: (
                f"{r['trunk_segments']['max_customers']} ({r['trunk_segments']['max_pct']} %)"
                if r.get("trunk_segments")
                else "no trunk"
            ),
        ),
        ("valves to close per segment (median)", lambda r: f"{r['valves_to_close_median']:g}"),
    ]
    lines = ["| | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for label, f in rows:
        lines.append(f"| {label} | " + " | ".join(f(results[c]) for c in cols) + " |")
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, measure, print and merge the figures into the results file."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--label", default="after", help="key of this run in the results file")
    ap.add_argument("--town-dir", type=Path, default=None, help="a built town folder to read")
    ap.add_argument(
        "--markdown", action="store_true", help="print the docs table from the results file, exit"
    )
    args = ap.parse_args()
    if args.markdown:
        print(markdown(json.loads(OUT.read_text())))
        return
    build = read_current_build() if args.town_dir is None else read_old_build(args.town_dir)
    res = measure(*build)
    if args.town_dir is None:
        res["town_info_valves"] = town_info_valves()
    print(json.dumps({k: v for k, v in res.items() if k != "worst"}, indent=1))
    out: dict[str, Any] = json.loads(OUT.read_text()) if OUT.is_file() else {}
    out[args.label] = res
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT} [{args.label}]")


if __name__ == "__main__":
    main()
