"""Grade incidents IV–I (一般/较大/重大/特别重大) from a configurable rules table; route them.

The table (YAML, default ``lifeline/incidents/data/grading_demo.yaml``) lists criteria, each a
numeric field of the incident's impact with a threshold per grade and the source it is based on.
A criterion is met when ``value >= threshold`` (inclusive). The most severe grade met by any
criterion wins; otherwise the table's default grade (IV).

Impact fields (all optional, missing = 0): ``households_out`` (count), ``duration_h`` (hours),
``household_hours`` (households × hours; computed from the two when absent),
``fraction_customers_out`` (0–1), ``critical_sites_out`` (count), ``deaths``,
``serious_injuries``, ``evacuated`` (persons).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifeline.errors import ConfigError

DEFAULT_RULES = Path(__file__).resolve().parent / "data" / "grading_demo.yaml"
GRADE_ORDER = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class GradingRules:
    """A parsed grading table."""

    grades: tuple[str, ...]
    default: str
    names: dict[str, dict[str, str]]
    criteria: tuple[dict[str, Any], ...]
    sources: dict[str, str]
    routing: dict[str, str]
    origin: str


def load_rules(path: Path | str | None = None) -> GradingRules:
    """Read and validate a grading table (raises ConfigError naming the file and field)."""
    import yaml

    p = Path(path) if path else DEFAULT_RULES
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError("grading table not found", where=str(p)) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", where=str(p)) from exc
    return rules_from_mapping(raw, str(p))


def city_rules(city: Any) -> GradingRules:
    """The grading table of ``city``: its package's ``grading.yaml`` (``City.grading``) when it
    has one, else the shipped default (:data:`DEFAULT_RULES`)."""
    raw = getattr(city, "grading", None)
    if not raw:
        return load_rules()
    root = getattr(city, "root", None)
    return rules_from_mapping(raw, str(Path(root) / "grading.yaml") if root else "grading.yaml")


def rules_from_mapping(raw: Any, origin: str) -> GradingRules:
    """Validate a parsed grading table (``origin`` names it in errors): grades, thresholds that
    do not increase with severity, and a ``source`` of every criterion listed under
    ``sources``."""
    p = origin
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping at top level", where=str(p))
    grades = tuple(str(g) for g in raw.get("grades") or GRADE_ORDER)
    default = str(raw.get("default", grades[-1]))
    if default not in grades:
        raise ConfigError(f"default grade {default!r} not among {grades}", where=f"{p}: default")
    crit = raw.get("criteria") or []
    for i, c in enumerate(crit):
        where = f"{p}: criteria[{i}]"
        if not isinstance(c, dict) or "field" not in c or "thresholds" not in c:
            raise ConfigError("each criterion needs 'field' and 'thresholds'", where=where)
        if not isinstance(c["thresholds"], dict):
            raise ConfigError("thresholds must map grades to numbers", where=f"{where}.thresholds")
        for g, v in c["thresholds"].items():
            if str(g) not in grades:
                raise ConfigError(f"unknown grade {g!r}", where=f"{where}.thresholds")
            if not isinstance(v, int | float):
                raise ConfigError(
                    f"threshold for {g} must be a number, got {v!r}", where=f"{where}.thresholds"
                )
        # thresholds must not decrease with severity
        vals = [c["thresholds"][g] for g in grades if g in c["thresholds"]]
        if any(a < b for a, b in zip(vals, vals[1:], strict=False)):
            raise ConfigError(
                "thresholds must not increase from severe to mild grades",
                where=f"{where}.thresholds",
            )
        src = c.get("source")
        if not src:
            raise ConfigError(
                "each criterion needs a 'source' (the plan its thresholds come from)",
                where=f"{where}.source",
            )
        if raw.get("sources") and str(src) not in raw["sources"]:
            raise ConfigError(
                f"source {src!r} is not listed under 'sources' ({', '.join(map(str, raw['sources']))})",
                where=f"{where}.source",
            )
    return GradingRules(
        grades=grades,
        default=default,
        names={str(k): v for k, v in (raw.get("names") or {}).items()},
        criteria=tuple(crit),
        sources={str(k): str(v) for k, v in (raw.get("sources") or {}).items()},
        routing={str(k): str(v) for k, v in (raw.get("routing") or {}).items()},
        origin=p,
    )


#: the same (the name the live engine uses)
rules_for_city = city_rules


def _value(impact: dict[str, Any], field_name: str) -> float:
    if field_name == "household_hours" and "household_hours" not in impact:
        return float(impact.get("households_out", 0) or 0) * float(impact.get("duration_h", 0) or 0)
    v = impact.get(field_name, 0)
    try:
        return float(v or 0)
    except (TypeError, ValueError):
        return 0.0


def grade(
    impact: dict[str, Any], utility: str, rules: GradingRules | None = None
) -> dict[str, Any]:
    """Grade an impact; returns ``{"grade", "name_zh", "name_en", "met": [...], "basis": [...]}``.

    ``met`` lists every criterion met (id, field, value, threshold, grade, source); ``basis``
    the source texts of the deciding criteria.
    """
    rules = rules or load_rules()
    met: list[dict[str, Any]] = []
    for c in rules.criteria:
        utils = c.get("utilities")
        if utils and utility not in utils:
            continue
        value = _value(impact, str(c["field"]))
        for g in rules.grades:  # most severe first
            th = c["thresholds"].get(g)
            if th is not None and value >= float(th):
                met.append(
                    {
                        "id": c.get("id", c["field"]),
                        "field": c["field"],
                        "value": value,
                        "threshold": th,
                        "grade": g,
                        "source": c.get("source", ""),
                        "adapted": c.get("adapted", ""),
                    }
                )
                break
    chosen = rules.default
    for g in rules.grades:
        if any(m["grade"] == g for m in met):
            chosen = g
            break
    deciding = [m for m in met if m["grade"] == chosen]
    names = rules.names.get(chosen, {})
    return {
        "grade": chosen,
        "name_zh": names.get("zh-CN", ""),
        "name_en": names.get("en", ""),
        "met": met,
        "deciding": [m["id"] for m in deciding] or ["default"],
        "basis": sorted({rules.sources.get(m["source"], m["source"]) for m in deciding}),
        "rules": rules.origin,
    }


def route(
    grade_value: str,
    district_id: str,
    districts: Any = None,
    x_m: float | None = None,
    y_m: float | None = None,
    rules: GradingRules | None = None,
) -> dict[str, Any]:
    """Who leads the response: ``{"level": city|district|street, "unit_id", "reason"}``.

    ``districts`` is a ``schema.DISTRICT`` table (optional): the street-level unit is the street
    polygon containing (x_m, y_m), else the first street under the district; the city is the
    district's parent (or the level-"city" row).
    """
    rules = rules or load_rules()
    level = rules.routing.get(grade_value, "district")
    unit = district_id or ""
    reason = f"grade {grade_value} → {level} level ({rules.origin})"
    if districts is not None and len(districts):
        rows = districts.to_dict("records")
        by_id = {str(r["district_id"]): r for r in rows}
        if level == "city":
            d = by_id.get(district_id)
            parent = str(d.get("parent_id") or "") if d else ""
            if parent and parent in by_id:
                unit = parent
            else:
                cities = [r for r in rows if r.get("level") == "city"]
                unit = str(cities[0]["district_id"]) if cities else unit
        elif level == "street":
            streets = [r for r in rows if r.get("level") == "street"]
            hit = None
            if x_m is not None and y_m is not None:
                from shapely import wkt
                from shapely.geometry import Point

                pt = Point(x_m, y_m)
                for r in streets:
                    g = r.get("geometry_wkt")
                    if isinstance(g, str) and g and wkt.loads(g).covers(pt):
                        hit = r
                        break
            if hit is None:
                under = [r for r in streets if str(r.get("parent_id")) == district_id]
                hit = under[0] if under else None
            if hit is not None:
                unit = str(hit["district_id"])
            else:
                reason += "; no street unit known, routed to the district"
                level = "district"
    return {"level": level, "unit_id": unit, "reason": reason}


def district_at(
    districts: Any, x_m: float | None, y_m: float | None, level: str = "district"
) -> str:
    """Id of the ``level`` polygon of a ``schema.DISTRICT`` table containing (x, y), or ``""``."""
    if districts is None or x_m is None or y_m is None or not len(districts):
        return ""
    from shapely import wkt
    from shapely.geometry import Point

    pt = Point(x_m, y_m)
    for r in districts.to_dict("records"):
        g = r.get("geometry_wkt")
        if r.get("level") == level and isinstance(g, str) and g and wkt.loads(g).covers(pt):
            return str(r["district_id"])
    return ""
