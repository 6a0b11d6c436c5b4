"""The demo day in Chinese: the live replay of the scripted day (what ``make demo`` shows) on the
real demo town, then every incident of the day opened in the dashboard in zh-CN. No raw code
(snake_case kinds, rules, categories) and no half-translated label ("阀门/valve", "(hospital)",
passed/failed, Dispatch/Close/Open/ETA) may appear in the incident list or any incident's
detail, and no catalogue key may be missing. The map draws the active incidents' isolation
areas and hazard zones in their grade's colour, crews with an SVG icon, and times in the town's
zone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import fast_password_hashing
from tests.web.conftest import ARTIFACTS, PASSWORD, Live, serve

CODE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
ENGLISH_UI = re.compile(
    r"/valve|/switch|/tie|/re-close|\((?:hospital|school|care home|care_home|household|pumping station)\)"
    r"|（(?:hospital|school|care_home|household|pumping_station)）"
    r"|\b(?:passed|failed|Dispatch|Close|Open|ETA|De-energise|Notify|Send a|Evacuate|Hazard zone)\b"
)


@pytest.fixture(scope="module")
def demo_day(replayed_demo_day: Any) -> Iterator[Live]:
    """The API on its own store after the whole scripted day has been replayed into it (the
    session's shared replay, tests/conftest.py), served over HTTP. The session owns the app:
    no lifespan, so stopping this server leaves its engine and store open."""
    status, app = replayed_demo_day.status, replayed_demo_day.app
    assert status.steps_done == status.steps_total > 0 and status.phase == "finished"
    with fast_password_hashing():
        app.state.ctx.users.add("dispatcher", PASSWORD, "dispatcher", None)
    with serve(app, lifespan="off") as live:
        yield live


def _login_zh(page: Any, url: str) -> None:
    page.goto(url + "/")
    page.evaluate("localStorage.setItem('lifeline.lang', 'zh-CN')")
    page.goto(url + "/")
    page.fill("#login-user", "dispatcher")
    page.fill("#login-pass", PASSWORD)
    page.click("#login-btn")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def test_every_incident_of_the_demo_day_reads_in_chinese(demo_day: Live, browser: Any) -> None:
    stored = demo_day.ctx.store.list_incidents()
    assert len(stored) >= 3, "the scripted day opens incidents"
    page = browser.new_page(viewport={"width": 1600, "height": 950})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login_zh(page, demo_day.url)
    page.select_option("#f-state", "")
    page.wait_for_function(
        f"document.querySelectorAll('#incident-list li').length === {len(stored)}", timeout=20_000
    )
    texts = {"list": page.inner_text("#incident-list")}
    ids = page.eval_on_selector_all("#incident-list li", "els => els.map(e => e.dataset.id)")
    assert sorted(ids) == sorted(stored["incident_id"])
    for iid in ids:
        page.click(f".incident-item[data-id='{iid}']")
        page.wait_for_selector(f"#detail[data-id='{iid}']:not(.hidden)")
        page.wait_for_function("document.querySelector('#plan').innerText.length > 0")
        if page.query_selector("#evidence-more"):
            page.click("#evidence-more")
        texts[iid] = page.inner_text("#side")
        page.click("#detail-back")
    page.screenshot(path=str(ARTIFACTS / "10-demo-day-zh.png"))
    codes = {t: sorted(set(CODE.findall(s))) for t, s in texts.items() if CODE.search(s)}
    english = {
        t: sorted(set(ENGLISH_UI.findall(s))) for t, s in texts.items() if ENGLISH_UI.search(s)
    }
    assert codes == {}, "raw codes in the Chinese dashboard"
    assert english == {}, "half-translated labels in the Chinese dashboard"
    assert page.evaluate("[...window.LL.i18n.missing]") == []
    # the details carry what was planned, in Chinese: a valve closed, a crew sent, rules passed
    joined = "\n".join(texts.values())
    assert re.search(r"关闭 阀门 \w+", joined)
    assert re.search(r"派遣\S+抢修队\d，沿街道 \d+ 米", joined)
    assert "通过 · 医院供应保障" in joined
    # local time in the town's zone (Europe/Berlin), not UTC
    first = demo_day.ctx.store.get_incident(ids[0])
    opened = first["opened_at"]
    local = opened.to_pydatetime().astimezone(ZoneInfo("Europe/Berlin"))
    assert f"{local:%m-%d %H:%M}" in texts["list"]
    assert not errors, errors
    page.close()


def test_the_map_shows_areas_hazards_crews_and_a_grade_legend(demo_day: Live, browser: Any) -> None:
    page = browser.new_page(viewport={"width": 1600, "height": 950})
    _login_zh(page, demo_day.url)
    st = page.evaluate("window.LL.mapview.lastState")
    grades = {i["incident_id"]: i["grade"] for i in st["incidents"]}
    assert st["areas"], "active incidents have isolation areas"
    for a in st["areas"]:
        assert a["grade"] == grades[a["incident_id"]]
        assert a["outline"] and (a["lines"] or a["points"])
    water = [a for a in st["areas"] if a["utility"] == "water" and a["kind"] == "water_main_burst"]
    assert water and len(water[0]["lines"]) >= 1, "the burst's isolated segment is drawn"
    assert st["hazards"] and all(h["grade"] in ("I", "II", "III", "IV") for h in st["hazards"])
    legend = page.inner_text("#layers .legend.grades")
    for name in ("特别重大", "重大", "较大", "一般"):
        assert name in legend
    page.wait_for_selector(".crew-marker svg")
    assert "⛑" not in page.content()
    colours = page.eval_on_selector_all(
        ".inc-marker", "els => els.map(e => getComputedStyle(e).backgroundColor)"
    )
    assert len(set(colours)) >= 2, "incident markers take their grade's colour"
    page.screenshot(path=str(ARTIFACTS / "11-demo-day-map.png"))
    page.close()


def test_the_times_are_local_with_their_zone(demo_day: Live) -> None:
    import httpx

    h = {"Authorization": f"Bearer {demo_day.token('dispatcher')}"}
    meta = httpx.get(demo_day.url + "/api/networks", headers=h).json()
    assert meta["timezone"] == "Europe/Berlin"
    lon, lat = meta["center"]
    assert 7.8 < lon < 8.0 and 48.4 < lat < 48.5, "the map centre is the town's"
    inc = httpx.get(demo_day.url + "/api/incidents", headers=h).json()[0]
    assert inc["opened_at"].endswith(("Z", "+00:00")), "the API keeps UTC"
    assert datetime.fromisoformat(inc["opened_at"]).utcoffset().total_seconds() == 0  # type: ignore[union-attr]
