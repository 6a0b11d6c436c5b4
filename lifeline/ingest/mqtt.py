"""MQTT ingestion: subscribe to ``lifeline/readings/#`` (QoS 1) and store what arrives.

Delivery semantics (see docs/storage.md): the client keeps a *persistent session* (fixed client
id, ``clean_session=False``), so the broker queues QoS-1 messages while it is away. Messages are
acknowledged (PUBACK) only **after** their batch has been written to the store (paho
``manual_ack``), which makes delivery at-least-once end to end: a crash before the write means
the broker redelivers; a redelivered reading is then a ``duplicate`` (idempotent store), never a
second row.

Payloads are JSON: one reading object or a list of them (or ``{"readings": […]}``). The sensor
id comes from the payload or, when absent, from the topic suffix
(``lifeline/readings/<sensor_id>``). Messages are validated and written in batches, flushed by
size (``batch_readings``), by message count (``flush_messages``, default 20 = Mosquitto's
default window of unacknowledged QoS-1 messages per client: the broker sends no more until we
acknowledge), by age (``max_delay_s``) or when the stream pauses (``idle_s``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from lifeline.errors import ConfigError, IngestError
from lifeline.ingest.jsonin import validate_json
from lifeline.ingest.service import IngestReport, _account, sensor_index
from lifeline.ingest.validate import Reason, SensorIndex

if TYPE_CHECKING:
    from lifeline.store import Store

DEFAULT_TOPIC = "lifeline/readings/#"


def parse_mqtt_url(url: str) -> tuple[str, int, str | None, str | None]:
    """``mqtt://[user[:password]@]host[:port]`` → (host, port, user, password)."""
    u = urlsplit(url if "://" in url else f"mqtt://{url}")
    if u.scheme not in ("mqtt", "tcp"):
        raise ConfigError(
            f"unsupported MQTT URL scheme {u.scheme!r} (use mqtt://host:port)",
            where="LIFELINE_MQTT",
        )
    if not u.hostname:
        raise ConfigError(f"MQTT URL {url!r} has no host", where="LIFELINE_MQTT")
    return u.hostname, u.port or 1883, u.username, u.password


def _client(client_id: str, clean: bool, manual_ack: bool = False) -> Any:
    import paho.mqtt.client as mqtt

    return mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )


def clear_session(url: str, client_id: str) -> None:
    """Make the broker forget the persistent session of ``client_id`` (and its queue)."""
    host, port, user, pw = parse_mqtt_url(url)
    c = _client(client_id, clean=True)
    if user:
        c.username_pw_set(user, pw)
    c.connect(host, port, keepalive=10)
    deadline = time.monotonic() + 5
    while not c.is_connected() and time.monotonic() < deadline:
        c.loop(0.1)  # CONNACK: the broker has dropped the old session
    c.disconnect()


class MqttIngestor:
    """Subscriber writing validated readings to ``store`` (see the module doc for semantics).

    ``client_id`` names the persistent session: keep it fixed across restarts so that queued
    messages are not lost. ``now`` fixes the clock for the future-timestamp check (replays).
    """

    def __init__(
        self,
        store: Store,
        url: str,
        *,
        topic: str = DEFAULT_TOPIC,
        client_id: str = "lifeline-ingest",
        sensors: pd.DataFrame | SensorIndex | None = None,
        qos: int = 1,
        batch_readings: int = 50_000,
        flush_messages: int = 20,
        max_delay_s: float = 0.5,
        idle_s: float = 0.02,
        now: datetime | pd.Timestamp | None = None,
        tz: str = "UTC",
        throttle: Any = None,
        feed: Any = None,
    ) -> None:
        self.store = store
        #: the live engine (:class:`lifeline.engine.Engine`): bounds late data, gets stored readings
        self.feed = feed
        #: optional :class:`lifeline.ingest.throttle.SensorThrottle`: readings of a sensor over
        #: its allowance are rejected with reason ``throttled`` (kept, like every reject)
        self.throttle = throttle
        self.url = url
        self.host, self.port, self._user, self._password = parse_mqtt_url(url)
        self.topic = topic
        self.prefix = topic[:-1] if topic.endswith("#") else topic.rstrip("/") + "/"
        self.client_id = client_id
        self.index = sensor_index(store, sensors)
        self.qos = qos
        self.batch_readings = batch_readings
        self.flush_messages = flush_messages
        self.max_delay_s = max_delay_s
        self.idle_s = idle_s
        self.now = now
        self.tz = tz
        self.report = IngestReport(sources=[f"mqtt:{topic}"])
        self.messages = 0
        self._pending: list[tuple[str, bytes, int, int]] = []
        self._pending_bytes = 0
        self._first = 0.0
        self._last = 0.0
        #: monotonic clock of the first message received and of the end of the last flush
        self.first_message_at: float | None = None
        self.last_flush_at: float | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._connect_error: str | None = None
        self._client = None

    # ---- paho callbacks (network thread) --------------------------------------------------
    def _on_connect(
        self, client: Any, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        if reason_code.is_failure:
            self._connect_error = str(reason_code)
            self._connected.set()
            return
        client.subscribe(self.topic, qos=self.qos)
        self._connected.set()

    def _on_subscribe(
        self, client: Any, userdata: Any, mid: Any, reason_codes: Any, properties: Any
    ) -> None:
        failed = [str(rc) for rc in reason_codes if getattr(rc, "is_failure", False)]
        if failed:
            self._connect_error = f"subscription to {self.topic!r} refused: {', '.join(failed)}"
        self._subscribed.set()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        now = time.monotonic()
        with self._lock:
            if self.first_message_at is None:
                self.first_message_at = now
            if not self._pending:
                self._first = now
            self._pending.append((msg.topic, msg.payload, msg.mid, msg.qos))
            self._pending_bytes += len(msg.payload)
            self._last = now
        if (
            self._pending_bytes > self.batch_readings * 40
            or len(self._pending) >= self.flush_messages
        ):
            self._wake.set()

    # ---- lifecycle -----------------------------------------------------------------------
    def connect(self, timeout_s: float = 10.0) -> None:
        """Connect, subscribe and start the network thread; returns once the broker has
        confirmed the subscription (SUBACK), so that nothing published afterwards is missed.
        Raises IngestError if the broker is unreachable or refuses the connection or the
        subscription."""
        c = _client(self.client_id, clean=False, manual_ack=True)
        if self._user:
            c.username_pw_set(self._user, self._password)
        c.on_connect = self._on_connect
        c.on_subscribe = self._on_subscribe
        c.on_message = self._on_message
        c.reconnect_delay_set(min_delay=1, max_delay=10)
        try:
            c.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise IngestError(f"cannot connect to the MQTT broker: {exc}", where=self.url) from exc
        c.loop_start()
        self._client = c
        t0 = time.monotonic()
        if not self._connected.wait(timeout_s) or self._connect_error:
            self.close()
            raise IngestError(
                f"MQTT broker refused or did not answer: {self._connect_error or 'timeout'}",
                where=self.url,
            )
        left = max(0.1, timeout_s - (time.monotonic() - t0))
        if not self._subscribed.wait(left) or self._connect_error:
            self.close()
            raise IngestError(
                f"MQTT broker did not confirm the subscription: {self._connect_error or 'timeout'}",
                where=self.url,
            )

    def close(self) -> None:
        """Disconnect (after the acknowledgements already queued) and stop the network thread."""
        c = self._client
        if c is None:
            return
        self._client = None
        try:
            c.disconnect()
        finally:
            c.loop_stop()

    def _due(self) -> bool:
        with self._lock:
            if not self._pending:
                return False
            now = time.monotonic()
            return (
                self._pending_bytes > self.batch_readings * 40
                or len(self._pending) >= self.flush_messages
                or now - self._first >= self.max_delay_s
                or now - self._last >= self.idle_s
            )

    def flush(self) -> int:
        """Validate and store every pending message, then acknowledge them. Returns the number
        of messages processed."""
        with self._lock:
            batch, self._pending, self._pending_bytes = self._pending, [], 0
        if not batch:
            return 0
        msgs = [(payload, topic, self._sensor_from_topic(topic)) for topic, payload, _, _ in batch]
        res, _ = validate_json(
            msgs,
            self.index,
            self.now,
            self.store.existing_readings_mask,
            source=self.topic,
            tz=self.tz,
            not_before=self.feed.not_before() if self.feed is not None else None,
        )
        if self.throttle is not None and len(res.good):
            res = self._throttle(res)
        stored = self.store.write_readings(res.good, assume_new=True) if len(res.good) else 0
        if stored < len(res.good):
            self.report.rejected[Reason.DUPLICATE.value] += len(res.good) - stored
        if len(res.rejected):
            self.store.write_rejected(res.rejected)
        _account(self.report, res, self.index, stored)
        if self.feed is not None and len(res.good):
            self.feed.submit_readings(res.good)
        c = self._client
        if c is not None:
            for _, _, mid, qos in batch:
                if qos > 0:
                    c.ack(mid, qos)
        self.messages += len(batch)
        self.last_flush_at = time.monotonic()
        return len(batch)

    def _throttle(self, res: Any) -> Any:
        """``res`` with the readings over their sensor's allowance moved to the rejected."""
        from dataclasses import replace

        from lifeline.ingest.throttle import throttled_rejects

        mask = self.throttle.admit(res.good["sensor_id"], time.monotonic())
        if mask.all():
            return res
        over = res.good[~mask]
        rej = throttled_rejects(res.good, mask, self.topic)
        n = len(rej)
        return replace(
            res,
            good=res.good[mask].reset_index(drop=True),
            rejected=pd.concat([res.rejected, rej], ignore_index=True),
            rejected_sensor=np.concatenate(
                [
                    np.asarray(res.rejected_sensor, dtype=object),
                    over["sensor_id"].astype(str).to_numpy(dtype=object),
                ]
            ),
            rejected_line=np.concatenate([np.asarray(res.rejected_line), np.full(n, -1)]),
            rejected_pos=np.concatenate([np.asarray(res.rejected_pos), np.full(n, -1)]),
        )

    def _sensor_from_topic(self, topic: str) -> str | None:
        if topic.startswith(self.prefix) and len(topic) > len(self.prefix):
            return topic[len(self.prefix) :]
        return None

    def run(
        self,
        max_messages: int | None = None,
        seconds: float | None = None,
        stop: threading.Event | None = None,
        on_flush: Callable[[MqttIngestor], None] | None = None,
    ) -> IngestReport:
        """Receive and store until ``max_messages`` were processed, ``seconds`` elapsed,
        ``stop`` is set or Ctrl-C; then flush, acknowledge and disconnect. Returns the report."""
        if self._client is None:
            self.connect()
        t0 = time.monotonic()
        try:
            while True:
                if stop is not None and stop.is_set():
                    break
                if seconds is not None and time.monotonic() - t0 >= seconds:
                    break
                if max_messages is not None and self.messages >= max_messages:
                    break
                self._wake.wait(self.idle_s)
                self._wake.clear()
                if self._due():
                    self.flush()
                    if on_flush is not None:
                        on_flush(self)
        except KeyboardInterrupt:
            pass
        finally:
            self.flush()
            self.close()
            self.report.seconds = time.monotonic() - t0
        return self.report


def new_client_id(prefix: str = "lifeline-ingest") -> str:
    """A unique client id (tests, benchmarks); production keeps one fixed id per subscriber."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
