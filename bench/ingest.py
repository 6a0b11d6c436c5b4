"""Ingestion benchmark: readings/s into DuckDB for files and MQTT, beside a raw bulk insert.

    .venv/bin/python bench/ingest.py [--readings 1000000] [--mqtt-readings 500000]

Generates ~1M readings (100 sensors at 1-minute steps), writes them as a long CSV and as a
BattLeDIM-wide CSV (';', decimal comma), and measures in the same run:

* raw: ``INSERT INTO reading SELECT * FROM df`` of the same readings, already typed in memory,
  into a fresh DuckDB file with the same table (primary key on sensor_id, ts);
* file ingestion: ``lifeline.ingest.ingest_files`` of each CSV into a fresh DuckDB file
  (parse + validate + duplicate check + insert, everything a user gets);
* MQTT: a publisher in a separate process sends JSON batches (``--batch`` readings per
  message, QoS 1) on loopback to Mosquitto; the subscriber (one Python process, DuckDB limited
  to one thread) validates and stores them; rate = stored readings / (last store − first
  message received). Bounded by ``--mqtt-readings`` and ``--mqtt-timeout``;
* optionally the real BattLeDIM 2018 pressures (``../shared/data/battledim``) if present.

Each file measurement is repeated (``--repeat``) and the best run kept; the machine is shared.
Prints the figures and ratios and writes bench/results/ingest.json. Starts the services with
scripts/services.sh when Mosquitto is not reachable.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results" / "ingest.json"
REAL = Path("../shared/data/battledim/sim2018/scada/2018_SCADA_Pressures.csv")
T0 = pd.Timestamp("2024-01-01T00:00:00Z")
NOW = pd.Timestamp("2030-01-01T00:00:00Z")


def make_data(n_readings: int, n_sensors: int) -> tuple[list[str], pd.DataFrame, np.ndarray]:
    steps = n_readings // n_sensors
    ids = [f"water:pressure:s{i:03d}" for i in range(n_sensors)]
    vals = np.round(np.random.default_rng(0).uniform(20.0, 60.0, (steps, n_sensors)), 2)
    ts = pd.date_range(T0, periods=steps, freq="min")
    typed = pd.DataFrame(
        {
            "sensor_id": np.tile(np.array(ids, dtype=object), steps),
            "ts": np.repeat(ts, n_sensors),
            "value": vals.ravel(),
            "quality": 0,
        }
    )
    return ids, typed, vals


def sensor_table(ids: list[str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sensor_id": ids,
            "utility": "water",
            "quantity": "pressure_m",
            "unit": "m",
            "interval_s": 60,
            "valid_min": -10.0,
            "valid_max": 200.0,
        }
    )


def fresh_store(path: Path, ids: list[str], threads: int | None = None):  # type: ignore[no-untyped-def]
    from lifeline.store.duckdb_store import DuckDBStore

    if path.exists():
        path.unlink()
    s = DuckDBStore(path)
    if threads:
        s._con.execute(f"SET threads = {threads}")
    s.init_schema()
    s.replace_table("sensor", sensor_table(ids))
    return s


def bench_raw(tmp: Path, ids: list[str], typed: pd.DataFrame) -> float:
    s = fresh_store(tmp / "raw.duckdb", ids)
    t = time.perf_counter()
    s._con.execute("INSERT INTO reading SELECT sensor_id, ts, value, quality FROM typed")
    dt = time.perf_counter() - t
    assert s.count("reading") == len(typed)
    s.close()
    return dt


def bench_file(tmp: Path, ids: list[str], path: Path, n: int) -> tuple[float, dict]:  # type: ignore[type-arg]
    from lifeline.ingest.service import ingest_files

    s = fresh_store(tmp / "file.duckdb", ids)
    t = time.perf_counter()
    rep = ingest_files(s, [path], now=NOW, progress=False)
    dt = time.perf_counter() - t
    assert rep.stored == n and s.count("reading") == n, rep.as_dict()
    s.close()
    return dt, rep.as_dict()


def _publisher(
    url: str,
    ids: list[str],
    n_messages: int,
    batch: int,
    ready: Any,
    go: Any,
    done: Any,
    topic_prefix: str = "lifeline/readings/",
) -> None:
    import paho.mqtt.client as mqtt

    u = urlsplit(url)
    per_step = len(ids)
    payloads = []
    k = 0
    base = T0.value // 10**9
    for _ in range(n_messages):
        items = []
        for _ in range(batch):
            step, j = divmod(k, per_step)
            ts = pd.Timestamp((base + 60 * step) * 10**9, tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ")
            items.append({"sensor_id": ids[j], "ts": ts, "value": round(20.0 + (k % 400) / 10, 2)})
            k += 1
        payloads.append(json.dumps(items, separators=(",", ":")))
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}")
    c.max_inflight_messages_set(200)
    c.max_queued_messages_set(0)
    c.connect(u.hostname or "127.0.0.1", u.port or 1883)
    c.loop_start()
    ready.set()
    go.wait(60)
    t = time.perf_counter()
    infos = [c.publish(f"{topic_prefix}bench", p, qos=1) for p in payloads]
    for i in infos:
        i.wait_for_publish(timeout=120)
    done.put(time.perf_counter() - t)
    c.disconnect()
    c.loop_stop()


def bench_mqtt(
    tmp: Path, ids: list[str], url: str, n_readings: int, batch: int, timeout: float
) -> dict:  # type: ignore[type-arg]
    from lifeline.ingest.mqtt import MqttIngestor, clear_session, new_client_id

    n_messages = max(1, n_readings // batch)
    store = fresh_store(tmp / "mqtt.duckdb", ids, threads=1)
    cid = new_client_id("bench-ingest")
    # a topic of its own: subscribers of lifeline/readings/# (tests, a running serve) see nothing
    topic_prefix = f"lifeline-bench/{cid}/readings/"
    ing = MqttIngestor(store, url, topic=topic_prefix + "#", client_id=cid, now=NOW)
    ing.connect()
    ctx = mp.get_context("spawn")
    ready, go, done = ctx.Event(), ctx.Event(), ctx.Queue()
    pub = ctx.Process(
        target=_publisher,
        args=(url, ids, n_messages, batch, ready, go, done, topic_prefix),
        daemon=True,
    )
    pub.start()
    if not ready.wait(120):
        raise RuntimeError("publisher did not start")
    time.sleep(0.3)
    cpu0 = time.process_time()
    go.set()
    rep = ing.run(max_messages=n_messages, seconds=timeout)
    cpu = time.process_time() - cpu0
    try:
        pub_s = float(done.get(timeout=30))
    except Exception:
        pub_s = float("nan")
    pub.join(30)
    clear_session(url, cid)
    wall = (ing.last_flush_at or 0) - (ing.first_message_at or 0)
    stored = rep.stored
    store.close()
    return {
        "messages": ing.messages,
        "readings_per_message": batch,
        "readings_stored": stored,
        "rejected": dict(rep.rejected),
        "seconds": round(wall, 3),
        "readings_per_s": round(stored / wall, 1) if wall > 0 else None,
        "subscriber_cpu_s": round(cpu, 3),
        "publisher_seconds": round(pub_s, 3),
        "readings_per_cpu_s": round(stored / cpu, 1) if cpu > 0 else None,
        "complete": stored == n_messages * batch,
    }


def mqtt_url() -> str | None:
    url = os.environ.get("LIFELINE_TEST_MQTT")
    env = REPO / "scripts" / "services.env"
    if not url and env.exists():
        for line in env.read_text().splitlines():
            if line.startswith("LIFELINE_TEST_MQTT="):
                url = line.split("=", 1)[1].strip()
    url = url or "mqtt://127.0.0.1:18830"

    def up() -> bool:
        u = urlsplit(url)
        try:
            with socket.create_connection((u.hostname or "127.0.0.1", u.port or 1883), timeout=1):
                return True
        except OSError:
            return False

    if not up():
        subprocess.run(["bash", str(REPO / "scripts" / "services.sh"), "start"], check=False)
    return url if up() else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--readings", type=int, default=1_000_000, help="readings generated for the file benchmarks"
    )
    ap.add_argument("--sensors", type=int, default=100, help="sensors in the generated data")
    ap.add_argument("--repeat", type=int, default=2, help="runs per file measurement (best kept)")
    ap.add_argument(
        "--mqtt-readings", type=int, default=500_000, help="readings sent over MQTT (0: skip)"
    )
    ap.add_argument("--batch", type=int, default=1000, help="readings per MQTT message")
    ap.add_argument(
        "--mqtt-timeout", type=float, default=120.0, help="upper bound on the MQTT run, seconds"
    )
    ap.add_argument("--no-real", action="store_true", help="skip the real BattLeDIM pressures file")
    args = ap.parse_args()

    ids, typed, vals = make_data(args.readings, args.sensors)
    n = len(typed)
    out: dict = {  # type: ignore[type-arg]
        "command": "python bench/ingest.py " + " ".join(sys.argv[1:]),
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_1m": os.getloadavg()[0],
            "python": platform.python_version(),
        },
        "readings": n,
        "sensors": args.sensors,
    }
    with tempfile.TemporaryDirectory(prefix="lifeline-bench-") as d:
        tmp = Path(d)
        long_csv, wide_csv = tmp / "long.csv", tmp / "wide.csv"
        long = pd.DataFrame(
            {
                "sensor_id": typed["sensor_id"],
                "ts": typed["ts"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "value": typed["value"],
            }
        )
        long.to_csv(long_csv, index=False)
        wide = pd.DataFrame(vals, columns=ids)
        wide.insert(
            0,
            "Timestamp",
            pd.date_range(T0, periods=len(wide), freq="min").strftime("%Y-%m-%d %H:%M:%S"),
        )
        wide.to_csv(wide_csv, sep=";", decimal=",", index=False)
        out["files_mb"] = {
            "long_csv": round(long_csv.stat().st_size / 1e6, 1),
            "wide_csv": round(wide_csv.stat().st_size / 1e6, 1),
        }

        runs: dict[str, list[float]] = {"raw": [], "csv_long": [], "csv_battledim": []}
        for _ in range(args.repeat):  # interleaved, so that load changes hit every variant alike
            runs["raw"].append(bench_raw(tmp, ids, typed))
            dt, _ = bench_file(tmp, ids, long_csv, n)
            runs["csv_long"].append(dt)
            dt, _ = bench_file(tmp, ids, wide_csv, n)
            runs["csv_battledim"].append(dt)
        best = {k: min(v) for k, v in runs.items()}
        rate = {k: n / v for k, v in best.items()}
        out["seconds_all_runs"] = {k: [round(x, 3) for x in v] for k, v in runs.items()}
        out["readings_per_s"] = {k: round(v, 1) for k, v in rate.items()}
        out["ratio_to_raw"] = {
            k: round(rate[k] / rate["raw"], 3) for k in ("csv_long", "csv_battledim")
        }
        mean = {k: sum(v) / len(v) for k, v in runs.items()}
        out["ratio_to_raw_mean_of_runs"] = {
            k: round(mean["raw"] / mean[k], 3) for k in ("csv_long", "csv_battledim")
        }

        if not args.no_real and REAL.exists():
            cols = pd.read_csv(REAL, sep=";", nrows=0).columns[1:].tolist()
            s = fresh_store(tmp / "real.duckdb", cols)
            from lifeline.ingest.service import ingest_files

            t = time.perf_counter()
            rep = ingest_files(s, [REAL], now=NOW, progress=False)
            dt = time.perf_counter() - t
            s.close()
            out["battledim_2018_pressures"] = {
                "file": str(REAL),
                "readings_stored": rep.stored,
                "rejected": dict(rep.rejected),
                "seconds": round(dt, 3),
                "readings_per_s": round(rep.stored / dt, 1),
            }

        if args.mqtt_readings > 0:
            url = mqtt_url()
            if url is None:
                out["mqtt"] = {"skipped": "Mosquitto not reachable and could not be started"}
            else:
                out["mqtt"] = bench_mqtt(
                    tmp, ids, url, args.mqtt_readings, args.batch, args.mqtt_timeout
                )

    mq = out.get("mqtt", {})
    out["targets"] = {
        "file_ingestion_ge_50pct_of_raw": all(v >= 0.5 for v in out["ratio_to_raw"].values()),
        "mqtt_ge_50k_readings_per_s": (
            bool(mq["readings_per_s"] >= 50_000 and mq.get("complete"))
            if mq.get("readings_per_s")
            else "not measured"
        ),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")

    print(
        f"ingestion benchmark: {n:,} readings, {args.sensors} sensors, best of {args.repeat} (load {out['machine']['loadavg_1m']:.1f})"
    )
    print(f"  raw DuckDB bulk insert   {rate['raw']:>12,.0f} readings/s")
    for k in ("csv_long", "csv_battledim"):
        print(
            f"  {k:<24} {rate[k]:>12,.0f} readings/s   {out['ratio_to_raw'][k]:.0%} of raw "
            f"(mean of runs {out['ratio_to_raw_mean_of_runs'][k]:.0%}; target >= 50%)"
        )
    if "battledim_2018_pressures" in out:
        b = out["battledim_2018_pressures"]
        print(
            f"  BattLeDIM 2018 pressures {b['readings_per_s']:>12,.0f} readings/s   ({b['readings_stored']:,} readings, real file)"
        )
    if "readings_per_s" in mq:
        print(
            f"  MQTT (QoS 1, {mq['readings_per_message']}/msg) {mq['readings_per_s']:>10,.0f} readings/s   "
            f"{mq['readings_stored']:,} stored, subscriber CPU {mq['subscriber_cpu_s']:.2f} s "
            f"= {mq['readings_per_cpu_s']:,.0f} readings per CPU-second; publisher took "
            f"{mq['publisher_seconds']:.2f} s (target >= 50,000/s)"
        )
    elif mq:
        print(f"  MQTT: {mq}")
    print(f"  targets: {out['targets']}")
    print(f"  wrote {RESULTS.relative_to(REPO)}")


if __name__ == "__main__":
    main()
