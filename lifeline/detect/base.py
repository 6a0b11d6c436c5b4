"""The detector protocol: scoring and alarming stay apart.

A detector turns readings (or meter events) into **scores**; a :class:`ThresholdPolicy` turns
scores into **alarm episodes** (:mod:`lifeline.detect.episodes`). Every detector in lifeline —
generic (threshold, CUSUM, stuck sensor, rate of change) or utility-specific (water leaks,
methane, gas pressure, power supply loss / overload / voltage / outage inference) — implements
:class:`Detector`, is listed in :mod:`lifeline.detect.registry` and passes one conformance
suite (``tests/detect/test_conformance.py``).

Input batches are long-layout frames sorted by ``ts``:

* readings: ``sensor_id``, ``ts`` (UTC), ``value`` plus the sensor's ``utility``, ``quantity``,
  ``element`` (``node:J1``, ``bus:3``, ""), ``asset_id``, ``x_m``, ``y_m`` (the engine adds
  these from the sensor table; detectors never parse sensor ids);
* events (``inputs = "events"``): ``event_id``, ``ts``, ``kind``, ``utility``, ``customer_id``,
  ``element`` (``schema.METER_EVENT``).

Scores: a frame with ``key`` (the sensor id, or an area id for detectors that score areas),
``ts``, ``score`` (float ≥ 0, larger = more anomalous, in the detector's own unit, which its
default policy documents) and ``detail`` (a dict: ``location`` candidates
``[{"asset_id", "confidence", "x_m", "y_m", "zone_id"?}]`` and anything else the alarm should
carry). ``score`` also **learns online**: normal behaviour is updated reading by reading, so a
city connected today needs no history; a sensor scores 0 until its detector is ready for it.

The contract the conformance suite checks:

* an empty batch gives an empty score frame with the columns above;
* split invariance: a day scored in one batch or in 96 batches gives the same scores;
* determinism: two fresh detectors on the same data give the same scores;
* checkpoint round trip: ``get_state()`` is JSON-serialisable, and a detector restored with
  ``set_state`` continues exactly as the original would;
* ``status()`` says whether it is ready and what it still needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pandas as pd

SCORE_COLUMNS = ("key", "ts", "score", "detail")
READING_COLUMNS = (
    "sensor_id",
    "ts",
    "value",
    "utility",
    "quantity",
    "element",
    "asset_id",
    "x_m",
    "y_m",
)
EVENT_COLUMNS = ("event_id", "ts", "kind", "utility", "customer_id", "element")


@dataclass
class DetectorStatus:
    """Readiness of a detector: ``ready`` when it scores every sensor it watches; ``warmup``
    says what it needs (e.g. "1 day of readings per sensor")."""

    name: str
    ready: bool
    sensors: int = 0
    sensors_ready: int = 0
    warmup: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "name": self.name,
            "ready": self.ready,
            "sensors": self.sensors,
            "sensors_ready": self.sensors_ready,
            "warmup": self.warmup,
            **({"detail": self.detail} if self.detail else {}),
        }


@runtime_checkable
class Detector(Protocol):
    """What every detector provides (see the module docstring for the data shapes)."""

    name: str
    utility: str
    inputs: str  # "readings" | "events"

    def learn(self, batch: pd.DataFrame) -> None:
        """Seed normal behaviour from a history batch (no scores). May be called repeatedly."""

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Score a batch (and learn from it online); one row per scored (key, ts)."""
        ...

    def status(self) -> DetectorStatus:
        """Readiness and warm-up needs."""
        ...

    def get_state(self) -> dict[str, Any]:
        """Everything learnt so far, JSON-serialisable (for checkpoints)."""
        ...

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned."""
        ...


_EMPTY: pd.DataFrame | None = None


def empty_scores() -> pd.DataFrame:
    """A score frame with no rows (a copy of one built once: building it costs milliseconds)."""
    global _EMPTY
    if _EMPTY is None:
        _EMPTY = pd.DataFrame(
            {
                "key": pd.Series(dtype=object),
                "ts": pd.Series(dtype="datetime64[ns, UTC]"),
                "score": pd.Series(dtype=float),
                "detail": pd.Series(dtype=object),
            }
        )
    return _EMPTY.copy()


@dataclass
class ThresholdPolicy:
    """Turn scores into alarm episodes.

    An episode opens when the score is at or above ``threshold`` for ``min_consecutive`` scores
    in a row, grows while it stays there (severity steps up at each multiple of ``threshold``
    in ``severity_steps``; 1 low … 3 high) and closes after ``clear_after`` scores in a row below
    ``clear_below`` (default: the threshold). ``source`` says where the threshold comes from
    (a standard, a statistical limit, a city's setting). The policy holds no detector state, so
    it can be tuned (e.g. by the post-incident review) without relearning the detector.
    """

    threshold: float = 1.0
    min_consecutive: int = 1
    severity_steps: tuple[float, ...] = (1.0, 2.0, 4.0)
    clear_below: float | None = None
    clear_after: int = 1
    source: str = ""

    def severity(self, score: float) -> int:
        """Severity 1..3 of a score (1 at the threshold)."""
        n = 1 + sum(score >= step * self.threshold for step in self.severity_steps[1:])
        return int(min(max(n, 1), 3))

    def clears(self, score: float) -> bool:
        """True when ``score`` counts towards closing an episode."""
        return score < (self.threshold if self.clear_below is None else self.clear_below)

    def alarms(self, scores: pd.DataFrame, detector: str, utility: str) -> pd.DataFrame:
        """The episodes opened in ``scores`` as ALARM rows (batch use; the live engine keeps an
        :class:`lifeline.detect.episodes.EpisodeTracker` across batches instead)."""
        from lifeline.detect.episodes import EpisodeTracker

        tracker = EpisodeTracker(self, detector, utility)
        return tracker.update(scores).opened()
