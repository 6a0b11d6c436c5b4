"""Done when (issue "One live loop"): a drill on the second test city, published through
Mosquitto into `lifeline serve --city`, yields its incidents in the right places.

`lifeline serve --city` runs in a subprocess with its own data dir, port, MQTT topics and client
id; `lifeline drill --publish mqtt://… --api …` publishes readings and meter events through the
real broker and the hotline calls through the API. The incidents are read back over HTTP.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import MqttNames
from tests.scenarios.conftest import YKT

SPECS = ["burst:149@03:10", "gas_leak:21@09:20", "feeder_fault:20@10:00"]
#: how far (m) an incident may lie from its scripted element
NEAR_M = 400.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[str], timeout_s: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"serve did not answer at {url} within {timeout_s:.0f} s")


@pytest.mark.services
def test_drill_through_mosquitto_into_serve(
    mqtt_url: str, mqtt_names: MqttNames, tmp_path: Path, ykt: Any
) -> None:
    import httpx

    from lifeline.ingest.mqtt import clear_session

    cid = mqtt_names.client_id("drill-serve", mqtt_url)
    root = mqtt_names.prefix.rsplit("/", 1)[0]  # lifeline-test/<id>: readings/ and events/
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "LIFELINE_DATA_DIR": str(tmp_path / "data"),
        "LIFELINE_DB": "",
        "LIFELINE_MQTT_TOPIC": mqtt_names.topic,
        "LIFELINE_MQTT_EVENTS_TOPIC": f"{root}/events/#",
        "LIFELINE_MQTT_CLIENT_ID": cid,
        "LIFELINE_MQTT_THROTTLE": "0",  # a day published in a minute is far above real time
    }
    log = (tmp_path / "serve.log").open("w")
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lifeline.cli",
            "serve",
            "--city",
            str(YKT),
            "--port",
            str(port),
            "--mqtt",
            mqtt_url,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_http(f"{base}/healthz", serve, 300)
        t0 = time.monotonic()
        drill = subprocess.run(
            [
                sys.executable,
                "-m",
                "lifeline.cli",
                "drill",
                "--city",
                str(YKT),
                *[a for s in SPECS for a in ("--event", s)],
                "--date",
                "2026-07-15",
                "--publish",
                mqtt_url,
                "--api",
                base,
                "--user",
                "operator",
                "--password-stdin",
            ],
            input="operator-demo-2026\n",
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert drill.returncode == 0, drill.stderr[-3000:]
        assert "Traceback" not in drill.stderr
        assert "published" in drill.stderr
        token = httpx.post(
            f"{base}/api/auth/login", json={"username": "viewer", "password": "viewer-demo-2026"}
        ).json()["access_token"]
        auth = {"authorization": f"Bearer {token}"}
        want = {"water", "gas", "power"}
        incidents: list[dict[str, Any]] = []
        deadline = time.monotonic() + 240  # the server flushes the engine after 30 s idle
        while time.monotonic() < deadline:
            incidents = httpx.get(f"{base}/api/incidents", headers=auth, timeout=30).json()
            if want <= {i["utility"] for i in incidents}:
                break
            time.sleep(2)
        took = time.monotonic() - t0
        engine = httpx.get(f"{base}/api/engine", headers=auth, timeout=30).json()
        details = {
            i["incident_id"]: httpx.get(
                f"{base}/api/incidents/{i['incident_id']}", headers=auth, timeout=30
            ).json()
            for i in incidents
        }
    finally:
        serve.terminate()
        try:
            serve.wait(30)
        except subprocess.TimeoutExpired:
            serve.kill()
        log.close()
        clear_session(mqtt_url, f"{cid}-events")  # the serve's own id: by mqtt_names
    by = {u: [i for i in incidents if i["utility"] == u] for u in want}
    assert all(by.values()), (incidents, engine, (tmp_path / "serve.log").read_text()[-3000:])
    assert engine["watermark"] >= "2026-07-15T15:00"  # the whole local day went through
    a = ykt.assets.set_index("asset_id")

    def dist(inc: dict[str, Any], asset_id: str) -> float:
        x, y = a.at[asset_id, "x_m"], a.at[asset_id, "y_m"]
        return float(np.hypot(inc["x_m"] - x, inc["y_m"] - y))

    # the burst on pipe 149 (node 143), the leak at gas junction 21 (manhole MH1)
    water = [i for i in by["water"] if i["kind"] == "water_main_burst"]
    assert water and min(dist(i, "water:junction:143") for i in water) < NEAR_M, by["water"]
    gas = [i for i in by["gas"] if i["kind"].startswith("gas_leak")]
    assert gas and min(dist(i, "gas:junction:21") for i in gas) < NEAR_M, by["gas"]
    # the feeder fault: one incident for the whole outage, on the faulted feeder
    power = [i for i in by["power"] if i["kind"] == "power_feeder_fault"]
    assert len(power) == 1, by["power"]
    feeder = a[(a.zone_id == "power:feeder:F0") & (a.utility == "power")]
    d = np.hypot(feeder.x_m - power[0]["x_m"], feeder.y_m - power[0]["y_m"])
    assert d.min() < NEAR_M, power
    kinds = {e.get("source") for e in details[power[0]["incident_id"]]["evidence"]}
    assert {"last_gasp", "breaker_trip"} <= kinds, kinds
    print(f"drill published and incidents up in {took:.0f} s")
