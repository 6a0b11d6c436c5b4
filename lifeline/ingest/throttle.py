"""Per-sensor rate limiting: a token bucket per sensor, so that one sensor flooding the
ingestion (a stuck device repeating itself, a misconfigured gateway) cannot crowd out the others.

    from lifeline.ingest.throttle import SensorThrottle
    throttle = SensorThrottle.from_sensors(sensors, factor=10)  # 10× the nominal rate
    admitted = throttle.admit(records["sensor_id"], now=time.monotonic())   # boolean mask

A sensor's allowance is ``factor / interval_s`` readings per second (``interval_s`` from the
sensor table, seconds between nominal readings) with a burst of ``burst`` readings (catch-up
after a gap: a gateway flushing its buffer). Readings beyond the allowance are not stored; the
caller records them as rejected with reason ``throttled`` (:func:`throttled_rejects`). Within a
batch a sensor's readings are admitted in arrival order. Not wired in by default: an ingestion
path opts in by calling :meth:`SensorThrottle.admit` before validation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

THROTTLED = "throttled"


class SensorThrottle:
    """Token buckets keyed by sensor id (state in memory, one instance per ingestion process)."""

    def __init__(
        self,
        interval_s: dict[str, float],
        *,
        factor: float = 10.0,
        burst: float = 100.0,
        default_interval_s: float = 60.0,
    ) -> None:
        """``interval_s``: nominal seconds between readings per sensor; ``factor``: allowed
        multiple of the nominal rate; ``burst``: bucket size in readings; unknown sensors use
        ``default_interval_s``."""
        if factor <= 0 or burst < 1 or default_interval_s <= 0:
            raise ValueError("factor > 0, burst >= 1 and default_interval_s > 0 are required")
        self.interval_s = {k: float(v) for k, v in interval_s.items() if v and v > 0}
        self.factor = factor
        self.burst = float(burst)
        self.default_interval_s = default_interval_s
        self._tokens: dict[str, float] = {}
        self._seen: dict[str, float] = {}
        self.throttled: dict[str, int] = {}

    @classmethod
    def from_sensors(cls, sensors: pd.DataFrame, **kw: Any) -> SensorThrottle:
        """From a sensor table with ``sensor_id`` and ``interval_s`` (seconds)."""
        iv = pd.to_numeric(sensors.get("interval_s"), errors="coerce")
        ids = sensors["sensor_id"].astype(str)
        return cls(
            {s: float(v) for s, v in zip(ids, iv, strict=True) if pd.notna(v) and v > 0}, **kw
        )

    def rate(self, sensor_id: str) -> float:
        """Allowed readings per second for ``sensor_id``."""
        return self.factor / self.interval_s.get(sensor_id, self.default_interval_s)

    def admit(self, sensor_ids: Iterable[Any], now: float) -> np.ndarray:
        """Boolean mask over ``sensor_ids`` (arrival order): True = within the sensor's allowance.
        ``now`` is a monotonic clock in seconds. Counts the refused per sensor in ``throttled``."""
        ids = pd.Series(list(sensor_ids), dtype=object).astype(str)
        out = np.ones(len(ids), dtype=bool)
        if not len(ids):
            return out
        rank = ids.groupby(ids, sort=False).cumcount().to_numpy()
        for sid, count in ids.value_counts(sort=False).items():
            s = str(sid)
            last = self._seen.get(s)
            tokens = self.burst if last is None else self._tokens.get(s, self.burst)
            if last is not None:
                tokens = min(self.burst, tokens + max(0.0, now - last) * self.rate(s))
            allowed = int(np.floor(tokens))
            take = min(allowed, int(count))
            self._tokens[s] = tokens - take
            self._seen[s] = now
            if take < count:
                self.throttled[s] = self.throttled.get(s, 0) + int(count) - take
                out[(ids.to_numpy() == s) & (rank >= take)] = False
        return out


def throttled_rejects(records: pd.DataFrame, mask: np.ndarray, source: str) -> pd.DataFrame:
    """The refused records (``~mask``) as ``REJECTED`` rows with reason ``throttled``."""
    bad = records[~mask]
    n = len(bad)
    raws = bad.astype(str).to_json(orient="records", lines=True).splitlines() if n else []
    return pd.DataFrame(
        {
            "received_at": pd.Series([pd.Timestamp.now("UTC")] * n, dtype="datetime64[ns, UTC]"),
            "source": pd.Series([source] * n, dtype="string"),
            "reason": pd.Series([THROTTLED] * n, dtype="string"),
            "detail": pd.Series(["sensor over its rate limit"] * n, dtype="string"),
            "raw": pd.Series(raws, dtype="string"),
        }
    )
