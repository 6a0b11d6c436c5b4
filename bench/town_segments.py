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

``--town-dir`` reads a built town folder (water.inp, water_valves.parquet, customers.parquet,
meta.json) instead of the current build (``load_town()``). Results of each label are merged into
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


def measure(town_dir: Path) -> dict[str, Any]:
    """Isolate every valve segment of the town in ``town_dir``; customers cut per segment."""
    from lifeline.water.isolate import isolate, segments

    meta = json.loads((town_dir / "meta.json").read_text())
    inp = town_dir / "water.inp"
    customers = pd.read_parquet(town_dir / "customers.parquet")
    valves = pd.read_parquet(town_dir / "water_valves.parquet")
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
        "pdd_unsolved": sum(1 for r in rows if r["pdd_status"] not in ("solved", "")),
        "worst": worst,
        "seconds": round(secs, 1),
    }


def main() -> None:
    """Parse arguments, measure, print and merge the figures into the results file."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--label", default="after", help="key of this run in the results file")
    ap.add_argument("--town-dir", type=Path, default=None, help="a built town folder to read")
    args = ap.parse_args()
    if args.town_dir is None:
        from lifeline.datasets.town import load_town

        town_dir = Path(load_town().cache_dir or "")
    else:
        town_dir = args.town_dir
    res = measure(town_dir)
    print(json.dumps({k: v for k, v in res.items() if k != "worst"}, indent=1))
    out: dict[str, Any] = json.loads(OUT.read_text()) if OUT.is_file() else {}
    out[args.label] = res
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT} [{args.label}]")


if __name__ == "__main__":
    main()
