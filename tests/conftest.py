"""Shared fixtures: real PostgreSQL and Mosquitto from scripts/services.sh, isolated settings,
and the live replay of the demo day (built once per session: several end-to-end tests read it)."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parent.parent
TEST_DATA = Path(__file__).resolve().parent / "data"

#: Test files that run on one pytest-xdist worker together, because they read the same costly
#: session fixtures, which each worker would build again: the demo day run headless
#: (``headless_day``, tests/scenarios/conftest.py) and replayed live (``replayed_demo_day``,
#: below), a minute and a half each; the simulated gas leak (``gas_case``, tests/gas/conftest.py).
XDIST_SAME_WORKER = {
    "tests/scenarios/test_demo_day.py": "demo-day",
    "tests/scenarios/test_live_equals_headless.py": "demo-day",
    "tests/web/test_demo_day_zh.py": "demo-day",
    "tests/gas/test_locate.py": "gas-case",
    "tests/gas/test_town.py": "gas-case",
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` (``make test`` runs ``-n 2 --dist loadfile``): each test file on one
    worker, as loadfile does, and each group of files of :data:`XDIST_SAME_WORKER` on one worker
    too. (Not ``--dist loadgroup`` with ``xdist_group`` marks: with pytest 9.2 and pytest-xdist
    3.8 the marks are silently ignored, pytest-dev/pytest-xdist#1386.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SameWorkerFiles(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            return XDIST_SAME_WORKER.get(scope, scope)

    return SameWorkerFiles(config, log)


def _env_from_file() -> dict[str, str]:
    env_file = REPO / "scripts" / "services.env"
    out: dict[str, str] = {}
    if env_file.exists():
        for line in env_file.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                out[k.strip()] = v.strip()
    return out


def _service_url(name: str) -> str | None:
    return os.environ.get(name) or _env_from_file().get(name)


def _reachable(url: str, default_port: int) -> bool:
    u = urlparse(url)
    try:
        with socket.create_connection(
            (u.hostname or "127.0.0.1", u.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def _require(name: str, default_port: int) -> str:
    url = _service_url(name)
    if url and _reachable(url, default_port):
        return url
    msg = f"{name} not available: run `bash scripts/services.sh start`"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def pg_url() -> str:
    """URL of the real PostgreSQL+PostGIS test database."""
    return _require("LIFELINE_TEST_PG", 5432)


@pytest.fixture(scope="session")
def mqtt_url() -> str:
    """URL of the real Mosquitto broker."""
    return _require("LIFELINE_TEST_MQTT", 1883)


@dataclass
class MqttNames:
    """MQTT names owned by one test: a topic prefix no other test (nor a benchmark or a running
    ``lifeline serve``, which use ``lifeline/readings/#``) publishes to or subscribes to, and
    client ids whose persistent sessions are cleared when the test ends."""

    prefix: str  # e.g. lifeline-test/3f2a…/readings
    _sessions: list[tuple[str, str]] = field(default_factory=list)

    @property
    def topic(self) -> str:
        """The subscription filter of the test's readings: ``<prefix>/#``."""
        return f"{self.prefix}/#"

    def at(self, suffix: str) -> str:
        """A topic under the prefix, e.g. ``at("s1")`` → ``<prefix>/s1`` (sensor from topic)."""
        return f"{self.prefix}/{suffix}"

    def client_id(self, role: str, url: str | None = None) -> str:
        """A unique client id; with ``url`` its persistent session there is cleared at the end."""
        cid = f"test-{role}-{uuid.uuid4().hex[:10]}"
        if url is not None:
            self._sessions.append((url, cid))
        return cid


@pytest.fixture
def mqtt_names() -> Iterator[MqttNames]:
    """Per-test MQTT topic prefix and client ids (see :class:`MqttNames`)."""
    names = MqttNames(f"lifeline-test/{uuid.uuid4().hex[:12]}/readings")
    yield names
    from lifeline.ingest.mqtt import clear_session

    for url, cid in names._sessions:
        with contextlib.suppress(OSError):  # the broker is gone: nothing left to clear
            clear_session(url, cid)


@pytest.fixture(autouse=True)
def _isolated_settings(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Point data dir at a temp folder so tests never touch the user's store; keep the shared cache."""
    from lifeline.config import get_settings

    data = tmp_path_factory.mktemp("lifeline-data")
    monkeypatch.setenv("LIFELINE_DATA_DIR", str(data))
    monkeypatch.delenv("LIFELINE_DB", raising=False)
    monkeypatch.delenv("LIFELINE_MQTT", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@contextmanager
def fast_password_hashing() -> Iterator[None]:
    """Cheap argon2 parameters while test users are created (the default ones take a second
    per user); the defaults again afterwards."""
    from lifeline.api import auth

    auth.HASH_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    try:
        yield
    finally:
        auth.HASH_PARAMS = {}


@dataclass
class ReplayedDay:
    """The API's app on its own embedded store after the live replay of the scripted demo day
    (what ``make demo`` shows) on the real demo town, and that first replay's status."""

    app: Any
    town: Any
    status: Any = None

    @property
    def ctx(self) -> Any:
        return self.app.state.ctx

    def replay(self) -> Any:
        """Replay the scripted day into the app live, as fast as it goes, and flush the engine;
        the replay's final status."""
        from lifeline.api.replay import ReplayRunner, SimulatedDay

        ctx = self.ctx
        runner = ReplayRunner(
            ctx, SimulatedDay(date="2026-07-15", city=self.town), speed=1e6, date="2026-07-15"
        )
        ctx.replay = runner
        status = runner.run()
        ctx.engine.engine.flush()
        return status


@pytest.fixture(scope="session")
def replayed_demo_day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReplayedDay]:
    """The demo day replayed live once per session (a minute and a half): the live-equals-headless
    check and the zh-CN dashboard test read the same run. Its engine runs until the session ends.
    A test may add users or replay the day again (which must add nothing), never change what the
    day stored."""
    from lifeline.api.app import create_app
    from lifeline.api.server import attach_city
    from lifeline.datasets.town import load_town

    with fast_password_hashing():
        app = create_app(str(tmp_path_factory.mktemp("replayed-day") / "live.duckdb"), secret="day")
    day = ReplayedDay(app, load_town())
    attach_city(app, day.town, resume=False, idle_flush_s=None)
    try:
        day.status = day.replay()
        yield day
    finally:
        day.ctx.engine.stop()
        day.ctx.store.close()
