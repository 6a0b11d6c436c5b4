"""Live-loop benchmark: a city of 100,000 sensors at their real intervals, every detector on.

    nice -n 10 .venv/bin/python bench/live.py [--sensors 100000] [--customers 20000]
        [--warmup-hours 27] [--hours 1] [--stages engine,e2e,workers]

The synthetic city (``bench/live_city.py``: 40 % power sensors and methane every minute, water
pressure and flow every 5 minutes, smart meters; ~1,200 readings/s in real time at 100,000
sensors) first warms every registered detector on ``--warmup-hours`` of history (untimed, cached
under the cache dir), then:

* **engine** — the live engine in-process on one core (``OMP_NUM_THREADS=1``), every detector
  on, fed the scored ``--hours`` window by window (readings, the feeder trips' meter events;
  alarms, incidents and their assessment, checkpoints — all timed). Readings per CPU-second.
* **e2e** — end to end through Mosquitto and PostgreSQL: ``lifeline serve``'s engine and MQTT
  ingestion in a server process (warm: its checkpoint seeded as ``lifeline learn`` does).
  (a) throughput: the scored hours published as fast as the broker takes them (JSON lists of
  ``--batch`` readings, QoS 1), until every reading is stored and processed; (b) latency: the
  next ``--latency-minutes`` published at ``--pace`` × real time while an SSE client listens
  over HTTP. An alarm's latency is counted from the publication of the reading that let the
  engine close the alarm's window (the first one at or after window end + lateness) to its
  arrival at the SSE client; the engine's event-time windows add ``window_s + lateness_s`` of
  event time before that by design (reported too).
* **workers** — 1 against 2 ``lifeline worker`` processes (shared subscriptions, partitions by
  zone): once they run, ``--worker-minutes`` of the stream is published as fast as the broker
  takes it, and the time from the first publication until every reading is stored and
  processed by its partition's engine is measured.

Prints the figures and writes bench/results/live.json, with the machine's load: the
development machine has 2 cores shared with other engineers' jobs (and with PostgreSQL and
Mosquitto), so end-to-end and 1-vs-2-worker figures are bounded by what the machine has left,
not by the design. The data are synthetic (generated here); nothing is tuned on them.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO))
import live_city as lc  # noqa: E402
import live_procs as lp  # noqa: E402

RESULTS = REPO / "bench" / "results" / "live.json"


def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "note": "2 cores shared with other engineers' jobs, PostgreSQL and Mosquitto",
    }


def _windows(
    f: lc.Fleet, start: pd.Timestamp, minutes: float, seed: int, anomalies: bool
) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = int(round(minutes / 5))
    return [lc.window(f, start + k * lc.WINDOW, rng, anomalies) for k in range(n)]


# ---- warm-up ------------------------------------------------------------------------------------
def _cache_key(args: argparse.Namespace) -> str:
    h = hashlib.sha1()
    for folder in ("detect", "gas", "power"):
        for p in sorted((REPO / "lifeline" / folder).glob("*.py")):
            h.update(p.read_bytes())
    h.update((REPO / "bench" / "live_city.py").read_bytes())
    h.update(f"{args.sensors}-{args.customers}-{args.warmup_hours}".encode())
    return h.hexdigest()[:16]


def warm_detectors(
    city: Any, f: lc.Fleet, args: argparse.Namespace
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Every detector after ``--warmup-hours`` of history (learnt an hour at a time, like
    ``lifeline learn``), cached under the cache dir; returns (name → detector, figures)."""
    from lifeline.config import get_settings
    from lifeline.engine import Engine
    from lifeline.engine.engine import EngineConfig
    from lifeline.store import open_store

    cache = get_settings().cache_dir / "bench-live" / f"warm-{_cache_key(args)}.pkl"
    with open_store(":memory:") as store:
        eng = Engine(city, store, config=EngineConfig(assess=False), resume=False)
    if cache.exists():
        saved = pickle.loads(cache.read_bytes())
        return saved["detectors"], {**saved["figures"], "cached": str(cache)}
    rng = np.random.default_rng(7)
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    for h in range(args.warmup_hours):
        w = pd.concat(
            [lc.window(f, lc.T0 + (12 * h + k) * lc.WINDOW, rng, False) for k in range(12)],
            ignore_index=True,
        )
        rich, codes = eng.meta.enrich_codes(w.assign(sensor_id=w["sensor_id"].astype(str)))
        for inst in eng.instances:
            if inst.spec.inputs == "readings":
                sub = rich[eng._watch(inst)[codes]]
                if len(sub):
                    inst.detector.learn(sub.reset_index(drop=True))
        n += len(w)
        print(f"  warm-up hour {h + 1}/{args.warmup_hours}: {n:,} readings learnt", flush=True)
    figures = {
        "hours": args.warmup_hours,
        "readings": n,
        "learn_readings_per_cpu_s": round(n / (time.process_time() - c0), 1),
        "wall_s": round(time.perf_counter() - t0, 1),
        "ready": {i.spec.name: bool(i.detector.status().ready) for i in eng.instances},
    }
    dets = {i.spec.name: i.detector for i in eng.instances}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps({"detectors": dets, "figures": figures}))
    return dets, figures


def _state(city: Any, dets: dict[str, Any], at: pd.Timestamp) -> dict[str, Any]:
    """A checkpoint state for an engine of ``city`` whose detectors are ``dets`` at ``at``."""
    from lifeline.engine import Engine
    from lifeline.store import open_store

    with open_store(":memory:") as store:
        eng = Engine(city, store, resume=False)
        for inst in eng.instances:
            inst.detector = dets[inst.spec.name]
        eng.processed_until = eng.max_seen = at
        return eng.get_state()


# ---- stage 1: the engine in-process ---------------------------------------------------------------
def stage_engine(
    city: Any, f: lc.Fleet, dets: dict[str, Any], start: pd.Timestamp, args: argparse.Namespace
) -> dict[str, Any]:
    """The engine on one core, every detector on (see the module docstring)."""
    import copy

    from lifeline.engine import Engine
    from lifeline.model.store_io import import_city
    from lifeline.store import open_store

    events = lc.trip_events(city, start, args.hours)
    with open_store(":memory:") as store:
        import_city(store, city)
        eng = Engine(city, store, resume=False)
        for inst in eng.instances:
            inst.detector = copy.deepcopy(dets[inst.spec.name])
        eng.processed_until = eng.max_seen = start
        rng = np.random.default_rng(11)
        n, cpu, wall = 0, 0.0, 0.0
        per_window: list[float] = []
        for k in range(int(round(args.hours * 12))):
            a = start + k * lc.WINDOW
            w = lc.window(f, a, rng, True)
            ev = events[(events["ts"] >= a) & (events["ts"] < a + lc.WINDOW)]
            t, c = time.perf_counter(), time.process_time()
            eng.submit(readings=w, events=ev if len(ev) else None)
            eng.advance()
            cpu += time.process_time() - c
            wall += time.perf_counter() - t
            per_window.append(time.process_time() - c)
            n += len(w)
        t, c = time.perf_counter(), time.process_time()
        eng.flush()
        cpu += time.process_time() - c
        wall += time.perf_counter() - t
        alarms, incidents = store.count("alarm"), store.count("incident")
    out = {
        "readings": n,
        "events": len(events),
        "cpu_s": round(cpu, 2),
        "wall_s": round(wall, 2),
        "readings_per_cpu_s": round(n / cpu, 1),
        "readings_per_wall_s": round(n / wall, 1),
        "window_cpu_s": {
            "p50": round(float(np.median(per_window)), 3),
            "max": round(float(np.max(per_window)), 3),
        },
        "alarms": alarms,
        "incidents": incidents,
        "detectors": [i.spec.name for i in eng.instances],
        "target_readings_per_core_s": 20_000,
    }
    out["meets_target"] = out["readings_per_cpu_s"] >= 20_000
    return out


# ---- shared set-up of the service stages --------------------------------------------------------
def _store(pg: str, city: Any, tag: str) -> tuple[str, Any]:
    """A fresh PostgreSQL schema with the city imported; returns (url, store)."""
    from lifeline.model.store_io import import_city
    from lifeline.store.postgres_store import PostgresStore

    url = f"{pg}{'&' if '?' in pg else '?'}schema={tag.replace('-', '_')}"
    store = PostgresStore(url)
    store.init_schema()
    import_city(store, city)
    return url, store


def _env(tag: str, tmp: Path, idle_s: float) -> dict[str, str]:
    return {
        "LIFELINE_DATA_DIR": str(tmp / tag),
        "LIFELINE_MQTT_TOPIC": f"{tag}/readings/#",
        "LIFELINE_MQTT_EVENTS_TOPIC": f"{tag}/events/#",
        "LIFELINE_MQTT_ROUTE_TOPIC": f"{tag}/route",
        "LIFELINE_MQTT_CLIENT_ID": tag,
        "LIFELINE_WORKER_GROUP": tag,
        "LIFELINE_MQTT_THROTTLE": "0",
        "LIFELINE_ENGINE_IDLE_FLUSH_S": str(idle_s),
    }


def _first_at_or_after(send: np.ndarray, msg_ts: np.ndarray, t_ns: int) -> float | None:
    """Wall time of the first message whose latest event time is at or after ``t_ns``."""
    i = int(np.searchsorted(np.maximum.accumulate(msg_ts), t_ns, side="left"))
    return float(send[i]) if i < len(send) else None


def _pct(v: list[float]) -> dict[str, float | None]:
    if not v:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    a = np.asarray(v)
    return {
        "n": len(v),
        "p50": round(float(np.percentile(a, 50)), 3),
        "p99": round(float(np.percentile(a, 99)), 3),
        "max": round(float(a.max()), 3),
    }


# ---- stage 2: end to end through Mosquitto and PostgreSQL ---------------------------------------------
def stage_e2e(
    city: Any,
    f: lc.Fleet,
    state: dict[str, Any],
    start: pd.Timestamp,
    args: argparse.Namespace,
    tmp: Path,
) -> dict[str, Any]:
    """``lifeline serve``'s ingestion and engine in one process (see the module docstring)."""
    import httpx

    from lifeline.api import auth
    from lifeline.api.auth import UserBook
    from lifeline.engine.engine import EngineConfig
    from lifeline.ingest.mqtt import clear_session

    cfg = EngineConfig()
    tag = f"bench-live-{uuid.uuid4().hex[:8]}"
    db, store = _store(args.pg, city, tag)
    auth.HASH_PARAMS.update(time_cost=1, memory_cost=1024, parallelism=1)  # the bench's user
    UserBook(store).add("bench", "bench-password", "admin")
    store.save_checkpoint("engine", start, state)
    env = _env(tag, tmp, args.idle_flush_s)
    proc, port = lp.start_server(city, db, args.mqtt, env)
    base = f"http://127.0.0.1:{port}"
    token = httpx.post(
        f"{base}/api/auth/login", json={"username": "bench", "password": "bench-password"}
    ).json()["access_token"]
    head = {"Authorization": f"Bearer {token}"}

    def watermark() -> pd.Timestamp | None:
        try:
            r = httpx.get(f"{base}/api/engine", headers=head, timeout=30)
        except httpx.TimeoutException:  # the server is saturated: ask again
            return None
        wm = r.json().get("watermark")
        return pd.Timestamp(wm) if wm else None

    out: dict[str, Any] = {"batch_readings_per_message": args.batch}
    try:
        sse = lp.SseClient(base, token)
        # (a) throughput: the scored hours as fast as the broker takes them
        wins = _windows(f, start, args.hours * 60, 21, True)
        n = sum(len(w) for w in wins)
        events = lc.trip_events(city, start, args.hours)
        msgs = lp.payloads(wins, events, tag, args.batch)
        end = start + pd.Timedelta(hours=args.hours)
        last = end - lc.WINDOW  # every window but the last, which waits for the idle flush
        n_before_last = sum(len(w) for w in wins[:-1])
        cpu0 = lp.cpu_seconds(proc.pid)
        pub, pipe = lp.publish(msgs, args.mqtt)
        send = pipe.recv()
        pub.join()
        ok = lp.wait_until(lambda: (watermark() or start) >= last, args.timeout, 0.25)
        t_done = time.time()
        cpu1 = lp.cpu_seconds(proc.pid)
        lp.wait_until(lambda: (watermark() or start) >= end, 120)
        secs = t_done - float(send[0])
        out["throughput"] = {
            "readings": n,
            "messages": len(msgs),
            "events": len(events),
            "complete": bool(ok)
            and store.count("reading") + sum(store.rejected_counts().values()) >= n,
            "wall_s": round(secs, 2),
            "publisher_s": round(float(send[-1] - send[0]), 2),
            "readings_per_s": round(n_before_last / secs, 1),
            "server_cpu_s": round(cpu1 - cpu0, 2),
            "readings_per_server_cpu_s": round(n_before_last / (cpu1 - cpu0), 1),
            "stored": store.count("reading"),
            "rejected": store.rejected_counts(),
            "alarms": store.count("alarm"),
            "incidents": store.count("incident"),
        }
        print(f"  e2e throughput: {out['throughput']}", flush=True)
        # (b) latency: paced, an SSE client listening
        start2 = end
        wins2 = _windows(f, start2, args.latency_minutes, 22, True)
        ev2 = lc.trip_events(city, start2, args.latency_minutes / 60)
        msgs2 = lp.payloads(wins2, ev2, tag, args.batch)
        real = sum(len(w) for w in wins2) / (args.latency_minutes * 60)
        rate = min(args.pace * real, 0.5 * out["throughput"]["readings_per_s"])
        pub, pipe = lp.publish(msgs2, args.mqtt, rate=rate / args.batch)
        send2 = pipe.recv()
        pub.join()
        end2 = start2 + pd.Timedelta(minutes=args.latency_minutes)
        lp.wait_until(lambda: (watermark() or start) >= end2 - lc.WINDOW, args.timeout, 0.5)
        time.sleep(2.0)
        msg_ts = np.array([m[2] for m in msgs2], dtype=np.int64)
        lat, seen = [], set()
        w_ns, late_ns = cfg.window_s * 10**9, cfg.lateness_s * 10**9
        for arrived, ev in list(sse.events):
            d = ev["data"]
            # every alarm change (opened, grown, closed) counts once, at the event time of the
            # change: most episodes of the paced period were opened before it and only grow
            # or close in it
            at = d.get("updated_at") or d.get("ts")
            key = (d.get("alarm_id"), at, d.get("state"))
            if ev["type"] != "alarm" or not at or key in seen:
                continue
            seen.add(key)
            changed = pd.Timestamp(at).value
            if changed < start2.value:
                continue
            closes = (changed // w_ns + 1) * w_ns + late_ns
            t_pub = _first_at_or_after(send2, msg_ts, closes)
            if t_pub is not None:
                lat.append(arrived - t_pub)
        sse.stop()
        kinds: dict[str, int] = {}
        for _, ev in sse.events:
            kinds[ev["type"]] = kinds.get(ev["type"], 0) + 1
        out["latency"] = {
            "sse_events": kinds,
            "pace_readings_per_s": round(rate, 1),
            "real_time_readings_per_s": round(real, 1),
            "minutes_of_event_time": args.latency_minutes,
            "alarm_latency_s": _pct(lat),
            "from": "publication of the reading that let the engine close the window of an "
            "alarm's change (opened, grown, closed; window end + lateness) to the alarm event "
            "at the SSE client over HTTP",
            "event_time_delay_s": {"window_s": cfg.window_s, "lateness_s": cfg.lateness_s},
            "target_p99_s": 2.0,
        }
        out["latency"]["meets_target"] = bool(lat) and out["latency"]["alarm_latency_s"]["p99"] < 2
        print(f"  e2e latency: {out['latency']['alarm_latency_s']}", flush=True)
    finally:
        lp.stop([proc])
        clear_session(args.mqtt, tag)
        store.drop_schema()
        store.close()
    return out


# ---- stage 3: 1 against 2 workers ------------------------------------------------------------------
def stage_workers(
    city: Any,
    f: lc.Fleet,
    state: dict[str, Any],
    start: pd.Timestamp,
    args: argparse.Namespace,
    tmp: Path,
) -> dict[str, Any]:
    """The stream drained by 1 and by 2 workers (see the module docstring)."""
    from lifeline.ingest.mqtt import clear_session

    wins = _windows(f, start, args.worker_minutes, 31, False)
    n = sum(len(w) for w in wins)
    out: dict[str, Any] = {"readings": n, "minutes_of_event_time": args.worker_minutes}
    for k in (1, 2):
        tag = f"bench-w{k}-{uuid.uuid4().hex[:8]}"
        db, store = _store(args.pg, city, tag)
        for j in range(k):
            store.save_checkpoint(f"engine-{j}of{k}", start, state)
        env = _env(tag, tmp, args.idle_flush_s)
        msgs = lp.payloads(wins, lc.trip_events(city, start, 0), tag, args.batch)
        procs: list[Any] = []
        try:
            end = start + pd.Timedelta(minutes=args.worker_minutes)
            t0 = time.time()
            procs, reached = lp.start_workers(city, k, db, args.mqtt, env, end - lc.WINDOW)
            t_ready = time.time()
            # the stream as fast as the broker takes it: the workers' share of the backlog
            # builds up in the broker and they drain it
            pub, pipe = lp.publish(msgs, args.mqtt)
            send = pipe.recv()
            pub.join()
            t_first = float(send[0])
            done = lp.wait_until(
                lambda st=store: st.count("reading") + sum(st.rejected_counts().values()) >= n,
                args.timeout,
                0.25,
            )
            t_stored = time.time()
            lp.wait_until(lambda r=reached: all(x.value > 0 for x in r), args.timeout, 0.25)
            t_processed = max(x.value for x in reached) if all(x.value for x in reached) else None
            names = [f"engine-{j}of{k}" for j in range(k)]
            lp.wait_until(
                lambda st=store, names=names, end=end: all(
                    (st.load_checkpoint(x) or (start,))[0] >= end for x in names
                ),
                args.timeout,
            )
            t_flushed = time.time()
            stored, rejected = store.count("reading"), store.rejected_counts()
            lp.stop(procs)
            n_proc = sum(len(w) for w in wins[:-1])  # the last window waits for the idle flush
            secs = (t_processed or t_stored) - t_first
            out[f"workers_{k}"] = {
                "complete": bool(done) and t_processed is not None,
                "startup_s": round(t_ready - t0, 2),
                "publisher_s": round(float(send[-1]) - t_first, 2),
                "stored_s": round(t_stored - t_first, 2),
                "processed_s": round(secs, 2),
                "readings_per_s": round(n_proc / secs, 1),
                "until_flushed_s": round(t_flushed - t_first, 2),
                "stored": stored,
                "rejected": rejected,
            }
            print(f"  {k} worker(s): {out[f'workers_{k}']}", flush=True)
        finally:
            lp.stop(procs)
            for j in range(k):
                for suffix in ("", "-route"):
                    clear_session(args.mqtt, f"{tag}-w{j}of{k}{suffix}")
            store.drop_schema()
            store.close()
    if "workers_1" in out and "workers_2" in out:
        out["speedup_2_vs_1"] = round(
            out["workers_2"]["readings_per_s"] / out["workers_1"]["readings_per_s"], 2
        )
        out["target_speedup"] = 1.7
    return out


# ---- main ---------------------------------------------------------------------------------------------
def _services_env(name: str) -> str:
    env_file = REPO / "scripts" / "services.env"
    if os.environ.get(name):
        return os.environ[name]
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            if line.startswith(name + "="):
                return line.split("=", 1)[1].strip()
    return ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sensors", type=int, default=100_000)
    ap.add_argument("--customers", type=int, default=20_000)
    ap.add_argument("--warmup-hours", type=int, default=27)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--latency-minutes", type=float, default=30.0)
    ap.add_argument("--worker-minutes", type=float, default=30.0)
    ap.add_argument("--pace", type=float, default=10.0, help="latency run: × real time")
    ap.add_argument("--batch", type=int, default=100, help="readings per MQTT message")
    ap.add_argument("--idle-flush-s", type=float, default=5.0)
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--stages", default="engine,e2e,workers")
    ap.add_argument("--pg", default=_services_env("LIFELINE_TEST_PG"))
    ap.add_argument("--mqtt", default=_services_env("LIFELINE_TEST_MQTT"))
    args = ap.parse_args()
    stages = set(args.stages.split(","))
    out: dict[str, Any] = {
        "command": "nice -n 10 .venv/bin/python bench/live.py " + " ".join(sys.argv[1:]),
        "machine_at_start": _machine(),
        "data": "synthetic city and stream generated by bench/live_city.py; nothing tuned on it",
    }
    with tempfile.TemporaryDirectory() as tmp_:
        tmp = Path(tmp_)
        t = time.perf_counter()
        city = lc.build_city(args.sensors, args.customers, tmp)
        f = lc.fleet(city)
        s = city.sensors
        per_s = float((1.0 / s["interval_s"].astype(float)).sum())
        out["city"] = {
            "sensors": len(s),
            "by_quantity_interval": {
                f"{q} every {iv} s": int(c)
                for (q, iv), c in s.groupby(["quantity", "interval_s"]).size().items()
            },
            "customers": len(city.customers),
            "zones": int(city.assets["zone_id"].replace("", np.nan).nunique()),
            "real_time_readings_per_s": round(per_s, 1),
            "build_s": round(time.perf_counter() - t, 1),
        }
        print(f"city: {out['city']}", flush=True)
        dets, out["warmup"] = warm_detectors(city, f, args)
        print(f"warm-up: {out['warmup']}", flush=True)
        start = lc.T0 + pd.Timedelta(hours=args.warmup_hours)
        lc.set_anomalies(city, start)
        if "engine" in stages:
            out["engine"] = stage_engine(city, f, dets, start, args)
            print(f"engine: {out['engine']}", flush=True)
        if stages & {"e2e", "workers"}:
            if not args.pg or not args.mqtt:
                raise SystemExit("e2e and workers need --pg and --mqtt (bash scripts/services.sh)")
            state = _state(city, dets, start)
            if "e2e" in stages:
                out["e2e"] = stage_e2e(city, f, state, start, args, tmp)
            if "workers" in stages:
                out["workers"] = stage_workers(city, f, state, start, args, tmp)
    out["machine_at_end"] = _machine()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1, default=str))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
