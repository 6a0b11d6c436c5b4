"""What plan filling needs from each utility: a small protocol the water, power and gas
packages (or the demo wiring) implement. Every method is optional; a step whose capability is
missing becomes a manual action saying so.

Shapes (plain dicts, town CRS metres):

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


def city_adapters(city: Any, inoperable: set[str] | None = None) -> dict[str, Any]:
    """The response adapters of every utility network ``city`` has, keyed by utility."""
    from lifeline.respond.town import GasTownAdapter, PowerTownAdapter, WaterTownAdapter

    kinds = {"water": WaterTownAdapter, "power": PowerTownAdapter, "gas": GasTownAdapter}
    return {u: cls(city, inoperable) for u, cls in kinds.items() if city.has(u)}
