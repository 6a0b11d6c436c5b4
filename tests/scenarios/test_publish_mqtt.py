"""The drill's MQTT publisher on the real broker: a bounded window of unacknowledged QoS-1
messages, every message acknowledged and delivered in order by the end, topics from the
subscription filters, and a clear error for a broker that is not there."""

from __future__ import annotations

import json
import threading
import time

import pandas as pd
import pytest

from lifeline.errors import ConfigError
from lifeline.scenarios.publish import MqttPublisher, topic_prefix
from tests.conftest import MqttNames


def test_topic_prefix() -> None:
    assert topic_prefix("lifeline/readings/#") == "lifeline/readings/"
    assert topic_prefix("x/events") == "x/events/"


def test_unreachable_broker_names_the_option() -> None:
    with pytest.raises(ConfigError) as exc:
        MqttPublisher("mqtt://127.0.0.1:1").connect()
    assert exc.value.where == "--publish"


@pytest.mark.services
def test_window_of_unacknowledged_messages_and_delivery(
    mqtt_url: str, mqtt_names: MqttNames
) -> None:
    import paho.mqtt.client as mqtt

    from lifeline.ingest.mqtt import parse_mqtt_url

    tag = mqtt_names.client_id("drill-sub")
    root = mqtt_names.prefix.rsplit("/", 1)[0]
    got: list[tuple[str, dict[str, object]]] = []
    ready = threading.Event()
    host, port, _, _ = parse_mqtt_url(mqtt_url)
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=tag)

    def on_connect(c: mqtt.Client, *_: object) -> None:
        c.subscribe(f"{root}/#", qos=1)

    def on_subscribe(*_: object) -> None:
        ready.set()

    def on_message(c: mqtt.Client, u: object, msg: mqtt.MQTTMessage) -> None:
        got.append((msg.topic, json.loads(msg.payload)))

    sub.on_connect, sub.on_subscribe, sub.on_message = on_connect, on_subscribe, on_message
    sub.connect(host, port)
    sub.loop_start()
    assert ready.wait(10)
    pub = MqttPublisher(
        mqtt_url,
        readings_prefix=f"{root}/readings/",
        events_prefix=f"{root}/events/",
        window=7,
        settle_s=0,
    )
    ts = pd.date_range("2026-07-15", periods=200, freq="60s", tz="UTC")
    pub.readings(pd.DataFrame({"sensor_id": "S1", "ts": ts, "value": range(200)}))
    assert len(pub._inflight) <= 7  # never more than the window unacknowledged
    pub.events(
        pd.DataFrame(
            {"ts": ts[:3], "kind": "last_gasp", "customer_id": ["C1", "C2", "C3"], "element": ""}
        )
    )
    pub.complaints(pd.DataFrame({"ts": ts[:2], "text": ["a", "b"]}))
    pub.finish()
    assert pub.sent == {"readings": 200, "events": 3, "complaints": 0, "complaints_skipped": 2}
    deadline = time.monotonic() + 15
    while len(got) < 203 and time.monotonic() < deadline:
        time.sleep(0.05)
    sub.loop_stop()
    sub.disconnect()
    readings = [p for t, p in got if t == f"{root}/readings/S1"]
    assert [p["value"] for p in readings] == [float(v) for v in range(200)]  # in order
    assert readings[0]["ts"] == "2026-07-15T00:00:00+00:00"
    events = [p for t, p in got if t == f"{root}/events/last_gasp"]
    assert [e["customer_id"] for e in events] == ["C1", "C2", "C3"]
