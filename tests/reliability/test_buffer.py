"""Database unavailable → readings go to the bounded on-disk buffer (acknowledged once durable)
and are caught up when PostgreSQL is reachable again, with no reading lost or duplicated."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import pytest

from lifeline.errors import StoreError
from lifeline.ingest.buffer import BufferedStore, DiskBuffer
from lifeline.ingest.jsonin import validate_json
from tests.reliability.proxy import TcpProxy
from tests.store.helpers import sensors_frame

T0 = pd.Timestamp("2024-03-01T00:00:00Z")
NOW = pd.Timestamp("2024-06-01T00:00:00Z")


def batch(start: int, n: int) -> list[tuple[bytes | str, str, str | None]]:
    items = [
        {"sensor_id": "s0", "ts": (T0 + pd.Timedelta(minutes=start + i)).isoformat(), "value": 5}
        for i in range(n)
    ]
    return [(json.dumps(items), "lifeline/readings/s0", None)]


@pytest.fixture
def proxied(pg_url: str) -> Iterator[tuple[TcpProxy, str, str]]:
    """(proxy, URL through the proxy, schema) of a fresh PostgreSQL schema."""
    from lifeline.store.postgres_store import PostgresStore

    u = urlsplit(pg_url)
    proxy = TcpProxy((u.hostname or "127.0.0.1", u.port or 5432))
    proxy.start()
    netloc = u.netloc.rsplit(":", 1)[0] if u.port else u.netloc
    url = urlunsplit(u._replace(netloc=f"{netloc}:{proxy.port}"))
    schema = f"buf_{uuid.uuid4().hex[:10]}"
    direct = PostgresStore(pg_url, schema=schema)
    direct.init_schema()
    direct.replace_table("sensor", sensors_frame())
    try:
        yield proxy, url, schema
    finally:
        proxy.cut()
        direct.drop_schema()
        direct.close()


def ingest(store: BufferedStore, start: int, n: int) -> int:
    """What MqttIngestor.flush does: validate (duplicate check through the store), write."""
    res, _ = validate_json(
        batch(start, n), sensors_frame(), NOW, store.existing_readings_mask, source="t"
    )
    return int(store.write_readings(res.good, assume_new=True))


@pytest.mark.services
def test_database_outage_buffers_on_disk_then_catches_up(
    tmp_path: Path, proxied: tuple[TcpProxy, str, str], pg_url: str
) -> None:
    from lifeline.store.postgres_store import PostgresStore

    proxy, url, schema = proxied
    store = BufferedStore(PostgresStore(url, schema=schema), DiskBuffer(tmp_path / "spool"))
    try:
        assert ingest(store, 0, 100) == 100  # normal operation: straight to PostgreSQL
        assert store.buffer.segments() == []
        proxy.cut()  # database unreachable: the session dies, new connections are refused
        assert ingest(store, 100, 100) == 100  # durable on disk instead
        assert ingest(store, 150, 100) == 100  # overlaps the previous batch by 50
        assert len(store.buffer.segments()) == 2 and store.buffered_readings == 200
        with pytest.raises(StoreError):
            store.count("reading")  # really down
        proxy.start()  # back: the next write drains the buffer first
        deadline = time.monotonic() + 30
        while True:
            try:
                assert ingest(store, 300, 10) == 10
                break
            except StoreError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert store.buffer.segments() == []
        assert store.caught_up_readings == 150  # 200 buffered, 50 of them duplicates
        check = PostgresStore(pg_url, schema=schema)
        try:
            got = check.read_readings(sensor_ids=["s0"])
            assert len(got) == 100 + 150 + 10 and got["ts"].is_unique
        finally:
            check.close()
    finally:
        store.close()


def test_buffer_is_bounded_and_segments_are_atomic(tmp_path: Path) -> None:
    buf = DiskBuffer(tmp_path, max_bytes=1)
    df = pd.DataFrame({"sensor_id": ["s0"], "ts": [T0], "value": [1.0], "quality": [0]})
    buf.put(df)  # below the bound before the write
    with pytest.raises(StoreError, match="buffer is full"):
        buf.put(df)
    assert len(buf.segments()) == 1 and not list(tmp_path.glob(".*.tmp"))

    class Down:
        def write_readings(self, df: pd.DataFrame, **kw: object) -> int:
            raise StoreError("down")

    with pytest.raises(StoreError):
        buf.drain(Down())
    assert len(buf.segments()) == 1  # kept until a write succeeds
