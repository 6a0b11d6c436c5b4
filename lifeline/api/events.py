"""In-process event bus and Server-Sent Events (SSE) framing.

Publishers (HTTP ingestion, the replay thread, incident actions) call :meth:`EventBus.publish`
from any thread; every SSE client holds an :class:`asyncio.Queue` fed thread-safely on its own
event loop. The bus keeps the last ``history`` events so a reconnecting browser can resume from
``Last-Event-ID``.

Event shape (JSON in the SSE ``data:`` field)::

    {"id": 17, "type": "alarm" | "incident" | "readings" | "replay", "ts": "…Z",
     "district_id": "D1" | null, "data": {…}}
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

#: the internal event that ends SSE streams at shutdown
CLOSE = "_close"
#: event types the bus carries
EVENT_TYPES = ("alarm", "incident", "readings", "complaint", "replay")


@dataclass
class Event:
    """One published event (``id`` increases monotonically per bus)."""

    id: int
    type: str
    ts: str
    data: dict[str, Any]
    district_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "id": self.id,
            "type": self.type,
            "ts": self.ts,
            "district_id": self.district_id,
            "data": self.data,
        }

    def sse(self) -> str:
        """The event framed for ``text/event-stream``."""
        payload = json.dumps(self.as_dict(), ensure_ascii=False, default=str)
        return f"id: {self.id}\nevent: {self.type}\ndata: {payload}\n\n"


@dataclass
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[Event]
    district_id: str | None = None


@dataclass
class EventBus:
    """Thread-safe publish/subscribe with a bounded history (``history`` events)."""

    history: int = 500
    max_queue: int = 1000
    _subs: list[_Subscriber] = field(default_factory=list)
    _recent: deque[Event] = field(default_factory=deque)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, type_: str, data: dict[str, Any], district_id: str | None = None) -> Event:
        """Publish an event to every subscriber (scoped subscribers only get their district's
        events and district-less ones). Safe to call from any thread; never blocks."""
        with self._lock:
            ev = Event(
                next(self._ids), type_, datetime.now(UTC).isoformat(), data, district_id or None
            )
            self._recent.append(ev)
            while len(self._recent) > self.history:
                self._recent.popleft()
            subs = list(self._subs)
        for s in subs:
            if not _visible(ev, s.district_id):
                continue
            try:
                s.loop.call_soon_threadsafe(_offer, s.queue, ev)
            except RuntimeError:  # loop closed: the client is gone
                self._drop(s)
        return ev

    def close(self) -> None:
        """End every SSE stream (server shutdown): subscribers receive a ``_close`` event."""
        with self._lock:
            subs = list(self._subs)
        ev = Event(0, CLOSE, datetime.now(UTC).isoformat(), {})
        for s in subs:
            try:
                s.loop.call_soon_threadsafe(_offer, s.queue, ev)
            except RuntimeError:
                self._drop(s)

    def subscribe(self, district_id: str | None = None) -> _Subscriber:
        """Register a subscriber on the running event loop (call from async code)."""
        sub = _Subscriber(asyncio.get_running_loop(), asyncio.Queue(self.max_queue), district_id)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: _Subscriber) -> None:
        """Remove a subscriber."""
        self._drop(sub)

    def _drop(self, sub: _Subscriber) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    @property
    def n_subscribers(self) -> int:
        """Number of connected SSE clients."""
        with self._lock:
            return len(self._subs)

    def recent(
        self,
        after_id: int = 0,
        district_id: str | None = None,
        types: tuple[str, ...] | None = None,
    ) -> list[Event]:
        """Events kept in the history with ``id > after_id`` visible to ``district_id``."""
        with self._lock:
            evs = list(self._recent)
        return [
            e
            for e in evs
            if e.id > after_id and _visible(e, district_id) and (types is None or e.type in types)
        ]


def _visible(ev: Event, district_id: str | None) -> bool:
    return district_id is None or ev.district_id is None or ev.district_id == district_id


def _offer(queue: asyncio.Queue[Event], ev: Event) -> None:
    if queue.full():  # a slow client loses the oldest events, never blocks the publisher
        queue.get_nowait()
    queue.put_nowait(ev)
