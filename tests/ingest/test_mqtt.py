"""MQTT ingestion through the real Mosquitto broker (QoS 1, persistent session). Every test has
its own topic prefix and client ids (``mqtt_names``): the broker is shared with other tests,
benchmarks and engineers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pandas as pd
import pytest

from lifeline.ingest.mqtt import MqttIngestor, new_client_id, parse_mqtt_url
from lifeline.store import Store
from tests.conftest import MqttNames
from tests.store.helpers import sensors_frame

pytestmark = pytest.mark.services

T0 = pd.Timestamp("2024-03-01T00:00:00Z")
NOW = pd.Timestamp("2024-06-01T00:00:00Z")


def publish(url: str, messages: list[tuple[str, str | bytes]]) -> None:
    """Publish at QoS 1 and wait until the broker has acknowledged every message."""
    import paho.mqtt.client as mqtt

    host, port, _, _ = parse_mqtt_url(url)
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=new_client_id("test-pub"))
    c.connect(host, port)
    c.loop_start()
    try:
        infos = [c.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(timeout=10)
            assert info.is_published()
    finally:
        c.disconnect()
        c.loop_stop()


@pytest.fixture
def client_id(mqtt_url: str, mqtt_names: MqttNames) -> Iterator[str]:
    """The subscriber's client id; its persistent session is cleared after the test."""
    yield mqtt_names.client_id("ingest", mqtt_url)


def batch(sensor: str, start: int, n: int) -> str:
    return json.dumps(
        [
            {
                "sensor_id": sensor,
                "ts": (T0 + pd.Timedelta(minutes=start + i)).isoformat(),
                "value": float(i % 50),
            }
            for i in range(n)
        ]
    )


def wait_subscribed(ing: MqttIngestor) -> None:
    ing.connect()  # returns once the broker has confirmed the subscription (SUBACK)


def test_connect_returns_once_subscribed(mqtt_url: str, mqtt_names: MqttNames) -> None:
    """A message published right after connect() is delivered (no SUBACK race)."""
    from lifeline.store import open_store

    with open_store(":memory:") as store:
        store.replace_table("sensor", sensors_frame())
        cid = mqtt_names.client_id("ingest", mqtt_url)
        ing = MqttIngestor(store, mqtt_url, topic=mqtt_names.topic, client_id=cid, now=NOW)
        ing.connect()
        assert ing._subscribed.is_set()
        publish(mqtt_url, [(mqtt_names.at("s0"), json.dumps({"ts": T0.isoformat(), "value": 1}))])
        assert ing.run(max_messages=1, seconds=10).stored == 1


def test_mqtt_batches_topic_sensor_and_rejects(
    store: Store, mqtt_url: str, client_id: str, mqtt_names: MqttNames
) -> None:
    store.replace_table("sensor", sensors_frame())
    at = mqtt_names.at
    ing = MqttIngestor(store, mqtt_url, topic=mqtt_names.topic, client_id=client_id, now=NOW)
    wait_subscribed(ing)
    msgs: list[tuple[str, str | bytes]] = [
        (at("batch"), batch("s0", 0, 500)),
        (at("batch"), batch("s0", 500, 500)),
        (at("s1"), json.dumps({"ts": "2024-03-01T00:00:00Z", "value": 5.0})),  # sensor from topic
        (at("s1"), b"{not json"),
        (at("s2"), json.dumps([{"ts": "2024-03-01T00:00:00Z", "value": 99}, 7])),
        (at("batch"), batch("s0", 0, 3)),  # re-sent: duplicates
    ]
    publish(mqtt_url, msgs)
    report = ing.run(max_messages=len(msgs), seconds=20)
    assert report.stored == 1001
    assert report.rejected == {"malformed_json": 2, "out_of_range": 1, "duplicate": 3}
    assert store.count("reading") == 1001
    rej = store.read_table("rejected")
    assert set(rej["source"]) == {at("s1"), at("s2"), at("batch")}
    assert rej.loc[rej["reason"] == "malformed_json", "raw"].tolist()[0] == "{not json"
    assert (
        report.per_utility["water"]["stored"] == 1000 and report.per_utility["gas"]["stored"] == 1
    )


def test_persistent_session_keeps_messages_published_while_away(
    mqtt_url: str, client_id: str, mqtt_names: MqttNames
) -> None:
    from lifeline.store import open_store

    topic, at = mqtt_names.topic, mqtt_names.at
    with open_store(":memory:") as store:
        store.replace_table("sensor", sensors_frame())
        first = MqttIngestor(store, mqtt_url, topic=topic, client_id=client_id, now=NOW)
        wait_subscribed(first)
        publish(mqtt_url, [(at("batch"), batch("s0", 0, 10))])
        first.run(max_messages=1, seconds=10)  # processes, acks, disconnects
        assert store.count("reading") == 10
        # subscriber away: QoS-1 messages are queued by the broker for the persistent session
        publish(mqtt_url, [(at("batch"), batch("s0", 100 + 10 * k, 10)) for k in range(5)])
        second = MqttIngestor(store, mqtt_url, topic=topic, client_id=client_id, now=NOW)
        report = second.run(max_messages=5, seconds=10)
        assert report.stored == 50
        assert store.count("reading") == 60


def test_unacknowledged_messages_are_redelivered_after_a_crash(
    mqtt_url: str, client_id: str, mqtt_names: MqttNames
) -> None:
    from lifeline.store import open_store

    topic = mqtt_names.topic
    with open_store(":memory:") as store:
        store.replace_table("sensor", sensors_frame())
        doomed = MqttIngestor(store, mqtt_url, topic=topic, client_id=client_id, now=NOW)
        wait_subscribed(doomed)
        publish(mqtt_url, [(mqtt_names.at("batch"), batch("s0", 0, 20))])
        deadline = time.monotonic() + 5
        while not doomed._pending and time.monotonic() < deadline:
            time.sleep(0.01)
        assert doomed._pending  # received but not yet stored nor acknowledged ...
        doomed._pending.clear()  # ... and lost in a crash
        sock = doomed._client.socket()  # type: ignore[union-attr]
        doomed._client.loop_stop()  # type: ignore[union-attr]
        sock.close()  # no DISCONNECT: the broker sees a dead connection
        assert store.count("reading") == 0
        survivor = MqttIngestor(store, mqtt_url, topic=topic, client_id=client_id, now=NOW)
        report = survivor.run(max_messages=1, seconds=15)
        assert report.stored == 20  # redelivered by the broker: at-least-once


def test_unreachable_broker_is_a_clear_error() -> None:
    from lifeline.errors import IngestError
    from lifeline.store import open_store

    with open_store(":memory:") as store:
        store.replace_table("sensor", sensors_frame())
        ing = MqttIngestor(store, "mqtt://127.0.0.1:9", client_id="x")
        with pytest.raises(IngestError, match="127.0.0.1"):
            ing.connect(timeout_s=2)


def test_flooding_sensor_is_throttled_through_the_broker(
    mqtt_url: str, client_id: str, mqtt_names: MqttNames
) -> None:
    """One sensor sending far over its rate loses its excess (kept as `throttled` rejects); a
    sensor at its normal rate in the same stream loses nothing."""
    from lifeline.ingest.throttle import SensorThrottle
    from lifeline.store import open_store

    with open_store(":memory:") as store:
        sensors = sensors_frame()
        store.replace_table("sensor", sensors)
        throttle = SensorThrottle.from_sensors(sensors, factor=10, burst=100)
        ing = MqttIngestor(
            store,
            mqtt_url,
            topic=mqtt_names.topic,
            client_id=client_id,
            now=NOW,
            throttle=throttle,
        )
        wait_subscribed(ing)
        # s0 floods: 1000 readings in one message; s1 sends 5 (its normal share)
        normal = json.dumps(
            [
                {"sensor_id": "s1", "ts": (T0 + pd.Timedelta(minutes=i)).isoformat(), "value": 1.0}
                for i in range(5)
            ]
        )
        publish(
            mqtt_url,
            [
                (mqtt_names.at("batch"), batch("s0", 0, 1000)),
                (mqtt_names.at("batch"), normal),
            ],
        )
        report = ing.run(max_messages=2, seconds=20)
        stored = store.read_table("reading")
        per_sensor = stored.groupby("sensor_id").size().to_dict()
        assert per_sensor.get("s1") == 5
        assert 100 <= per_sensor.get("s0", 0) < 200  # the burst allowance, not the flood
        assert report.rejected["throttled"] == 1000 - per_sensor["s0"]
        rej = store.read_table("rejected")
        assert (rej["reason"] == "throttled").sum() == 1000 - per_sensor["s0"]
        assert report.per_utility["water"]["rejected"] == 1000 - per_sensor["s0"]
