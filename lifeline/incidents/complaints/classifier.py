"""Complaint classifier: jieba word tokens + character n-grams, linear models for utility and category.

Trained on the shipped corpus (``lifeline/incidents/data/complaints_corpus.csv``), built
deterministically at first use and cached under ``settings.cache_dir`` (keyed by the corpus
hash and the model version). Nothing is downloaded.

Two linear SVMs share one feature space (TF-IDF over jieba tokens + TF-IDF over character
1–3-grams within word boundaries, which catches Chinese words jieba splits differently and
English typos). The held-out evaluation splits by *template* (all paraphrases of one phrasing
on one side) — the honest figure — and also reports a random row split for comparison.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lifeline.errors import InputError

CORPUS_PATH = Path(__file__).resolve().parent.parent / "data" / "complaints_corpus.csv"
MODEL_VERSION = "2"
UTILITIES = ("water", "power", "gas", "other")
CATEGORIES = (
    "no_water",
    "low_pressure",
    "discoloured_water",
    "burst_flooding",
    "gas_smell",
    "no_power",
    "flicker",
    "other",
)
_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]+")


def normalise(text: str) -> str:
    """Lower-case, NFKC (full-width to half-width) and every digit run replaced by ``0``."""
    import unicodedata

    return re.sub(r"\d+", "0", unicodedata.normalize("NFKC", str(text)).lower())


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens: jieba words for Chinese runs, alphanumeric words for Latin text."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    out: list[str] = []
    for run in _WORD.findall(str(text).lower()):
        if run[0].isascii():
            out.append(run)
        else:
            out.extend(w for w in jieba.lcut(run) if w.strip())
    return out


def load_corpus(path: Path = CORPUS_PATH) -> pd.DataFrame:
    """Read the labelled corpus (columns text, lang, utility, category, template_id, channel)."""
    if not path.exists():
        raise InputError("complaint corpus missing", where=str(path))
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    need = {"text", "utility", "category"}
    missing = need - set(df.columns)
    if missing:
        raise InputError(f"corpus lacks columns {sorted(missing)}", where=str(path))
    if "template_id" not in df.columns:
        df["template_id"] = [f"row-{i}" for i in range(len(df))]
    return df


def _features() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            (
                "words",
                TfidfVectorizer(
                    tokenizer=tokenize,
                    token_pattern=None,
                    lowercase=False,
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    min_df=1,
                ),
            ),
            (
                "chars",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True, min_df=2
                ),
            ),
        ]
    )


@dataclass
class ComplaintClassifier:
    """Two linear models over one feature space: ``utility`` and ``category``."""

    features: Any
    utility_model: Any
    category_model: Any

    @classmethod
    def train(
        cls, texts: list[str], utilities: list[str], categories: list[str]
    ) -> ComplaintClassifier:
        """Fit on labelled texts (deterministic: LinearSVC with fixed random_state)."""
        from sklearn.svm import LinearSVC

        feats = _features()
        x = feats.fit_transform([normalise(t) for t in texts])
        um = LinearSVC(C=1.0, random_state=0).fit(x, utilities)
        cm = LinearSVC(C=1.0, random_state=0).fit(x, categories)
        return cls(feats, um, cm)

    def predict(self, texts: list[str]) -> pd.DataFrame:
        """Classify texts; returns columns utility, category, utility_margin, category_margin.

        Margins are the decision-function gap between the best and second-best class (larger =
        more confident; below ~0.2 the label is a guess). A category implying a utility
        (e.g. ``no_power`` -> power) overrides a contradicting utility guess.
        """
        if not texts:
            return pd.DataFrame(
                columns=["utility", "category", "utility_margin", "category_margin"]
            )
        x = self.features.transform([normalise(t) for t in texts])
        u = self.utility_model.predict(x)
        c = self.category_model.predict(x)
        um = _margin(self.utility_model.decision_function(x))
        cm = _margin(self.category_model.decision_function(x))
        out = pd.DataFrame(
            {"utility": u, "category": c, "utility_margin": um, "category_margin": cm}
        )
        implied = {
            "no_water": "water",
            "discoloured_water": "water",
            "burst_flooding": "water",
            "gas_smell": "gas",
            "no_power": "power",
            "flicker": "power",
        }
        for i, cat in enumerate(out["category"]):
            if cat in implied and out.at[i, "utility"] != implied[cat]:
                out.at[i, "utility"] = implied[cat]
            if cat == "low_pressure" and out.at[i, "utility"] not in ("water", "gas"):
                out.at[i, "utility"] = "water"
        return out


def _margin(dec: Any) -> list[float]:
    import numpy as np

    d = np.asarray(dec)
    if d.ndim == 1:
        return [float(abs(v)) for v in d]
    s = np.sort(d, axis=1)
    return [float(v) for v in s[:, -1] - s[:, -2]]


def template_split(
    df: pd.DataFrame, test_size: float = 0.25, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by ``template_id`` stratified on category: no template has rows on both sides."""
    import numpy as np

    rng = np.random.default_rng(seed)
    test_templates: list[str] = []
    for _, g in df.groupby("category", sort=True):
        tids = sorted(g["template_id"].unique())
        k = max(1, round(len(tids) * test_size))
        test_templates.extend(rng.choice(tids, size=k, replace=False).tolist())
    mask = df["template_id"].isin(test_templates)
    return df[~mask].reset_index(drop=True), df[mask].reset_index(drop=True)


def random_split(
    df: pd.DataFrame, test_size: float = 0.25, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Row-level random split (paraphrases of a template may appear on both sides)."""
    test = df.sample(frac=test_size, random_state=seed)
    return df.drop(test.index).reset_index(drop=True), test.reset_index(drop=True)


def evaluate(
    df: pd.DataFrame | None = None, split: str = "template", seed: int = 0
) -> dict[str, Any]:
    """Train on the train part, score on the held-out part; returns accuracies (0–1) and counts."""
    df = load_corpus() if df is None else df
    train, test = (
        template_split(df, seed=seed) if split == "template" else random_split(df, seed=seed)
    )
    clf = ComplaintClassifier.train(
        train["text"].tolist(), train["utility"].tolist(), train["category"].tolist()
    )
    pred = clf.predict(test["text"].tolist())
    u_ok = (pred["utility"].to_numpy() == test["utility"].to_numpy()).mean()
    c_ok = (pred["category"].to_numpy() == test["category"].to_numpy()).mean()
    both = (
        (pred["utility"].to_numpy() == test["utility"].to_numpy())
        & (pred["category"].to_numpy() == test["category"].to_numpy())
    ).mean()
    per_lang = {}
    for lang in sorted(test.get("lang", pd.Series(dtype=str)).unique()):
        m = (test["lang"] == lang).to_numpy()
        per_lang[lang] = float(
            (pred["category"].to_numpy()[m] == test["category"].to_numpy()[m]).mean()
        )
    return {
        "split": split,
        "n_train": len(train),
        "n_test": len(test),
        "n_test_templates": int(test["template_id"].nunique()),
        "utility_accuracy": float(u_ok),
        "category_accuracy": float(c_ok),
        "both_accuracy": float(both),
        "category_accuracy_by_lang": per_lang,
    }


def _corpus_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes() + MODEL_VERSION.encode()).hexdigest()[:16]


_CACHED: dict[str, ComplaintClassifier] = {}


def get_classifier(
    corpus: Path = CORPUS_PATH, cache_dir: Path | None = None
) -> ComplaintClassifier:
    """The classifier trained on the whole corpus; built at first use, cached on disk and in memory."""
    from lifeline.config import get_settings

    key = _corpus_hash(corpus)
    if key in _CACHED:
        return _CACHED[key]
    cache_dir = cache_dir or get_settings().cache_dir / "complaints"
    path = cache_dir / f"classifier-{key}.pkl"
    clf: ComplaintClassifier | None = None
    if path.exists():
        try:
            with path.open("rb") as fh:
                loaded = pickle.load(fh)
            if isinstance(loaded, ComplaintClassifier):
                clf = loaded
        except Exception:  # a stale or corrupt cache is rebuilt
            clf = None
    if clf is None:
        df = load_corpus(corpus)
        clf = ComplaintClassifier.train(
            df["text"].tolist(), df["utility"].tolist(), df["category"].tolist()
        )
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as fh:
                pickle.dump(clf, fh)
            tmp.replace(path)
        except OSError:
            pass  # cache is an optimisation only
    _CACHED[key] = clf
    return clf


def classify(texts: list[str]) -> pd.DataFrame:
    """Classify complaint texts with the cached corpus model (see :meth:`ComplaintClassifier.predict`)."""
    return get_classifier().predict([str(t) for t in texts])
