"""Scale-out by zone: which engine partition owns each reading, event and complaint, and the
feed that hands a worker's own share to its engine and forwards the rest.

Several engine processes (``lifeline worker``) share one stream: each receives part of it (an
MQTT shared subscription), validates and stores what it receives, gives its engine the items
of its own partition and forwards the others, already stored, to their owners in batches on
``<route topic>/<k>`` (:class:`PartitionFeed`). An item's partition is a stable hash of its
**zone** — the sensor's asset zone (DMA, feeder, gas district; its district when the asset has
no zone), the customer's service zone for the event's utility, the switch's feeder, a
complaint's customer zone or, unplaced, the zone of the nearest asset of its utility — so the
evidence of one incident usually stays in one partition; an incident that spans two is merged
once in the store (:mod:`lifeline.engine.shared`).

Watermarks: each route message carries its sender's *progress* (the latest event time it has
received from the shared stream and forwarded). An engine with ``sources`` only processes a
window once every worker's progress has passed its end plus the lateness bound, so data a
slower worker forwards is never late because another worker ran ahead.
"""

from __future__ import annotations

import json
import logging
import threading
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from lifeline.model.city import City

log = logging.getLogger(__name__)

#: the worker names used as watermark sources: w0 … w{n-1}
SOURCE = "w{}"
#: seconds to wait for the broker's acknowledgement of a forward
WAIT_S = 30.0


def part_of(key: str, n: int, seed: int = 0) -> int:
    """Partition (0 … n-1) of a zone key: CRC-32 of the key (and ``seed``, to rebalance), the
    same in every process and Python version."""
    if n <= 1:
        return 0
    text = f"{seed}:{key}" if seed else key
    return zlib.crc32(text.encode("utf-8")) % n


class Partitioner:
    """Partition of every sensor, customer (per utility), switch and complaint of ``city``
    among ``n`` partitions (see the module docstring for the keys)."""

    def __init__(self, city: City, n: int, seed: int = 0) -> None:
        self.n, self.seed = max(1, int(n)), int(seed)
        a = city.assets
        zone = a["zone_id"].fillna("").astype(str)
        district = a["district_id"].fillna("").astype(str)
        aid = a["asset_id"].astype(str)
        key = zone.where(zone != "", district).where((zone != "") | (district != ""), aid)
        self.asset_key = dict(zip(aid, key, strict=True))
        s = city.sensors.drop_duplicates("sensor_id")
        sid = s["sensor_id"].astype(str)
        skey = [self.asset_key.get(str(x), str(i)) for x, i in zip(s["asset_id"], sid, strict=True)]
        self.sensor_ids = pd.Index(sid)
        self.sensor_part = np.array([self.part(k) for k in skey], dtype=np.int64)
        c = city.customers
        self.customer_part: dict[tuple[str, str], int] = {}
        for util in ("water", "power", "gas"):
            col = f"{util}_asset_id"
            if col not in c.columns:
                continue
            for cid, asset in zip(c["customer_id"].astype(str), c[col], strict=True):
                if isinstance(asset, str) and asset in self.asset_key:
                    self.customer_part[(cid, util)] = self.part(self.asset_key[asset])
        self._nearest: dict[str, tuple[Any, np.ndarray]] = {}
        xy = a[["x_m", "y_m"]].to_numpy(dtype=float)
        ok = np.isfinite(xy).all(axis=1)
        for util in sorted(set(a["utility"].astype(str))):
            m = ok & (a["utility"].astype(str) == util).to_numpy()
            if m.any():
                from scipy.spatial import cKDTree

                parts = np.array([self.part(k) for k in key[m]], dtype=np.int64)
                self._nearest[util] = (cKDTree(xy[m]), parts)

    def part(self, key: str) -> int:
        """Partition of a zone key."""
        return part_of(key, self.n, self.seed)

    def sensors_of(self, k: int) -> list[str]:
        """Sensor ids of partition ``k``."""
        return [str(x) for x in self.sensor_ids[self.sensor_part == k]]

    def readings(self, df: pd.DataFrame) -> np.ndarray:
        """Partition of each reading (``sensor_id``); unknown sensors go to partition 0."""
        codes = self.sensor_ids.get_indexer(df["sensor_id"].astype(str))
        out = np.zeros(len(df), dtype=np.int64)
        known = codes >= 0
        out[known] = self.sensor_part[codes[known]]
        return out

    def events(self, df: pd.DataFrame) -> np.ndarray:
        """Partition of each meter or switchgear event (``schema.METER_EVENT`` rows)."""
        out = np.zeros(len(df), dtype=np.int64)
        for i, r in enumerate(df[["customer_id", "utility", "element"]].itertuples(index=False)):
            cid, util, element = (str(v) if isinstance(v, str) else "" for v in r)
            if cid:
                out[i] = self.customer_part.get((cid, util or "power"), 0)
            elif element:
                key = self.asset_key.get(f"{util or 'power'}:{element}")
                out[i] = self.part(key) if key else 0
        return out

    def complaints(self, df: pd.DataFrame) -> np.ndarray:
        """Partition of each complaint: its customer's zone for its utility, else the zone of
        the nearest asset of that utility, else partition 0."""
        out = np.zeros(len(df), dtype=np.int64)
        for i, r in enumerate(df.to_dict("records")):
            util = str(r.get("utility") or "")
            cid = str(r.get("customer_id") or "")
            if cid and (cid, util) in self.customer_part:
                out[i] = self.customer_part[(cid, util)]
                continue
            x, y = r.get("x_m"), r.get("y_m")
            near = self._nearest.get(util)
            if near is not None and x is not None and y is not None and np.isfinite([x, y]).all():
                tree, parts = near
                out[i] = int(parts[int(tree.query([float(x), float(y)])[1])])
        return out


# ---- route messages: already stored items on their way to their partition's engine -----------
def encode_route(
    sender: str,
    progress: pd.Timestamp | None,
    readings: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    complaints: pd.DataFrame | None = None,
) -> bytes:
    """One route message (JSON): the sender, its progress and columnar readings (ts in ns)."""
    doc: dict[str, Any] = {
        "v": 1,
        "from": sender,
        "progress": progress.isoformat() if progress is not None else None,
    }
    if readings is not None and len(readings):
        ts = pd.to_datetime(readings["ts"], utc=True)
        doc["readings"] = {
            "sensor_id": readings["sensor_id"].astype(str).tolist(),
            "ts": ts.astype("int64").tolist(),
            "value": pd.to_numeric(readings["value"], errors="coerce").astype(float).tolist(),
        }
    for name, df in (("events", events), ("complaints", complaints)):
        if df is not None and len(df):
            doc[name] = json.loads(df.to_json(orient="records", date_format="iso"))
    return json.dumps(doc, separators=(",", ":"), allow_nan=True).encode()


def decode_route(payload: bytes) -> dict[str, Any]:
    """Inverse of :func:`encode_route`: ``{"from", "progress", "readings", "events",
    "complaints"}`` with DataFrames (or None) and a UTC timestamp (or None)."""
    doc = json.loads(payload)
    out: dict[str, Any] = {
        "from": str(doc.get("from") or ""),
        "progress": pd.Timestamp(doc["progress"]) if doc.get("progress") else None,
        "readings": None,
        "events": None,
        "complaints": None,
    }
    r = doc.get("readings")
    if r:
        out["readings"] = pd.DataFrame(
            {
                "sensor_id": r["sensor_id"],
                "ts": pd.to_datetime(np.asarray(r["ts"], dtype=np.int64), utc=True),
                "value": np.asarray(r["value"], dtype=float),
            }
        )
    for name in ("events", "complaints"):
        if doc.get(name):
            df = pd.DataFrame(doc[name])
            df["ts"] = pd.to_datetime(df["ts"], utc=True, format="ISO8601")
            out[name] = df
    return out


def _max_ts(*frames: pd.DataFrame | None) -> pd.Timestamp | None:
    ts = [pd.to_datetime(f["ts"], utc=True).max() for f in frames if f is not None and len(f)]
    return max(ts) if ts else None


class PartitionFeed:
    """The ingestion ``feed`` of a worker (``own`` = its partition) or of an API that runs no
    engine (``own`` None): its own share goes to ``engine`` (an Engine or EngineRunner), the
    rest to ``send(k, payload)`` — a QoS-1 publish on ``<route>/<k>``; :meth:`submit` returns
    once the broker has acknowledged them, so the input is acknowledged only after its
    forwards are safe in the owners' queues.

    ``progress``: the latest event time received from the shared stream (a worker's
    watermark source ``w<k>``), sent with every forward and by :meth:`heartbeat`.
    """

    def __init__(
        self,
        parts: Partitioner,
        own: int | None,
        engine: Any,
        send: Any,
        sender: str = "",
    ) -> None:
        self.parts, self.own, self.engine, self.send = parts, own, engine, send
        self.sender = sender or (SOURCE.format(own) if own is not None else "api")
        self.progress: pd.Timestamp | None = None
        self._lock = threading.Lock()
        self.forwarded = 0

    def not_before(self) -> pd.Timestamp | None:
        """Items older than this are late for the own engine (None: no bound known)."""
        return self.engine.not_before() if self.engine is not None else None

    def submit_readings(self, df: pd.DataFrame) -> None:
        """See :meth:`submit`."""
        self.submit(readings=df)

    def submit_events(self, df: pd.DataFrame) -> None:
        """See :meth:`submit`."""
        self.submit(events=df)

    def submit_complaints(self, df: pd.DataFrame) -> None:
        """See :meth:`submit`."""
        self.submit(complaints=df)

    def submit(
        self,
        readings: pd.DataFrame | None = None,
        events: pd.DataFrame | None = None,
        complaints: pd.DataFrame | None = None,
    ) -> None:
        """Split stored items by partition: the own share to the engine, the others forwarded;
        then advance this worker's progress (and tell the own engine)."""
        split: dict[int, dict[str, pd.DataFrame]] = {}
        for name, df, fn in (
            ("readings", readings, self.parts.readings),
            ("events", events, self.parts.events),
            ("complaints", complaints, self.parts.complaints),
        ):
            if df is None or len(df) == 0:
                continue
            p = fn(df)
            for k in np.unique(p):
                split.setdefault(int(k), {})[name] = df[p == k].reset_index(drop=True)
        latest = _max_ts(readings, events, complaints)
        sent = []
        with self._lock:
            if latest is not None and (self.progress is None or latest > self.progress):
                self.progress = latest
            for k in sorted(split):
                if k == self.own:
                    continue
                sent.append(self.send(k, encode_route(self.sender, self._progress(), **split[k])))
                self.forwarded += sum(len(v) for v in split[k].values())
        for info in sent:  # the broker has every forward before the input is acknowledged
            wait = getattr(info, "wait_for_publish", None)
            if callable(wait):
                try:
                    wait(WAIT_S)
                except (RuntimeError, ValueError) as exc:  # broker away: paho resends later
                    log.warning("forward not yet acknowledged by the broker: %s", exc)
        if self.engine is not None:
            mine = split.get(self.own, {}) if self.own is not None else {}
            if mine:
                self.engine.submit(**mine)
            if self.own is not None and self.progress is not None:
                self.engine.set_progress(self.sender, self.progress)

    def _progress(self) -> pd.Timestamp | None:
        return self.progress if self.own is not None else None

    def heartbeat(self) -> None:
        """Send the progress to every other partition (a worker with nothing to forward for a
        while still lets the others advance)."""
        if self.own is None or self.progress is None:
            return
        with self._lock:
            for k in range(self.parts.n):
                if k != self.own:
                    self.send(k, encode_route(self.sender, self.progress))
