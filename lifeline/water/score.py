"""The BattLeDIM economic score of a leak submission against truth.

Rules (BattLeDIM 2020, as summarised in the dataset README):
- a detection is a true positive when it names a pipe within ``max_distance_m`` (300 m) along the
  network of a leak that is active at the detection time (start ≤ t ≤ end) and not yet matched;
  among several such leaks the nearest is taken;
- a true positive earns ``price_eur_m3`` (0.80 €) per m³ of that leak's outflow from the
  detection time to the end of the data, minus a crew cost that grows linearly with the pipe-path
  distance, ``crew_eur`` (500 €) × distance / 300 m;
- every other detection (wrong place, wrong time, a second detection of a matched leak) is a false
  positive and costs ``fp_eur`` (500 €);
- the perfect score is the sum over leaks of 0.80 € × the leak's whole outflow volume.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifeline.errors import InputError
from lifeline.water.network import PipeGraph
from lifeline.water.scada import Leak


@dataclass
class Submission:
    """One submitted detection."""

    pipe: str
    time: pd.Timestamp
    line: int = 0


@dataclass
class ScoreResult:
    """Score in €, counts, the perfect score and the matched pairs."""

    score_eur: float
    perfect_eur: float
    tp: int
    fp: int
    fn: int
    matches: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fraction(self) -> float:
        """Score as a fraction of the perfect score (can be negative)."""
        return self.score_eur / self.perfect_eur if self.perfect_eur > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return {
            "score_eur": round(self.score_eur, 2),
            "perfect_eur": round(self.perfect_eur, 2),
            "fraction_of_perfect": round(self.fraction, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "matches": self.matches,
        }


def read_submission(path: str | Path, pipes: set[str] | None = None) -> list[Submission]:
    """Read a BattLeDIM results file: lines ``pipe, YYYY-MM-DD HH:MM``; ``#`` starts a comment."""
    path = Path(path)
    if not path.is_file():
        raise InputError("submission file not found", str(path))
    out = []
    for n, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split(",")]
        if len(parts) < 2 or not parts[0]:
            raise InputError("expected 'pipe, YYYY-MM-DD HH:MM'", f"{path}:{n}")
        try:
            ts = pd.Timestamp(parts[1])
        except (ValueError, TypeError) as exc:
            raise InputError(f"bad time {parts[1]!r}", f"{path}:{n}") from exc
        if pd.isna(ts):
            raise InputError(f"bad time {parts[1]!r}", f"{path}:{n}")
        if pipes is not None and parts[0] not in pipes:
            raise InputError(f"pipe {parts[0]!r} is not in the network", f"{path}:{n}")
        out.append(Submission(parts[0], ts, n))
    return out


def score(
    subs: list[Submission],
    leaks: list[Leak],
    outflow_m3h: pd.DataFrame,
    graph: PipeGraph,
    max_distance_m: float = 300.0,
    price_eur_m3: float = 0.8,
    crew_eur: float = 500.0,
    fp_eur: float = 500.0,
    ignore: list[Leak] | None = None,
) -> ScoreResult:
    """Score ``subs`` against ``leaks`` (outflow per leak pipe in m³/h on a regular grid).

    ``ignore``: leaks already known (e.g. carried over from a calibration period); a detection
    matching one of them is neither a true nor a false positive.
    """
    if outflow_m3h.empty:
        raise InputError("leak_outflow.csv is required for scoring")
    idx = pd.DatetimeIndex(outflow_m3h.index)
    step_h = float(np.median(np.diff(idx.asi8)) / 3.6e12) if len(idx) > 1 else 1.0
    vol_after: dict[int, np.ndarray] = {}
    for i, lk in enumerate(leaks):
        if lk.pipe not in outflow_m3h.columns:
            raise InputError(f"no outflow column for leak pipe {lk.pipe!r}", "leak_outflow.csv")
        q = outflow_m3h[lk.pipe].to_numpy(dtype=float)
        active = (idx >= lk.start) & (idx <= lk.end)
        v = np.where(active, np.nan_to_num(q), 0.0) * step_h
        vol_after[i] = np.cumsum(v[::-1])[::-1]  # volume from each step to the end
    perfect = sum(
        price_eur_m3 * float(vol_after[i][idx.searchsorted(lk.start)])
        if idx.searchsorted(lk.start) < len(idx)
        else 0.0
        for i, lk in enumerate(leaks)
    )
    matched: set[int] = set()
    total, tp, fp = 0.0, 0, 0
    matches: list[dict[str, Any]] = []
    for s in sorted(subs, key=lambda s: s.time):
        best, best_d = -1, np.inf
        for i, lk in enumerate(leaks):
            if i in matched or not (lk.start <= s.time <= lk.end):
                continue
            d = _dist(graph, s.pipe, lk.pipe)
            if d <= max_distance_m and d < best_d:
                best, best_d = i, d
        if best < 0:
            if ignore and any(
                k.start <= s.time <= k.end and _dist(graph, s.pipe, k.pipe) <= max_distance_m
                for k in ignore
            ):
                matches.append(
                    {"pipe": s.pipe, "time": str(s.time), "result": "known leak, ignored"}
                )
                continue
            fp += 1
            total -= fp_eur
            matches.append({"pipe": s.pipe, "time": str(s.time), "result": "FP"})
            continue
        matched.add(best)
        k = min(idx.searchsorted(s.time), len(idx) - 1)
        saved = price_eur_m3 * float(vol_after[best][k])
        crew = crew_eur * best_d / max_distance_m
        total += saved - crew
        tp += 1
        matches.append(
            {
                "pipe": s.pipe,
                "time": str(s.time),
                "result": "TP",
                "leak": leaks[best].pipe,
                "distance_m": round(best_d, 1),
                "saved_eur": round(saved, 2),
                "crew_eur": round(crew, 2),
            }
        )
    return ScoreResult(total, perfect, tp, fp, len(leaks) - tp, matches)


def _dist(graph: PipeGraph, a: str, b: str) -> float:
    try:
        return graph.pipe_distance(a, b)
    except Exception:
        return float("inf")
