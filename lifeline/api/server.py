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
    app: FastAPI,
    city: Any,
    *,
    resume: bool = True,
    idle_flush_s: float | None = 30.0,
    workers: int = 0,
    mqtt: str = "",
) -> Any:
    """Serve ``city``: its tables into the store (when the store holds another city or none),
    its CRS and timezone, its response adapters and crews, and the live engine (started).
    Returns the :class:`lifeline.engine.runner.EngineRunner`.

    ``workers`` > 0: the engine runs in that many ``lifeline worker`` processes instead; this
    API forwards HTTP input to them over ``mqtt`` and relays their alarms and incidents to SSE
    (:mod:`lifeline.api.relay`). Returns the :class:`lifeline.api.relay.WorkersFeed`."""
    from lifeline.engine import Engine
    from lifeline.engine.runner import EngineRunner
    from lifeline.engine.worker import ensure_city

    ctx = app.state.ctx
    ensure_city(ctx.store, city)
    ctx.cache.clear()
    ctx.city = city
    if workers:
        return _attach_workers(app, city, workers, mqtt)

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
    runner = EngineRunner(engine, idle_flush_s=idle_flush_s)
    from lifeline.config import get_settings

    if get_settings().forecast_dir:
        from lifeline.ingest.forecasts import ForecastFolder, city_gauges

        folder = ForecastFolder(get_settings().forecast_dir, city.timezone)
        runner.watch_forecasts(folder, ctx.store, city_gauges(city))
    runner.start()
    ctx.engine = runner
    app.state.on_shutdown.append(runner.stop)
    return runner


def _attach_workers(app: FastAPI, city: Any, n: int, mqtt: str) -> Any:
    from lifeline.api.relay import WorkersFeed, start_relay
    from lifeline.config import get_settings
    from lifeline.engine.incidents import IncidentStage
    from lifeline.engine.worker import events_channel

    ctx = app.state.ctx
    if ctx.store.kind != "postgresql":
        raise ConfigError("--workers needs PostgreSQL (the workers share it)", where="--db")
    if not mqtt:
        raise ConfigError("--workers needs the MQTT broker the workers use", where="--mqtt")
    s = get_settings()
    assess_ctx = IncidentStage(city, ctx.store, lambda *a: None).context()
    ctx.adapters, ctx.crews = assess_ctx["adapters"], assess_ctx["crews"]
    feed = WorkersFeed(ctx.store, city, n, mqtt, s.mqtt_route_topic, s.partition_seed)
    ctx.engine = feed
    app.state.on_shutdown.append(feed.close)
    start_relay(app, events_channel(ctx.store))
    return feed


def start_mqtt(
    app: FastAPI, url: str, topic: str, client_id: str = "lifeline-serve"
) -> threading.Event:
    """Subscribe to ``topic`` on ``url`` with :class:`lifeline.ingest.mqtt.MqttIngestor` in a
    background thread — and, when the server serves a city, to the events topic
    (``LIFELINE_MQTT_EVENTS_TOPIC``) on the same session, so that events keep their place among
    the readings; every flush counts metrics and publishes a ``readings`` event. Returns the
    stop event (also set at shutdown)."""
    from lifeline.config import get_settings
    from lifeline.ingest.buffer import BufferedStore, DiskBuffer
    from lifeline.ingest.events import EventIndex
    from lifeline.ingest.mqtt import MqttIngestor
    from lifeline.ingest.throttle import SensorThrottle
    from lifeline.store import Store

    ctx = app.state.ctx
    settings = get_settings()
    # durable while the database is down: readings go to a bounded on-disk buffer and are
    # caught up on the next write; a sensor over 10x its nominal rate is throttled
    store = cast(Store, BufferedStore(ctx.store, DiskBuffer(settings.data_dir / "mqtt-buffer")))
    sensors = ctx.store.read_table("sensor")
    factor = settings.mqtt_throttle
    throttle = (
        SensorThrottle.from_sensors(sensors, factor=factor) if len(sensors) and factor > 0 else None
    )
    events = None
    if ctx.city is not None:
        city = ctx.city
        events = EventIndex.of(city.customers, city.power.switch.index if city.has("power") else [])
    ing = MqttIngestor(
        store,
        url,
        topic=topic,
        client_id=client_id,
        throttle=throttle,
        feed=ctx.engine,
        events_topic=settings.mqtt_events_topic,
        events=events,
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
    workers: int = 0,
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
    broker = settings.mqtt if mqtt is None else mqtt
    attach_city(app, city, idle_flush_s=settings.engine_idle_flush_s, workers=workers, mqtt=broker)
    if workers:
        echo(
            f"  city: {city.name} ({city.crs}, {city.timezone}); the live engine runs in "
            f"{workers} workers (lifeline worker --partition K --of {workers})"
        )
    else:
        echo(
            f"  city: {city.name} ({city.crs}, {city.timezone}); live engine on "
            f"{len(ctx.engine.engine.instances)} detectors"
        )
    if demo_users and not ctx.users.list():
        # the district operator's district: the one with the most assets
        counts = ctx.store.read_table("asset")["district_id"].dropna().value_counts()
        first = str(counts.index[0]) if len(counts) else None
        for name, pw, role, d in seed_demo_users(ctx.store, first):
            echo(
                f"  demo user {name:<16} password {pw:<20} role {role}{f' (district {d})' if d else ''}"
            )
    if broker and not workers:  # with workers, they take the stream
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
