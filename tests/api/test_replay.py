"""The accelerated replay: readings through the validator, alarms, incidents, events."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from lifeline.api.replay import alarm_rows
from tests.api.conftest import X0, Y0, Api, build_api, tiny_town

DAY = pd.Timestamp("2026-07-15T00:00:00Z")


class BurstDay:
    """Two hours of 15-min pressures at J1/J2; J1 drops by 15 m at 01:00 (a burst on P1)."""

    def __init__(self, date: str = "2026-07-15", seed: int = 0) -> None:
        self.seed = seed

    def prepare(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
        ts = pd.date_range(DAY, periods=8, freq="15min")
        rng = np.random.default_rng(self.seed)
        rows = []
        for t in ts:
            rows.append(
                {
                    "sensor_id": "water:p:J1",
                    "ts": t,
                    "value": 45.0
                    - (15.0 if t >= DAY + pd.Timedelta(hours=1) else 0.0)
                    + rng.normal(0, 0.1),
                }
            )
            rows.append({"sensor_id": "water:p:J2", "ts": t, "value": 44.0 + rng.normal(0, 0.1)})
        rows.append({"sensor_id": "water:p:J2", "ts": ts[3], "value": "abc"})  # rejected, kept
        complaints = pd.DataFrame(
            [
                {
                    "complaint_id": "C-1",
                    "ts": DAY + pd.Timedelta(minutes=70),
                    "channel": "hotline",
                    "text": "没水了",
                    "utility": "water",
                    "category": "no_water",
                    "customer_id": "C1",
                    "x_m": X0 + 50,
                    "y_m": Y0 + 30,
                }
            ]
        )
        return tiny_town(), pd.DataFrame(rows), complaints

    def detect(
        self, readings: pd.DataFrame, history: pd.DataFrame, t_end: pd.Timestamp
    ) -> pd.DataFrame:
        low = readings[
            (readings["sensor_id"] == "water:p:J1")
            & (pd.to_numeric(readings["value"], errors="coerce") < 35)
        ]
        return alarm_rows(
            [
                {
                    "alarm_id": f"A-{t:%H%M}",
                    "ts": t,
                    "utility": "water",
                    "detector": "test_low_pressure",
                    "severity": 3,
                    "sensors": ["water:p:J1"],
                    "score": 1.0,
                    "location": [
                        {"asset_id": "water:pipe:P1", "x_m": X0 + 100, "y_m": Y0, "confidence": 0.8}
                    ],
                }
                for t in low["ts"]
            ]
        )


def test_replay_runs_the_day_into_store_and_events(api: Api) -> None:
    from lifeline.api.replay import ReplayRunner

    runner = ReplayRunner(api.ctx, BurstDay(), speed=1e6, step_s=900, date="2026-07-15")
    status = runner.run()
    store = api.ctx.store
    assert status.steps_done == status.steps_total == 8
    assert store.count("reading") == 16 and status.readings == 16
    assert store.rejected_counts() == {"non_numeric": 1}
    assert status.alarms == 4 and store.count("alarm") == 4
    incs = store.list_incidents()
    assert len(incs) == 1 and status.incidents == 1, (
        "alarms and the complaint correlate into one incident"
    )
    inc = api.client.get(
        f"/api/incidents/{incs['incident_id'].iloc[0]}", headers=api.h("viewer")
    ).json()
    assert {e["kind"] for e in inc["evidence"]} == {"alarm", "complaint"} and inc[
        "district_id"
    ] == "D1"
    events = api.ctx.bus.recent()
    types = [e.type for e in events]
    assert types.count("alarm") == 4 and "incident" in types
    replay = [e.data for e in events if e.type == "replay"]
    assert sum(1 for d in replay if "stored" in d) == 8  # one per step
    phases = [(d["phase"], d["phase_detail"]) for d in replay if "stored" not in d]
    assert phases == [
        ("preparing", "loading the town and simulating the day"),
        ("preparing", "storing the reference tables"),
        ("preparing", "calibrating the detectors"),
        ("replaying", ""),
    ], "the dashboard can show a preparing state until the first step"


def test_scenarios_router_starts_a_replay_for_admins_only() -> None:
    api = build_api(":memory:", replay_source=BurstDay)
    with api.client:
        body = {"speed": 1e5, "step_s": 900}
        assert (
            api.client.post(
                "/api/scenarios/replay", json=body, headers=api.h("dispatcher")
            ).status_code
            == 403
        )
        r = api.client.post("/api/scenarios/replay", json=body, headers=api.h("admin"))
        assert r.status_code == 202 and r.json()["running"] is True
        for _ in range(200):
            st = api.client.get("/api/scenarios/replay", headers=api.h("viewer")).json()
            if not st["running"]:
                break
            time.sleep(0.05)
        assert st["running"] is False and st["error"] is None and st["incidents"] == 1
        assert st["phase"] == "finished" and st["phase_detail"] == ""
        assert "start_replay" in set(api.ctx.store.list_audit("replay:2026-07-15")["action"])


def test_the_console_follows_the_preparation_and_the_replay(api: Api) -> None:
    import threading

    from lifeline.api.replay import ReplayRunner
    from lifeline.api.server import follow_replay

    go = threading.Event()

    class SlowDay(BurstDay):
        def prepare(self) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, pd.DataFrame]:
            go.wait(10)  # held until the console has shown the preparing state
            return super().prepare()

    runner = ReplayRunner(api.ctx, SlowDay(), speed=2000.0, step_s=900, date="2026-07-15")
    lines: list[str] = []
    runner.start()
    watcher = follow_replay(runner, lines.append, tz="Asia/Shanghai", poll_s=0.01)
    for _ in range(500):
        if lines:
            break
        time.sleep(0.01)
    go.set()
    runner.join(30)
    watcher.join(10)
    assert lines[0] == "  preparing the replay: loading the town and simulating the day…", lines
    assert any("replay ready after" in x for x in lines), lines
    assert "replay finished" in lines[-1] and "1 incident(s)" in lines[-1], lines
