"""While the server prepares a replay (simulating the day, warming the detectors up) the dashboard
says so; the banner goes once the first step of the day is in the store."""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd

from lifeline.detect.base import EVENT_COLUMNS
from lifeline.scenarios.publish import DayData
from tests.engine.helpers import city_from_tables
from tests.web.conftest import PASSWORD, Live, day_readings


class GatedDay:
    """A replay source whose preparation lasts until the test opens the gate: the generated
    town's own tables and two hours of its sensors' readings; no detector fires."""

    def __init__(self, live: Live) -> None:
        self.gate = threading.Event()
        self.live = live

    def prepare(self) -> DayData:
        assert self.gate.wait(60), "the test never opened the gate"
        sensors = self.live.ctx.store.read_table("sensor")
        readings = day_readings(sensors, pd.Timestamp("2026-07-16T02:00:00Z"), hours=2)
        events = pd.DataFrame(columns=list(EVENT_COLUMNS))
        return DayData(readings, events, pd.DataFrame())


def test_preparing_banner_while_the_replay_prepares(live_server: Live, browser: Any) -> None:
    from lifeline.api.replay import ReplayRunner
    from lifeline.api.server import attach_city

    ctx = live_server.ctx
    if ctx.engine is None:  # the generated town served by a live engine, no detector warmed up
        tables = {t: ctx.store.read_table(t) for t in ("district", "asset", "customer", "sensor")}
        attach_city(live_server.app, city_from_tables(tables), resume=False, idle_flush_s=None)
    source = GatedDay(live_server)
    runner = ReplayRunner(live_server.ctx, source, speed=1e6, date="2026-07-16")
    live_server.ctx.replay = runner
    runner.start()
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(live_server.url + "/")
        page.evaluate("localStorage.setItem('lifeline.lang', 'zh-CN')")
        page.goto(live_server.url + "/")
        page.fill("#login-user", "viewer")
        page.fill("#login-pass", PASSWORD)
        page.click("#login-btn")
        page.wait_for_selector("body[data-ready='1']", timeout=20_000)
        banner = page.wait_for_selector("#preparing:not(.hidden)", timeout=10_000)
        assert "正在准备" in banner.inner_text()
        assert page.inner_text("#stat-time") == "准备中"
        assert runner.status.phase == "preparing"
        source.gate.set()
        page.wait_for_selector("#preparing", state="hidden", timeout=30_000)
        runner.join(30)
        assert runner.status.phase == "finished" and runner.status.steps_done > 0
        assert page.inner_text("#stat-time").startswith("07-16 0")  # 02:00 UTC → 04:00 CEST
    finally:
        source.gate.set()
        runner.stop()
        page.close()
