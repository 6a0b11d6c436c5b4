"""What an incident's plan puts out of service (its isolation area), from the response adapters:
for water the pipes of the isolated segment, for gas the pipes the shut-off isolates, for power
the faulted line and the buses without supply (or, for a low-voltage outage, the reporting
customers' loads). The dashboard draws it in the incident's grade colour."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def isolation_area(adapters: dict[str, Any], inc: Any) -> dict[str, Any] | None:
    """``{"utility", "assets": [asset ids], "method"}`` of what ``inc`` isolates or leaves
    without supply; None when no adapter can say."""
    from lifeline.respond.adapters import has

    ad: Any = adapters.get(inc.utility)
    if ad is None or inc.x_m is None or inc.y_m is None:
        return None
    try:
        if has(ad, "isolation_area"):
            return ad.isolation_area(inc)  # type: ignore[no-any-return]
        iso = getattr(ad, "_iso", None)  # water: the segment behind the valve operations
        if inc.utility == "water" and callable(iso):
            seg = iso(inc).get("segment") or {}
            ids = [f"water:pipe:{p}" for p in seg.get("pipes", [])]
            return {"utility": "water", "assets": ids, "method": "isolated segment (WNTR)"}
        if has(ad, "affected_assets"):
            ids = [str(a) for a in ad.affected_assets(inc)]
            return {"utility": inc.utility, "assets": ids, "method": "adapter affected assets"}
    except Exception as exc:  # the map is a view: an area that cannot be computed is left out
        log.warning("isolation area of %s: %s", inc.incident_id, exc)
    return None
