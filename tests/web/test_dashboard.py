"""End to end in headless Chromium: log in, see the networks, watch an incident arrive over
SSE, open it, confirm, approve its plan, dispatch and advance it; switch language.
Screenshots go to tests/artifacts/."""

from __future__ import annotations

from typing import Any

import httpx
import pandas as pd

from tests.web.conftest import ARTIFACTS, PASSWORD, X0, Y0, Live


def _login(page: Any, live: Live, user: str) -> None:
    page.goto(live.url + "/")
    page.fill("#login-user", user)
    page.fill("#login-pass", PASSWORD)
    page.click("#login-btn")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)


def _inject_incident(live: Live) -> str:
    h = {"Authorization": f"Bearer {live.token('operator')}"}
    ts = pd.Timestamp("2026-07-15T12:05:00Z").isoformat()
    with httpx.Client(base_url=live.url, headers=h, timeout=20) as c:
        c.post(
            "/api/readings", json=[{"sensor_id": "water:p:J2_1", "ts": ts, "value": 21.0}]
        ).raise_for_status()
        a = c.post(
            "/api/alarms",
            json={
                "ts": ts,
                "utility": "water",
                "detector": "pressure_drop",
                "severity": 3,
                "sensors": ["water:p:J2_1"],
                "location": [
                    {
                        "asset_id": "water:pipe:Ph2_1",
                        "x_m": X0 + 375,
                        "y_m": Y0 + 150,
                        "confidence": 0.8,
                    }
                ],
            },
        )
        a.raise_for_status()
        r = c.post(
            "/api/incidents", json={"alarm_ids": [a.json()["alarm_id"]], "kind": "water_main_burst"}
        )
        r.raise_for_status()
        return str(r.json()["incident_id"])


def test_login_watch_incident_approve_and_advance(live_server: Live, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1600, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, live_server, "dispatcher")
    n_features = page.evaluate("Object.keys(window.__lifeline.featureIndex).length")
    assert n_features > 200, "the water, power and gas layers are drawn"
    assert "城市生命线安全运行监测" in page.inner_text("#topbar .brand"), "Chinese is the default"
    page.wait_for_selector("#live.on", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "01-map.png"))

    iid = _inject_incident(live_server)
    item = page.wait_for_selector(f".incident-item[data-id='{iid}']", timeout=15_000)
    assert "已发现" in item.inner_text()
    page.wait_for_function("document.querySelectorAll('.inc-marker').length > 0", timeout=10_000)
    assert page.inner_text("#stat-sensors") != "0", "the alarmed sensor is counted"
    page.screenshot(path=str(ARTIFACTS / "02-incident-arrived.png"))

    item.click()
    page.wait_for_selector(f"#detail[data-id='{iid}']:not(.hidden)")

    def act(button: str, state: str) -> None:
        page.click(button)
        page.wait_for_selector(f"#incident-state[data-state='{state}']", timeout=10_000)

    assert page.is_hidden("#btn-dispatch"), "dispatch waits for an approved plan"
    act("#btn-confirm", "confirmed")
    page.click("#btn-approve")
    page.wait_for_selector(".approval.ok", timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / "03-plan-approved.png"))
    act("#btn-dispatch", "dispatched")
    act("#btn-advance", "on_site")
    page.screenshot(path=str(ARTIFACTS / "04-advanced.png"))
    stored = live_server.ctx.store.get_incident(iid)
    assert stored["state"] == "on_site"
    actions = list(live_server.ctx.store.list_audit(iid)["action"])
    assert actions[-4:] == ["confirm", "approve", "dispatch", "advance"]

    page.click("#lang-btn")
    page.wait_for_function(
        "document.querySelector('#topbar .brand').innerText.includes('Lifeline')"
    )
    page.wait_for_function(
        "document.querySelector('#incident-state').innerText === 'On site'", timeout=10_000
    )
    page.screenshot(path=str(ARTIFACTS / "05-english.png"))
    assert not errors, errors
    page.close()


def test_viewer_sees_no_action_buttons_and_sensor_chart(live_server: Live, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 850})
    _login(page, live_server, "viewer")
    page.wait_for_selector(".incident-item", timeout=10_000)
    page.click(".incident-item")
    page.wait_for_selector("#detail:not(.hidden)")
    visible = [
        b
        for b in ("#btn-confirm", "#btn-approve", "#btn-dispatch", "#btn-advance", "#btn-close")
        if page.is_visible(b)
    ]
    assert visible == []
    page.evaluate("document.querySelector('#alarm-list li').click()")
    page.wait_for_selector("#chart-card:not(.hidden)")
    page.wait_for_function(
        "window.__lifeline.chart && window.__lifeline.chart.getOption().series[0].data.length > 10"
    )
    page.screenshot(path=str(ARTIFACTS / "06-viewer-chart.png"))
    page.click(".tab[data-tab='kpis']")
    page.wait_for_selector("#kpi-tiles .tile")
    assert page.inner_text("#kpi-tiles .tile .v") == str(live_server.ctx.store.count("incident"))
    page.screenshot(path=str(ARTIFACTS / "07-kpis.png"))
    page.close()
