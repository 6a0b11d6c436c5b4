"""A bounded on-disk buffer for good readings while the store is unavailable, and catch-up.

    from lifeline.ingest.buffer import BufferedStore, DiskBuffer
    store = BufferedStore(open_store(url), DiskBuffer("/var/lib/lifeline/spool", max_bytes=256 << 20))
    MqttIngestor(store, mqtt_url, ...)        # any ingestion path that writes through a Store

:class:`BufferedStore` wraps a store. When a write of readings fails with
:class:`~lifeline.errors.StoreError` (database down, network cut), the validated readings are
written to one Parquet segment in the spool folder (written to a temporary name, fsynced, then
renamed: a segment is either complete or absent) and the write reports success — so an MQTT
subscriber acknowledges the messages only once they are durable on disk. Before every later
write the spool is drained oldest first into the store (idempotent on sensor and time: a
segment replayed twice adds no row) and each segment is deleted only after its write succeeded.

The buffer is bounded (``max_bytes``): when full, the write raises StoreError as without a
buffer — the MQTT subscriber then does not acknowledge and the broker keeps the messages
(back-pressure). While the store is down the duplicate check is skipped (all readings are
treated as new); duplicates are then removed by the store's primary key at catch-up. Rejected
records are buffered the same way. Every other method is passed to the wrapped store.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifeline.errors import StoreError


class DiskBuffer:
    """Parquet segments ``<ns>-<kind>-<uuid>.parquet`` in ``folder``, at most ``max_bytes``."""

    def __init__(self, folder: str | Path, max_bytes: int = 256 * 1024 * 1024) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def segments(self) -> list[Path]:
        """Complete segments, oldest first."""
        return sorted(self.folder.glob("*.parquet"))

    @property
    def bytes(self) -> int:
        """Bytes held on disk."""
        return sum(p.stat().st_size for p in self.segments())

    def put(self, df: pd.DataFrame, kind: str = "reading") -> None:
        """Write ``df`` durably as one segment; StoreError if the buffer is full."""
        with self._lock:
            if self.bytes >= self.max_bytes:
                raise StoreError(
                    f"store unavailable and the on-disk buffer is full ({self.max_bytes} bytes)",
                    where=str(self.folder),
                )
            name = f"{time.time_ns():020d}-{kind}-{uuid.uuid4().hex[:8]}.parquet"
            tmp = self.folder / f".{name}.tmp"
            df.to_parquet(tmp, index=False)
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            tmp.replace(self.folder / name)
            dfd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)

    def drain(self, store: Any) -> int:
        """Write every segment to ``store`` (oldest first) and delete it once written; stops
        at the first StoreError (raised). Returns the number of new readings stored."""
        n = 0
        with self._lock:
            for seg in self.segments():
                df = pd.read_parquet(seg)
                if "-rejected-" in seg.name:
                    store.write_rejected(df)
                else:
                    n += int(store.write_readings(df))  # idempotent on (sensor_id, ts)
                seg.unlink()
        return n


class BufferedStore:
    """A store whose reading and rejected writes fall back to a :class:`DiskBuffer`."""

    def __init__(self, store: Any, buffer: DiskBuffer) -> None:
        self._store = store
        self.buffer = buffer
        self.buffered_readings = 0
        self.caught_up_readings = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def catch_up(self) -> int:
        """Drain the buffer into the store if there is anything; returns readings stored.
        Raises StoreError if the store is still unavailable."""
        if not self.buffer.segments():
            return 0
        n = self.buffer.drain(self._store)
        self.caught_up_readings += n
        return n

    def existing_readings_mask(self, df: pd.DataFrame) -> np.ndarray:
        """The store's duplicate check, or "all new" while the store is unavailable."""
        try:
            return np.asarray(self._store.existing_readings_mask(df))
        except StoreError:
            return np.zeros(len(df), dtype=bool)

    def write_readings(self, df: pd.DataFrame, *, assume_new: bool = False) -> int:
        """Write through to the store (after catching up), or to the disk buffer if the store
        is unavailable (then returns ``len(df)``: the readings are durable on disk)."""
        try:
            self.catch_up()
            return int(self._store.write_readings(df, assume_new=assume_new))
        except StoreError:
            self.buffer.put(df, "reading")
            self.buffered_readings += len(df)
            return len(df)

    def write_rejected(self, df: pd.DataFrame) -> int:
        """Append rejected records, or buffer them while the store is unavailable."""
        try:
            return int(self._store.write_rejected(df))
        except StoreError:
            self.buffer.put(df, "rejected")
            return len(df)
