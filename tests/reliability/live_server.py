"""Running ``lifeline serve`` / ``lifeline worker`` as child processes of a test (own data dir,
own PostgreSQL schema, own MQTT topics and client ids), publishing the scripted day into them
through Mosquitto, and reading back what the loop stored."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from lifeline.ingest.mqtt import parse_mqtt_url
from tests.reliability.live_day import Message

REPO = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    cond: Callable[[], Any],
    timeout_s: float,
    what: str,
    every: float = 0.2,
    state: Callable[[], Any] | None = None,
) -> Any:
    """Poll ``cond`` until it returns something truthy; AssertionError (with ``state()``)
    after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        out = cond()
        if out:
            return out
        if time.monotonic() > deadline:
            now = f"; state: {state()}" if state is not None else ""
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}{now}")
        time.sleep(every)


class Child:
    """``python -m tests.reliability.live_day <args>`` (the lifeline CLI with the test
    detector registered) with its own environment; output goes to ``log``."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.args, self.env, self.log = args, env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        out = self.log.with_suffix(f".{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.live_day", *self.args],
            cwd=REPO,
            env={**os.environ, **self.env, "PYTHONPATH": str(REPO)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        self.starts += 1

    def output(self) -> str:
        return "\n".join(
            self.log.with_suffix(f".{i}.log").read_text(errors="replace")
            for i in range(self.starts)
        )

    def wait_ready(self, marker: str, timeout_s: float = 240.0) -> None:
        """Wait until the current output contains ``marker`` (fails if the child died)."""
        path = self.log.with_suffix(f".{self.starts - 1}.log")

        def ready() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"child exited ({self.proc.returncode}):\n{self.output()}")
            return marker in path.read_text(errors="replace")

        wait_for(ready, timeout_s, f"{marker!r} from {' '.join(self.args[:2])}")

    def kill9(self) -> None:
        """SIGKILL: no shutdown hook, no final checkpoint, no MQTT DISCONNECT."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 30 s)."""
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(30)


class Publisher:
    """A QoS-1 publisher of the scripted day's messages under ``prefix``."""

    def __init__(self, url: str, prefix: str, client_id: str) -> None:
        import paho.mqtt.client as mqtt

        host, port, _, _ = parse_mqtt_url(url)
        self.prefix = prefix
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        self.sent = 0

    def topic(self, m: Message) -> str:
        return f"{self.prefix}/{'readings' if m.kind == 'reading' else 'events'}/{m.suffix}"

    def publish(self, msgs: Iterable[Message]) -> None:
        """Publish each message (QoS 1) and wait until the broker has them all."""
        infos = [self.client.publish(self.topic(m), m.body(), qos=1) for m in msgs]
        for i in infos:
            i.wait_for_publish(60)
            self.sent += 1

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def outcome(store: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Alarms (id, state, start, end) and incidents (id, utility, kind, grade, evidence ids)
    as stored, sorted by id."""
    al = store.list_alarms().sort_values("alarm_id")
    alarms = [(r.alarm_id, r.state, str(r.ts), str(r.ended_at)) for r in al.itertuples()]
    inc = store.list_incidents().sort_values("incident_id")
    incidents = []
    for r in inc.itertuples():
        body = json.loads(r.body)
        incidents.append(
            (
                r.incident_id,
                r.utility,
                body["kind"],
                r.grade,
                tuple(sorted(e["evidence_id"] for e in body["evidence"])),
            )
        )
    return alarms, incidents


def reference_outcome(
    city: Any, readings: pd.DataFrame, events: pd.DataFrame
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The uninterrupted run: the whole day in one batch into an in-process engine on an
    in-memory store (the batching-invariance property makes this the reference)."""
    from lifeline.engine import Engine
    from lifeline.ingest.events import EventIndex, ingest_events
    from lifeline.ingest.service import ingest_frame
    from lifeline.model.store_io import import_city
    from lifeline.store import open_store

    with open_store(":memory:") as store:
        import_city(store, city)
        eng = Engine(city, store)
        ingest_frame(store, readings, source="ref", sensors=city.sensors, progress=False, feed=eng)
        index = EventIndex.of(city.customers, city.power.switch.index)
        items = [(e, "ref") for e in events.assign(ts=events["ts"].astype(str)).to_dict("records")]
        ingest_events(store, items, index, feed=eng)
        eng.flush()
        return outcome(store)
