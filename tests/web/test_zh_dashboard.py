"""The dashboard in Chinese on a small generated town: an incident of every kind the plan library
answers, alarms of the platform's detectors and classified complaints; every text from the
catalogues (no raw code, no catalogue key missing); the ticker follows a language switch; times
in the town's zone; the street base map, the search box, crews with an SVG icon, the sensor
chart's threshold labels apart, the KPI chart with its measured times."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pandas as pd
import pytest

from tests.web.conftest import ARTIFACTS, PASSWORD, X0, Y0, Live

CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
ENGLISH_UI = re.compile(
    r"/valve|/switch|\((?:hospital|school|care home|household|pumping station)\)"
    r"|\b(?:passed|failed|Dispatch|Close|Open|ETA|Notify|Evacuate)\b"
)
T0 = pd.Timestamp("2026-07-15T12:05:00Z")


def _h(live: Live, user: str = "operator") -> dict[str, str]:
    return {"Authorization": f"Bearer {live.token(user)}"}


@pytest.fixture(scope="module")
def town(live_server: Live) -> Live:
    """Crews on the town's street graph, alarms of real detector names, a complaint, and one
    incident per kind of the plan library."""
    from lifeline.respond.crews import street_graph_from_pipes
    from lifeline.respond.fill import CrewContext
    from lifeline.respond.library import load_plans

    ctx = live_server.ctx
    crews = pd.DataFrame(
        [
            {"crew_id": f"{u}-crew-1", "utility": u, "x_m": X0, "y_m": Y0 + 150, "available": True}
            for u in ("water", "power", "gas")
        ]
    )
    ctx.crews = CrewContext(street_graph_from_pipes(ctx.store.read_table("asset")), crews)
    with httpx.Client(base_url=live_server.url, headers=_h(live_server), timeout=30) as c:
        alarms = {}
        for det, util, sensor in (
            ("methane", "gas", "gas:ch4:M1_1"),
            ("water-leaks", "water", "water:p:J2_1"),
            ("supply-loss", "power", "power:v:B0_0"),
            ("step_change", "water", "water:p:J0_0"),
        ):
            r = c.post(
                "/api/alarms",
                json={
                    "ts": T0.isoformat(),
                    "utility": util,
                    "detector": det,
                    "severity": 2,
                    "sensors": [sensor],
                },
            )
            r.raise_for_status()
            alarms[util] = r.json()["alarm_id"]
        r = c.post(
            "/api/complaints",
            json={
                "ts": T0.isoformat(),
                "channel": "app",
                "text": "Strong smell of gas near the school",
                "utility": "gas",
                "category": "gas_smell",
                "x_m": X0 + 460,
                "y_m": Y0 + 140,
            },
        )
        r.raise_for_status()
        complaint = r.json()["complaint_id"]
        for i, plan in enumerate(load_plans()):
            body: dict[str, Any] = {
                "utility": plan["utility"],
                "kind": plan["kinds"][0],
                "x_m": X0 + 150 * (i % 7),
                "y_m": Y0 + 150 * (i // 7) + 75,
            }
            if plan["utility"] in alarms:
                body["alarm_ids"] = [alarms[plan["utility"]]]
            if plan["utility"] == "gas":
                body["complaint_ids"] = [complaint]
            c.post("/api/incidents", json=body).raise_for_status()
    return live_server


def _login(page: Any, live: Live, lang: str = "zh-CN") -> None:
    page.goto(live.url + "/")
    page.evaluate(f"localStorage.setItem('lifeline.lang', '{lang}')")
    page.goto(live.url + "/")
    page.fill("#login-user", "dispatcher")
    page.fill("#login-pass", PASSWORD)
    page.click("#login-btn")
    page.wait_for_selector("body[data-ready='1']", timeout=20_000)


def test_every_kind_reads_in_chinese_and_in_english(town: Live, browser: Any) -> None:
    from lifeline.respond.library import load_plans

    page = browser.new_page(viewport={"width": 1600, "height": 950})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, town)
    page.select_option("#f-state", "")
    n = town.ctx.store.count("incident")
    page.wait_for_function(f"document.querySelectorAll('#incident-list li').length === {n}")
    ids = page.eval_on_selector_all("#incident-list li", "els => els.map(e => e.dataset.id)")
    kinds = {
        str(i["kind"]) for i in httpx.get(town.url + "/api/incidents", headers=_h(town)).json()
    }
    assert {p["kinds"][0] for p in load_plans()} <= kinds
    texts = [page.inner_text("#incident-list"), page.inner_text("#alarm-list")]
    for iid in ids:
        page.click(f".incident-item[data-id='{iid}']")
        page.wait_for_selector(f"#detail[data-id='{iid}']:not(.hidden)")
        page.wait_for_function("document.querySelector('#plan').innerText.length > 0")
        texts.append(page.inner_text("#side"))
        page.click("#detail-back")
    joined = "\n".join(texts)
    assert sorted(set(CODE.findall(joined))) == []
    assert sorted(set(ENGLISH_UI.findall(joined))) == []
    assert "派遣供水抢修队1" in joined, "a crew was dispatched along the street graph"
    assert "甲烷监测" in joined and "燃气异味" in joined
    assert page.evaluate("[...window.LL.i18n.missing]") == []
    page.screenshot(path=str(ARTIFACTS / "12-kinds-zh.png"))
    # the same in English: the ticker's older rows follow the switch
    assert "供水" in page.inner_text("#alarm-list")
    page.click("#lang-btn")
    page.wait_for_function("document.querySelector('#alarm-list').innerText.includes('Water')")
    ticker = page.inner_text("#alarm-list")
    assert not re.search(r"[\u4e00-\u9fff]", ticker), ticker
    assert "methane monitoring" in ticker
    for iid in ids:
        page.click(f".incident-item[data-id='{iid}']")
        page.wait_for_selector(f"#detail[data-id='{iid}']:not(.hidden)")
        page.wait_for_function("document.querySelector('#plan').innerText.length > 0")
        side = page.inner_text("#side")
        assert sorted(set(CODE.findall(side))) == [], side
        page.click("#detail-back")
    assert page.evaluate("[...window.LL.i18n.missing]") == []
    assert not errors, errors
    page.close()


def test_local_time_streets_search_and_crews(town: Live, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    _login(page, town)
    meta = httpx.get(town.url + "/api/networks", headers=_h(town)).json()
    assert meta["timezone"] == "Europe/Berlin" and meta["center"]
    # 12:05 UTC is 14:05 in Schutterwald in July (CEST)
    page.select_option("#f-state", "")
    page.wait_for_selector(".incident-item")
    assert "07-15 14:05" in page.inner_text("#incident-list")
    assert "UTC+2" in page.inner_text("#topbar")
    # the street base map: the gas mains' graph, drawn under the networks
    streets = httpx.get(town.url + "/api/streets", headers=_h(town)).json()
    assert streets["features"] and streets["features"][0]["geometry"]["type"] == "LineString"
    n = page.evaluate("window.LL.mapview.streets.getLayers().length")
    assert n == len(streets["features"])
    # the search box finds an asset id and the map goes there
    page.fill("#search", "V2_4")
    page.wait_for_selector("#search-results li[data-i]")
    assert "阀门 V2_4" in page.inner_text("#search-results")
    page.press("#search", "Enter")
    page.wait_for_timeout(500)
    c = page.evaluate(
        "(() => { const c = window.LL.mapview.map.getCenter(); return [c.lng, c.lat]; })()"
    )
    hit = httpx.get(town.url + "/api/search?q=water:valve:V2_4", headers=_h(town)).json()[0]
    assert abs(c[0] - hit["lon"]) < 1e-4 and abs(c[1] - hit["lat"]) < 1e-4
    # a crew drawn with an SVG icon (the helmet character renders as a box without a font)
    page.wait_for_selector(".crew-marker svg")
    assert "⛑" not in page.content()
    page.screenshot(path=str(ARTIFACTS / "13-search-crew.png"))
    page.close()


def test_chart_labels_apart_and_kpi_times(town: Live, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    _login(page, town)
    page.evaluate("document.querySelector('#alarm-list li').click()")
    page.wait_for_selector("#chart-card:not(.hidden)")
    page.wait_for_function(
        "window.__lifeline.chart && window.__lifeline.chart.getOption().series[0].markLine"
    )
    labels = page.evaluate(
        "window.__lifeline.chart.getOption().series[0].markLine.data.map(d => [d.name, d.label.position, d.label.formatter])"
    )
    names = {n for n, _, _ in labels}
    assert {"low", "high"} <= names
    positions = [p for _, p, _ in labels]
    assert len(positions) == len(set(positions)), "each threshold label has its own place"
    assert all(not re.search(r"valid_min|valid_max|\bhigh\b|\blow\b", f) for _, _, f in labels)
    # response times: confirm one incident, the mean chart shows it (the others say none yet)
    iid = town.ctx.store.list_incidents()["incident_id"].iloc[0]
    r = httpx.post(f"{town.url}/api/incidents/{iid}/confirm", headers=_h(town), json={})
    r.raise_for_status()
    page.click(".tab[data-tab='kpis']")
    page.wait_for_selector("#kpi-tiles .tile")
    page.wait_for_function(
        "window.__lifeline.kpiCharts[0].getOption().series[0].data.some(d => d.label.formatter.includes('1 起'))"
    )
    opt = page.evaluate("window.__lifeline.kpiCharts[0].getOption()")
    cats = opt["yAxis"][0]["data"]
    data = opt["series"][0]["data"]
    i = cats.index("确认用时")
    assert data[i]["value"] >= 0 and "1 起" in data[i]["label"]["formatter"]
    assert any("暂无" in d["label"]["formatter"] for d in data), "unmeasured times say so"
    page.screenshot(path=str(ARTIFACTS / "14-kpis-zh.png"))
    page.close()
