"""Running the API: the store, demo users, optional MQTT ingestion and replay, then uvicorn."""

from __future__ import annotations

import errno
import logging
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, cast

from lifeline.errors import ConfigError

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)


def attach_city(
    app: FastAPI, city: Any, *, resume: bool = True, idle_flush_s: float | None = 30.0
) -> Any:
    """Serve ``city``: its tables into the store (when the store holds another city or none),
    its CRS and timezone, its response adapters and crews, and the live engine (started).
    Returns the :class:`lifeline.engine.runner.EngineRunner`."""
    from lifeline.engine import Engine
    from lifeline.engine.runner import EngineRunner
    from lifeline.model.store_io import import_city

    ctx = app.state.ctx
    meta = ctx.store.get_meta()
    if meta.get("city.root") != str(city.root) or ctx.store.count("sensor") == 0:
        import_city(ctx.store, city)
    ctx.cache.clear()
    ctx.city = city

    def publish(topic: str, payload: dict[str, Any], district: str | None) -> None:
        if topic == "alarm":
            ctx.metrics.count_alarm(payload)
            district = ctx.alarm_district(payload)
            payload = {**payload, "district_id": district}
        ctx.bus.publish(topic, payload, district)

    engine = Engine(
        city, ctx.store, publish=publish, resume=resume, incident_lock=ctx.incident_lock
    )
    # the API's own plans (incidents opened by hand) use the engine's adapters and crews
    assess_ctx = engine.incidents.context()
    ctx.adapters, ctx.crews = assess_ctx["adapters"], assess_ctx["crews"]
    runner = EngineRunner(engine, idle_flush_s=idle_flush_s).start()
    ctx.engine = runner
    app.state.on_shutdown.append(runner.stop)
    return runner


def start_mqtt(
    app: FastAPI, url: str, topic: str, client_id: str = "lifeline-serve"
) -> threading.Event:
    """Subscribe to ``topic`` on ``url`` with :class:`lifeline.ingest.mqtt.MqttIngestor` in a
    background thread; every flush counts metrics and publishes a ``readings`` event. Returns
    the stop event (also set at shutdown)."""
    from lifeline.config import get_settings
    from lifeline.ingest.buffer import BufferedStore, DiskBuffer
    from lifeline.ingest.mqtt import MqttIngestor
    from lifeline.ingest.throttle import SensorThrottle
    from lifeline.store import Store

    ctx = app.state.ctx
    # durable while the database is down: readings go to a bounded on-disk buffer and are
    # caught up on the next write; a sensor over 10x its nominal rate is throttled
    store = cast(
        Store, BufferedStore(ctx.store, DiskBuffer(get_settings().data_dir / "mqtt-buffer"))
    )
    sensors = ctx.store.read_table("sensor")
    factor = get_settings().mqtt_throttle
    throttle = (
        SensorThrottle.from_sensors(sensors, factor=factor) if len(sensors) and factor > 0 else None
    )
    ing = MqttIngestor(
        store, url, topic=topic, client_id=client_id, throttle=throttle, feed=ctx.engine
    )
    ing.connect()
    stop = threading.Event()
    seen: dict[str, Any] = {"stored": 0, "rejected": {}, "util": {}}

    def delta(new: dict[str, int], old: dict[str, int]) -> dict[str, int]:
        return {k: v - old.get(k, 0) for k, v in new.items() if v - old.get(k, 0)}

    def on_flush(i: Any) -> None:
        rep = i.report.as_dict()
        d_stored = rep["stored"] - seen["stored"]
        d_rej = delta(rep["rejected"], seen["rejected"])
        util = {u: int(c.get("stored", 0)) for u, c in rep["per_utility"].items()}
        d_util = delta(util, seen["util"])
        seen.update(stored=rep["stored"], rejected=dict(rep["rejected"]), util=util)
        ctx.metrics.count_ingest(
            {"per_utility": {u: {"stored": n} for u, n in d_util.items()}, "rejected": d_rej},
            "mqtt",
        )
        ctx.bus.publish(
            "readings", {"source": "mqtt", "stored": d_stored, "rejected": int(sum(d_rej.values()))}
        )

    t = threading.Thread(
        target=ing.run,
        kwargs={"stop": stop, "on_flush": on_flush},
        name="lifeline-mqtt",
        daemon=True,
    )
    t.start()
    app.state.on_shutdown.append(stop.set)
    if ctx.city is not None:
        start_mqtt_events(
            app,
            url,
            client_id=f"{client_id}-events",
            stop=stop,
            topic=get_settings().mqtt_events_topic,
        )
    return stop


def start_mqtt_events(
    app: FastAPI,
    url: str,
    client_id: str = "lifeline-serve-events",
    stop: threading.Event | None = None,
    topic: str = "",
) -> threading.Event:
    """Subscribe to ``topic`` (default ``lifeline/events/#``: smart-meter and SCADA events) for
    the live engine."""
    from lifeline.ingest.events import EVENT_TOPIC, EventIndex
    from lifeline.ingest.mqtt_events import MqttEventIngestor

    ctx = app.state.ctx
    city = ctx.city
    switches = city.power.switch.index if city.has("power") else []
    ing = MqttEventIngestor(
        ctx.store,
        url,
        EventIndex.of(city.customers, switches),
        topic=topic or EVENT_TOPIC,
        client_id=client_id,
        feed=ctx.engine,
    )
    ing.connect()
    stop = stop or threading.Event()
    t = threading.Thread(
        target=ing.run, kwargs={"stop": stop}, name="lifeline-mqtt-events", daemon=True
    )
    t.start()
    app.state.on_shutdown.append(stop.set)
    return stop


def bind_port(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` and listening, taken before the slow start-up so that a
    busy port fails at once: ConfigError naming ``--port`` (in use, privileged) or ``--host``."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot resolve {host!r}: {exc.strerror}", where="--host") from None
    family, _, _, _, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind(addr)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ConfigError(
                f"port {port} on {host} is already in use (another lifeline serve or demo?); "
                "stop it or choose a free port with --port",
                where="--port",
            ) from None
        if exc.errno == errno.EACCES:
            raise ConfigError(
                f"no permission to listen on port {port} (ports below 1024 need root); use --port 8000",
                where="--port",
            ) from None
        raise ConfigError(
            f"cannot listen on {host}:{port}: {exc.strerror}", where="--host"
        ) from None
    sock.setblocking(False)
    return sock


def follow_replay(
    runner: Any, echo: Any = print, tz: str = "UTC", poll_s: float = 0.5
) -> threading.Thread:
    """Show a replay's progress on the console from a background thread: one line per
    preparation step (loading and simulating the day, calibrating the detectors; tens of
    seconds on a first run), then a progress bar over the simulated day (local time of ``tz``)
    on a terminal (:mod:`lifeline.progress`), and a closing line with what it found."""

    def run() -> None:
        from lifeline.progress import make_progress
        from lifeline.timefmt import format_local

        seen: tuple[str, str] = ("", "")
        t0 = time.monotonic()
        st = runner.status
        while st.phase in ("idle", "preparing"):
            if (st.phase, st.phase_detail) != seen and st.phase_detail:
                seen = (st.phase, st.phase_detail)
                echo(f"  preparing the replay: {st.phase_detail}…")
            time.sleep(poll_s)
            st = runner.status
        if st.phase == "replaying":
            echo(
                f"  replay ready after {time.monotonic() - t0:.0f} s; incidents appear as detected"
            )
            with make_progress() as bar:
                task = bar.add_task("replaying the day", total=st.steps_total or None)
                while runner.status.phase == "replaying":
                    s = runner.status
                    when = format_local(s.sim_time, tz, "%H:%M", missing="")
                    bar.update(
                        task,
                        completed=s.steps_done,
                        description=f"replaying {when} · {s.incidents} incident(s)",
                    )
                    time.sleep(poll_s)
        st = runner.status
        tail = f": {st.error}" if st.error else ""
        echo(
            f"  replay {st.phase}{tail} — {st.readings:,} readings, {st.alarms} alarms, "
            f"{st.incidents} incident(s)"
        )

    t = threading.Thread(target=run, name="lifeline-replay-console", daemon=True)
    t.start()
    return t


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    db: str | None = None,
    mqtt: str | None = None,
    replay: bool = False,
    speed: float = 600.0,
    date: str = "2026-07-15",
    seed: int = 0,
    demo_users: bool = True,
    load_town: bool = False,
    tile_url: str = "",
    echo: Any = print,
    city_dir: str | None = None,
) -> None:
    """Run the API and dashboard with the live engine until Ctrl-C (see ``lifeline serve --help``).

    The port is taken first: a busy port fails at once, before minutes of start-up.
    ``city_dir``: a city package (default: the demo town); an invalid package refuses to start
    with the validate report."""
    import uvicorn

    from lifeline.api.app import create_app, seed_demo_users
    from lifeline.config import get_settings

    sock = bind_port(host, port)

    settings = get_settings()
    url = settings.db if db is None else db
    app = create_app(url, tile_url=tile_url)
    ctx = app.state.ctx
    if city_dir:
        from lifeline.model.city import load_city

        echo(f"  loading city package {city_dir} …")
        city = load_city(city_dir, progress=True)
    else:
        from lifeline.datasets.town import load_town as _load

        echo("  loading the demo town (the first run builds and caches it) …")
        city = _load()
    attach_city(app, city)
    echo(
        f"  city: {city.name} ({city.crs}, {city.timezone}); live engine on {len(ctx.engine.engine.instances)} detectors"
    )
    if demo_users and not ctx.users.list():
        # the district operator's district: the one with the most assets
        counts = ctx.store.read_table("asset")["district_id"].dropna().value_counts()
        first = str(counts.index[0]) if len(counts) else None
        for name, pw, role, d in seed_demo_users(ctx.store, first):
            echo(
                f"  demo user {name:<16} password {pw:<20} role {role}{f' (district {d})' if d else ''}"
            )
    broker = settings.mqtt if mqtt is None else mqtt
    if broker:
        try:
            start_mqtt(app, broker, settings.mqtt_topic, client_id=settings.mqtt_client_id)
            echo(
                f"  MQTT ingestion from {broker} ({settings.mqtt_topic}, "
                f"{settings.mqtt_events_topic})"
            )
        except ImportError as exc:
            raise ConfigError(
                "MQTT ingestion is not available in this build", where="LIFELINE_MQTT"
            ) from exc
    if replay:
        from lifeline.api.replay import ReplayRunner, SimulatedDay

        runner = ReplayRunner(
            ctx, SimulatedDay(date=date, seed=seed, city=city), speed=speed, date=date
        )
        ctx.replay = runner
        runner.start()
        echo(f"  replaying {date} at {speed:g}× (status: GET /api/scenarios/replay)")
        follow_replay(runner, echo, tz=city.timezone)
    echo(
        f"lifeline serving on http://{host}:{port}/  (API docs: http://{host}:{port}/docs, store: {ctx.store.kind})"
    )

    class _Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: Any) -> None:
            ctx.bus.close()  # SSE streams never end by themselves
            super().handle_exit(sig, frame)

    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5
    )
    _Server(config).run(sockets=[sock])
