"""Scale-out with real processes: two ``lifeline worker`` share the scripted day published
through Mosquitto (shared subscription), against one PostgreSQL, behind ``lifeline serve
--workers 2``. Every reading is stored once and scored by exactly one engine; alarms and
incidents are those of a single engine, the gas leak spanning both partitions is one
incident; the API relays them to an SSE client."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifeline.store import Store
from tests.reliability.live_day import CITY, COUNT, DAY, LEAK, register_detector, scripted_day
from tests.reliability.live_server import (
    Child,
    Publisher,
    free_port,
    outcome,
    reference_outcome,
    wait_for,
)

N = 2


def _sse(url: str, token: str, got: list[dict[str, Any]], stop: threading.Event) -> None:
    import httpx

    with httpx.stream(
        "GET", f"{url}/api/events", params={"token": token, "types": "alarm,incident"}, timeout=None
    ) as r:
        for line in r.iter_lines():
            if line.startswith("data: "):
                got.append(json.loads(line[6:]))
            if stop.is_set():
                return


@pytest.mark.services
def test_two_workers_share_the_stream_and_merge_a_spanning_incident_once(
    tmp_path: Path,
    mqtt_url: str,
    pg_schema: tuple[str, Store],
    monkeypatch: pytest.MonkeyPatch,
    fast_hash: None,
) -> None:
    import httpx

    from lifeline.api.auth import UserBook
    from lifeline.engine.partition import Partitioner
    from lifeline.ingest.mqtt import clear_session
    from lifeline.model.city import load_city

    db, store = pg_schema
    register_detector(monkeypatch)
    city = load_city(CITY)
    parts = Partitioner(city, N)
    assert (
        len({int(parts.readings(pd.DataFrame({"sensor_id": list(LEAK)}))[i]) for i in (0, 1)}) == 2
    )
    msgs, readings, events = scripted_day(city)
    expected = reference_outcome(city, readings, events)
    UserBook(store).add("ops", "ops-password-1", "admin")

    tag = f"wk-{uuid.uuid4().hex[:8]}"
    env = {
        "LIFELINE_MQTT_TOPIC": f"{tag}/readings/#",
        "LIFELINE_MQTT_EVENTS_TOPIC": f"{tag}/events/#",
        "LIFELINE_MQTT_ROUTE_TOPIC": f"{tag}/route",
        "LIFELINE_WORKER_GROUP": tag,
        "LIFELINE_MQTT_CLIENT_ID": tag,
        "LIFELINE_MQTT_THROTTLE": "0",
        "LIFELINE_ENGINE_IDLE_FLUSH_S": "3",
    }
    common = ["--city", str(CITY), "--db", db, "--mqtt", mqtt_url]
    port = free_port()
    api = Child(
        ["serve", *common, "--port", str(port), "--workers", str(N), "--no-demo-users"],
        {**env, "LIFELINE_DATA_DIR": str(tmp_path / "api")},
        tmp_path / "api",
    )
    workers = [
        Child(
            ["worker", "--partition", str(k), "--of", str(N), *common],
            {**env, "LIFELINE_DATA_DIR": str(tmp_path / f"w{k}")},
            tmp_path / f"w{k}",
        )
        for k in range(N)
    ]
    pub = Publisher(mqtt_url, tag, f"{tag}-pub")
    stop = threading.Event()
    seen: list[dict[str, Any]] = []
    try:
        api.start()
        api.wait_ready("lifeline serving on")
        base = f"http://127.0.0.1:{port}"
        token = httpx.post(
            f"{base}/api/auth/login", json={"username": "ops", "password": "ops-password-1"}
        ).json()["access_token"]
        threading.Thread(target=_sse, args=(base, token, seen, stop), daemon=True).start()
        for w in workers:
            w.start()
        for k, w in enumerate(workers):
            w.wait_ready(f"lifeline worker {k}/{N}")
        pub.publish(msgs)
        end = DAY + pd.Timedelta(hours=12)

        def checkpoints() -> dict[str, Any]:
            return {f"engine-{k}of{N}": store.load_checkpoint(f"engine-{k}of{N}") for k in range(N)}

        wait_for(
            lambda: (
                store.count("reading") >= len(readings)
                and all(cp is not None and cp[0] == end for cp in checkpoints().values())
            ),
            300,
            "both workers to store and process the day",
            state=lambda: (
                store.count("reading"),
                {k: None if v is None else v[0] for k, v in checkpoints().items()},
                [w.output()[-2000:] for w in workers],
            ),
        )
        # every reading stored once ...
        got = store.read_readings()
        assert len(got) == len(readings) and store.count("meter_event") == len(events)
        assert not store.rejected_counts()
        # ... and scored by exactly one engine: the one of its partition
        counts = [cp[1]["detectors"][COUNT]["counts"] for cp in checkpoints().values()]
        assert set(counts[0]).isdisjoint(counts[1])
        assert {**counts[0], **counts[1]} == readings["sensor_id"].value_counts().to_dict()
        for k in range(N):
            assert set(counts[k]) == set(parts.sensors_of(k))
        # a single engine's alarms and incidents; the leak spans the partitions, merged once
        alarms, incidents = outcome(store)
        assert alarms == expected[0]
        assert incidents == expected[1]
        leak = [i for i in incidents if i[1] == "gas"]
        assert len(leak) == 1
        audit = store.list_audit()
        merges = audit[audit["action"] == "merge_incident"]
        assert len(merges) == 1 and json.loads(merges["detail"].iloc[0])["across_partitions"]
        # the API relayed the workers' alarms and incidents to its SSE client
        wait_for(
            lambda: (
                {i[0] for i in incidents}
                <= {e["data"].get("incident_id") for e in seen if e["type"] == "incident"}
            ),
            30,
            "the incidents on SSE",
        )
        assert {a[0] for a in alarms} <= {
            e["data"].get("alarm_id") for e in seen if e["type"] == "alarm"
        }
        status = httpx.get(f"{base}/api/engine", headers={"Authorization": f"Bearer {token}"})
        assert status.json()["watermark"] == end.isoformat()
    finally:
        stop.set()
        for w in workers:
            w.stop()
        api.stop()
        pub.close()
        for k in range(N):
            for suffix in ("", "-route"):
                clear_session(mqtt_url, f"{tag}-w{k}of{N}{suffix}")
