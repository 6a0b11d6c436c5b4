"""Benchmark of the complaint classifier on the shipped corpus (held-out accuracy).

Usage (from the repo root):
    .venv/bin/python bench/complaints.py [--seeds 8]

Two splits of ``lifeline/incidents/data/complaints_corpus.csv``:

* ``template`` (the honest figure): 25 % of the templates of every category are held out, so no
  paraphrase of a held-out phrasing is seen in training; repeated over ``--seeds`` seeds;
* ``random`` (for comparison only): a random 25 % of rows — paraphrases of one template land on
  both sides, which inflates the figure.

Prints mean ± SD of utility, category and joint accuracy and writes bench/results/complaints.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from lifeline.incidents.complaints.classifier import evaluate, load_corpus

KEYS = ("utility_accuracy", "category_accuracy", "both_accuracy")


def _summary(runs: list[dict]) -> dict:
    out = {}
    for k in KEYS:
        vals = [r[k] for r in runs]
        out[k] = {
            "mean": round(statistics.mean(vals), 4),
            "sd": round(statistics.pstdev(vals), 4),
            "min": round(min(vals), 4),
            "max": round(max(vals), 4),
        }
    langs = sorted({lang for r in runs for lang in r["category_accuracy_by_lang"]})
    out["category_accuracy_by_lang"] = {
        lang: round(
            statistics.mean(
                r["category_accuracy_by_lang"][lang]
                for r in runs
                if lang in r["category_accuracy_by_lang"]
            ),
            4,
        )
        for lang in langs
    }
    out["n_test_mean"] = round(statistics.mean(r["n_test"] for r in runs), 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8, help="number of random splits per kind")
    args = ap.parse_args()
    df = load_corpus()
    t0 = time.perf_counter()
    result = {
        "corpus_rows": len(df),
        "templates": int(df["template_id"].nunique()),
        "seeds": args.seeds,
    }
    for split in ("template", "random"):
        runs = [evaluate(df, split=split, seed=s) for s in range(args.seeds)]
        result[split] = {"summary": _summary(runs), "runs": runs}
        s = result[split]["summary"]
        print(
            f"{split:>8} split: utility {s['utility_accuracy']['mean']:.3f} ± {s['utility_accuracy']['sd']:.3f}, category {s['category_accuracy']['mean']:.3f} ± {s['category_accuracy']['sd']:.3f}, both {s['both_accuracy']['mean']:.3f}; by language {s['category_accuracy_by_lang']}"
        )
    result["seconds"] = round(time.perf_counter() - t0, 1)
    out = Path(__file__).resolve().parent / "results" / "complaints.json"
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
