"""kill -9 of ``lifeline serve`` in the middle of a live stream: after a restart the loop
resumes from the store and the broker's queued messages — no reading lost, none stored twice,
and the same alarms and incidents (ids, counts) as an uninterrupted run, none twice."""

from __future__ import annotations

import json
import threading
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifeline.store import Store
from tests.reliability.live_day import CITY, DAY, register_detector, scripted_day
from tests.reliability.live_server import (
    Child,
    Publisher,
    free_port,
    outcome,
    reference_outcome,
    wait_for,
)

HOURS = 12.0


def _server(tmp: Path, mqtt_url: str, db: str, tag: str) -> Child:
    env = {
        "LIFELINE_DATA_DIR": str(tmp / "data"),
        "LIFELINE_MQTT_TOPIC": f"{tag}/readings/#",
        "LIFELINE_MQTT_EVENTS_TOPIC": f"{tag}/events/#",
        "LIFELINE_MQTT_CLIENT_ID": f"{tag}-serve",
        "LIFELINE_MQTT_THROTTLE": "0",  # the day is published far faster than real time
        "LIFELINE_ENGINE_IDLE_FLUSH_S": "3",
    }
    args = ["serve", "--city", str(CITY), "--port", str(free_port()), "--mqtt", mqtt_url]
    args += ["--db", db, "--no-demo-users"]
    return Child(args, env, tmp / "serve")


def _checkpoint(store: Store) -> pd.Timestamp | None:
    cp = store.load_checkpoint("engine")
    return None if cp is None else cp[0]


@pytest.mark.services
def test_kill9_mid_stream_loses_nothing_and_repeats_nothing(
    tmp_path: Path, mqtt_url: str, pg_schema: tuple[str, Store], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lifeline.ingest.mqtt import clear_session
    from lifeline.model.city import load_city

    db, store = pg_schema
    register_detector(monkeypatch)
    city = load_city(CITY)
    msgs, readings, events = scripted_day(city, hours=HOURS)
    expected: dict[str, Any] = {}
    ref = threading.Thread(
        target=lambda: expected.setdefault("v", reference_outcome(city, readings, events))
    )
    ref.start()  # the uninterrupted run, meanwhile

    tag = f"kill9-{uuid.uuid4().hex[:8]}"
    server = _server(tmp_path, mqtt_url, db, tag)
    pub = Publisher(mqtt_url, tag, f"{tag}-pub")
    # two kills: while the water alarms are open (03:00-05:00), and after the smart meters'
    # last gasps (07:10) were stored, before their restores (08:30)
    n_before = {t: len(readings[readings.ts < DAY + pd.Timedelta(t)]) for t in ("4h", "7h30min")}
    kills = [
        ("3h15min", lambda: store.count("reading") > n_before["4h"]),
        (
            "7h",
            lambda: (
                store.count("meter_event") >= 6 and store.count("reading") > n_before["7h30min"]
            ),
        ),
    ]
    first = [m for m in msgs if m.ts < DAY + pd.Timedelta("10h")]
    rest = msgs[len(first) :]
    try:
        server.start()
        server.wait_ready("lifeline serving on")
        publishing = threading.Thread(target=pub.publish, args=(first,))
        publishing.start()  # faster than the server: a backlog builds up in the broker
        for cp_min, more in kills:
            # kill while messages stream in, once the engine has checkpointed past cp_min and
            # ingestion has gone further (stored, partly processed, partly unacknowledged)
            wait_for(
                lambda cp_min=cp_min, more=more: (
                    (_checkpoint(store) or DAY) >= DAY + pd.Timedelta(cp_min) and more()
                ),
                240,
                f"the engine to checkpoint past {cp_min}",
                every=0.05,
            )
            stored_at_kill = store.count("reading")
            server.kill9()
            assert stored_at_kill < len(first)  # mid-stream: published, not all stored yet
            server.start()
            server.wait_ready("lifeline serving on")
        publishing.join(240)
        pub.publish(rest)
        end = DAY + pd.Timedelta(hours=HOURS)
        wait_for(
            lambda: (
                store.count("reading") >= len(readings)
                and store.count("meter_event") >= len(events)
                and _checkpoint(store) == end
            ),
            300,
            f"{len(readings)} readings stored and the engine flushed to {end}",
            state=lambda: (
                store.count("reading"),
                store.count("meter_event"),
                _checkpoint(store),
                store.rejected_counts(),
                server.output()[-3000:],
            ),
        )
        server.stop()
        ref.join(300)

        # no reading lost, none stored twice
        got = store.read_readings()
        assert len(got) == len(readings)
        key = ["sensor_id", "ts"]
        assert (
            got[key]
            .astype(str)
            .equals(readings.sort_values(key)[key].astype(str).reset_index(drop=True))
        )
        assert store.count("meter_event") == len(events)
        # every redelivered message is a duplicate (kept in rejected), never "late"
        assert "late" not in store.rejected_counts()
        # the same alarms and incidents as the uninterrupted run: ids, states, counts
        alarms, incidents = outcome(store)
        ref_alarms, ref_incidents = expected["v"]
        assert len(ref_alarms) >= 3 and len(ref_incidents) >= 3
        assert alarms == ref_alarms
        assert incidents == ref_incidents
        # none twice: each incident opened once in the audit trail
        audit = store.list_audit()
        opened = audit[audit["action"] == "open_incident"]["object_id"].tolist()
        assert sorted(opened) == sorted({i[0] for i in incidents} | set(_merged(store)))
    finally:
        server.stop()
        pub.close()
        clear_session(mqtt_url, f"{tag}-serve")


def _merged(store: Store) -> list[str]:
    """Incidents merged into others (opened, then removed: they keep their audit entry)."""
    audit = store.list_audit()
    rows = audit[audit["action"] == "merge_incident"]
    return [str(r.object_id) for r in rows.itertuples() if json.loads(r.detail or "{}")]
