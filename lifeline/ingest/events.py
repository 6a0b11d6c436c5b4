"""Smart-meter and SCADA events as input (a stable contract).

MQTT ``lifeline/events/<kind>`` and ``POST /api/meter-events`` carry JSON objects
``{"ts", "kind", …}``:

* ``last_gasp`` | ``restore`` with ``customer_id`` — a smart electricity meter lost or regained
  supply;
* ``breaker_trip`` | ``breaker_close`` | ``fpi`` with ``"element": "switch:<idx>"`` — a breaker
  opened or closed, a fault passage indicator picked up (pandapower switch index);
* ``zero_consumption`` | ``reverse_flow`` with ``customer_id`` — a smart water or gas meter
  (optional ``"utility": "water"|"gas"``, default water).

They are validated like readings: a bad one is kept in ``rejected`` with its reason
(``missing_field``, ``bad_timestamp``, ``future_timestamp``, ``unknown_kind``,
``unknown_customer``, ``unknown_element``, ``late``, ``duplicate``, ``malformed_json``) and never
stops the good ones. Event ids are deterministic (kind, subject, time), so a redelivered event
is a duplicate, not a second event.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import pandas as pd

from lifeline.ingest.validate import FUTURE_TOLERANCE, Reason, make_rejected
from lifeline.model.schema import conform, empty_frame

#: kind -> (utility or None when given by the event, what it names)
EVENT_KINDS: Final[dict[str, tuple[str | None, str]]] = {
    "last_gasp": ("power", "customer"),
    "restore": ("power", "customer"),
    "breaker_trip": ("power", "switch"),
    "breaker_close": ("power", "switch"),
    "fpi": ("power", "switch"),
    "zero_consumption": (None, "customer"),
    "reverse_flow": (None, "customer"),
}
EVENT_TOPIC: Final = "lifeline/events/#"


@dataclass
class EventIndex:
    """What events may name: customer ids and pandapower switch indices of the city."""

    customers: set[str] = field(default_factory=set)
    switches: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, customers: pd.DataFrame, switch_ids: Iterable[int] = ()) -> EventIndex:
        """From the customer table and the power net's switch indices."""
        return cls(set(customers["customer_id"].astype(str)), {int(i) for i in switch_ids})


def event_id(kind: str, subject: str, ts: pd.Timestamp) -> str:
    """The deterministic id of an event."""
    return f"{kind}:{subject}@{pd.Timestamp(ts):%Y%m%dT%H%M%S}"


def _ts(v: Any) -> pd.Timestamp | None:
    if v is None or v == "":
        return None
    try:
        t = pd.Timestamp(v, unit="s") if isinstance(v, int | float) else pd.Timestamp(str(v))
    except (ValueError, TypeError, OverflowError):
        return None
    if t is pd.NaT:
        return None
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


def validate_events(
    items: list[tuple[Any, str]],
    index: EventIndex,
    now: pd.Timestamp | None = None,
    not_before: pd.Timestamp | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``(event object or raw text, source)`` pairs into good ``schema.METER_EVENT`` rows
    and rejected records; ``not_before``: events older than this are ``late``."""
    now_ts = pd.Timestamp(now) if now is not None else pd.Timestamp.now("UTC")
    now_ts = now_ts.tz_localize("UTC") if now_ts.tzinfo is None else now_ts
    good: list[dict[str, Any]] = []
    rej: dict[str, list[str]] = {"source": [], "detail": [], "raw": [], "reason": []}
    seen: set[str] = set()

    def reject(reason: Reason, src: str, detail: str, raw: Any) -> None:
        rej["reason"].append(reason.value)
        rej["source"].append(src)
        rej["detail"].append(detail)
        rej["raw"].append(raw if isinstance(raw, str) else json.dumps(raw, default=str)[:2000])

    for obj, src in items:
        if isinstance(obj, bytes | str):
            try:
                obj = json.loads(obj)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                reject(Reason.MALFORMED_JSON, src, "not a JSON object", str(obj)[:2000])
                continue
        if not isinstance(obj, dict):
            reject(Reason.MALFORMED_JSON, src, "an event must be a JSON object", obj)
            continue
        kind = str(obj.get("kind") or "")
        if not kind:
            reject(Reason.MISSING_FIELD, src, "missing kind", obj)
            continue
        if kind not in EVENT_KINDS:
            reject(
                Reason.UNKNOWN_KIND,
                src,
                f"unknown kind {kind!r} (use {', '.join(EVENT_KINDS)})",
                obj,
            )
            continue
        if obj.get("ts") in (None, ""):
            reject(Reason.MISSING_FIELD, src, "missing ts", obj)
            continue
        ts = _ts(obj.get("ts"))
        if ts is None:
            reject(Reason.BAD_TIMESTAMP, src, f"cannot parse timestamp {obj.get('ts')!r}", obj)
            continue
        if ts > now_ts + pd.Timedelta(FUTURE_TOLERANCE):
            reject(
                Reason.FUTURE_TIMESTAMP, src, f"timestamp {ts.isoformat()} lies in the future", obj
            )
            continue
        util, names = EVENT_KINDS[kind]
        customer, element = "", ""
        if names == "customer":
            customer = str(obj.get("customer_id") or "")
            if not customer:
                reject(Reason.MISSING_FIELD, src, f"{kind} needs customer_id", obj)
                continue
            if customer not in index.customers:
                reject(
                    Reason.UNKNOWN_CUSTOMER,
                    src,
                    f"customer {customer!r} is not in the customer table",
                    obj,
                )
                continue
            if util is None:
                util = str(obj.get("utility") or "water")
                if util not in ("water", "gas"):
                    reject(
                        Reason.MISSING_FIELD,
                        src,
                        f"utility must be water or gas, not {util!r}",
                        obj,
                    )
                    continue
            subject = customer
        else:
            element = str(obj.get("element") or "")
            k, _, ref = element.partition(":")
            if not element:
                reject(Reason.MISSING_FIELD, src, f"{kind} needs element switch:<idx>", obj)
                continue
            if k != "switch" or not ref.isdigit() or int(ref) not in index.switches:
                reject(
                    Reason.UNKNOWN_ELEMENT,
                    src,
                    f"element {element!r} is not a switch of the power network",
                    obj,
                )
                continue
            subject = element
        if not_before is not None and ts < not_before:
            reject(
                Reason.LATE,
                src,
                f"event at {ts.isoformat()} arrived after the live engine processed that time",
                obj,
            )
            continue
        eid = event_id(kind, subject, ts)
        if eid in seen:
            reject(Reason.DUPLICATE, src, f"event {eid} repeats one in this batch", obj)
            continue
        seen.add(eid)
        good.append(
            {
                "event_id": eid,
                "ts": ts,
                "kind": kind,
                "utility": util,
                "customer_id": customer,
                "element": element,
                "source": src,
            }
        )
    ok = conform("meter_event", pd.DataFrame(good)) if good else empty_frame("meter_event")
    bad = empty_frame("rejected")
    for reason in sorted(set(rej["reason"])):
        sel = [i for i, r in enumerate(rej["reason"]) if r == reason]
        part = make_rejected(
            Reason(reason),
            [rej["source"][i] for i in sel],
            [rej["detail"][i] for i in sel],
            [rej["raw"][i] for i in sel],
        )
        bad = pd.concat([bad, part], ignore_index=True) if len(bad) else part
    return ok, bad


def parse_event_body(body: bytes | str, source: str) -> list[tuple[Any, str]]:
    """An HTTP body ``{"events": [...]}`` or a bare list (or one object) as (item, source)
    pairs; a body that is not JSON is one malformed item."""
    try:
        doc = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return [(body if isinstance(body, str) else body.decode("utf-8", "replace"), source)]
    items = doc.get("events", doc) if isinstance(doc, dict) and "events" in doc else doc
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        return [(json.dumps(doc), source)]
    return [(it, f"{source}[{i}]") for i, it in enumerate(items)]


def ingest_events(
    store: Any,
    items: list[tuple[Any, str]],
    index: EventIndex,
    *,
    now: pd.Timestamp | None = None,
    feed: Any = None,
) -> dict[str, Any]:
    """Validate ``items``, store the good events (idempotent on event_id) and the rejects, and
    hand the new events to ``feed`` (the live engine). Returns counts."""
    good, bad = validate_events(items, index, now, feed.not_before() if feed is not None else None)
    stored = store.add_meter_events(good) if len(good) else 0
    if len(bad):
        store.write_rejected(bad)
    reasons = bad["reason"].astype(str).value_counts().to_dict() if len(bad) else {}
    if stored < len(good):
        reasons["duplicate"] = reasons.get("duplicate", 0) + len(good) - stored
    if feed is not None and len(good):
        feed.submit_events(good)
    return {
        "stored": int(stored),
        "rejected": {str(k): int(v) for k, v in reasons.items()},
        "rejected_total": int(sum(reasons.values())),
    }
