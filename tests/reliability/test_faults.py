"""Fault tests against the real services: a broker restart mid-stream, a subscriber killed
without acknowledging, skewed clocks. Readings land in PostgreSQL (a fresh schema per test);
each test has its own MQTT topic prefix and client ids (``mqtt_names``)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifeline.ingest.mqtt import MqttIngestor, parse_mqtt_url
from lifeline.store import Store
from tests.conftest import MqttNames
from tests.reliability.broker import PrivateBroker
from tests.store.helpers import sensors_frame

T0 = pd.Timestamp("2024-03-01T00:00:00Z")
NOW = pd.Timestamp("2024-06-01T00:00:00Z")


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    from lifeline.store.postgres_store import PostgresStore

    pg = PostgresStore(pg_url, schema=f"rel_{uuid.uuid4().hex[:12]}")
    try:
        pg.init_schema()
        pg.replace_table("sensor", sensors_frame())
        yield pg
    finally:
        pg.drop_schema()
        pg.close()


def reading(i: int, sensor: str = "s0") -> str:
    return json.dumps(
        {"sensor_id": sensor, "ts": (T0 + pd.Timedelta(minutes=i)).isoformat(), "value": i % 50}
    )


def wait_for(cond: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.1)


def persistent_publisher(url: str, client_id: str) -> Any:
    """A QoS-1 publisher with a persistent session: what it could not deliver while the broker
    was down it keeps and re-sends after reconnecting (paho queues QoS>0 messages)."""
    import paho.mqtt.client as mqtt

    host, port, _, _ = parse_mqtt_url(url)
    c = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=False,
        protocol=mqtt.MQTTv311,
    )
    c.reconnect_delay_set(min_delay=1, max_delay=2)
    c.connect(host, port, keepalive=10)
    c.loop_start()
    return c


@pytest.mark.services
def test_broker_restart_mid_stream_loses_no_qos1_reading(
    tmp_path: Path, pg_store: Store, mqtt_names: MqttNames
) -> None:
    n = 300
    broker = PrivateBroker(tmp_path)  # own port and persistence directory
    broker.start()
    ing = MqttIngestor(
        pg_store,
        broker.url,
        topic=mqtt_names.topic,
        client_id=mqtt_names.client_id("rel-ingest"),
        now=NOW,
    )
    stop = threading.Event()
    out: dict[str, Any] = {}
    pub = None
    try:
        connects = []
        on_connect = ing._on_connect

        def counting(*a: Any) -> None:
            connects.append(time.monotonic())
            on_connect(*a)

        ing._on_connect = counting  # type: ignore[method-assign]
        ing.connect(timeout_s=20)  # returns after SUBACK
        worker = threading.Thread(
            target=lambda: out.setdefault("report", ing.run(seconds=120, stop=stop)), daemon=True
        )
        worker.start()
        pub = persistent_publisher(broker.url, mqtt_names.client_id("rel-pub"))
        infos = []
        for i in range(n):
            infos.append(pub.publish(mqtt_names.at("s0"), reading(i), qos=1))
            if i == n // 3:
                broker.stop()  # mid-stream: some messages in flight, the rest queued by paho
            if i == 2 * n // 3:
                broker.start()
            time.sleep(0.002)
        wait_for(lambda: pg_store.count("reading") >= n, 90, f"{n} readings in PostgreSQL")
        # (messages published while the broker was down report "not connected" although paho
        # queued and later sent them: the store, not the publish result, is the judge)
        time.sleep(1.0)  # let any redelivered duplicate arrive: it must not add a row
        stop.set()
        worker.join(60)
        assert not worker.is_alive()
        assert pg_store.count("reading") == n
        got = pg_store.read_readings(sensor_ids=["s0"])
        assert len(got) == n and got["ts"].is_unique
        assert broker.starts == 2 and len(connects) >= 2  # the subscriber reconnected by itself
    finally:
        stop.set()
        if pub is not None:
            pub.disconnect()
            pub.loop_stop()
        ing.close()
        broker.stop()


@pytest.mark.services
def test_killed_subscriber_restarts_without_duplicates(
    mqtt_url: str, pg_store: Store, monkeypatch: pytest.MonkeyPatch, mqtt_names: MqttNames
) -> None:
    """Stored but not acknowledged, then killed (no DISCONNECT): the broker redelivers to the
    restarted subscriber and the store's idempotent key (sensor, ts) keeps one row each."""
    from tests.ingest.test_mqtt import publish

    N_KILL = 20
    cid = mqtt_names.client_id("rel-kill", mqtt_url)  # session cleared after the test
    topic = mqtt_names.topic
    doomed = MqttIngestor(pg_store, mqtt_url, client_id=cid, topic=topic, now=NOW)
    doomed.connect(timeout_s=20)  # returns after SUBACK
    client = doomed._client
    assert client is not None
    monkeypatch.setattr(client, "ack", lambda mid, qos: None)  # crash before the PUBACKs
    publish(mqtt_url, [(mqtt_names.at("s0"), reading(i)) for i in range(N_KILL)])
    # drive flushes by hand (run() would disconnect cleanly at the end); the broker sends
    # at most 20 unacknowledged QoS-1 messages (Mosquitto's default in-flight window)
    wait_for(lambda: doomed._pending or pg_store.count("reading") > 0, 20, "messages")
    deadline = time.monotonic() + 30
    while pg_store.count("reading") < N_KILL and time.monotonic() < deadline:
        doomed.flush()
        time.sleep(0.05)
    assert pg_store.count("reading") == N_KILL
    sock = client.socket()
    client.loop_stop()
    if sock is not None:
        sock.close()  # killed: the broker sees a dead connection, every message unacknowledged
    survivor = MqttIngestor(pg_store, mqtt_url, client_id=cid, topic=topic, now=NOW)
    report = survivor.run(max_messages=N_KILL, seconds=30)
    assert survivor.messages == N_KILL  # every one redelivered ...
    assert report.stored == 0 and report.rejected["duplicate"] == N_KILL  # ... none stored twice
    assert pg_store.count("reading") == N_KILL


def test_skewed_timestamps_rejected_or_accepted_as_documented() -> None:
    """Clock skew: up to FUTURE_TOLERANCE (5 min) ahead is accepted (device clock skew); further
    ahead is ``future_timestamp``; naive times are read in the source zone; old data is kept."""
    from lifeline.ingest.validate import FUTURE_TOLERANCE, validate

    now = pd.Timestamp("2026-07-15T12:00:00Z")
    ahead_ok = now + FUTURE_TOLERANCE - pd.Timedelta(seconds=1)
    ahead_bad = now + FUTURE_TOLERANCE + pd.Timedelta(seconds=1)
    records = pd.DataFrame(
        {
            "sensor_id": ["s0", "s0", "s0", "s0", "s0"],
            "ts": [
                ahead_ok.isoformat(),
                ahead_bad.isoformat(),
                (now - pd.Timedelta(days=400)).isoformat(),  # late data: kept
                "2026-07-15T13:03:00+02:00",  # = 11:03 UTC: an offset is honoured
                "2026-07-15T14:00:00",  # naive, read as Europe/Berlin = 12:00 UTC: ok
            ],
            "value": ["1", "2", "3", "4", "5"],
        }
    )
    good, rejected = validate(records, sensors_frame(), now, tz="Europe/Berlin")
    assert list(rejected["reason"].astype(str)) == ["future_timestamp"]
    assert sorted(good["value"].tolist()) == [1.0, 3.0, 4.0, 5.0]
    ts = dict(zip(good["value"], pd.to_datetime(good["ts"], utc=True), strict=True))
    assert ts[4.0] == pd.Timestamp("2026-07-15T11:03:00Z")
    assert ts[5.0] == pd.Timestamp("2026-07-15T12:00:00Z")
