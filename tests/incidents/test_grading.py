"""Grading edges: every threshold of the shipped table, at and just under the boundary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lifeline.errors import ConfigError
from lifeline.incidents.grading import grade, load_rules, route

RULES = load_rules()
CASES = [
    (c["id"], c["field"], c["utilities"][0], g, float(th))
    for c in RULES.criteria
    for g, th in c["thresholds"].items()
]


@pytest.mark.parametrize(("cid", "field", "utility", "g", "threshold"), CASES)
def test_threshold_boundary(cid: str, field: str, utility: str, g: str, threshold: float) -> None:
    at = grade({field: threshold}, utility, RULES)
    assert at["grade"] == g and cid in at["deciding"]
    eps = 0.01 if threshold < 1 else 1
    under = grade({field: threshold - eps}, utility, RULES)
    if g == RULES.default:
        assert cid not in under["deciding"]
    else:
        assert RULES.grades.index(under["grade"]) > RULES.grades.index(g)


def test_household_hours_from_households_and_duration() -> None:
    assert grade({"households_out": 500, "duration_h": 4}, "water", RULES)["grade"] == "III"
    assert grade({"households_out": 500, "duration_h": 3.9}, "water", RULES)["grade"] == "IV"


def test_utility_scope_and_default() -> None:
    assert (
        grade({"evacuated": 5000}, "water", RULES)["grade"] == "IV"
    )  # evacuation criterion is gas-only
    g = grade({}, "power", RULES)
    assert g["grade"] == "IV" and g["deciding"] == ["default"] and g["name_zh"] == "一般"
    worst = grade({"deaths": 3, "critical_sites_out": 3}, "gas", RULES)
    assert worst["grade"] == "II" and worst["basis"]


def test_bad_tables(tmp_path: Path) -> None:
    p = tmp_path / "r.yaml"
    p.write_text(
        "grades: [I, II]\ndefault: II\ncriteria:\n  - {field: x, thresholds: {I: 1, II: 5}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="must not increase"):
        load_rules(p)
    p.write_text(
        "grades: [I, II]\ndefault: II\ncriteria:\n  - {field: x, thresholds: {V: 1}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="unknown grade"):
        load_rules(p)
    with pytest.raises(ConfigError, match="not found"):
        load_rules(tmp_path / "missing.yaml")


def test_routing_levels() -> None:
    d = pd.DataFrame(
        {
            "district_id": ["CITY", "D1", "S1", "S2"],
            "name": ["c", "d", "s1", "s2"],
            "name_zh": ["", "", "", ""],
            "level": ["city", "district", "street", "street"],
            "parent_id": ["", "CITY", "D1", "D1"],
            "geometry_wkt": [
                "",
                "",
                "POLYGON((0 0,100 0,100 100,0 100,0 0))",
                "POLYGON((100 0,200 0,200 100,100 100,100 0))",
            ],
        }
    )
    assert route("I", "D1", d, rules=RULES)["unit_id"] == "CITY"
    assert route("III", "D1", d, rules=RULES) == {
        "level": "district",
        "unit_id": "D1",
        "reason": route("III", "D1", d, rules=RULES)["reason"],
    }
    r = route("IV", "D1", d, x_m=150, y_m=50, rules=RULES)
    assert r["level"] == "street" and r["unit_id"] == "S2"
