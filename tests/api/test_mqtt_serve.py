"""`lifeline serve` with LIFELINE_MQTT: readings published to the broker reach the store, the
metrics and the SSE bus."""

from __future__ import annotations

import json
import time

import pytest

from tests.api.conftest import build_api
from tests.conftest import MqttNames


@pytest.mark.services
def test_serve_ingests_readings_from_mqtt(mqtt_url: str, mqtt_names: MqttNames) -> None:
    """Own topic prefix, client ids and data dir (the MQTT buffer lives there); start_mqtt
    returns once subscribed, so the first message cannot be missed."""
    import paho.mqtt.client as mqtt

    from lifeline.api.server import start_mqtt
    from lifeline.ingest.mqtt import parse_mqtt_url

    api = build_api(":memory:")
    prefix = mqtt_names.prefix
    cid = mqtt_names.client_id("serve", mqtt_url)
    with api.client:
        stop = start_mqtt(api.app, mqtt_url, mqtt_names.topic, client_id=cid)
        host, port, _, _ = parse_mqtt_url(mqtt_url)
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=mqtt_names.client_id("pub"))
        pub.connect(host, port)
        pub.loop_start()
        pub.publish(
            f"{prefix}/water:p:J1", json.dumps({"ts": "2026-07-15T08:00:00Z", "value": 41.0}), qos=1
        ).wait_for_publish(5)
        pub.publish(
            f"{prefix}/nope", json.dumps({"ts": "2026-07-15T08:00:00Z", "value": 1.0}), qos=1
        ).wait_for_publish(5)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and api.ctx.store.count("reading") < 1:
            time.sleep(0.1)
        pub.loop_stop()
        pub.disconnect()
        time.sleep(0.5)
        stop.set()
        assert api.ctx.store.count("reading") == 1
        assert api.ctx.store.rejected_counts().get("unknown_sensor") == 1
        evs = [e for e in api.ctx.bus.recent() if e.type == "readings"]
        assert evs and sum(e.data["stored"] for e in evs) == 1
        assert (
            'lifeline_readings_ingested_total{source="mqtt",utility="water"} 1.0'
            in api.client.get("/metrics").text
        )
