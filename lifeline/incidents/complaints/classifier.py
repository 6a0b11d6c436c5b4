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
MODEL_VERSION = "3"
UTILITIES = ("water", "power", "gas", "drainage", "other")
CATEGORIES = (
    "no_water",
    "low_pressure",
    "discoloured_water",
    "burst_flooding",
    "gas_smell",
    "no_power",
    "flicker",
    "waterlogging",
    "drain_blocked",
    "manhole_overflow",
    "other",
)
#: the (utility, category) pairs a complaint can have; ``other/other``: not about a lifeline
LABELS = (
    ("water", "no_water"),
    ("water", "low_pressure"),
    ("water", "discoloured_water"),
    ("water", "burst_flooding"),
    ("gas", "gas_smell"),
    ("gas", "low_pressure"),
    ("power", "no_power"),
    ("power", "flicker"),
    ("drainage", "waterlogging"),
    ("drainage", "drain_blocked"),
    ("drainage", "manhole_overflow"),
    ("other", "other"),
)
_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]+")


def normalise(text: str) -> str:
    """Lower-case, NFKC (full-width to half-width) and every digit run replaced by ``0``."""
    import unicodedata

    return re.sub(r"\d+", "0", unicodedata.normalize("NFKC", str(text)).lower())


#: words jieba should keep whole: utility terms and Chongqing dialect (莫得 = 没有, 遭 = 被 …)
USER_WORDS = (
    "停水",
    "断水",
    "停电",
    "断电",
    "停气",
    "水压",
    "燃气味",
    "天然气",
    "臭鸡蛋",
    "下水道",
    "雨水篦子",
    "雨水口",
    "检查井",
    "污水井",
    "窨井",
    "化粪池",
    "下穿道",
    "积水",
    "内涝",
    "路灯",
    "电费",
    "水费",
    "燃气费",
    "水表",
    "电表",
    "燃气表",
    "莫得",
    "没得",
    "遭停电",
    "爆起了",
    "堵起了",
    "淹起了",
    "停起了",
    "黑黢黢",
    "搞快点",
    "啥子",
    "咋个",
    "啷个",
    "晓得",
    "屋头",
    "一哈",
)
_JIEBA_READY: list[bool] = []


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens: jieba words for Chinese runs, alphanumeric words for Latin text."""
    import jieba

    if not _JIEBA_READY:
        jieba.setLogLevel(logging.WARNING)
        for w in USER_WORDS:
            jieba.add_word(w)
        _JIEBA_READY.append(True)
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


#: weights of the feature blocks and the SVM's C (tuned by cross-validation on the development
#: templates only)
WEIGHTS = {"words": 1.0, "chars": 1.0, "cues": 1.0}
C = 1.0


def _features() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    from lifeline.incidents.complaints.cues import CueFeatures

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
            ("cues", CueFeatures()),
        ],
        transformer_weights=dict(WEIGHTS),
    )


_IMPLIED = dict(LABELS)  # category -> utility, except low_pressure (water or gas)


@dataclass
class ComplaintClassifier:
    """One linear model over joint ``utility/category`` labels (:data:`LABELS`), so the two are
    always consistent; ``other/other`` (not about a lifeline) is a label like the others."""

    features: Any
    model: Any

    @classmethod
    def train(
        cls, texts: list[str], utilities: list[str], categories: list[str]
    ) -> ComplaintClassifier:
        """Fit on labelled texts (deterministic: LinearSVC with fixed random_state)."""
        from sklearn.svm import LinearSVC

        feats = _features()
        x = feats.fit_transform([normalise(t) for t in texts])
        y = [f"{u}/{c}" for u, c in zip(utilities, categories, strict=True)]
        return cls(feats, LinearSVC(C=C, random_state=0).fit(x, y))

    def _decide(self, texts: list[str]) -> tuple[list[str], Any]:
        """Classes and the decision matrix (rows: texts)."""
        import numpy as np

        x = self.features.transform([normalise(t) for t in texts])
        dec = np.asarray(self.model.decision_function(x))
        if dec.ndim == 1:  # two classes only
            dec = np.column_stack([-dec, dec])
        return [str(c) for c in self.model.classes_], dec

    def predict(self, texts: list[str]) -> pd.DataFrame:
        """Classify texts; returns columns utility, category, utility_margin, category_margin,
        utility2, category2.

        Margins are decision-function gaps: ``category_margin`` between the best and the
        second-best label, ``utility_margin`` between the best label and the best label of
        another utility (larger = more confident; below ~0.2 the label is a guess).
        When the call reports two issues (see :func:`issues`), the first mentioned is
        ``utility``/``category`` and the second ``utility2``/``category2``; else those are empty.
        """
        cols = ["utility", "category", "utility_margin", "category_margin", "utility2", "category2"]
        if not texts:
            return pd.DataFrame(columns=cols)
        classes, dec = self._decide(texts)
        rows = []
        for i, text in enumerate(texts):
            u, c, um, cm = _best(classes, dec[i])
            found = issues(self, text, (u, c))
            (u, c), (u2, c2) = found[0], (found[1] if len(found) > 1 else ("", ""))
            rows.append((u, c, um, cm, u2, c2))
        return pd.DataFrame(rows, columns=cols)


def _best(classes: list[str], scores: Any) -> tuple[str, str, float, float]:
    """(utility, category, utility margin, category margin) from one row of decision scores."""
    import numpy as np

    order = np.argsort(scores)[::-1]
    best = classes[order[0]]
    u, c = best.split("/", 1)
    cm = float(scores[order[0]] - scores[order[1]]) if len(order) > 1 else 0.0
    other = [scores[k] for k in order[1:] if classes[k].split("/", 1)[0] != u]
    um = float(scores[order[0]] - other[0]) if other else cm
    return u, c, um, cm


#: clause boundaries of a call: punctuation and "and also" words
_CLAUSE = re.compile(
    r"[，,。.;；!！?？]+|\s+(?:and|also|plus)\s+|而且|并且|另外|还有|同时|然后"
    r"|(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])"  # speech-to-text without punctuation
)
#: categories that are one event told twice, not two issues (a burst floods the street)
_SAME_EVENT = {
    frozenset({"burst_flooding", "waterlogging"}),
    frozenset({"burst_flooding", "manhole_overflow"}),
    frozenset({"burst_flooding", "drain_blocked"}),
}


def issues(clf: ComplaintClassifier, text: str, first: tuple[str, str]) -> list[tuple[str, str]]:
    """The lifeline issues of one call in the order they are mentioned: ``[first]``, or two
    when the call also reports another utility's problem (停水了，而且电也停了 → no_water, then
    no_power). ``first`` is the label of the whole text.

    The call is cut into clauses. A clause that names exactly one utility other than the first
    issue's (by the cues of :data:`lifeline.incidents.complaints.cues.UTILITY_CUES`) and a
    symptom (:data:`~lifeline.incidents.complaints.cues.SYMPTOMS`) reports a second issue when
    the model's best label for the clause is of that utility; the same event told twice (a
    burst that floods the street) is not a second issue. The issue named in an earlier clause
    comes first.
    """
    from lifeline.incidents.complaints.cues import SYMPTOMS, UTILITY_CUES, concepts

    if first[0] == "other":
        return [first]
    clauses = [c for c in _CLAUSE.split(text) if c and len(c.strip()) >= 2]
    if len(clauses) < 2:
        return [first]
    classes, dec = clf._decide(clauses)
    found = [concepts(normalise(c)) for c in clauses]
    named = [[u for u, cues in UTILITY_CUES.items() if cues & f] for f in found]
    first_at = next((i for i, n in enumerate(named) if first[0] in n), 0)
    for i, utilities in enumerate(named):
        if len(utilities) != 1 or utilities[0] == first[0] or not SYMPTOMS & found[i]:
            continue
        u, c = classes[int(dec[i].argmax())].split("/", 1)
        if u != utilities[0]:
            continue  # the model reads the clause otherwise
        if frozenset({c, first[1]}) in _SAME_EVENT:
            continue
        return [(u, c), first] if i < first_at else [first, (u, c)]
    return [first]


def _margin(dec: Any) -> list[float]:
    import numpy as np

    d = np.asarray(dec)
    if d.ndim == 1:
        return [float(abs(v)) for v in d]
    s = np.sort(d, axis=1)
    return [float(v) for v in s[:, -1] - s[:, -2]]


def _joint(df: pd.DataFrame) -> pd.Series:
    return df["utility"].astype(str) + "/" + df["category"].astype(str)


def dev_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The development rows (all rows of a corpus without a ``split`` column)."""
    if "split" not in df.columns:
        return df
    return df[df["split"].fillna("dev").replace("", "dev") == "dev"].reset_index(drop=True)


def template_split(
    df: pd.DataFrame, test_size: float = 0.25, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split by ``template_id`` stratified on the (utility, category) label: no template has rows
    on both sides."""
    import numpy as np

    rng = np.random.default_rng(seed)
    test_templates: list[str] = []
    for _, g in df.assign(_label=_joint(df)).groupby("_label", sort=True):
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


def score(test: pd.DataFrame, pred: pd.DataFrame) -> dict[str, Any]:
    """Accuracies (0–1) of ``pred`` against the labelled ``test`` rows.

    ``category_accuracy_by_lang`` per language (``zh-cq``: Chongqing dialect); ``other_recall``:
    complaints not about a lifeline recognised as such; ``other_into_lifeline``: the share of them
    pushed into a lifeline label (they would open or join incidents); ``lifeline_into_other``:
    lifeline complaints lost as ``other``; ``second_issue_found``: calls with two issues whose
    second is named right; ``second_issue_spurious``: single-issue calls given a second.
    """

    tu, tc = test["utility"].to_numpy(), test["category"].to_numpy()
    pu, pc = pred["utility"].to_numpy(), pred["category"].to_numpy()
    out: dict[str, Any] = {
        "n_test": len(test),
        "n_test_templates": int(test["template_id"].nunique()),
        "utility_accuracy": float((pu == tu).mean()),
        "category_accuracy": float((pc == tc).mean()),
        "both_accuracy": float(((pu == tu) & (pc == tc)).mean()),
    }
    per_lang = {}
    for lang in sorted(test.get("lang", pd.Series(dtype=str)).unique()):
        m = (test["lang"] == lang).to_numpy()
        per_lang[lang] = float((pc[m] == tc[m]).mean())
    out["category_accuracy_by_lang"] = per_lang
    other = tc == "other"
    if other.any():
        out["other_recall"] = float((pc[other] == "other").mean())
        out["other_into_lifeline"] = float((pc[other] != "other").mean())
    if (~other).any():
        out["lifeline_into_other"] = float((pc[~other] == "other").mean())
    if "category2" in test.columns:
        c2 = test["category2"].fillna("").astype(str).to_numpy()
        two = c2 != ""
        p2 = pred["category2"].fillna("").astype(str).to_numpy()
        u2 = test["utility2"].fillna("").astype(str).to_numpy()
        pu2 = pred["utility2"].fillna("").astype(str).to_numpy()
        if two.any():
            out["n_two_issue"] = int(two.sum())
            out["second_issue_found"] = float(((p2 == c2) & (pu2 == u2))[two].mean())
        out["second_issue_spurious"] = float((p2[~two] != "").mean()) if (~two).any() else 0.0
    return out


def evaluate(
    df: pd.DataFrame | None = None, split: str = "template", seed: int = 0
) -> dict[str, Any]:
    """Cross-validation on the development rows: train on one part, score on the held-out part
    (``template``: whole templates held out, the honest figure; ``random``: rows)."""
    df = dev_rows(load_corpus() if df is None else df)
    train, test = (
        template_split(df, seed=seed) if split == "template" else random_split(df, seed=seed)
    )
    clf = ComplaintClassifier.train(
        train["text"].tolist(), train["utility"].tolist(), train["category"].tolist()
    )
    return {
        "split": split,
        "n_train": len(train),
        **score(test, clf.predict(test["text"].tolist())),
    }


def evaluate_final(df: pd.DataFrame | None = None) -> dict[str, Any]:
    """Train on every development row, score on the final test templates (``split == "final"``,
    written before tuning; see :mod:`lifeline.incidents.complaints.templates_final`)."""
    df = load_corpus() if df is None else df
    train = dev_rows(df)
    test = df[df["split"] == "final"].reset_index(drop=True)
    if test.empty:
        raise InputError("the corpus has no final test rows (split == 'final')", where="split")
    clf = ComplaintClassifier.train(
        train["text"].tolist(), train["utility"].tolist(), train["category"].tolist()
    )
    return {
        "split": "final",
        "n_train": len(train),
        **score(test, clf.predict(test["text"].tolist())),
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
