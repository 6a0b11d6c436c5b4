"""What every request handler shares: the store, users, tokens, event bus, metrics, caches.

Reference lookups (asset → district, sensor → asset/utility/district) are cached and refreshed
when the asset or sensor table changes size (a replay or ``lifeline town`` reloading the town).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from lifeline.api.auth import LoginLimiter, TokenSigner, User, UserBook
from lifeline.api.events import EventBus
from lifeline.api.geo import CITY_TIMEZONE
from lifeline.api.metrics import Metrics

if TYPE_CHECKING:
    from lifeline.store import Store


@dataclass
class ApiContext:
    """Shared state of one API instance (``app.state.ctx``)."""

    store: Store
    users: UserBook
    signer: TokenSigner
    bus: EventBus = field(default_factory=EventBus)
    metrics: Metrics = field(default_factory=Metrics)
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    tile_url: str = ""
    replay: Any = None  # lifeline.api.replay.ReplayRunner while one runs
    replay_source: Any = None  # factory(date=, seed=) -> DaySource; default SimulatedDay
    adapters: dict[str, Any] = field(default_factory=dict)  # utility -> response adapter
    crews: Any = None  # lifeline.respond.fill.CrewContext when a town is attached
    city: Any = None  # lifeline.model.city.City served (None: tables only, from the store)
    engine: Any = None  # lifeline.engine.runner.EngineRunner: the live loop
    #: event-time clock for operator actions (a replay's simulated time); None: the wall clock
    clock: Any = None
    #: held while an incident is read, changed and saved (API actions, the engine's updates)
    incident_lock: threading.RLock = field(default_factory=threading.RLock)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ref: dict[str, Any] = field(default_factory=dict)
    cache: dict[Any, Any] = field(default_factory=dict)

    def audit(self, user: User | str, action: str, object_id: str, detail: Any = None) -> None:
        """Append one audit entry (every write goes through here), stamped with :meth:`now`."""
        actor = user.username if isinstance(user, User) else user
        self.store.append_audit(actor, action, object_id, detail, ts=self.now())

    def now(self) -> pd.Timestamp:
        """The time operator actions are stamped with: a replay's simulated time while one
        runs, else the wall clock (UTC)."""
        if self.clock is not None:
            t = self.clock()
            if t is not None:
                return pd.Timestamp(t)
        return pd.Timestamp.now("UTC")

    @property
    def crs(self) -> str:
        """The served city's CRS (the demo town's without a city)."""
        return str(
            getattr(self.city, "crs", "") or self.store_meta().get("city.crs") or "EPSG:25832"
        )

    @property
    def timezone(self) -> str:
        """The served city's timezone."""
        return str(
            getattr(self.city, "timezone", "")
            or self.store_meta().get("city.timezone")
            or CITY_TIMEZONE
        )

    def store_meta(self) -> dict[str, str]:
        """The store's metadata (city name, crs, timezone …), cached."""
        if "meta" not in self.cache:
            try:
                self.cache["meta"] = self.store.get_meta()
            except Exception:  # an old store without the meta table
                self.cache["meta"] = {}
        return self.cache["meta"]  # type: ignore[no-any-return]

    # ---- reference lookups ---------------------------------------------------------------
    def _refs(self) -> dict[str, Any]:
        n_assets, n_sensors = self.store.count("asset"), self.store.count("sensor")
        with self._lock:
            if self._ref.get("key") == (n_assets, n_sensors):
                return self._ref
        assets = self.store.read_table("asset")
        sensors = self.store.read_table("sensor")
        a_d = dict(
            zip(assets["asset_id"].astype(str), assets["district_id"].astype(object), strict=True)
        )
        s = sensors.assign(district_id=sensors["asset_id"].astype(str).map(a_d))
        ref = {
            "key": (n_assets, n_sensors),
            "asset_district": {k: _s(v) for k, v in a_d.items()},
            "sensor_district": {
                k: _s(v) for k, v in zip(s["sensor_id"].astype(str), s["district_id"], strict=True)
            },
            "sensor_utility": dict(
                zip(sensors["sensor_id"].astype(str), sensors["utility"].astype(str), strict=True)
            ),
        }
        with self._lock:
            self._ref = ref
            self.cache.clear()
        return ref

    def asset_district(self, asset_id: str) -> str | None:
        """District of an asset (None if unknown)."""
        return self._refs()["asset_district"].get(asset_id)

    def sensor_district(self, sensor_id: str) -> str | None:
        """District of the asset a sensor sits on (None if unknown)."""
        return self._refs()["sensor_district"].get(sensor_id)

    def sensor_districts(self) -> dict[str, str | None]:
        """sensor_id → district_id for every sensor."""
        return dict(self._refs()["sensor_district"])

    def alarm_district(self, row: Any) -> str | None:
        """District of an alarm: its first sensor's, else its best location candidate's."""
        for sid in _json_list(row.get("sensors")):
            d = self.sensor_district(str(sid))
            if d:
                return d
        loc = _json_obj(row.get("location"))
        cands = (
            loc.get("candidates", [])
            if isinstance(loc, dict)
            else loc
            if isinstance(loc, list)
            else []
        )
        for c in cands:
            if isinstance(c, dict) and c.get("asset_id"):
                d = self.asset_district(str(c["asset_id"]))
                if d:
                    return d
        return None

    def ref_version(self) -> tuple[int, int]:
        """A key that changes when the asset or sensor table changes."""
        return tuple(self._refs()["key"])  # type: ignore[return-value]


def _s(v: Any) -> str | None:
    if v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA:
        return None
    s = str(v)
    return s or None


def _json_list(v: Any) -> list[Any]:
    if isinstance(v, list):
        return v
    if not v or not isinstance(v, str):
        return []
    try:
        out = json.loads(v)
    except ValueError:
        return [v]
    return out if isinstance(out, list) else [out]


def _json_obj(v: Any) -> Any:
    if isinstance(v, dict | list):
        return v
    if not v or not isinstance(v, str):
        return {}
    try:
        return json.loads(v)
    except ValueError:
        return {}
