"""A scripted day on the YKT test city (tests/data/cities/ykt) for the live-loop reliability
tests: every sensor at its own interval, water pressure drops, a gas leak seen by a manhole's
methane sensor and a nearby gas pressure sensor (243 m apart; their zones — the manhole's
district and the gas district — fall in different partitions of two workers), a power outage
seen by smart meters, and the tests' own detectors (low water pressure; methane and low gas
pressure; one that only counts what each engine scored).

The day is generated (seeded), never read from shared data. Messages are in event-time order,
as a city's gateways would publish them: ``(ts, kind, topic suffix, payload)``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifeline.detect.base import DetectorStatus
from tests.engine.helpers import DETECTOR, LowPressure, located_scores

CITY = Path(__file__).resolve().parent.parent / "data" / "cities" / "ykt"
DAY = pd.Timestamp("2026-03-02", tz="UTC")

#: normal value and noise of each quantity (sensor's unit)
NORMAL = {
    "pressure_m": (45.0, 0.3),
    "flow_m3h": (120.0, 2.0),
    "level_m": (5.0, 0.02),
    "voltage_pu": (1.0, 0.004),
    "current_a": (180.0, 4.0),
    "p_mw": (2.0, 0.05),
    "pressure_bar": (0.3, 0.002),
    "methane_pct_lel": (0.5, 0.1),
}
#: water pressure drops: (sensor, start, end) → 8 m (the test detector alarms below 15 m)
DROPS = (
    ("WP-15", "03:00", "05:00"),
    ("WP-143", "03:10", "05:00"),
    ("WP-203", "09:00", "10:00"),
)
#: a gas leak 06:00-07:00: methane in manhole MH2 (→ 30 %LEL) and low pressure at gas
#: junction 3 (→ 0.15 bar)
LEAK = {"GM-MH2": 30.0, "GP-J3": 0.1}
LEAK_FROM, LEAK_TO = "06:00", "07:00"
#: a power outage seen by smart meters on both MV feeders (last gasp 07:10, restore 08:30)
OUTAGE = (("H0002", "H0003", "H0010", "H0023"), ("H0001", "H0009"))
GAS = "test-gas"
COUNT = "test-count"


@dataclass
class Message:
    """One MQTT message of the day."""

    ts: pd.Timestamp
    kind: str  # reading | event
    suffix: str  # topic suffix (sensor id, or event kind)
    payload: dict[str, Any]

    def body(self) -> str:
        return json.dumps(self.payload)


@dataclass
class GasBand:
    """Scores methane over 10 %LEL (in 10 %LEL steps) and gas pressure under 0.2 bar (in
    0.05 bar steps), located at the sensor (the tests' own gas detector)."""

    name: str = GAS
    utility: str = "gas"
    inputs: str = "readings"

    def learn(self, batch: pd.DataFrame) -> None:
        pass

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        v = batch["value"].to_numpy(float)
        methane = (batch["quantity"] == "methane_pct_lel").to_numpy()
        s = np.where(methane, (v - 10.0) / 10.0, (0.2 - v) / 0.05)
        return located_scores(batch, np.clip(s, 0.0, None))

    def status(self) -> DetectorStatus:
        return DetectorStatus(self.name, True, warmup="none")

    def get_state(self) -> dict[str, Any]:
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        pass


@dataclass
class Count:
    """Counts the readings it scores per sensor (its checkpointed state) and never alarms:
    which engine processed which reading, how often."""

    name: str = COUNT
    utility: str = ""
    inputs: str = "readings"
    counts: dict[str, int] | None = None

    def learn(self, batch: pd.DataFrame) -> None:
        pass

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        c = self.counts if self.counts is not None else {}
        for sid, n in batch["sensor_id"].value_counts().items():
            c[str(sid)] = c.get(str(sid), 0) + int(n)
        self.counts = c
        return pd.DataFrame({"key": [], "ts": [], "score": [], "detail": []})

    def status(self) -> DetectorStatus:
        return DetectorStatus(self.name, True, warmup="none")

    def get_state(self) -> dict[str, Any]:
        return {"counts": dict(self.counts or {})}

    def set_state(self, state: dict[str, Any]) -> None:
        self.counts = dict(state.get("counts") or {})


def register_detector(monkeypatch: Any = None) -> str:
    """Register the tests' detectors: for one test with its ``monkeypatch``, for the whole
    process without (the server and worker child processes); returns the low-pressure
    detector's name."""
    from lifeline.detect.base import ThresholdPolicy
    from lifeline.detect.registry import _REGISTRY, DetectorSpec
    from lifeline.detect.registry import register as _register

    def register(spec: DetectorSpec) -> None:
        if monkeypatch is not None:
            monkeypatch.setitem(_REGISTRY, spec.name, spec)
        else:
            _register(spec)

    policy = ThresholdPolicy(threshold=1.0, min_consecutive=2, source="test")
    register(
        DetectorSpec(
            name=DETECTOR,
            description="test: pressure below 20 m",
            build=lambda city, sensors: LowPressure(),
            policy=policy,
            warmup="none",
            utility="water",
            quantities=("pressure_m",),
        )
    )
    register(
        DetectorSpec(
            name=GAS,
            description="test: methane over 10 %LEL, gas pressure under 0.2 bar",
            build=lambda city, sensors: GasBand(),
            policy=policy,
            warmup="none",
            utility="gas",
            quantities=("methane_pct_lel", "pressure_bar"),
        )
    )
    register(
        DetectorSpec(
            name=COUNT,
            description="test: counts what it scores",
            build=lambda city, sensors: Count(),
            policy=ThresholdPolicy(threshold=1e9, source="test"),
            warmup="none",
        )
    )
    return DETECTOR


def scripted_day(
    city: Any, hours: float = 12.0, seed: int = 15
) -> tuple[list[Message], pd.DataFrame, pd.DataFrame]:
    """The day's messages in time order, and the same readings and events as frames."""
    rng = np.random.default_rng(seed)
    end = DAY + pd.Timedelta(hours=hours)
    frames = []
    for s in city.sensors.itertuples():
        ts = pd.date_range(DAY, end, freq=f"{int(s.interval_s)}s", inclusive="left")
        mu, sd = NORMAL[str(s.quantity)]
        v = mu + rng.normal(0.0, sd, len(ts))
        for sid, a, b in DROPS:
            if sid == s.sensor_id:
                m = (ts >= DAY + pd.Timedelta(a + ":00")) & (ts < DAY + pd.Timedelta(b + ":00"))
                v[m] = 8.0 + rng.normal(0.0, 0.2, int(m.sum()))
        if s.sensor_id in LEAK:
            m = (ts >= DAY + pd.Timedelta(LEAK_FROM + ":00")) & (
                ts < DAY + pd.Timedelta(LEAK_TO + ":00")
            )
            v[m] = LEAK[s.sensor_id] * (1.0 + rng.normal(0.0, 0.01, int(m.sum())))
        if s.quantity == "methane_pct_lel":
            v = np.clip(v, 0.0, None)
        frames.append(pd.DataFrame({"sensor_id": s.sensor_id, "ts": ts, "value": v.round(4)}))
    readings = (
        pd.concat(frames).sort_values(["ts", "sensor_id"], kind="stable").reset_index(drop=True)
    )
    ev = []
    for k, group in enumerate(OUTAGE):
        for j, cid in enumerate(group):
            gasp = DAY + pd.Timedelta("7h10min") + pd.Timedelta(seconds=20 * j + 5 * k)
            ev.append({"ts": gasp, "kind": "last_gasp", "customer_id": cid})
            ev.append({"ts": gasp + pd.Timedelta("80min"), "kind": "restore", "customer_id": cid})
    events = pd.DataFrame(ev)
    events = events[events["ts"] < end].sort_values("ts", kind="stable").reset_index(drop=True)
    msgs = [
        Message(r.ts, "reading", r.sensor_id, {"ts": r.ts.isoformat(), "value": r.value})
        for r in readings.itertuples()
    ] + [
        Message(
            e.ts,
            "event",
            e.kind,
            {"ts": e.ts.isoformat(), "kind": e.kind, "customer_id": e.customer_id},
        )
        for e in events.itertuples()
    ]
    msgs.sort(key=lambda m: m.ts)  # stable: readings of an instant before its events
    return msgs, readings, events


def batches(msgs: list[Message], n: int) -> Iterator[list[Message]]:
    """``msgs`` in consecutive slices of ``n``."""
    for i in range(0, len(msgs), n):
        yield msgs[i : i + n]


def main(argv: list[str]) -> None:
    """The server child process: register the test detector, then run ``lifeline`` with
    ``argv`` (``python -m tests.reliability.live_day serve --city …``)."""
    register_detector()
    from lifeline.cli import main as cli_main

    sys.argv = ["lifeline", *argv]
    cli_main()


if __name__ == "__main__":
    main(sys.argv[1:])
