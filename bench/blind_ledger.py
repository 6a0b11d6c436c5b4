"""The ledger of blind leak-detection scores: every generated year's first score before anyone
looked at it, as the command ran then, read from the history of ``bench/results``.

Each stop of issue 16 generated new worlds, scored them once with ``bench/battledim.py`` and
committed the results file. This script walks the git history of ``bench/results/battledim*.json``
from the oldest commit and keeps, for every (network, world, year), the first entry marked
``"seen": false``. Files holding an alternative that was not the method as committed (a method
before or a variant tried against it: names with ``_before``, ``_weights``, ``_cautious``,
``_tie``, ``_placement``) are skipped; so are the ``ab_`` comparisons. It prints the ledger and the
means per network and writes them to ``bench/results/battledim_blind_ledger.json``, with a plot
of every year's share of the perfect score and false alarms against the target
(``bench/results/battledim_blind_ledger.png``).

Needs the repository's history (a full clone, not a shallow one). Usage::

    .venv/bin/python bench/blind_ledger.py
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "results" / "battledim_blind_ledger.json"
PLOT = OUT.with_suffix(".png")
TARGET_SHARE, TARGET_FP = 0.70, 2  # issue 16: >= 70 % of the perfect score with <= 2 FP a year
ALTERNATIVE = re.compile(r"_(before|weights|cautious|tie|placement)|battledim_ab_")


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True
    ).stdout


def _years(text: str) -> list[dict[str, Any]]:
    """The generated years of one results file's text ([] when it has none or is not JSON)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return []
    gen = data.get("generated") if isinstance(data, dict) else None
    years = gen.get("years") if isinstance(gen, dict) else None
    return [y for y in years if isinstance(y, dict)] if isinstance(years, list) else []


def ledger(root: Path = ROOT) -> list[dict[str, Any]]:
    """First blind score of every generated year in the git history of ``root`` (a
    repository), oldest commit first (see the module doc). ValueError on a shallow clone,
    whose history would leave out the earlier stops' worlds."""
    if _git(root, "rev-parse", "--is-shallow-repository").strip() == "true":
        raise ValueError(f"{root} is a shallow clone: fetch its history (git fetch --unshallow)")
    commits = _git(root, "log", "--reverse", "--format=%H %cs", "--", "bench/results").split("\n")
    first: dict[tuple[str, int, int], dict[str, Any]] = {}
    for line in filter(None, commits):
        sha, day = line.split()
        changed = _git(root, "show", "--name-only", "--format=", sha).split()
        files = sorted(
            f
            for f in changed
            if re.fullmatch(r"bench/results/battledim[^/]*\.json", f) and not ALTERNATIVE.search(f)
        )
        for f in files:
            try:
                text = _git(root, "show", f"{sha}:{f}")
            except subprocess.CalledProcessError:  # deleted in this commit
                continue
            for y in _years(text):
                key = (str(y.get("network")), int(y.get("world", 0)), int(y.get("year", 0)))
                if y.get("seen") is not False or key in first:
                    continue
                first[key] = {
                    "network": key[0],
                    "world": key[1],
                    "year": key[2],
                    "share_of_perfect": y.get("fraction_of_perfect"),
                    "tp": y.get("tp"),
                    "fp": y.get("fp"),
                    "leaks": y.get("leaks"),
                    "file": Path(f).name,
                    "commit": sha[:7],
                    "date": day,
                }
    return list(first.values())


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per network: years, mean, worst and best share of the perfect score, mean false
    positives, and how many years meet the target (≥ 70 % with ≤ 2 false positives)."""
    out: dict[str, Any] = {}
    for net in sorted({r["network"] for r in rows}):
        rs = [r for r in rows if r["network"] == net and r["share_of_perfect"] is not None]
        shares = [float(r["share_of_perfect"]) for r in rs]
        fps = [int(r["fp"]) for r in rs]
        out[net] = {
            "years": len(rs),
            "mean_share_of_perfect": round(sum(shares) / len(shares), 4),
            "worst_share_of_perfect": round(min(shares), 4),
            "best_share_of_perfect": round(max(shares), 4),
            "mean_fp": round(sum(fps) / len(fps), 2),
            "years_meeting_target": sum(
                1 for s, f in zip(shares, fps, strict=True) if s >= TARGET_SHARE and f <= TARGET_FP
            ),
        }
    return out


def plot(rows: list[dict[str, Any]], means: dict[str, Any], path: Path) -> None:
    """Every network's blind years in the order they were scored: share of the perfect score
    (%, top) and false alarms a year (bottom), with the target (≥ 70 %, ≤ 2 false alarms) and
    each network's mean (``means``: :func:`summary` of ``rows``); written as a PNG to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nets = sorted(means)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    for i, net in enumerate(nets):
        rs = [r for r in rows if r["network"] == net and r["share_of_perfect"] is not None]
        x = list(range(1, len(rs) + 1))
        share = [100 * float(r["share_of_perfect"]) for r in rs]
        colour = f"C{i}"
        mean = 100 * means[net]["mean_share_of_perfect"]  # as the summary rounds it
        top.plot(x, share, "o-", ms=3, lw=0.8, color=colour, label=f"{net} (mean {mean:.1f} %)")
        top.axhline(mean, color=colour, lw=0.8, ls=":")
        bottom.plot(x, [int(r["fp"]) for r in rs], "o-", ms=3, lw=0.8, color=colour, label=net)
    top.axhline(100 * TARGET_SHARE, color="k", lw=1, ls="--", label="target (70 %)")
    top.set_ylabel("share of the perfect score (%)")
    top.set_title("Leak detection on generated years scored blind (first score of each year)")
    top.legend(fontsize=8, loc="lower right")
    bottom.axhline(TARGET_FP, color="k", lw=1, ls="--", label="target (at most 2)")
    bottom.set_ylabel("false alarms in the year")
    bottom.set_xlabel("blind years of the network, in the order they were scored")
    bottom.legend(fontsize=8, loc="upper right")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    """Build, print and write the ledger; 1 without the repository's history."""
    try:
        rows = ledger()
    except (OSError, subprocess.CalledProcessError, ValueError) as exc:
        print(f"blind_ledger: cannot read the git history of bench/results: {exc}", file=sys.stderr)
        return 1
    summ = summary(rows)
    for r in rows:
        print(
            f"{r['network']:6s} w{r['world']:<3d} y{r['year']}"
            f"  {100 * r['share_of_perfect']:6.1f} %  TP {r['tp']:>2}  FP {r['fp']:>2}"
            f"  {r['file']} @ {r['commit']} ({r['date']})"
        )
    for net, s in summ.items():
        print(
            f"{net}: {s['years']} years, mean {100 * s['mean_share_of_perfect']:.1f} % of perfect"
            f" (worst {100 * s['worst_share_of_perfect']:.1f} %), FP {s['mean_fp']:.1f} a year,"
            f" {s['years_meeting_target']} meeting >= 70 % with <= 2 FP"
        )
    OUT.write_text(
        json.dumps(
            {
                "what": __doc__.strip().split("\n\n")[0],
                "command": ".venv/bin/python bench/blind_ledger.py",
                "summary": summ,
                "years": rows,
            },
            indent=1,
        )
        + "\n"
    )
    plot(rows, summ, PLOT)
    print(f"written: {OUT.relative_to(ROOT)}, {PLOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
