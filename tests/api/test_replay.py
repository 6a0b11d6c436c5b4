"""The accelerated replay is a publisher into the server's live engine: readings through the
validator, alarms from the engine's detectors, incidents, events, the replay clock; a second
replay of the same day adds nothing."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from lifeline.detect.base import EVENT_COLUMNS
from lifeline.scenarios.publish import DayData
from tests.api.conftest import X0, Y0, Api, build_api, tiny_town
from tests.engine.helpers import city_from_tables, register_low_pressure

DAY = pd.Timestamp("2026-07-15T00:00:00Z")


class BurstDay:
    """Two hours of 15-min pressures at J1/J2; J1 drops by 15 m at 01:00 (a burst on P1)."""

    def __init__(self, date: str = "2026-07-15", seed: int = 0) -> None:
        self.seed = seed

    def prepare(self) -> DayData:
        ts = pd.date_range(DAY, periods=8, freq="15min")
        rng = np.random.default_rng(self.seed)
        rows = []
        for t in ts:
            j1 = 45.0 - (35.0 if t >= DAY + pd.Timedelta(hours=1) else 0.0)
            rows.append({"sensor_id": "water:p:J1", "ts": t, "value": j1 + rng.normal(0, 0.1)})
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
        empty = pd.DataFrame(columns=list(EVENT_COLUMNS))
        return DayData(pd.DataFrame(rows), empty, complaints)


def _serve_tiny(api: Api) -> None:
    from lifeline.api.server import attach_city

    attach_city(api.app, city_from_tables(tiny_town()), resume=False, idle_flush_s=None)


def test_replay_runs_the_day_through_the_engine(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifeline.api.replay import ReplayRunner

    register_low_pressure(monkeypatch)
    _serve_tiny(api)
    runner = ReplayRunner(api.ctx, BurstDay(), speed=1e6, step_s=900, date="2026-07-15")
    status = runner.run()
    store = api.ctx.store
    assert status.steps_done == status.steps_total == 8
    assert store.count("reading") == 16 and status.readings == 16
    assert store.rejected_counts() == {"non_numeric": 1}
    alarms = store.list_alarms()
    assert len(alarms) == 1 and alarms["sensors"].iloc[0] == '["water:p:J1"]'
    incs = store.list_incidents()
    assert len(incs) == 1 and status.incidents == 1, "the alarm and the complaint make one incident"
    inc = api.client.get(
        f"/api/incidents/{incs['incident_id'].iloc[0]}", headers=api.h("viewer")
    ).json()
    assert {e["kind"] for e in inc["evidence"]} == {"alarm", "complaint"}
    assert inc["district_id"] == "D1"
    assert inc["opened_at"].startswith("2026-07-15T01:")  # event time, not the wall clock
    types = [e.type for e in api.ctx.bus.recent()]
    assert "alarm" in types and "incident" in types
    steps = {e.data["steps_done"] for e in api.ctx.bus.recent() if e.type == "replay"}
    assert steps >= set(range(1, 9))  # every step reported
    # a second replay of the same day adds nothing: its data is late or repeats stored ids
    again = ReplayRunner(api.ctx, BurstDay(), speed=1e6, step_s=900, date="2026-07-15").run()
    assert again.incidents == 0 and store.count("incident") == 1 and store.count("alarm") == 1
    assert (
        store.rejected_counts().get("late", 0) + store.rejected_counts().get("duplicate", 0) >= 16
    )
    replay = [e.data for e in api.ctx.bus.recent() if e.type == "replay"]
    phases = [d["phase"] for d in replay]
    assert phases[0] == "preparing" and "replaying" in phases, phases


def test_actions_during_a_replay_are_stamped_with_the_replay_clock(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lifeline.api.replay import ReplayRunner

    register_low_pressure(monkeypatch)
    _serve_tiny(api)
    ReplayRunner(api.ctx, BurstDay(), speed=1e6, step_s=900, date="2026-07-15").run()
    iid = api.ctx.store.list_incidents()["incident_id"].iloc[0]
    api.ctx.clock = lambda: pd.Timestamp("2026-07-15T01:45:00Z")  # as while a replay runs
    r = api.client.post(f"/api/incidents/{iid}/confirm", json={}, headers=api.h("operator"))
    assert r.status_code == 200, r.text
    assert r.json()["incident"]["timeline"]["confirmed"].startswith("2026-07-15T01:45")


def test_scenarios_router_starts_a_replay_for_admins_only(monkeypatch: pytest.MonkeyPatch) -> None:
    register_low_pressure(monkeypatch)
    api = build_api(":memory:", replay_source=BurstDay)
    with api.client:
        _serve_tiny(api)
        body = {"speed": 1e5, "step_s": 900}
        assert (
            api.client.post(
                "/api/scenarios/replay", json=body, headers=api.h("dispatcher")
            ).status_code
            == 403
        )
        r = api.client.post("/api/scenarios/replay", json=body, headers=api.h("admin"))
        assert r.status_code == 202 and r.json()["running"] is True
        for _ in range(400):
            st = api.client.get("/api/scenarios/replay", headers=api.h("viewer")).json()
            if not st["running"]:
                break
            time.sleep(0.05)
        assert st["running"] is False and st["error"] is None and st["incidents"] == 1
        assert st["phase"] == "finished"
        assert "start_replay" in set(api.ctx.store.list_audit("replay:2026-07-15")["action"])
        eng = api.client.get("/api/engine", headers=api.h("viewer")).json()
        assert (
            eng["watermark"] == "2026-07-15T01:50:00+00:00" and eng["pending"] == 0
        )  # 01:45 + 5 min
        names = [d["name"] for d in eng["detectors"]]
        assert "test-low-pressure" in names and len(names) == len(set(names))
        assert all("ready" in d and "warmup" in d for d in eng["detectors"])
        assert st["phase_detail"] == ""


def test_the_console_follows_the_preparation_and_the_replay(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from lifeline.api.replay import ReplayRunner
    from lifeline.api.server import follow_replay

    register_low_pressure(monkeypatch)
    _serve_tiny(api)
    go = threading.Event()

    class SlowDay(BurstDay):
        def prepare(self) -> DayData:
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
    assert lines[0] == "  preparing the replay: loading the city and simulating the day…", lines
    assert any("replay ready after" in x for x in lines), lines
    assert "replay finished" in lines[-1] and "1 incident(s)" in lines[-1], lines
