#!/usr/bin/env python3
"""Screenshots of the dashboard in zh-CN for docs/dashboard.md, taken against the demo.

Starts ``lifeline serve --replay`` on a free port with a fresh data directory (or uses
``--url`` of a running demo), logs in as the demo dispatcher in Debian's Chromium (Playwright,
never a downloaded browser) and, while the scripted day replays, handles the first incident as
a duty officer would (confirm, approve the plan, dispatch, on site), so that the KPI tab has
response times measured on the replay's clock. When the day is over it saves:

    docs/screenshots/incidents-zh.png   the map and the incident list
    docs/screenshots/incident-zh.png    an incident's detail (the gas leak when there is one)
    docs/screenshots/kpis-zh.png        the KPI tab
    docs/screenshots/bigscreen-zh.png   the big-screen view (map only, grade legend)

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--speed 3000] [--url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str = "") -> dict:
    req = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def _token(base: str) -> str:
    body = json.dumps({"username": "admin", "password": "admin-demo-2026"}).encode()
    req = urllib.request.Request(
        base + "/api/auth/login", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return str(json.load(r)["access_token"])


def _wait_up(base: str, proc: subprocess.Popen | None, timeout_s: float = 600) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout_s:
        if proc is not None and proc.poll() is not None:
            sys.exit(f"lifeline serve exited with {proc.returncode}")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=3)
            return
        except OSError:
            time.sleep(1)
    sys.exit("the server did not answer")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    ap.add_argument("--speed", type=float, default=3000.0, help="replay speed (sim s per s)")
    ap.add_argument("--url", default="", help="use this running demo instead of starting one")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    proc = None
    if args.url:
        base = args.url.rstrip("/")
    else:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "LIFELINE_DATA_DIR": tempfile.mkdtemp(prefix="lifeline-shots-")}
        exe = str(Path(sys.executable).with_name("lifeline"))
        cmd = [exe, "serve", "--replay", "--speed", str(args.speed), "--port", str(port)]
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        _wait_up(base, proc)
        token = _token(base)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1600, "height": 950})
            page.goto(base + "/")
            page.evaluate("localStorage.setItem('lifeline.lang', 'zh-CN')")
            page.goto(base + "/")
            page.fill("#login-user", "dispatcher")
            page.fill("#login-pass", "dispatch-demo-2026")
            page.click("#login-btn")
            page.wait_for_selector("body[data-ready='1']", timeout=120_000)
            # the first incident of the day, handled as it arrives
            item = page.wait_for_selector(".incident-item", timeout=900_000)
            item.click()
            page.wait_for_selector("#detail:not(.hidden)")
            for button, state in (
                ("#btn-confirm", "confirmed"),
                ("#btn-approve", None),
                ("#btn-dispatch", "dispatched"),
                ("#btn-advance", "on_site"),
            ):
                page.click(button)
                if state:
                    page.wait_for_selector(f"#incident-state[data-state='{state}']", timeout=30_000)
                else:
                    page.wait_for_selector(".approval.ok", timeout=30_000)
                page.wait_for_timeout(2500)  # let the replay clock move between steps
            page.click("#detail-back")
            t0 = time.time()
            while time.time() - t0 < 1800:
                st = _get(base + "/api/scenarios/replay", token)
                if not st.get("running"):
                    break
                time.sleep(3)
            page.reload()
            page.wait_for_selector("body[data-ready='1']", timeout=120_000)
            page.select_option("#f-state", "")
            page.wait_for_timeout(2500)
            page.screenshot(path=str(out / "incidents-zh.png"))
            incs = _get(base + "/api/incidents", token)
            pick = next((i for i in incs if i["utility"] == "gas"), incs[0])
            page.click(f".incident-item[data-id='{pick['incident_id']}']")
            page.wait_for_selector(f"#detail[data-id='{pick['incident_id']}']:not(.hidden)")
            page.wait_for_timeout(2500)
            page.screenshot(path=str(out / "incident-zh.png"))
            page.click("#detail-back")
            page.click(".tab[data-tab='kpis']")
            page.wait_for_timeout(2500)
            page.screenshot(path=str(out / "kpis-zh.png"))
            page.click("#bigscreen-btn")
            page.wait_for_timeout(1000)
            bb = _get(base + "/api/networks", token)["focus_bbox"]
            page.evaluate(
                f"window.LL.mapview.map.fitBounds([[{bb[1]}, {bb[0]}], [{bb[3]}, {bb[2]}]])"
            )
            page.wait_for_timeout(2000)
            page.screenshot(path=str(out / "bigscreen-zh.png"))
            browser.close()
        for f in sorted(out.glob("*-zh.png")):
            print(f"{f.relative_to(ROOT) if f.is_relative_to(ROOT) else f}")
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(20)


if __name__ == "__main__":
    main()
