"""Paired comparison of two leak-detection methods on the same generated years.

Single years move by 5–10 points of the perfect score with small changes of the method (a report
placed one pipe further, a threshold learnt a little lower), so a change is judged on the
differences year by year, not on two means: their mean, its paired standard error, and how many
years gained or lost.

Run from the repo root, either on two results files of ``bench/battledim.py`` that scored the
same worlds (``generated.years``)::

    .venv/bin/python bench/paired.py bench/results/battledim_fresh6_before.json \\
        bench/results/battledim_fresh6.json

or on one A/B file with ``before`` and ``after`` per year (``bench/results/battledim_ab_*.json``)::

    .venv/bin/python bench/paired.py bench/results/battledim_ab_step_gate.json

Prints the table and writes ``bench/results/paired_<name>.json`` (``--json PATH`` to choose).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

Row = tuple[str, float, float, int, int]  # year, before, after (share of perfect), FP before, after


def _years(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The scored years of a battledim results file by ``net:world:year``."""
    out = {}
    for y in (doc.get("generated") or {}).get("years", []):
        out[f"{y['network']}:{y['world']}:{y['year']}"] = y
    return out


def pairs_of_files(before: dict[str, Any], after: dict[str, Any]) -> list[Row]:
    """The years two battledim results files both scored, paired."""
    a, b = _years(before), _years(after)
    return [
        (k, a[k]["fraction_of_perfect"], b[k]["fraction_of_perfect"], a[k]["fp"], b[k]["fp"])
        for k in sorted(a.keys() & b.keys())
    ]


def pairs_of_ab(doc: dict[str, Any]) -> list[Row]:
    """The years of an A/B file (``years``: ``before`` and ``after`` per year) with both."""
    rows = []
    for y in doc.get("years", []):
        a, b = y.get("before"), y.get("after")
        if a and b:
            key = f"{y['network']}:{y['world']}:{y['year']}"
            rows.append((key, a["share_of_perfect"], b["share_of_perfect"], a["fp"], b["fp"]))
    return rows


def summary(rows: list[Row]) -> dict[str, Any]:
    """Per network and over all: years, mean before and after, mean paired difference (points
    of the perfect score) with its standard error, years gained / lost / equal, FP sums."""
    out: dict[str, Any] = {}
    for net in sorted({r[0].split(":")[0] for r in rows}) + ["all"]:
        sel = [r for r in rows if net == "all" or r[0].split(":")[0] == net]
        d = [100 * (r[2] - r[1]) for r in sel]
        n = len(d)
        mean = sum(d) / n
        se = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1) / n) if n > 1 else float("nan")
        out[net] = {
            "years": n,
            "mean_before_pct": round(100 * sum(r[1] for r in sel) / n, 1),
            "mean_after_pct": round(100 * sum(r[2] for r in sel) / n, 1),
            "mean_difference_points": round(mean, 1),
            "standard_error_points": round(se, 1) if math.isfinite(se) else None,
            "gained": sum(x > 0.05 for x in d),
            "lost": sum(x < -0.05 for x in d),
            "equal": sum(abs(x) <= 0.05 for x in d),
            "fp_before": sum(r[3] for r in sel),
            "fp_after": sum(r[4] for r in sel),
        }
    return out


def main() -> None:
    """Pair the years, print the differences and write the summary."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("files", nargs="+", help="two battledim results files, or one A/B file")
    ap.add_argument("--json", help="where to write (default bench/results/paired_<name>.json)")
    args = ap.parse_args()
    docs = [json.loads(Path(f).read_text()) for f in args.files]
    if len(docs) == 2:
        rows = pairs_of_files(docs[0], docs[1])
    elif len(docs) == 1:
        rows = pairs_of_ab(docs[0])
    else:
        ap.error("give two battledim results files or one A/B file")
    if not rows:
        ap.error("no year scored by both")
    for key, a, b, fa, fb in rows:
        print(
            f"  {key:14} {100 * a:6.1f} % -> {100 * b:6.1f} %  ({100 * (b - a):+5.1f})  FP {fa} -> {fb}"
        )
    summ = summary(rows)
    for net, s in summ.items():
        print(
            f"{net}: {s['years']} years, {s['mean_before_pct']} -> {s['mean_after_pct']} %, "
            f"difference {s['mean_difference_points']:+} ± {s['standard_error_points'] or 'n/a'} "
            "points "
            f"(gained {s['gained']}, lost {s['lost']}, equal {s['equal']}), "
            f"FP {s['fp_before']} -> {s['fp_after']}"
        )
    name = "_vs_".join(Path(f).stem.replace("battledim_", "") for f in args.files)
    path = Path(args.json) if args.json else ROOT / "bench" / "results" / f"paired_{name}.json"
    doc = {
        "files": [str(Path(f)) for f in args.files],
        "years": [
            {"year": k, "before": a, "after": b, "fp_before": fa, "fp_after": fb}
            for k, a, b, fa, fb in rows
        ],
        "summary": summ,
    }
    path.write_text(json.dumps(doc, indent=1))
    print(f"written {path}")


if __name__ == "__main__":
    main()
