"""Load benchmark: sustained MQTT ingestion with detection running, and alarm latency.

    nice .venv/bin/python bench/load.py [--rates 10000,25000,50000,100000] [--seconds 5]

For each target rate (readings/s) a publisher in a separate process sends JSON batches
(``--batch`` readings per message, QoS 1) on loopback to Mosquitto, paced to the rate for
``--seconds``. The subscriber is the production :class:`lifeline.ingest.mqtt.MqttIngestor`
(persistent session, validate, store in DuckDB — one thread —, acknowledge after the store).
Detection runs on every stored batch: a vectorised threshold detector (value above the alarm
level, the same rule shape as the generic methane ≥ 20 %LEL detector of
``lifeline.api.replay_detect``) raises an alarm that is published on the API's
:class:`lifeline.api.events.EventBus` — the bus the SSE endpoint streams from — and received by
an asyncio SSE subscriber. One reading in every ``--spike-every`` messages is a spike; its alarm
latency is wall-clock time from the publisher's ``publish()`` to the subscriber receiving the
alarm event (same machine, same clock).

A rate is *sustained* when every reading is stored, the achieved rate is ≥ 90 % of the target
and the p99 alarm latency is < 1 s; the first rate that is not is the breaking point. Bounded in
count (rate × seconds per stage) and time (``--timeout`` per stage). Prints the figures and
writes bench/results/load.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
T0 = pd.Timestamp("2026-01-01T00:00:00Z")
NOW = pd.Timestamp("2026-07-01T00:00:00Z")
ALARM_LEVEL = 90.0  # normal values lie in 20..60


def sensor_table(n: int) -> pd.DataFrame:
    """``n`` water pressure sensors, valid 0..120 m."""
    return pd.DataFrame(
        {
            "sensor_id": [f"load:p:{i}" for i in range(n)],
            "asset_id": [f"water:junction:J{i}" for i in range(n)],
            "utility": "water",
            "quantity": "pressure_m",
            "unit": "m",
            "interval_s": 60,
            "valid_min": 0.0,
            "valid_max": 120.0,
            "x_m": 414000.0,
            "y_m": 5369000.0,
        }
    )


def _publisher(
    url: str, topic: str, n_sensors: int, rate: float, seconds: float, batch: int,
    spike_every: int, ready: Any, go: Any, out: Any,
) -> None:  # fmt: skip
    import paho.mqtt.client as mqtt

    from lifeline.ingest.mqtt import parse_mqtt_url

    n_messages = max(1, int(rate * seconds) // batch)
    base = T0.value // 10**9
    payloads, spikes = [], {}
    k = 0
    for m in range(n_messages):
        items = []
        for j in range(batch):
            step, s = divmod(k, n_sensors)
            ts = pd.Timestamp((base + 60 * step) * 10**9, tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
            v = 20.0 + (k % 400) / 10
            if j == 0 and m % spike_every == 0:
                v = 110.0
                spikes[m] = f"load:p:{s}|{ts}"
            items.append({"sensor_id": f"load:p:{s}", "ts": ts, "value": v})
            k += 1
        payloads.append(json.dumps(items, separators=(",", ":")))
    host, port, _, _ = parse_mqtt_url(url)
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"load-pub-{os.getpid()}")
    c.max_inflight_messages_set(1000)
    c.connect(host, port)
    c.loop_start()
    ready.set()
    go.wait(60)
    sent_at: dict[str, float] = {}
    t0 = time.perf_counter()
    infos = []
    for m, p in enumerate(payloads):
        due = t0 + m * batch / rate
        d = due - time.perf_counter()
        if d > 0:
            time.sleep(d)
        if m in spikes:
            sent_at[spikes[m]] = time.time()
        infos.append(c.publish(topic, p, qos=1))
    for i in infos:
        i.wait_for_publish(timeout=120)
    out.put({"sent_at": sent_at, "publish_s": time.perf_counter() - t0, "messages": n_messages})
    c.disconnect()
    c.loop_stop()


class SseListener:
    """An asyncio subscriber of the EventBus in its own thread, recording alarm arrival times."""

    def __init__(self, bus: Any) -> None:
        self.bus = bus
        self.arrived: dict[str, float] = {}
        self._stop = threading.Event()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.thread.start()
        self._ready.wait(10)

    async def _main(self) -> None:
        sub = self.bus.subscribe()
        self._ready.set()
        while not self._stop.is_set():
            try:
                ev = await asyncio.wait_for(sub.queue.get(), 0.1)
            except TimeoutError:
                continue
            if ev.type == "alarm":
                for key in ev.data["keys"]:
                    self.arrived.setdefault(key, time.time())
        self.bus.unsubscribe(sub)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(10)


def stage(url: str, tmp: Path, rate: float, args: argparse.Namespace) -> dict[str, Any]:
    """One target rate: publish, ingest, detect, deliver; returns the figures."""
    from lifeline.api.events import EventBus
    from lifeline.ingest.mqtt import MqttIngestor, clear_session, new_client_id
    from lifeline.store.duckdb_store import DuckDBStore

    path = tmp / f"load_{int(rate)}.duckdb"
    store = DuckDBStore(path)
    store._con.execute("SET threads = 1")
    store.init_schema()
    store.replace_table("sensor", sensor_table(args.sensors))
    bus = EventBus(max_queue=100_000)
    listener = SseListener(bus)
    alarms = {"n": 0}
    write = store.write_readings

    def write_and_detect(good: pd.DataFrame, **kw: Any) -> int:
        n = write(good, **kw)  # durable first, then detect (alarm on stored data only)
        hit = good["value"].to_numpy(float) > ALARM_LEVEL
        if hit.any():
            g = good[hit]
            keys = [
                f"{s}|{pd.Timestamp(t).strftime('%Y-%m-%dT%H:%M:%SZ')}"
                for s, t in zip(g["sensor_id"], g["ts"], strict=True)
            ]
            alarms["n"] += len(keys)
            bus.publish("alarm", {"detector": "threshold", "keys": keys})
        return int(n)

    store.write_readings = write_and_detect  # type: ignore[method-assign]
    cid = new_client_id("load-ingest")
    topic = f"lifeline-bench/{cid}/readings/load{int(rate)}"  # not under lifeline/readings/#
    ing = MqttIngestor(store, url, topic=topic, client_id=cid, now=NOW)
    ing.connect()
    time.sleep(0.3)
    ctx = mp.get_context("spawn")
    ready, go, out = ctx.Event(), ctx.Event(), ctx.Queue()
    pub = ctx.Process(
        target=_publisher,
        args=(url, topic, args.sensors, rate, args.seconds, args.batch, args.spike_every,
              ready, go, out),
        daemon=True,
    )  # fmt: skip
    pub.start()
    if not ready.wait(120):
        raise RuntimeError("publisher did not start")
    n_messages = max(1, int(rate * args.seconds) // args.batch)
    cpu0 = time.process_time()
    go.set()
    rep = ing.run(max_messages=n_messages, seconds=args.seconds + args.timeout)
    cpu = time.process_time() - cpu0
    try:
        res = out.get(timeout=60)
    except Exception:
        res = {"sent_at": {}, "publish_s": float("nan"), "messages": n_messages}
    pub.join(30)
    time.sleep(0.3)
    listener.stop()
    clear_session(url, cid)
    wall = (ing.last_flush_at or 0) - (ing.first_message_at or 0)
    lat = np.array(
        [listener.arrived[k] - t for k, t in res["sent_at"].items() if k in listener.arrived]
    )
    expected = n_messages * args.batch
    store.close()
    path.unlink(missing_ok=True)
    achieved = rep.stored / wall if wall > 0 else 0.0
    p99 = float(np.percentile(lat, 99)) if len(lat) else float("inf")
    complete = rep.stored == expected
    return {
        "target_readings_per_s": rate,
        "readings_expected": expected,
        "readings_stored": rep.stored,
        "rejected": dict(rep.rejected),
        "seconds": round(wall, 3),
        "publisher_seconds": round(float(res["publish_s"]), 3),
        "achieved_readings_per_s": round(achieved, 1),
        "subscriber_cpu_s": round(cpu, 3),
        "alarms_raised": alarms["n"],
        "spikes_sent": len(res["sent_at"]),
        "alarms_delivered": int(len(lat)),
        "alarm_latency_s": {
            "p50": round(float(np.percentile(lat, 50)), 4) if len(lat) else None,
            "p99": round(p99, 4) if len(lat) else None,
            "max": round(float(lat.max()), 4) if len(lat) else None,
        },
        "complete": complete,
        "sustained": bool(
            complete and achieved >= 0.9 * rate and p99 < 1.0 and len(lat) == len(res["sent_at"])
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rates", default="10000,25000,50000,100000", help="readings/s per stage")
    ap.add_argument("--seconds", type=float, default=5.0, help="publishing time per stage (s)")
    ap.add_argument("--batch", type=int, default=500, help="readings per MQTT message")
    ap.add_argument("--sensors", type=int, default=1000, help="number of sensors")
    ap.add_argument("--spike-every", type=int, default=5, help="one spike every N messages")
    ap.add_argument("--timeout", type=float, default=30.0, help="extra seconds a stage may take")
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "load.json"))
    args = ap.parse_args()
    from bench.ingest import mqtt_url

    url = mqtt_url()
    if url is None:
        sys.exit("Mosquitto not reachable: run `bash scripts/services.sh start`")
    rates = [float(r) for r in args.rates.split(",")]
    stages = []
    with tempfile.TemporaryDirectory() as d:
        for rate in rates:
            s = stage(url, Path(d), rate, args)
            stages.append(s)
            lat = s["alarm_latency_s"]
            print(
                f"target {rate:>9,.0f}/s  achieved {s['achieved_readings_per_s']:>10,.0f}/s  "
                f"stored {s['readings_stored']}/{s['readings_expected']}  "
                f"alarm latency p50 {lat['p50']} s p99 {lat['p99']} s  "
                f"{'sustained' if s['sustained'] else 'NOT sustained'}",
                flush=True,
            )
            if not s["sustained"]:
                break
    ok = [s for s in stages if s["sustained"]]
    broken = [s for s in stages if not s["sustained"]]
    result = {
        "command": "nice -n 10 .venv/bin/python bench/load.py " + " ".join(sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_1m": os.getloadavg()[0],
            "python": platform.python_version(),
        },
        "batch_readings_per_message": args.batch,
        "sensors": args.sensors,
        "detector": f"threshold > {ALARM_LEVEL} on every stored batch, alarm → EventBus → SSE subscriber",
        "latency": "wall clock from publisher publish() to the SSE subscriber receiving the alarm",
        "stages": stages,
        "max_sustained_readings_per_s": max((s["achieved_readings_per_s"] for s in ok), default=0),
        "breaking_point_target_readings_per_s": broken[0]["target_readings_per_s"]
        if broken
        else None,
        "target_50k_sustained": any(s["target_readings_per_s"] >= 50_000 for s in ok),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"max sustained {result['max_sustained_readings_per_s']:,.0f} readings/s; "
        f"breaking point at target {result['breaking_point_target_readings_per_s']} readings/s"
    )


if __name__ == "__main__":
    main()
