"""Online methane alarm detector for streamed manhole readings (implements ``Detector``).

``score`` returns ``value / level1`` per reading in a frame ``key`` (the sensor id), ``ts``,
``score``, ``detail``; the default policy (``ThresholdPolicy(threshold=1.0,
severity_steps=(1.0, level2 / level1, 100 / level1))``) raises level-1 alarms at 25 %LEL,
level 2 at 50 %LEL and severity 3 at the LEL. Set points: GB/T 50493-2019 (first alarm
≤ 25 %LEL, second ≤ 50 %LEL). Every row's ``detail`` has ``level`` (0/1/2) and ``location`` (the
manhole asset with ``x_m, y_m`` and its zone); a graded reading adds ``trend``, ``cause``
(``gas_leak``, ``other`` or ``sensor_fault``), ``neighbours`` (rising manholes nearby),
``near_main`` and ``main_distance_m``, re-derived at most every ``explain_every_min`` minutes
of event time per sensor (and whenever the level changes); once ``gas_leak``, the cause stays
so while the manhole stays graded.

The cause uses the sensor's own readings of the last ``buffer_hours`` up to the reading's time
(stuck runs, spikes, a sustained rise), neighbouring manholes rising at the same time (gas from
a main reaches several manholes; biogas is local), the distance to the nearest gas main and,
optionally, a pressure-drop flag set by the caller (:meth:`set_pressure_drop`). Everything a
reading's detail uses lies at or before its time, so the scores and details do not depend on
how the stream is cut into batches. State: the last ``buffer_hours`` of readings per sensor (at
most ``max_readings``), JSON-able.

Example::

    det = MethaneAlarmDetector(positions={"CH4-1": (0.0, 0.0)}, main_distance_m={"CH4-1": 3.0})
    det.learn(history)               # long layout: sensor_id, ts (UTC), value (%LEL)
    scores = det.score(new_batch)    # key, ts, score, detail
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lifeline.detect.base import DetectorStatus, empty_scores
from lifeline.detect.readings import location, score_frame, ts_ns, values
from lifeline.detect.ring import Ring
from lifeline.gas.methane import AlarmConfig, SensorFeatures, sensor_features, trend_label


@dataclass
class MethaneAlarmDetector:
    """Grades and classifies methane readings (%LEL) from manholes, batch by batch."""

    positions: dict[str, tuple[float, float]] = field(default_factory=dict)  # sensor -> (x, y) m
    main_distance_m: dict[str, float] = field(default_factory=dict)  # sensor -> nearest gas main, m
    config: AlarmConfig = field(default_factory=AlarmConfig)
    neighbour_radius_m: float = 120.0
    main_radius_m: float = 30.0  # farther from any gas main than this: a network leak is unlikely
    buffer_hours: float = 12.0
    max_readings: int = 2000  # per sensor: the ring buffer's capacity (bounds memory and state)
    explain_every_min: float = 10.0  # a graded sensor's cause is re-derived this often
    locations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # sensor -> candidates
    name: str = "methane"
    utility: str = "gas"
    inputs: str = "readings"
    _ring: Ring | None = field(default=None, repr=False)
    _pressure_drop: bool = field(default=False, repr=False)
    _near: dict[str, list[str]] = field(default_factory=dict, repr=False)
    #: sensor -> (time ns, level, explanation) of its latest explanation
    _said: dict[str, tuple[int, int, dict[str, Any]]] = field(default_factory=dict, repr=False)
    _quiet: np.ndarray = field(default_factory=lambda: np.zeros(0, object), repr=False)

    @property
    def ring(self) -> Ring:
        """The recent readings (capacity: ``max_readings`` per sensor)."""
        if self._ring is None:
            self._ring = Ring(self.max_readings)
        return self._ring

    @property
    def _every_ns(self) -> int:
        return int(self.explain_every_min * 60e9)

    # ---- protocol ----------------------------------------------------------------------------
    def learn(self, batch: pd.DataFrame) -> None:
        """Keep the recent history per sensor (baseline and noise come from it)."""
        self._ingest(batch, explain=False)

    def set_pressure_drop(self, dropping: bool) -> None:
        """Tell the detector whether the gas network's pressures currently show a leak-like drop
        (kept in the state; the live engine leaves it off and lets correlation combine the
        methane and pressure alarms)."""
        self._pressure_drop = bool(dropping)

    def status(self) -> DetectorStatus:
        """Grading needs no warm-up; the cause uses up to ``buffer_hours`` of history."""
        n = len(self.positions) or len(self.ring.rows)
        return DetectorStatus(
            name=self.name,
            ready=True,
            sensors=n,
            sensors_ready=n,
            warmup=f"none for the grade; the cause uses up to {self.buffer_hours:g} h of readings",
        )

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """One row per new reading: ``score = value / level1`` and a ``detail`` (module doc)."""
        return self._ingest(batch, explain=True)

    def _ingest(self, batch: pd.DataFrame, explain: bool) -> pd.DataFrame:
        if batch is None or batch.empty:
            return empty_scores()
        ring = self.ring
        pos = ring.positions_of(batch["sensor_id"])
        ts = ts_ns(batch["ts"])
        v = values(batch["value"])
        order = np.argsort(ts, kind="stable")
        ts, v, pos = ts[order], v[order], pos[order]
        # new readings only: after the sensor's last time, one per sensor and time
        keep = np.isfinite(v) & (ts > ring.last[pos])
        by = np.lexsort((pos, ts))
        dup = np.zeros(len(ts), bool)
        dup[by[1:]] = (ts[by[1:]] == ts[by[:-1]]) & (pos[by[1:]] == pos[by[:-1]])
        keep &= ~dup
        ts, v, pos = ts[keep], v[keep], pos[keep]
        if not len(ts):
            return empty_scores()
        sid = ring.id_array[pos]
        cfg = self.config
        if not explain:
            ring.append(pos, ts, v)
            return empty_scores()
        details = self._quiet_details()[pos]
        done = 0  # readings written to the ring (every reading up to a graded reading's time)
        for i in np.flatnonzero(v >= cfg.level1).tolist():
            s, t = str(sid[i]), int(ts[i])
            upto = int(np.searchsorted(ts, t, side="right"))
            if upto > done:
                ring.append(pos[done:upto], ts[done:upto], v[done:upto])
                done = upto
            level = 2 if v[i] >= cfg.level2 else 1
            prev = self._said.get(s)
            if prev is not None:  # a manhole back under level 1 since starts afresh
                _, seen = ring.window(int(pos[i]), prev[0] + 1, t)
                if (seen < cfg.level1).any():
                    prev = None
            if prev is None or prev[1] != level or t - prev[0] >= self._every_ns:
                said = self._explain(s, t)
                if prev is not None and prev[2].get("cause") == "gas_leak":
                    # a leak stays a leak while the manhole stays graded (its pre-leak
                    # baseline may have left the buffer)
                    said["cause"] = "gas_leak"
                    said["neighbours"] = sorted(
                        set(said.get("neighbours", [])) | set(prev[2].get("neighbours", []))
                    )
                prev = (t, level, said)
                self._said[s] = prev
            details[i] = {"level": level, "location": self._location(s), **prev[2]}
        ring.append(pos[done:], ts[done:], v[done:])
        return score_frame(sid, ts, v / cfg.level1, details)

    def get_state(self) -> dict[str, Any]:
        """The readings of the last ``buffer_hours`` per sensor (first time ISO, offsets in s,
        values), the pressure flag and the latest explanations."""
        ring = self.ring
        return {
            "detector": self.name,
            "version": 2,
            "buffers": ring.to_state(int(self.buffer_hours * 3600e9)),
            "last_ts": {
                s: pd.Timestamp(int(ring.last[r]), tz="UTC").isoformat()
                for s, r in ring.rows.items()
            },
            "pressure_drop": self._pressure_drop,
            "explained": {
                s: {"ts": pd.Timestamp(t, tz="UTC").isoformat(), "level": lv, "detail": d}
                for s, (t, lv, d) in self._said.items()
            },
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state` output."""
        ring = self.ring
        ring.from_state(state.get("buffers") or {})
        for s, t in (state.get("last_ts") or {}).items():
            r = int(ring.positions(np.array([str(s)], dtype=object))[0])
            ring.last[r] = pd.Timestamp(t).value
        self._pressure_drop = bool(state.get("pressure_drop", False))
        self._said = {
            str(s): (pd.Timestamp(e["ts"]).value, int(e["level"]), dict(e["detail"]))
            for s, e in (state.get("explained") or {}).items()
        }

    # ---- internals ---------------------------------------------------------------------------
    def _location(self, sid: str) -> list[dict[str, Any]]:
        if sid in self.locations:
            return self.locations[sid]
        x, y = self.positions.get(sid, (float("nan"), float("nan")))
        return [location(sid, x, y, 0.9)]

    def _quiet_details(self) -> np.ndarray:
        """Per ring row, the (shared, read-only) detail of an ungraded reading."""
        ids = self.ring.ids
        if len(self._quiet) < len(ids):
            new = [{"level": 0, "location": self._location(s)} for s in ids[len(self._quiet) :]]
            self._quiet = np.concatenate([self._quiet, np.fromiter(new, object, len(new))])
        return self._quiet

    def _features(self, sid: str, t: int) -> SensorFeatures | None:
        r = self.ring.rows.get(sid)
        if r is None:
            return None
        tt, vv = self.ring.window(r, t - int(self.buffer_hours * 3600e9), t)
        if len(tt) < 2:
            return None
        return sensor_features(sid, tt.view("M8[ns]"), vv, self.config)

    def _neighbours(self, sid: str) -> list[str]:
        if sid not in self._near:
            x, y = self.positions.get(sid, (float("nan"), float("nan")))
            self._near[sid] = sorted(
                o
                for o, (ox, oy) in self.positions.items()
                if o != sid and float(np.hypot(ox - x, oy - y)) <= self.neighbour_radius_m
            )
        return self._near[sid]

    def _explain(self, sid: str, t: int) -> dict[str, Any]:
        f = self._features(sid, t)
        dist = self.main_distance_m.get(sid)
        out: dict[str, Any] = {
            "near_main": bool((dist if dist is not None else 0.0) <= self.main_radius_m),
            "main_distance_m": None if dist is None else round(float(dist), 1),
        }
        if f is None:
            return {**out, "trend": "steady", "cause": "other", "neighbours": []}
        out["trend"] = trend_label(f.trend_pct_per_h)
        out["cause"], out["neighbours"] = self._cause(sid, f, t)
        return out

    def _cause(self, sid: str, f: SensorFeatures, t: int) -> tuple[str, list[str]]:
        cfg = self.config
        if f.fault:
            return "sensor_fault", []
        near: list[str] = []
        if f.onset_ts is not None:
            span = int(self.buffer_hours * 3600e9)
            for o in self._neighbours(sid):
                r = self.ring.rows.get(o)
                if r is None:
                    continue
                _, w = self.ring.window(r, t - span, t)
                if len(w) < 2 or w.max() - w.min() < cfg.rise_min:
                    continue  # cannot have risen by rise_min: skip the full features
                g = self._features(o, t)
                if g is None or g.fault or g.onset_ts is None or g.rise < cfg.rise_min:
                    continue
                if abs((g.onset_ts - f.onset_ts) / pd.Timedelta(minutes=1)) <= 90:
                    near.append(o)
        near_main = self.main_distance_m.get(sid, 0.0) <= self.main_radius_m
        persistent = f.persistence >= 0.7 or f.onset_ts is None
        if near_main and persistent and (near or self._pressure_drop):
            return "gas_leak", sorted(near)
        return "other", sorted(near)
