"""A city's reference tables in the store (what ``lifeline city import`` does)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lifeline.model.city import City
    from lifeline.store import Store

#: store table -> City attribute
REFERENCE = {
    "district": "districts",
    "zone": "zones",
    "asset": "assets",
    "customer": "customers",
    "sensor": "sensors",
    "dependency": "dependencies",
}


def import_city(store: Store, city: City) -> dict[str, int]:
    """Replace the store's reference tables with ``city``'s and record its name, CRS, timezone
    and package folder in the store's metadata. Returns rows written per table."""
    counts = {
        name: store.replace_table(name, getattr(city, attr)) for name, attr in REFERENCE.items()
    }
    store.set_meta(
        {
            "city.name": city.name,
            "city.name_zh": city.name_zh,
            "city.crs": city.crs,
            "city.timezone": city.timezone,
            "city.root": str(city.root) if city.root else "",
        }
    )
    return counts
