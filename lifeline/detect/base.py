"""The detector protocol: scoring and alarming stay apart.

A detector learns from history (``learn``) and turns a batch of readings into scores (``score``).
A separate :class:`ThresholdPolicy` turns scores into alarms. Every detector in lifeline —
generic (threshold, CUSUM, stuck, rate of change) or utility-specific (water leaks, methane,
power outages) — implements :class:`Detector` and is run through the same conformance tests.

Batches are long-layout readings: DataFrame with ``sensor_id``, ``ts`` (UTC), ``value``.
Scores are a DataFrame with ``sensor_id``, ``ts``, ``score`` (larger = more anomalous; 0 normal)
and optionally ``detail`` (a dict per row, e.g. a located pipe and a confidence).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import pandas as pd

SCORE_COLUMNS = ("sensor_id", "ts", "score")


@runtime_checkable
class Detector(Protocol):
    """What every detector provides."""

    name: str
    utility: str

    def learn(self, batch: pd.DataFrame) -> None:
        """Learn normal behaviour from a history batch (long layout). May be called repeatedly."""

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Score a batch (long layout); returns one row per scored (sensor_id, ts)."""
        ...


@dataclass
class ThresholdPolicy:
    """Turn scores into alarms: a score at or above ``threshold`` for ``min_consecutive`` rows in a
    row raises one alarm per episode; severity steps up at each value of ``severity_steps``.

    The policy holds no detector state, so it can be tuned (e.g. by the post-incident review)
    without relearning the detector.
    """

    threshold: float = 1.0
    min_consecutive: int = 1
    severity_steps: tuple[float, ...] = field(default_factory=lambda: (1.0, 2.0, 4.0))

    def alarms(self, scores: pd.DataFrame, detector: str, utility: str) -> pd.DataFrame:
        """Return alarms (columns of ``lifeline.model.schema.ALARM``) for the episodes in ``scores``."""
        import json
        import uuid

        from lifeline.model.schema import conform, empty_frame

        if scores.empty:
            return empty_frame("alarm")
        rows = []
        for sensor_id, s in scores.sort_values("ts").groupby("sensor_id", sort=False):
            over = (s["score"] >= self.threshold).to_numpy()
            run = 0
            in_episode = False
            for i, flag in enumerate(over):
                run = run + 1 if flag else 0
                if not flag:
                    in_episode = False
                if run >= self.min_consecutive and not in_episode:
                    in_episode = True
                    row = s.iloc[i]
                    score = float(row["score"])
                    severity = 1 + sum(
                        score >= step * self.threshold for step in self.severity_steps[1:]
                    )
                    detail = row.get("detail") if "detail" in s.columns else None
                    rows.append(
                        {
                            "alarm_id": f"{detector}-{uuid.uuid4().hex[:12]}",
                            "ts": row["ts"],
                            "utility": utility,
                            "detector": detector,
                            "severity": int(min(severity, 3)),
                            "sensors": json.dumps([str(sensor_id)]),
                            "score": score,
                            "location": json.dumps(
                                (detail or {}).get("location", [])
                                if isinstance(detail, dict)
                                else []
                            ),
                            "detail": json.dumps(
                                detail if isinstance(detail, dict) else {}, default=str
                            ),
                        }
                    )
        return conform("alarm", pd.DataFrame(rows)) if rows else empty_frame("alarm")
