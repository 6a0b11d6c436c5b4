"""Benchmark of the complaint classifier on the shipped corpus (held-out accuracy).

Usage (from the repo root):
    .venv/bin/python bench/complaints.py [--seeds 8]

The corpus ``lifeline/incidents/data/complaints_corpus.csv`` has development rows (``split ==
"dev"``: Mandarin, 12345 operators' transcriptions, Chongqing dialect ``zh-cq``, English) and
final test rows (``split == "final"``, templates written before tuning, see
``lifeline/incidents/complaints/templates_final.py``). Three figures:

* ``final`` (the reported figure): trained on every development row, scored on the final test
  templates, which were never looked at while the features and the cue lexicon were tuned;
* ``template`` (the tuning figure): cross-validation on the development rows, 25 % of the
  templates of every label held out (no paraphrase of a held-out phrasing is seen in training),
  repeated over ``--seeds`` seeds — the features were chosen on this figure;
* ``random`` (for comparison only): a random 25 % of development rows — paraphrases of one
  template land on both sides, which inflates the figure.

Each reports utility, category and joint accuracy, category accuracy per language, how often a
complaint that is not about a lifeline is recognised (``other_recall``) or pushed into a
lifeline label (``other_into_lifeline``), and the second issue of two-issue calls.
Writes bench/results/complaints.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from lifeline.incidents.complaints.classifier import (
    dev_rows,
    evaluate,
    evaluate_final,
    load_corpus,
)

KEYS = (
    "utility_accuracy",
    "category_accuracy",
    "both_accuracy",
    "other_recall",
    "other_into_lifeline",
    "lifeline_into_other",
    "second_issue_found",
    "second_issue_spurious",
)


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in KEYS:
        vals = [r[k] for r in runs if k in r]
        if vals:
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


def _line(name: str, s: dict[str, Any]) -> str:
    def f(k: str) -> str:
        v = s.get(k)
        if v is None:
            return "-"
        return f"{v['mean']:.3f} ± {v['sd']:.3f}" if isinstance(v, dict) else f"{v:.3f}"

    return (
        f"{name:>9}: utility {f('utility_accuracy')}, category {f('category_accuracy')}, "
        f"other recognised {f('other_recall')}, second issue {f('second_issue_found')}; "
        f"category by language {s['category_accuracy_by_lang']}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8, help="number of random splits per kind")
    args = ap.parse_args()
    df = load_corpus()
    dev = dev_rows(df)
    t0 = time.perf_counter()
    result: dict[str, Any] = {
        "corpus_rows": len(df),
        "templates": int(df["template_id"].nunique()),
        "dev_rows": len(dev),
        "dev_templates": int(dev["template_id"].nunique()),
        "final_rows": int((df["split"] == "final").sum()),
        "final_templates": int(df.loc[df["split"] == "final", "template_id"].nunique()),
        "rows_by_language": {k: int(v) for k, v in df.groupby("lang").size().items()},
        "seeds": args.seeds,
        "tuned_on": "template (cross-validation on the development rows); final was not",
    }
    final = evaluate_final(df)
    result["final"] = final
    print(
        _line("final", final)
        + f"; other pushed into a lifeline {final.get('other_into_lifeline', 0):.3f}"
    )
    for split in ("template", "random"):
        runs = [evaluate(dev, split=split, seed=s) for s in range(args.seeds)]
        result[split] = {"summary": _summary(runs), "runs": runs}
        print(_line(split, result[split]["summary"]))
    result["seconds"] = round(time.perf_counter() - t0, 1)
    out = Path(__file__).resolve().parent / "results" / "complaints.json"
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
