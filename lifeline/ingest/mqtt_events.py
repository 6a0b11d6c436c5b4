"""MQTT subscriber for smart-meter and SCADA events (``lifeline/events/<kind>``).

Same delivery guarantees as readings (:mod:`lifeline.ingest.mqtt`): a persistent session, QoS 1
with manual acknowledgement after the event is stored, so a crash loses nothing and a
redelivered event is a duplicate by its deterministic id. The topic's last level is the kind
when the payload has none.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

from lifeline.errors import IngestError
from lifeline.ingest.events import EVENT_TOPIC, EventIndex, ingest_events
from lifeline.ingest.mqtt import _client, parse_mqtt_url

if TYPE_CHECKING:
    from lifeline.store import Store


class MqttEventIngestor:
    """Subscribes to ``topic`` and stores validated events, handing them to ``feed``."""

    def __init__(
        self,
        store: Store,
        url: str,
        index: EventIndex,
        *,
        topic: str = EVENT_TOPIC,
        client_id: str = "lifeline-events",
        feed: Any = None,
        flush_s: float = 0.2,
    ) -> None:
        self.store, self.url, self.index, self.topic = store, url, index, topic
        self.client_id, self.feed, self.flush_s = client_id, feed, flush_s
        self.host, self.port, self._user, self._password = parse_mqtt_url(url)
        self.counts: dict[str, Any] = {"stored": 0, "rejected": 0}
        self._pending: list[tuple[str, bytes, int, int]] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._client: Any = None

    def _on_connect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if not rc.is_failure:
            client.subscribe(self.topic, qos=1)
        self._connected.set()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        with self._lock:
            self._pending.append((msg.topic, msg.payload, msg.mid, msg.qos))

    def connect(self, timeout_s: float = 10.0) -> None:
        """Connect and subscribe; IngestError when the broker cannot be reached."""
        c = _client(self.client_id, clean=False, manual_ack=True)
        if self._user:
            c.username_pw_set(self._user, self._password)
        c.on_connect, c.on_message = self._on_connect, self._on_message
        c.reconnect_delay_set(min_delay=1, max_delay=10)
        try:
            c.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise IngestError(f"cannot connect to the MQTT broker: {exc}", where=self.url) from exc
        c.loop_start()
        self._client = c
        if not self._connected.wait(timeout_s):
            raise IngestError("MQTT broker did not answer", where=self.url)

    def flush(self) -> int:
        """Validate and store the pending messages, then acknowledge them."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        items: list[tuple[Any, str]] = []
        for topic, payload, _, _ in batch:
            try:
                obj = json.loads(payload)
            except (json.JSONDecodeError, UnicodeDecodeError):
                items.append((payload.decode("utf-8", "replace"), topic))
                continue
            if isinstance(obj, dict) and "kind" not in obj:
                obj = {**obj, "kind": topic.rsplit("/", 1)[-1]}
            items.append((obj, topic))
        out = ingest_events(self.store, items, self.index, feed=self.feed)
        self.counts["stored"] += out["stored"]
        self.counts["rejected"] += out["rejected_total"]
        c = self._client
        if c is not None:
            for _, _, mid, qos in batch:
                if qos > 0:
                    c.ack(mid, qos)
        return len(batch)

    def run(self, stop: threading.Event | None = None, seconds: float | None = None) -> None:
        """Receive until ``stop`` is set (or ``seconds`` passed), flushing every ``flush_s``."""
        if self._client is None:
            self.connect()
        t0 = time.monotonic()
        try:
            while not (stop is not None and stop.is_set()):
                if seconds is not None and time.monotonic() - t0 >= seconds:
                    break
                time.sleep(self.flush_s)
                self.flush()
        finally:
            self.flush()
            c, self._client = self._client, None
            if c is not None:
                c.disconnect()
                c.loop_stop()
