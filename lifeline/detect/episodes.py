"""Alarm episodes: one alarm per detector and key (a sensor or an area) while the condition
lasts — opened, updated as it grows, closed when it ends.

An :class:`EpisodeTracker` keeps, per key, the run of scores over the policy's threshold and the
open episode; :meth:`EpisodeTracker.update` consumes scores in time order and returns the alarm
rows that changed: opened, grown (severity up, or the peak score 25 % over the last published
one), moved (the detail's ``location`` changed at an undiminished score) or closed. Alarm ids
are deterministic — ``<detector>:<key>:<episode start>`` — so a replayed or re-processed stream
yields the same alarms, never a second copy.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lifeline.detect.base import ThresholdPolicy

#: an open episode is re-published when its peak score grows by this factor
GROWTH_FACTOR = 1.25


def alarm_id(detector: str, key: str, start: pd.Timestamp) -> str:
    """The deterministic id of the episode of ``detector`` on ``key`` that began at ``start``."""
    return f"{detector}:{key}:{pd.Timestamp(start):%Y%m%dT%H%M%SZ}"


@dataclass
class Episode:
    """One alarm episode (times UTC)."""

    key: str
    start: pd.Timestamp  # first score over the threshold in the run that raised it
    raised: pd.Timestamp  # when it was raised (after ``min_consecutive`` scores)
    last: pd.Timestamp
    peak: float
    severity: int
    detail: dict[str, Any]
    published_peak: float
    below: int = 0
    ended: pd.Timestamp | None = None

    def to_state(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "key": self.key,
            "start": self.start.isoformat(),
            "raised": self.raised.isoformat(),
            "last": self.last.isoformat(),
            "peak": self.peak,
            "severity": self.severity,
            "detail": self.detail,
            "published_peak": self.published_peak,
            "below": self.below,
        }

    @classmethod
    def from_state(cls, d: dict[str, Any]) -> Episode:
        """Inverse of :meth:`to_state`."""
        return cls(
            key=d["key"],
            start=pd.Timestamp(d["start"]),
            raised=pd.Timestamp(d["raised"]),
            last=pd.Timestamp(d["last"]),
            peak=float(d["peak"]),
            severity=int(d["severity"]),
            detail=dict(d["detail"]),
            published_peak=float(d["published_peak"]),
            below=int(d["below"]),
        )


@dataclass
class Changes:
    """Alarm rows (``schema.ALARM`` dicts) that an update opened, updated or closed."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        """Every changed alarm as an ALARM frame (an episode's latest row only)."""
        from lifeline.model.schema import conform, empty_frame

        if not self.rows:
            return empty_frame("alarm")
        df = pd.DataFrame(self.rows).drop_duplicates("alarm_id", keep="last")
        return conform("alarm", df)

    def opened(self) -> pd.DataFrame:
        """The alarms first raised in this update (as first raised)."""
        from lifeline.model.schema import conform, empty_frame

        rows = [r for r in self.rows if r["_change"] == "opened"]
        return conform("alarm", pd.DataFrame(rows)) if rows else empty_frame("alarm")


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


class EpisodeTracker:
    """Episodes of one detector under one policy, fed scores in time order across batches."""

    def __init__(
        self,
        policy: ThresholdPolicy,
        detector: str,
        utility: str,
        utility_of: Any = None,
    ) -> None:
        self.policy = policy
        self.detector = detector
        self.utility = utility
        #: for detectors that watch every utility: key -> the utility of its sensor
        self.utility_of = utility_of
        self.open: dict[str, Episode] = {}
        self._run: dict[str, tuple[int, str]] = {}  # key -> (scores over, first ts ISO)

    def _row(self, ep: Episode, change: str) -> dict[str, Any]:
        det = {k: _clean(v) for k, v in ep.detail.items()}
        sensors = det.get("sensors") or [ep.key]
        return {
            "_change": change,
            "alarm_id": alarm_id(self.detector, ep.key, ep.start),
            "ts": ep.raised,
            "utility": self.utility
            or (self.utility_of(ep.key) if self.utility_of is not None else "")
            or str(det.get("utility") or ""),
            "detector": self.detector,
            "severity": ep.severity,
            "sensors": json.dumps([str(s) for s in sensors]),
            "score": float(ep.peak),
            "location": json.dumps(det.get("location", []), default=str),
            "detail": json.dumps(det, default=str, ensure_ascii=False),
            "state": "closed" if ep.ended is not None else "open",
            "updated_at": ep.ended if ep.ended is not None else ep.last,
            "ended_at": ep.ended,
        }

    def update(self, scores: pd.DataFrame) -> Changes:
        """Consume ``scores`` (``key`` or ``sensor_id``, ``ts``, ``score``, optional ``detail``)
        in time order; return the alarms opened, grown or closed."""
        out = Changes()
        if scores is None or len(scores) == 0:
            return out
        key_col = "key" if "key" in scores.columns else "sensor_id"
        s = scores.assign(_k=scores[key_col].astype(str)).sort_values(["ts", "_k"], kind="stable")
        has_detail = "detail" in s.columns
        pol = self.policy
        for k, ts, score, detail in zip(
            s["_k"],
            s["ts"],
            s["score"].astype(float),
            s["detail"] if has_detail else [None] * len(s),
            strict=True,
        ):
            ts = pd.Timestamp(ts)
            d = detail if isinstance(detail, dict) else {}
            ep = self.open.get(k)
            if ep is not None:
                if pol.clears(score):
                    ep.below += 1
                    ep.last = ts
                    if ep.below >= pol.clear_after:
                        ep.ended = ts
                        out.rows.append(self._row(ep, "closed"))
                        del self.open[k]
                        self._run.pop(k, None)
                    continue
                ep.below = 0
                ep.last = ts
                # the place narrowed or moved at an undiminished score (an outage's fault
                # section once the indicators report, a leak's best junction): a new detail
                moved = (
                    bool(d) and score >= ep.peak and d.get("location") != ep.detail.get("location")
                )
                if score > ep.peak or moved:
                    ep.peak = max(score, ep.peak)
                    ep.detail = d or ep.detail
                sev = pol.severity(score)
                if sev > ep.severity or ep.peak >= GROWTH_FACTOR * ep.published_peak or moved:
                    ep.severity = max(sev, ep.severity)
                    ep.published_peak = ep.peak
                    out.rows.append(self._row(ep, "updated"))
                continue
            if score >= pol.threshold:
                n, first = self._run.get(k, (0, ts.isoformat()))
                n += 1
                self._run[k] = (n, first)
                if n >= pol.min_consecutive:
                    ep = Episode(
                        key=k,
                        start=pd.Timestamp(first),
                        raised=ts,
                        last=ts,
                        peak=score,
                        severity=pol.severity(score),
                        detail=d,
                        published_peak=score,
                    )
                    self.open[k] = ep
                    out.rows.append(self._row(ep, "opened"))
            else:
                self._run.pop(k, None)
        return out

    def get_state(self) -> dict[str, Any]:
        """Open episodes and runs, JSON-able."""
        return {
            "open": [e.to_state() for e in self.open.values()],
            "run": {k: list(v) for k, v in self._run.items()},
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`."""
        self.open = {d["key"]: Episode.from_state(d) for d in state.get("open", [])}
        self._run = {k: (int(v[0]), str(v[1])) for k, v in state.get("run", {}).items()}
