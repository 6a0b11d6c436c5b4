"""JSON readings (HTTP batches and MQTT payloads) → raw records for the shared validator.

Accepted payloads::

    {"readings": [{"sensor_id": "water:p:1", "ts": "2024-03-01T12:00:00Z", "value": 41.2}, …]}
    [{"sensor_id": …, "ts": …, "value": …}, …]          # a bare list
    {"sensor_id": …, "ts": …, "value": …}                # one reading (MQTT)

``quality`` (int) is optional. ``ts`` is an ISO 8601 string or a number of seconds since the
epoch (UTC). On MQTT the sensor id may come from the topic suffix instead of the payload.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import numpy as np
import pandas as pd

from lifeline.ingest.validate import (
    FUTURE_TOLERANCE,
    Reason,
    SensorIndex,
    Validated,
    empty_rejected,
    make_rejected,
    validate_batch,
)

_MAX_RAW: Final = 2000


@dataclass
class JsonRecords:
    """Records parsed from one or more JSON payloads, and the items that could not be used."""

    records: dict[str, list[Any]]  # sensor_id, ts, value, quality, source (as received)
    items: list[Any] = field(default_factory=list)  # the JSON item of each record (for raw)
    rejected: list[pd.DataFrame] = field(default_factory=list)

    def rejected_frame(self) -> pd.DataFrame:
        """Parser-level rejects (malformed_json) as one REJECTED frame."""
        return pd.concat(self.rejected, ignore_index=True) if self.rejected else empty_rejected()

    def fix_raw(self, res: Validated) -> pd.DataFrame:
        """Replace the validator's raw text by the JSON of each rejected item."""
        raw = [_dump(self.items[int(i)]) for i in res.rejected_pos]
        return res.rejected.assign(raw=pd.Series(raw, dtype="string", index=res.rejected.index))


def _dump(item: Any) -> str:
    try:
        return json.dumps(item, ensure_ascii=False, default=str)[:_MAX_RAW]
    except (TypeError, ValueError):
        return repr(item)[:_MAX_RAW]


def _text(payload: bytes | str) -> str:
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace")
    return payload


class JsonCollector:
    """Accumulates payloads (one HTTP body, or many MQTT messages) into column lists."""

    def __init__(self) -> None:
        self.sid: list[Any] = []
        self.ts: list[Any] = []
        self.value: list[Any] = []
        self.quality: list[Any] = []
        self.source: list[str] = []
        self.items: list[Any] = []
        self.rejected: list[pd.DataFrame] = []
        self.n_payloads = 0

    def __len__(self) -> int:
        return len(self.items)

    def add(
        self,
        payload: bytes | str,
        source: str,
        default_sensor: str | None = None,
        item_sources: bool = False,
    ) -> int:
        """Parse one payload; returns the number of readings it held (good or bad)."""
        self.n_payloads += 1
        try:
            doc = json.loads(payload)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # nesting bomb too
            self._reject(source, f"not valid JSON: {exc}", _text(payload)[:_MAX_RAW])
            return 0
        if isinstance(doc, dict) and "readings" in doc:
            items = doc["readings"]
            if not isinstance(items, list):
                self._reject(source, "'readings' must be a list", _dump(doc))
                return 0
        elif isinstance(doc, list):
            items = doc
        elif isinstance(doc, dict):
            items = [doc]
        else:
            self._reject(
                source, f"expected an object or a list, got {type(doc).__name__}", _dump(doc)
            )
            return 0
        if all(type(it) is dict for it in items):  # the usual case, without a per-item loop body
            if default_sensor is None:
                self.sid.extend([it.get("sensor_id") for it in items])
            else:
                self.sid.extend([it.get("sensor_id", default_sensor) for it in items])
            self.ts.extend([it.get("ts") for it in items])
            self.value.extend([it.get("value") for it in items])
            self.quality.extend([it.get("quality") for it in items])
            if item_sources:
                self.source.extend([f"{source}[{i}]" for i in range(len(items))])
            else:
                self.source.extend([source] * len(items))
            self.items.extend(items)
            return len(items)
        bad_src, bad_detail, bad_raw = [], [], []
        for i, it in enumerate(items):
            src = f"{source}[{i}]" if item_sources else source
            if type(it) is not dict:
                bad_src.append(src)
                bad_detail.append(f"item {i} is a {type(it).__name__}, not an object")
                bad_raw.append(_dump(it))
                continue
            s = it.get("sensor_id")
            self.sid.append(default_sensor if s is None else s)
            self.ts.append(it.get("ts"))
            self.value.append(it.get("value"))
            self.quality.append(it.get("quality"))
            self.source.append(src)
            self.items.append(it)
        if bad_src:
            self.rejected.append(make_rejected(Reason.MALFORMED_JSON, bad_src, bad_detail, bad_raw))
        return len(items)

    def _reject(self, source: str, detail: str, raw: str) -> None:
        self.rejected.append(make_rejected(Reason.MALFORMED_JSON, [source], [detail], [raw]))

    def take(self) -> JsonRecords:
        """The collected records (and reset the collector)."""
        sid = self.sid
        if not all(type(s) is str for s in sid):
            sid = [
                s
                if s is None or isinstance(s, str)
                else (_dump(s) if isinstance(s, dict | list) else str(s))
                for s in sid
            ]
        quality = self.quality
        if not all(q is None for q in quality):
            quality = [
                q if isinstance(q, int | float) and not isinstance(q, bool) else None
                for q in quality
            ]
        df = {
            "sensor_id": sid,
            "ts": self.ts,
            "value": self.value,
            "quality": quality,
            "source": self.source,
        }
        out = JsonRecords(df, self.items, self.rejected)
        self.__init__()  # type: ignore[misc]
        return out


def parse_http_batch(
    body: bytes | str,
    sensors: pd.DataFrame | SensorIndex,
    now: datetime | pd.Timestamp | None = None,
    known_keys: Any = None,
    *,
    batch_id: str | None = None,
    tz: str = "UTC",
    not_before: pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parse and validate an HTTP JSON batch (``{"readings": […]}`` or a bare list).

    Returns ``(good, rejected)`` like :func:`lifeline.ingest.validate.validate`; every rejected
    item has source ``http:<batch_id>[<index>]`` and its JSON as raw text. A body that is not
    JSON at all is one ``malformed_json`` record. Never raises on bad input.
    """
    res, jr = validate_json(
        body,
        sensors,
        now,
        known_keys,
        source=f"http:{batch_id or uuid.uuid4().hex[:12]}",
        tz=tz,
        not_before=not_before,
    )
    good = res.good.astype({"sensor_id": "string"})
    return good, res.rejected


def validate_json(
    payloads: bytes | str | Sequence[tuple[bytes | str, str, str | None]],
    sensors: pd.DataFrame | SensorIndex,
    now: datetime | pd.Timestamp | None = None,
    known_keys: Any = None,
    *,
    source: str = "",
    tz: str = "UTC",
    not_before: pd.Timestamp | None = None,
) -> tuple[Validated, JsonRecords]:
    """Validate one payload (HTTP: per-item sources) or many ``(payload, topic, sensor)``
    messages (MQTT: source = topic). The Validated result includes the parser's rejects."""
    col = JsonCollector()
    if isinstance(payloads, bytes | str):
        col.add(payloads, source, item_sources=True)
    else:
        for payload, topic, default in payloads:
            col.add(payload, topic, default)
    jr = col.take()
    res = validate_batch(
        jr.records,
        sensors,
        now,
        known_keys,
        source=source,
        tz=tz,
        future_tolerance=FUTURE_TOLERANCE,
        not_before=not_before,
    )
    if len(res.rejected):
        res.rejected = jr.fix_raw(res)
    parser_rej = jr.rejected_frame()
    if len(parser_rej):
        res.rejected = pd.concat([res.rejected, parser_rej], ignore_index=True)
        res.rejected_sensor = np.concatenate(
            [res.rejected_sensor, np.full(len(parser_rej), "", dtype=object)]
        )
        res.rejected_line = np.concatenate(
            [res.rejected_line, np.zeros(len(parser_rej), dtype=np.int64)]
        )
        res.rejected_pos = np.concatenate([res.rejected_pos, np.full(len(parser_rej), -1)])
    return res, jr
