"""``lifeline worker``: one engine partition of a scaled-out live loop.

N workers share the stream against one PostgreSQL (see :mod:`lifeline.engine.partition`):

* an :class:`~lifeline.ingest.mqtt.MqttIngestor` on the **shared** subscriptions
  ``$share/<group>/lifeline/readings/#`` and ``…/lifeline/events/#`` (one persistent session,
  ``<client id>-w<k>of<n>``) validates and stores what the broker hands this worker, and its
  :class:`~lifeline.engine.partition.PartitionFeed` gives partition k's items to the engine and
  forwards the others on ``lifeline/route/<j>``;
* a :class:`RouteClient` (persistent session ``…-route``) receives what the other workers (and
  the API) forward to ``lifeline/route/<k>``, with their progress, and sends this worker's;
* the engine (checkpoint ``engine-<k>of<n>``) processes a window once every worker's progress
  has passed it, saves alarms and incidents (an incident spanning partitions is merged once:
  :mod:`lifeline.engine.shared`) and tells the API with PostgreSQL ``NOTIFY``, which relays
  them to its SSE clients (:mod:`lifeline.api.relay`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from lifeline.engine.partition import SOURCE, Partitioner, PartitionFeed, decode_route
from lifeline.errors import ConfigError, IngestError
from lifeline.ingest.mqtt import _client, parse_mqtt_url

if TYPE_CHECKING:
    from lifeline.model.city import City
    from lifeline.store import Store

log = logging.getLogger(__name__)

#: NOTIFY payloads must stay under 8000 bytes; bigger ones are sent as a reference
NOTIFY_MAX = 7800
#: how often an idle worker re-sends its progress (seconds)
HEARTBEAT_S = 0.5


def events_channel(store: Any) -> str:
    """The NOTIFY channel of this store's alarms and incidents (one per schema: channels are
    database-wide)."""
    schema = getattr(store, "schema", None)
    return f"lifeline_{schema}"[:63] if schema else "lifeline_events"


def notifier(store: Store, channel: str) -> Callable[[str, dict[str, Any], str | None], None]:
    """An engine ``publish`` that tells the API (``NOTIFY``) what it saved."""

    def publish(topic: str, payload: dict[str, Any], district: str | None) -> None:
        doc = {"topic": topic, "payload": payload, "district": district}
        text = json.dumps(doc, ensure_ascii=False, default=str)
        if len(text.encode()) > NOTIFY_MAX:
            key = "alarm_id" if topic == "alarm" else "incident_id"
            ref = {"topic": topic, "ref": {key: payload.get(key)}, "district": district}
            text = json.dumps(ref, ensure_ascii=False, default=str)
        try:
            store.notify(channel, text)
        except Exception:  # the row is saved; a lost push only delays the dashboard
            log.exception("NOTIFY of a %s failed", topic)

    return publish


class RouteClient:
    """Publishes forwards on ``<route>/<j>`` and, with ``own`` set, receives this partition's
    (persistent session, QoS 1, acknowledged once handed to ``engine``)."""

    def __init__(
        self,
        url: str,
        route: str,
        client_id: str,
        own: int | None = None,
        engine: Any = None,
        flush_s: float = 0.02,
    ) -> None:
        self.url, self.route, self.client_id = url, route.rstrip("/"), client_id
        self.own, self.engine, self.flush_s = own, engine, flush_s
        self.host, self.port, self._user, self._password = parse_mqtt_url(url)
        self._pending: list[tuple[bytes, int, int]] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._client: Any = None
        self.received = 0

    def topic(self, k: int) -> str:
        """The route topic of partition ``k``."""
        return f"{self.route}/{k}"

    def _on_connect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if not rc.is_failure and self.own is not None:
            client.subscribe(self.topic(self.own), qos=1)
        self._connected.set()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        with self._lock:
            self._pending.append((msg.payload, msg.mid, msg.qos))

    def connect(self, timeout_s: float = 10.0) -> None:
        """Connect (and subscribe); IngestError when the broker cannot be reached."""
        c = _client(self.client_id, clean=self.own is None, manual_ack=True)
        if self._user:
            c.username_pw_set(self._user, self._password)
        c.on_connect, c.on_message = self._on_connect, self._on_message
        c.max_inflight_messages_set(100)
        c.max_queued_messages_set(0)
        c.reconnect_delay_set(min_delay=1, max_delay=10)
        try:
            c.connect(self.host, self.port, keepalive=30)
        except OSError as exc:
            raise IngestError(f"cannot connect to the MQTT broker: {exc}", where=self.url) from exc
        c.loop_start()
        self._client = c
        if not self._connected.wait(timeout_s):
            raise IngestError("MQTT broker did not answer", where=self.url)

    def send(self, k: int, payload: bytes) -> Any:
        """Publish ``payload`` (QoS 1) to partition ``k``; returns paho's MQTTMessageInfo."""
        return self._client.publish(self.topic(k), payload, qos=1)

    def flush(self) -> int:
        """Hand the pending route messages to the engine (data first, then the senders'
        progress), then acknowledge them."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        parts: dict[str, list[pd.DataFrame]] = {"readings": [], "events": [], "complaints": []}
        progress: dict[str, pd.Timestamp] = {}
        for payload, _, _ in batch:
            try:
                doc = decode_route(payload)
            except (ValueError, KeyError, TypeError) as exc:
                log.error("bad route message dropped: %s", exc)
                continue
            for name in parts:
                if doc[name] is not None:
                    parts[name].append(doc[name])
            if doc["progress"] is not None and doc["from"].startswith("w"):
                p = progress.get(doc["from"])
                progress[doc["from"]] = doc["progress"] if p is None else max(p, doc["progress"])
        data = {k: pd.concat(v, ignore_index=True) for k, v in parts.items() if v}
        if data and self.engine is not None:
            self.engine.submit(**data)
        if self.engine is not None:
            for src, ts in progress.items():
                self.engine.set_progress(src, ts)
        for _, mid, qos in batch:
            if qos > 0:
                self._client.ack(mid, qos)
        self.received += len(batch)
        return len(batch)

    def run(self, stop: threading.Event) -> None:
        """Flush every ``flush_s`` until ``stop``."""
        while not stop.is_set():
            time.sleep(self.flush_s)
            try:
                self.flush()
            except Exception:  # the loop must go on; unacknowledged messages come again
                log.exception("route flush failed")
        self.flush()

    def close(self) -> None:
        """Disconnect and stop the network thread."""
        c, self._client = self._client, None
        if c is not None:
            c.disconnect()
            c.loop_stop()


def ensure_city(store: Store, city: City) -> None:
    """Import ``city``'s tables unless the store already holds them (once, under a lock, when
    several processes start together)."""
    from lifeline.model.store_io import import_city
    from lifeline.store.base import SCHEMA_LOCK

    with store.locked(SCHEMA_LOCK):
        meta = store.get_meta()
        if meta.get("city.root") != str(city.root) or store.count("sensor") == 0:
            import_city(store, city)


class Worker:
    """One engine partition (``k`` of ``n``) with its MQTT ingestion and route client."""

    def __init__(
        self,
        city: City,
        k: int,
        n: int,
        db: str,
        mqtt: str,
        *,
        group: str,
        route: str,
        readings_topic: str,
        events_topic: str,
        client_id: str,
        seed: int = 0,
        idle_flush_s: float | None = 30.0,
    ) -> None:
        from lifeline.engine import Engine
        from lifeline.engine.engine import EngineConfig
        from lifeline.engine.runner import EngineRunner
        from lifeline.engine.shared import SharedIncidents
        from lifeline.ingest.events import EventIndex
        from lifeline.ingest.mqtt import MqttIngestor, shared
        from lifeline.store import open_store

        if not 0 <= k < n:
            raise ConfigError(f"partition {k} is not one of 0 … {n - 1}", where="--partition")
        if not db.startswith(("postgresql://", "postgres://")):
            raise ConfigError(
                "lifeline worker needs PostgreSQL: several processes share the store",
                where="--db / LIFELINE_DB",
            )
        if not mqtt:
            raise ConfigError(
                "lifeline worker needs an MQTT broker", where="--mqtt / LIFELINE_MQTT"
            )
        self.k, self.n = k, n
        self.parts = Partitioner(city, n, seed)
        self.ingest_store = open_store(db)
        ensure_city(self.ingest_store, city)
        self.engine_store = open_store(db)  # its own connection: long saves never block ingest
        self.channel = events_channel(self.engine_store)
        cfg = EngineConfig(
            name=f"engine-{k}of{n}", sources=tuple(SOURCE.format(j) for j in range(n))
        )
        self.engine = Engine(
            city,
            self.engine_store,
            config=cfg,
            publish=notifier(self.engine_store, self.channel),
            partition=(self.parts, k),
            shared=SharedIncidents(self.engine_store, k),
        )
        self.runner = EngineRunner(self.engine, idle_flush_s=idle_flush_s)
        self.route = RouteClient(mqtt, route, f"{client_id}-route", own=k, engine=self.runner)
        self.feed = PartitionFeed(self.parts, k, self.runner, self.route.send)
        switches = city.power.switch.index if city.has("power") else []
        self.ingest = MqttIngestor(
            self.ingest_store,
            mqtt,
            topic=shared(readings_topic, group),
            client_id=client_id,
            feed=self.feed,
            events_topic=shared(events_topic, group),
            events=EventIndex.of(city.customers, switches),
        )
        self.stop_event = threading.Event()
        self._threads: list[threading.Thread] = []

    @classmethod
    def from_settings(cls, city: City, k: int, n: int, db: str, mqtt: str, s: Any) -> Worker:
        """Partition ``k`` of ``n`` with the topics, group, client id, seed and idle flush of
        the settings ``s`` (:func:`lifeline.config.get_settings`)."""
        return cls(
            city,
            k,
            n,
            db,
            mqtt,
            group=s.worker_group,
            route=s.mqtt_route_topic,
            readings_topic=s.mqtt_topic,
            events_topic=s.mqtt_events_topic,
            client_id=f"{s.mqtt_client_id}-w{k}of{n}",
            seed=s.partition_seed,
            idle_flush_s=s.engine_idle_flush_s,
        )

    def start(self) -> Worker:
        """Connect and start the engine, route, ingestion and heartbeat threads."""
        self.runner.start()
        self.route.connect()
        self.ingest.connect()
        for name, target in (
            ("route", lambda: self.route.run(self.stop_event)),
            ("ingest", lambda: self.ingest.run(stop=self.stop_event)),
            ("heartbeat", self._heartbeat),
        ):
            t = threading.Thread(target=target, name=f"lifeline-worker-{name}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _heartbeat(self) -> None:
        while not self.stop_event.wait(HEARTBEAT_S):
            try:
                self.feed.heartbeat()
            except Exception:  # a missed heartbeat only delays the others
                log.exception("heartbeat failed")

    def status(self) -> dict[str, Any]:
        """The engine's status and this worker's counters."""
        return {
            **self.runner.status(),
            "ingested": self.ingest.report.stored,
            "forwarded": self.feed.forwarded,
            "route_messages": self.route.received,
        }

    def stop(self) -> None:
        """Stop ingestion (acknowledging what was stored), then the engine (checkpoint)."""
        self.stop_event.set()
        for t in self._threads:
            t.join(30)
        self.route.close()
        self.runner.stop()
        self.ingest_store.close()
        self.engine_store.close()
