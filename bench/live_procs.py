"""Processes of ``bench/live.py``: the server, the workers, the publisher and the SSE client.

Children are forked from the bench (the synthetic city and its warm detectors are inherited,
not serialised); each takes its settings from the environment it is given, like a deployment.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

CTX = mp.get_context("fork")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its reaped children (/proc)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    tick = os.sysconf("SC_CLK_TCK")
    return (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / tick


def _env(env: dict[str, str]) -> None:
    os.environ.update(env)
    from lifeline.config import get_settings

    get_settings.cache_clear()


def _serve(city: Any, db: str, mqtt: str, port: int, env: dict[str, str], ready: Any) -> None:
    """The API with the live engine and MQTT ingestion (what ``lifeline serve`` runs)."""
    _env(env)
    import uvicorn

    from lifeline.api.app import create_app
    from lifeline.api.server import attach_city, start_mqtt
    from lifeline.config import get_settings

    s = get_settings()
    app = create_app(db)
    attach_city(app, city, idle_flush_s=s.engine_idle_flush_s)
    start_mqtt(app, mqtt, s.mqtt_topic, client_id=s.mqtt_client_id)
    ready.set()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def start_server(city: Any, db: str, mqtt: str, env: dict[str, str]) -> tuple[Any, int]:
    """Fork the server; returns (process, port) once it ingests."""
    port = free_port()
    ready = CTX.Event()
    p = CTX.Process(target=_serve, args=(city, db, mqtt, port, env, ready), daemon=True)
    p.start()
    if not ready.wait(900):
        raise RuntimeError("the server did not start")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return p, port
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server does not listen")


def _worker(
    city: Any,
    k: int,
    n: int,
    db: str,
    mqtt: str,
    env: dict[str, str],
    ready: Any,
    target_ns: int,
    reached: Any,
) -> None:
    _env(env)
    from lifeline.config import get_settings
    from lifeline.engine.worker import Worker

    s = get_settings()
    w = Worker.from_settings(city, k, n, db, mqtt, s).start()
    ready.set()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    while not done.wait(0.1):  # when this engine has processed everything up to target_ns
        pu = w.engine.processed_until
        if target_ns and reached.value == 0.0 and pu is not None and pu.value >= target_ns:
            reached.value = time.time()
    w.stop()


def start_workers(
    city: Any, n: int, db: str, mqtt: str, env: dict[str, str], target: pd.Timestamp | None = None
) -> tuple[list[Any], list[Any]]:
    """Fork ``n`` workers; returns (processes, per-worker shared value that becomes the wall
    time its engine processed up to ``target``) once every one ingests."""
    procs, events, reached = [], [], []
    for k in range(n):
        ready = CTX.Event()
        r = CTX.Value("d", 0.0)
        t_ns = int(target.value) if target is not None else 0
        p = CTX.Process(
            target=_worker, args=(city, k, n, db, mqtt, env, ready, t_ns, r), daemon=True
        )
        p.start()
        procs.append(p)
        events.append(ready)
        reached.append(r)
    for e in events:
        if not e.wait(900):
            raise RuntimeError("a worker did not start")
    return procs, reached


def stop(procs: list[Any], timeout_s: float = 120.0) -> None:
    """SIGTERM and wait (SIGKILL after ``timeout_s``)."""
    for p in procs:
        if p.is_alive():
            os.kill(p.pid, signal.SIGTERM)
    for p in procs:
        p.join(timeout_s)
        if p.is_alive():
            p.kill()
            p.join()


# ---- publishing ---------------------------------------------------------------------------------
def payloads(
    windows: list[pd.DataFrame], events: pd.DataFrame, prefix: str, batch: int
) -> list[tuple[str, bytes, int]]:
    """Messages in event-time order: readings as JSON lists of ``batch`` (a gateway's upload),
    events one per message. Each: (topic, payload, latest event time in ns)."""
    out: list[tuple[str, bytes, int]] = []
    ev = events.sort_values("ts").reset_index(drop=True)
    ev_ns = ev["ts"].astype("int64").to_numpy() if len(ev) else np.zeros(0, np.int64)
    j = 0
    for w in windows:
        sid = w["sensor_id"].astype(str).to_numpy()
        ts_ns = w["ts"].astype("int64").to_numpy()
        iso = w["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()
        val = w["value"].to_numpy()
        for a in range(0, len(w), batch):
            b = min(a + batch, len(w))
            while j < len(ev) and ev_ns[j] <= ts_ns[a]:
                r = ev.iloc[j]
                doc = {"ts": r.ts.isoformat(), "kind": r.kind}
                doc.update(
                    {"customer_id": r.customer_id} if r.customer_id else {"element": r.element}
                )
                out.append((f"{prefix}/events/{r.kind}", json.dumps(doc).encode(), int(ev_ns[j])))
                j += 1
            body = [
                {"sensor_id": s, "ts": t, "value": float(v)}
                for s, t, v in zip(sid[a:b], iso[a:b], val[a:b], strict=True)
            ]
            out.append((f"{prefix}/readings/gw", json.dumps(body).encode(), int(ts_ns[b - 1])))
    return out


def _publish(msgs: list[tuple[str, bytes, int]], url: str, rate: float, out: Any) -> None:
    """Publish ``msgs`` (QoS 1), paced to ``rate`` messages/s (0: as fast as the broker takes
    them); sends back each message's publish wall time."""
    import paho.mqtt.client as mqtt

    from lifeline.ingest.mqtt import parse_mqtt_url

    host, port, _, _ = parse_mqtt_url(url)
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}")
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect(host, port, keepalive=60)
    c.loop_start()
    sent = np.zeros(len(msgs))
    t0 = time.time()
    infos = []
    for i, (topic, body, _) in enumerate(msgs):
        if rate > 0:
            wait = t0 + i / rate - time.time()
            if wait > 0:
                time.sleep(wait)
        sent[i] = time.time()
        infos.append(c.publish(topic, body, qos=1))
        if len(infos) >= 2000:
            for x in infos:
                x.wait_for_publish(120)
            infos = []
    for x in infos:
        x.wait_for_publish(120)
    c.disconnect()
    c.loop_stop()
    out.send(sent)


def publish(msgs: list[tuple[str, bytes, int]], url: str, rate: float = 0.0) -> tuple[Any, Any]:
    """Start a publisher process; returns (process, pipe end that receives the send times)."""
    a, b = CTX.Pipe(duplex=False)
    p = CTX.Process(target=_publish, args=(msgs, url, rate, b), daemon=True)
    p.start()
    return p, a


# ---- SSE client ---------------------------------------------------------------------------------
class SseClient:
    """Reads ``/api/events`` over HTTP in a thread; keeps (arrival wall time, event)."""

    def __init__(self, base: str, token: str, types: str = "alarm,incident") -> None:
        self.base, self.token, self.types = base, token, types
        self.events: list[tuple[float, dict[str, Any]]] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        import httpx

        with httpx.stream(
            "GET",
            f"{self.base}/api/events",
            params={"token": self.token, "types": self.types},
            timeout=None,
        ) as r:
            for line in r.iter_lines():
                if line.startswith("data: "):
                    self.events.append((time.time(), json.loads(line[6:])))
                if self._stop.is_set():
                    return

    def stop(self) -> None:
        self._stop.set()


def wait_until(cond: Callable[[], bool], timeout_s: float, every: float = 0.5) -> bool:
    """Poll ``cond`` until true or ``timeout_s``; returns whether it became true."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(every)
    return False
