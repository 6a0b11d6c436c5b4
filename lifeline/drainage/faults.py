"""Sewer faults from the level sensors: a blockage, and a pump station that does not pump.

* :class:`BlockageDetector` — a manhole's level is **high while it is dry and the next level
  sensor downstream is low**: the water is held up between them (a blockage, silt, a collapsed
  pipe). Score = level / (``high_frac`` x the manhole's depth) while the mean rain of the last
  hour at every gauge is under ``dry_mm_h`` and the downstream sensor reads under ``low_frac`` of
  its manhole's depth; 0 otherwise. A storm surcharges the whole line, so rain suppresses it.
* :class:`PumpFailureDetector` — a pump that **should run but does not**: its wet well (the
  pump's inlet node) is above the pump's start-up depth (SWMM ``[PUMPS]`` Startup; else half the
  well's depth) while its status reads 0, or — its status telemetry silent for 15 min — the
  well keeps rising above that depth. Score = 1 + (level - start-up) / start-up when stopped,
  rise over the last 30 min / ``rise_m`` without status. A pump that runs while the well rises
  is overloaded, not failed: no score.

Both take readings in time order and keep only the latest values and a short history, so they
are split-invariant and checkpoint as plain JSON.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.detect.base import DetectorStatus, empty_scores

if TYPE_CHECKING:
    from lifeline.model.city import City


def _ref(element: Any) -> str:
    e = str(element or "")
    return e.split(":", 1)[1] if ":" in e else ""


def _swmm(city: City) -> tuple[Any, dict[str, dict[str, Any]]]:
    """The drainage model and its pumps (name -> from, to, startup m, shutoff m)."""
    from lifeline.drainage.model import _sections, load_network

    model = load_network(city.drainage_inp_path)
    pumps = {}
    for r in _sections(model.text).get("PUMPS", []):
        if len(r) < 3:
            continue

        def num(i: int, row: list[str] = r) -> float:
            try:
                return float(row[i])
            except (IndexError, ValueError):
                return 0.0

        pumps[r[0]] = {"from": r[1], "to": r[2], "startup": num(5), "shutoff": num(6)}
    return model, pumps


def _loc(city: City, node: str) -> list[dict[str, Any]]:
    a = city.assets
    hit = a[a.asset_id == f"drainage:node:{node}"]
    x = float(hit.x_m.iloc[0]) if len(hit) else None
    y = float(hit.y_m.iloc[0]) if len(hit) else None
    return [{"asset_id": f"drainage:node:{node}", "confidence": 0.8, "x_m": x, "y_m": y}]


class _Base:
    utility = "drainage"
    inputs = "readings"
    name = ""

    def learn(self, batch: pd.DataFrame) -> None:
        """Nothing to learn: the thresholds come from the network model."""

    def _frame(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        if not rows:
            return empty_scores()
        out = pd.DataFrame(rows)
        out["ts"] = pd.to_datetime(out["ts"], utc=True)
        out["score"] = out["score"].astype(float)
        return out[["key", "ts", "score", "detail"]]


class BlockageDetector(_Base):
    """Level high while dry and low downstream (module doc)."""

    name = "sewer_blockage"

    def __init__(
        self,
        city: City,
        sensors: pd.DataFrame,
        high_frac: float = 0.5,
        low_frac: float = 0.25,
        dry_mm_h: float = 1.0,
    ) -> None:
        import networkx as nx

        model, _ = _swmm(city)
        self.city = city
        self.high_frac, self.low_frac, self.dry_mm_h = high_frac, low_frac, dry_mm_h
        s = sensors.assign(element=sensors.element.fillna("").astype(str))
        self.gauges = [str(i) for i in s.sensor_id[s.quantity == "rain_mm_h"]]
        lv = s[(s.quantity == "level_m") & s.element.str.startswith("node:")]
        node_of = {str(r.sensor_id): _ref(r.element) for r in lv.itertuples(index=False)}
        g = nx.DiGraph()
        g.add_edges_from(model.links.values())
        sensor_at: dict[str, str] = {}
        for sid, n in node_of.items():
            sensor_at.setdefault(n, sid)
        self.depth = {sid: float(model.max_depth_m.get(n, np.inf)) for sid, n in node_of.items()}
        self.node_of = node_of
        self.downstream: dict[str, str] = {}
        for sid, n in node_of.items():
            if n not in g:
                continue
            lengths = nx.single_source_shortest_path_length(g, n)
            cands = sorted(
                (d, m) for m, d in lengths.items() if d > 0 and m in sensor_at and m != n
            )
            if cands:
                self.downstream[sid] = sensor_at[cands[0][1]]
        self.level: dict[str, float] = {}
        self.rain: dict[str, deque[tuple[str, float]]] = {g_: deque() for g_ in self.gauges}

    def _dry(self, ts: pd.Timestamp) -> bool:
        lo = ts - pd.Timedelta(hours=1)
        for q in self.rain.values():
            while q and pd.Timestamp(q[0][0]) <= lo:
                q.popleft()
            if q and float(np.mean([v for _, v in q])) >= self.dry_mm_h:
                return False
        return True

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Score each level sensor with a downstream partner at each of its readings."""
        if batch is None or len(batch) == 0:
            return empty_scores()
        rows: list[dict[str, Any]] = []
        b = batch.sort_values("ts", kind="stable")
        for ts, grp in b.groupby("ts", sort=True):
            ts = pd.Timestamp(ts)
            for sid, v in zip(grp.sensor_id.astype(str), grp.value.astype(float), strict=True):
                if np.isfinite(v) and sid in self.rain:
                    self.rain[sid].append((ts.isoformat(), float(v)))
                elif np.isfinite(v) and sid in self.node_of:
                    self.level[sid] = float(v)
            dry = self._dry(ts)
            for sid in grp.sensor_id.astype(str):
                down = self.downstream.get(sid)
                if down is None or sid not in self.level:
                    continue
                lvl, dl = self.level[sid], self.level.get(down, np.nan)
                full, dfull = self.depth[sid], self.depth[down]
                low = np.isfinite(dl) and dl < self.low_frac * dfull
                sc = lvl / (self.high_frac * full) if dry and low and np.isfinite(full) else 0.0
                rows.append(
                    {
                        "key": sid,
                        "ts": ts,
                        "score": round(float(max(sc, 0.0)), 4),
                        "detail": {
                            "utility": "drainage",
                            "node": self.node_of[sid],
                            "level_m": round(lvl, 3),
                            "downstream_sensor": down,
                            "downstream_level_m": round(float(dl), 3) if np.isfinite(dl) else None,
                            "dry": bool(dry),
                            "sensors": [sid, down],
                            "location": _loc(self.city, self.node_of[sid]),
                        },
                    }
                )
        return self._frame(rows)

    def status(self) -> DetectorStatus:
        """Ready at once; the sensors without a downstream partner are not scored."""
        n = len(self.node_of)
        return DetectorStatus(
            self.name,
            True,
            sensors=n,
            sensors_ready=len(self.downstream),
            warmup="none (rule on the network's topology)",
        )

    def get_state(self) -> dict[str, Any]:
        """Latest levels and the last hour of rain."""
        return {
            "level": dict(self.level),
            "rain": {k: list(map(list, q)) for k, q in self.rain.items()},
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`."""
        self.level = {str(k): float(v) for k, v in state.get("level", {}).items()}
        self.rain = {
            g: deque((str(a), float(v)) for a, v in state.get("rain", {}).get(g, []))
            for g in self.gauges
        }


class PumpFailureDetector(_Base):
    """A pump that should run and does not, or runs while its well keeps rising (module doc)."""

    name = "pump_failure"

    def __init__(self, city: City, sensors: pd.DataFrame, rise_m: float = 0.3) -> None:
        model, pumps = _swmm(city)
        self.city = city
        self.rise_m = rise_m
        s = sensors.assign(element=sensors.element.fillna("").astype(str))
        status = s[(s.quantity == "pump_on") & s.element.str.startswith("link:")]
        levels = s[(s.quantity == "level_m") & s.element.str.startswith("node:")]
        level_at = {_ref(r.element): str(r.sensor_id) for r in levels.itertuples(index=False)}
        self.pumps: dict[str, dict[str, Any]] = {}
        for r in status.itertuples(index=False):
            p = pumps.get(_ref(r.element))
            if p is None or p["from"] not in level_at:
                continue
            well = p["from"]
            start = p["startup"] or 0.5 * float(model.max_depth_m.get(well, 2.0))
            self.pumps[str(r.sensor_id)] = {
                "pump": _ref(r.element),
                "well": well,
                "level_sensor": level_at[well],
                "startup_m": float(start),
            }
        self.watched = {v["level_sensor"] for v in self.pumps.values()} | set(self.pumps)
        self.last: dict[str, float] = {}
        self.seen_at: dict[str, pd.Timestamp] = {}  # last status reading per pump
        self.hist: dict[str, deque[tuple[str, float]]] = {
            v["level_sensor"]: deque() for v in self.pumps.values()
        }

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Score each pump at each reading of its status or its well."""
        if batch is None or len(batch) == 0:
            return empty_scores()
        rows: list[dict[str, Any]] = []
        b = batch.sort_values("ts", kind="stable")
        for ts, grp in b.groupby("ts", sort=True):
            ts = pd.Timestamp(ts)
            seen = set()
            for sid, v in zip(grp.sensor_id.astype(str), grp.value.astype(float), strict=True):
                if sid in self.watched and np.isfinite(v):
                    self.last[sid] = float(v)
                    if sid in self.pumps:
                        self.seen_at[sid] = ts
                    seen.add(sid)
                    if sid in self.hist:
                        q = self.hist[sid]
                        q.append((ts.isoformat(), float(v)))
                        while q and pd.Timestamp(q[0][0]) < ts - pd.Timedelta(minutes=30):
                            q.popleft()
            for psid, p in self.pumps.items():
                if psid not in seen and p["level_sensor"] not in seen:
                    continue
                on, lvl = self.last.get(psid), self.last.get(p["level_sensor"])
                if on is None or lvl is None:
                    continue
                start = p["startup_m"]
                q = self.hist[p["level_sensor"]]
                rise = lvl - min(v for _, v in q) if q else 0.0
                stale = ts - self.seen_at.get(psid, ts) > pd.Timedelta(minutes=15)
                if on < 0.5 and not stale:
                    sc = 1.0 + (lvl - start) / max(start, 0.1) if lvl >= start + 0.05 else 0.0
                    why = "stopped"
                elif stale:  # no status telemetry: the well rising over its start-up depth
                    sc = rise / self.rise_m if lvl >= start else 0.0
                    why = "no_status_well_rising"
                else:  # running: an overloaded pump is not a failed one
                    sc, why = 0.0, ""
                rows.append(
                    {
                        "key": psid,
                        "ts": ts,
                        "score": round(float(max(sc, 0.0)), 4),
                        "detail": {
                            "utility": "drainage",
                            "pump": p["pump"],
                            "well": p["well"],
                            "pump_on": bool(on >= 0.5),
                            "level_m": round(lvl, 3),
                            "startup_m": round(start, 3),
                            "rise_30min_m": round(float(rise), 3),
                            "why": why if sc >= 1 else "",
                            "sensors": [psid, p["level_sensor"]],
                            "location": _loc(self.city, p["well"]),
                        },
                    }
                )
        return self._frame(rows)

    def status(self) -> DetectorStatus:
        """Ready at once (start-up depths from the SWMM model)."""
        return DetectorStatus(
            self.name,
            True,
            sensors=len(self.pumps),
            sensors_ready=len(self.pumps),
            warmup="none (start-up depths from the SWMM model)",
        )

    def get_state(self) -> dict[str, Any]:
        """Latest values and the last 30 min of well levels."""
        return {
            "last": dict(self.last),
            "seen_at": {k: v.isoformat() for k, v in self.seen_at.items()},
            "hist": {k: list(map(list, q)) for k, q in self.hist.items()},
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state`."""
        self.last = {str(k): float(v) for k, v in state.get("last", {}).items()}
        self.seen_at = {str(k): pd.Timestamp(v) for k, v in state.get("seen_at", {}).items()}
        for k in self.hist:
            self.hist[k] = deque((str(a), float(v)) for a, v in state.get("hist", {}).get(k, []))


def blockage(city: City, sensors: pd.DataFrame) -> BlockageDetector:
    """The blockage detector for ``city``."""
    return BlockageDetector(city, sensors)


def pump_failure(city: City, sensors: pd.DataFrame) -> PumpFailureDetector:
    """The pump failure detector for ``city``."""
    return PumpFailureDetector(city, sensors)
