"""Utility adapters: what plans (and the rest of the platform) need from each utility's network,
built from a :class:`lifeline.model.city.City` — DESIGN.md's "load a network, simulate it,
locate evidence on it, isolate an asset, compute the impact of a set of operations".

One adapter per utility, in its own package: :class:`lifeline.water.adapter.WaterAdapter`,
:class:`lifeline.power.adapter.PowerAdapter`, :class:`lifeline.gas.adapter.GasAdapter`;
:func:`city_adapters` builds those the city has networks for. Every capability is optional for
plan filling; a step whose capability is missing becomes a manual action saying so.

Shapes (plain dicts, city CRS metres):

* operation: ``{"asset_id", "operation": "close"|"open"|"deenergise", "name", "x_m", "y_m",
  "operable": bool, "utility"}``
* impact: ``{"customers": [{"customer_id", "name", "category", "critical", "x_m", "y_m"}],
  "households_out": int, "fraction_customers_out": float, "method": str}``
* ties: ``{"operations": [operation…], "restored_customer_ids": [str…]}``
* hazard zone: ``{"x_m", "y_m", "radius_m", "assets": [{"asset_id", "utility", "kind", "x_m",
  "y_m"}], "customers": [customer…], "persons": int, "method": str}``
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

__all__ = [
    "AdapterBase",
    "ResponseAdapter",
    "city_adapters",
    "customers_on",
    "has",
    "impact_summary",
    "town_adapters",
]


@runtime_checkable
class ResponseAdapter(Protocol):
    """Capabilities of one utility used to fill plans (implement the ones you have)."""

    utility: str

    def isolate(self, incident: Any) -> list[dict[str, Any]]:
        """Operations that isolate the incident's located asset."""
        ...

    def impact(self, incident: Any, operations: list[dict[str, Any]]) -> dict[str, Any]:
        """Customers and critical sites cut off by ``operations`` (or by the fault itself)."""
        ...


def has(adapter: Any, capability: str) -> bool:
    """True when ``adapter`` provides ``capability`` (a callable attribute)."""
    return adapter is not None and callable(getattr(adapter, capability, None))


def ref_of(asset_id: str) -> str:
    """The element reference of an asset id (``water:pipe:P12`` -> ``P12``)."""
    return asset_id.rsplit(":", 1)[-1]


def customers_on(customers: pd.DataFrame, col: str, asset_ids: set[str]) -> list[dict[str, Any]]:
    """Customers whose ``col`` (e.g. ``water_asset_id``) is in ``asset_ids``, as impact dicts."""
    sel = customers[customers[col].isin(asset_ids)]
    return [
        {
            "customer_id": str(r.customer_id),
            "name": str(r.name),
            "category": str(r.category),
            "critical": bool(r.critical),
            "x_m": float(r.x_m),
            "y_m": float(r.y_m),
        }
        for r in sel.itertuples(index=False)
    ]


def impact_summary(customers: list[dict[str, Any]], total: int, method: str) -> dict[str, Any]:
    """The impact dict of a list of customers cut (out of ``total`` customers of the city)."""
    hh = sum(1 for c in customers if c["category"] == "household")
    return {
        "customers": customers,
        "households_out": hh,
        "fraction_customers_out": len(customers) / total if total else 0.0,
        "method": method,
    }


class AdapterBase:
    """What every utility adapter shares: the city, asset positions, inoperable assets, the
    element an incident is on (:meth:`locate`), operation dicts and a per-incident memo."""

    utility = ""
    #: the element kind an incident of this utility is located on (a pipe, a line)
    element_kind = ""

    def __init__(self, city: Any, inoperable: set[str] | None = None) -> None:
        self.city = city
        self.assets = city.assets
        self._xy = {
            a: (float(x), float(y))
            for a, x, y in zip(self.assets.asset_id, self.assets.x_m, self.assets.y_m, strict=True)
        }
        self.inoperable = set(inoperable or ())
        self._memo: dict[tuple[str, str], Any] = {}

    @property
    def town(self) -> Any:
        """The city (older name)."""
        return self.city

    # ---- load and simulate ------------------------------------------------------------------
    @property
    def model(self) -> Any:
        """The utility's network model (loaded from the city package on first use)."""
        return self.city.model(self.utility)

    def simulate(self) -> dict[str, Any]:
        """Solve the network once (copy of the model): ``{"solved", figures…}``
        (see :mod:`lifeline.model.checks`)."""
        from lifeline.model import checks

        fn = {"water": checks.check_water, "power": checks.check_power, "gas": checks.check_gas}
        return fn[self.utility](self.model, self.city.networks.get(self.utility, ""))

    # ---- locate -----------------------------------------------------------------------------
    def asset_xy(self, asset_id: str) -> tuple[float, float] | None:
        """Position of an asset (m)."""
        return self._xy.get(asset_id)

    def forget(self, incident_id: str) -> None:
        """Drop what was computed for an incident (its evidence changed)."""
        for k in [k for k in self._memo if k[1] == incident_id]:
            del self._memo[k]

    def inoperable_assets(self) -> set[str]:
        """Assets marked inoperable (from the constructor)."""
        return set(self.inoperable)

    def locate(self, incident: Any, kind: str | None = None) -> str:
        """The element of kind ``kind`` (default :attr:`element_kind`) the incident is on: its
        location's best candidate, else an asset named by its evidence, else the nearest one to
        the incident's position."""
        kind = kind or self.element_kind
        best = (incident.location or {}).get("best_candidate") or {}
        aid = str(best.get("asset_id") or "")
        if aid.startswith(f"{self.utility}:{kind}:"):
            return aid
        for e in incident.evidence:
            for a in e.asset_ids:
                if a.startswith(f"{self.utility}:{kind}:"):
                    return str(a)
        return self.nearest(float(incident.x_m), float(incident.y_m), kind)

    def nearest(self, x_m: float, y_m: float, kind: str | None = None) -> str:
        """The asset of this utility and ``kind`` nearest to (x_m, y_m)."""
        kind = kind or self.element_kind
        sel = self.assets[(self.assets.utility == self.utility) & (self.assets.kind == kind)]
        if sel.empty:
            from lifeline.errors import NotFoundError

            raise NotFoundError(f"the city has no {self.utility} {kind}", where=self.city.name)
        d = np.hypot(sel.x_m.to_numpy() - x_m, sel.y_m.to_numpy() - y_m)
        return str(sel.asset_id.iloc[int(np.argmin(d))])

    # ---- operations -------------------------------------------------------------------------
    def _op(self, asset_id: str, operation: str, name: str = "") -> dict[str, Any]:
        x, y = self._xy.get(asset_id, (None, None))
        return {
            "asset_id": asset_id,
            "operation": operation,
            "name": name or ref_of(asset_id),
            "x_m": x,
            "y_m": y,
            "operable": asset_id not in self.inoperable,
            "utility": self.utility,
        }

    def _impact(self, col: str, asset_ids: set[str], method: str) -> dict[str, Any]:
        c = self.city.customers
        return impact_summary(customers_on(c, col, asset_ids), len(c), method)


def city_adapters(city: Any, inoperable: set[str] | None = None) -> dict[str, Any]:
    """The response adapters of ``city`` keyed by utility (those it has a network for)."""
    out: dict[str, Any] = {}
    if city.has("water"):
        from lifeline.water.adapter import WaterAdapter

        out["water"] = WaterAdapter(city, inoperable)
    if city.has("power"):
        from lifeline.power.adapter import PowerAdapter

        out["power"] = PowerAdapter(city, inoperable)
    if city.has("gas"):
        from lifeline.gas.adapter import GasAdapter

        out["gas"] = GasAdapter(city, inoperable)
    return out


#: older name of :func:`city_adapters` (the demo town is a City)
town_adapters = city_adapters
