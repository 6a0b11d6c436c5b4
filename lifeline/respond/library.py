"""The plan library: emergency plans (YAML, zh-CN and en) per utility and incident type.

Each plan file in ``lifeline/respond/plans/`` has ``id``, ``utility``, ``kinds`` (incident types
it answers), a bilingual ``title``, a ``basis`` (the regulation or practice it follows) and
``steps`` (``id``, ``action``, ``zh-CN``, ``en``). ``action`` names what the filler computes:
dispatch_crew, isolate, notify_customers, alternative_supply, restore_via_ties, hazard_zone,
evacuate, deenergise_cables, restore or manual; an adapter with ``fill_step`` fills its own
utility's steps (drainage: pump_trucks, check_pumps, warn_assets).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lifeline.errors import ConfigError

PLANS_DIR = Path(__file__).resolve().parent / "plans"
ACTIONS = (
    "dispatch_crew",
    "isolate",
    "notify_customers",
    "alternative_supply",
    "restore_via_ties",
    "hazard_zone",
    "evacuate",
    "deenergise_cables",
    "restore",
    "manual",
    # drainage (filled by the drainage adapter's fill_step)
    "pump_trucks",
    "check_pumps",
    "warn_assets",
)


def load_plans(directory: Path | None = None) -> list[dict[str, Any]]:
    """Read every ``*.yaml`` plan in ``directory``; raises ConfigError naming file and field."""
    import yaml

    d = directory or PLANS_DIR
    plans = []
    for p in sorted(d.glob("*.yaml")):
        try:
            plan = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"invalid YAML: {exc}", where=str(p)) from exc
        for key in ("id", "utility", "kinds", "title", "steps"):
            if key not in plan:
                raise ConfigError(f"plan lacks {key!r}", where=str(p))
        for i, s in enumerate(plan["steps"]):
            if s.get("action") not in ACTIONS:
                raise ConfigError(f"unknown action {s.get('action')!r}", where=f"{p}: steps[{i}]")
            extra = set(s) - {"id", "action", "zh-CN", "en"}
            if extra:
                raise ConfigError(
                    f"unexpected keys {sorted(extra)} (quote texts that contain commas)",
                    where=f"{p}: steps[{i}]",
                )
            if not s.get("zh-CN") or not s.get("en"):
                raise ConfigError("each step needs zh-CN and en text", where=f"{p}: steps[{i}]")
        plan["file"] = p.name
        plans.append(plan)
    return plans


def retrieve(
    utility: str, kinds: list[str], plans: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Plans matching an incident, best first: score 2 per matching kind, +1 for the same utility.

    The incident's own kind comes first in ``kinds``, then cascade kinds (e.g.
    ``pumping_station_power_loss``). Plans with no matching kind are not returned.
    """
    plans = load_plans() if plans is None else plans
    scored = []
    for p in plans:
        hit = [k for k in kinds if k in p["kinds"]]
        if not hit:
            continue
        primary = bool(kinds) and kinds[0] in p["kinds"]
        score = 2 * len(hit) + (1 if p["utility"] == utility else 0) + (3 if primary else 0)
        scored.append((score, p["id"], {**p, "match": {"score": score, "kinds": hit}}))
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [p for _, _, p in scored]
