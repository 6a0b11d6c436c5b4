"""The dashboard's catalogues: zh-CN and en have the same keys and placeholders, every key the
dashboard's code names exists, and every code the platform can produce (incident and cascade
kinds, safety rules, categories, detectors, plan actions, reasons, states …), enumerated from the
source, has a text in both languages."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import lifeline

PKG = Path(lifeline.__file__).resolve().parent
WEB = PKG / "web"
LANGS = ("zh-CN", "en")


def _catalogue(lang: str) -> dict[str, str]:
    return json.loads((WEB / "i18n" / f"{lang}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cats() -> dict[str, dict[str, str]]:
    return {lang: _catalogue(lang) for lang in LANGS}


def _js() -> str:
    files = [WEB / "app.js", *sorted((WEB / "js").glob("*.js"))]
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def _consts(node: ast.AST) -> list[str]:
    """String constants of an expression (both branches of a conditional)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _consts(node.body) + _consts(node.orelse)
    return []


def _link_kinds(node: ast.AST, utilities: tuple[str, ...]) -> set[str]:
    """Values of a ``link_kind`` expression; ``f"{utility}_equipment_power_loss"`` for every
    utility."""
    if isinstance(node, ast.IfExp):
        return _link_kinds(node.body, utilities) | _link_kinds(node.orelse, utilities)
    if isinstance(node, ast.JoinedStr):
        tail = "".join(c.value for c in node.values if isinstance(c, ast.Constant))
        return {f"{u}{tail}" for u in utilities}
    return set(_consts(node))


def _tree(rel: str) -> ast.AST:
    return ast.parse((PKG / rel).read_text(encoding="utf-8"))


def test_both_catalogues_have_the_same_keys_and_placeholders(
    cats: dict[str, dict[str, str]],
) -> None:
    zh, en = cats["zh-CN"], cats["en"]
    assert sorted(set(zh) - set(en)) == [], "keys only in zh-CN.json"
    assert sorted(set(en) - set(zh)) == [], "keys only in en.json"
    ph = re.compile(r"\{(\w+)\}")
    for k in zh:
        assert zh[k].strip() and en[k].strip(), f"empty text for {k}"
        assert set(ph.findall(zh[k])) == set(ph.findall(en[k])), f"placeholders differ in {k}"


def test_every_key_the_dashboard_names_exists(cats: dict[str, dict[str, str]]) -> None:
    js = _js()
    html = (WEB / "index.html").read_text(encoding="utf-8")
    keys = set(re.findall(r"\bt\(\s*\"([^\"]+)\"\s*[,)]", js))
    for a, b in re.findall(r"\bt\(\s*[\w.!]+\s*\?\s*\"([^\"]+)\"\s*:\s*\"([^\"]+)\"\s*\)", js):
        keys |= {a, b}
    keys |= set(re.findall(r"data-i18n(?:-ph|-title)?=\"([^\"]+)\"", html))
    assert len(keys) > 60, "the scan finds the dashboard's keys"
    for lang in LANGS:
        assert sorted(keys - set(cats[lang])) == [], f"keys missing from {lang}.json"


def _enumerated() -> dict[str, set[str]]:
    """prefix → every code of that family the platform's source can produce."""
    from lifeline.api.auth import ROLES
    from lifeline.api.incident_ops import ACTIONS as API_ACTIONS
    from lifeline.api.mapdata import SEARCH_TYPES
    from lifeline.api.present import _NAME_KINDS, MANUAL_REASONS
    from lifeline.datasets.people import SITES
    from lifeline.incidents.complaints.classifier import CATEGORIES
    from lifeline.incidents.lifecycle import STATES
    from lifeline.incidents.pipeline import ESTIMATED_DURATION_H
    from lifeline.model.schema import UTILITIES
    from lifeline.respond.areas import isolation_area  # noqa: F401  (module exists)
    from lifeline.respond.library import load_plans

    out: dict[str, set[str]] = {}
    plans = load_plans()
    # incident kinds: what the correlator infers, the plans answer and the pipeline estimates,
    # plus drainage's coming kinds (waterlogging, flooding)
    kinds = {"waterlogging", "flooding"} | set(ESTIMATED_DURATION_H)
    for node in ast.walk(_tree("incidents/correlate.py")):
        if isinstance(node, ast.FunctionDef) and node.name == "infer_kind":
            kinds |= {
                c for r in ast.walk(node) if isinstance(r, ast.Return) for c in _consts(r.value)
            }  # type: ignore[arg-type]
    kinds |= {k for p in plans for k in p["kinds"]}
    # cascade kinds: every value given to link_kind / a link's "kind" in cascade.py
    for node in ast.walk(_tree("respond/cascade.py")):
        if isinstance(node, ast.Assign):
            for tgt in node.targets:
                names = tgt.elts if isinstance(tgt, ast.Tuple) else [tgt]
                for i, nm in enumerate(names):
                    if isinstance(nm, ast.Name) and nm.id == "link_kind":
                        val = (
                            node.value.elts[i] if isinstance(node.value, ast.Tuple) else node.value
                        )
                        kinds |= _link_kinds(val, UTILITIES)
        if isinstance(node, ast.Dict):  # a link written as a dict literal (it has a to_asset)
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            for k, v in zip(node.keys, node.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == "kind" and "to_asset" in keys:
                    kinds |= set(_consts(v))
    out["kind."] = kinds - {""}
    out["rule."] = {
        c
        for node in ast.walk(_tree("respond/safety.py"))
        if isinstance(node, ast.Dict)
        for k, v in zip(node.keys, node.values, strict=True)
        if isinstance(k, ast.Constant) and k.value == "rule" and v is not None
        for c in _consts(v)
    }
    schema = (PKG / "model/schema.py").read_text(encoding="utf-8")
    comment = re.search(r'"category": "string",\s*#\s*([^\n]+)', schema)
    assert comment is not None
    cats = {c.strip() for c in comment.group(1).split(",") if re.fullmatch(r"[a-z_]+", c.strip())}
    # the city-package contract's categories (issue "Cities") and the demo town's sites
    cats |= {"household", "hospital", "school", "care_home", "industry", "commercial"}
    cats |= {"pumping_station", "other"} | {s.category for s in SITES}
    out["cat."] = cats
    out["ccat."] = set(CATEGORIES)
    from lifeline.detect.registry import specs

    dets = {"external", "detector"} | {spec.name for spec in specs()}
    for rel in ("water/online.py", "gas/detector.py", "power/monitor.py"):
        dets |= set(re.findall(r'\bname(?::\s*str)?\s*=\s*"([^"]+)"', (PKG / rel).read_text()))
        dets |= set(re.findall(r'Detector\("([^"]+)"', (PKG / rel).read_text()))
    for rel in ("power/monitor.py",):
        text = (PKG / rel).read_text()
        dets |= set(re.findall(r'"detector":\s*"([^"]+)"', text))
        dets |= set(re.findall(r'\.alarms\([^,()]+,\s*"([^"]+)"', text))
    out["det."] = dets
    fill = _tree("respond/fill.py")
    acts = {"manual"}
    whys: set[str] = set()
    for node in ast.walk(fill):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "add" and len(node.args) >= 2:
                acts |= set(_consts(node.args[1]))
            if node.func.attr == "manual" and len(node.args) >= 2:
                whys |= set(_consts(node.args[1]))
    out["k_"] = acts
    assert whys, "the filler's manual reasons are found"
    assert sorted(whys - set(MANUAL_REASONS)) == [], "a manual reason without a code"
    out["reason."] = set(MANUAL_REASONS.values()) | {
        "crew_unreachable",
        "no_crew_available",
        "other",
    }
    out["st_"] = set(STATES)
    out["role."] = set(ROLES)
    rules = yaml.safe_load((PKG / "incidents/data/grading_demo.yaml").read_text(encoding="utf-8"))
    out["grade_name."] = set(rules["grades"])
    out["crit."] = {c["id"] for c in rules["criteria"]} | {"default"}
    out["route."] = set(rules["routing"].values()) | {"city", "district", "street"}
    out["audit."] = {"transition", "approve_plan", "open_incident", "update_incident"} | set(
        API_ACTIONS
    )
    sensors_route = (PKG / "api/routes/sensors.py").read_text()
    out["th."] = set(re.findall(r'Threshold\(name="(\w+)"', sensors_route))
    qcomment = re.search(r'"quantity": "string",\s*#\s*([^\n]+)', schema)
    assert qcomment is not None
    out["q."] = {
        q.strip() for q in qcomment.group(1).split(",") if re.fullmatch(r"[a-z_0-9]+", q.strip())
    }
    out["type."] = set(SEARCH_TYPES)
    kinds_assets = {"asset"} | set(_NAME_KINDS.values())
    acomment = re.search(r'"kind": "string",\s*#\s*([^\n]+)', schema)
    assert acomment is not None
    kinds_assets |= {
        k.strip() for k in acomment.group(1).split(",") if re.fullmatch(r"[a-z_]+", k.strip())
    }
    for node in ast.walk(_tree("model/assets.py")):
        is_call = isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
            "_points",
            "_lines",
        )
        if is_call and len(node.args) >= 2:  # type: ignore[attr-defined]
            kinds_assets |= set(_consts(node.args[1]))  # type: ignore[attr-defined]
    out["asset."] = kinds_assets
    out["alt."] = {"water", "power", "gas", "drainage", "other"}
    out["chan."] = {"hotline", "app", "wechat"}
    out["mev."] = {
        "last_gasp",
        "restore",
        "breaker_trip",
        "breaker_close",
        "fpi",
        "zero_consumption",
        "reverse_flow",
        "meter_event",
    }
    out["op."] = {"close", "open", "deenergise", "operate"}
    out["why."] = {"outside_zone", "before_flooding"}
    out[""] = {u for u in UTILITIES if u != "telecom"}
    out["act."] = {"close", "open", "operate"}  # the operations without a template of their own
    from lifeline.api.app import _STATUS

    # HTTP statuses the API answers with (its LifelineError table, auth, the login limiter)
    out["err."] = {str(v) for v in _STATUS.values()} | {"400", "401", "403", "429", "500"}
    return out


def test_every_code_the_platform_produces_has_a_text(cats: dict[str, dict[str, str]]) -> None:
    fams = _enumerated()
    assert {"water_main_burst", "gas_leak_confined", "power_lv_outage", "water_quality"} <= fams[
        "kind."
    ]
    assert {"ignition_risk", "pumping_station_power_loss", "substation_flooding"} <= fams["kind."]
    assert {"hospital_supply", "inoperable_valve", "ignition_sources"} == fams["rule."]
    assert {"water-leaks", "methane", "power_supply_loss", "cusum"} <= fams["det."]
    assert {"dispatch", "operate", "notify", "alternative_supply", "manual"} <= fams["k_"]
    for lang in LANGS:
        missing = sorted(
            f"{prefix}{code}"
            for prefix, codes in fams.items()
            for code in codes
            if f"{prefix}{code}" not in cats[lang]
        )
        assert missing == [], f"codes without a text in {lang}.json"


def test_every_family_the_dashboard_builds_keys_of_is_enumerated() -> None:
    """A key built at run time (``t("kind." + k)``) belongs to a family the test above checks."""
    js = _js()
    built = set(re.findall(r"\bt\(\s*\"([a-z_]+[._])\"\s*\+", js))
    built |= set(re.findall(r"LL\.t\(\s*\"([a-z_]+[._])\"\s*\+", js))
    assert "kind." in built and "rule." in built
    assert sorted(built - set(_enumerated())) == []


def test_manual_reasons_and_operation_labels() -> None:
    from lifeline.api.present import enrich_actions, op_label, reason_code

    assert reason_code("no crew roster/street graph") == "no_crews"
    assert reason_code("no available gas crew") == "no_crew_available"
    assert (
        reason_code("no available water crew can reach (1, 2) on the street graph")
        == "crew_unreachable"
    )
    assert reason_code("the moon is in the way") is None
    assert op_label({"asset_id": "water:valve:WV30", "name": "阀门/valve WV30"}) == {
        "kind": "valve",
        "ref": "WV30",
    }
    assert op_label({"asset_id": "power:switch:5", "name": "联络开关/tie 5"}) == {
        "kind": "tie",
        "ref": "5",
    }
    assert op_label({"asset_id": "power:switch:7", "name": "重合/re-close 7"})["kind"] == "reclose"
    assert op_label({"asset_id": "power:manhole:CW13"}) == {"kind": "manhole", "ref": "CW13"}
    acts: list[dict[str, Any]] = [
        {
            "plan_id": "power_lv_outage",
            "step": "alt_supply",
            "kind": "manual",
            "text": {
                "zh-CN": "重点单位派送应急电源（no critical site without supply）",
                "en": "Mobile power for critical sites (no critical site without supply)",
            },
        },
        {
            "plan_id": "power_lv_outage",
            "step": "repair",
            "kind": "manual",
            "text": {
                "zh-CN": "检查熔断器、低压线路和配变",
                "en": "Check fuses, LV lines and the transformer",
            },
        },
        {
            "plan_id": "gas_leak_confined",
            "step": "deenergise",
            "kind": "operate",
            "text": {"en": "De-energise power:manhole:CW13 (before the water reaches it)"},
            "operation": {"asset_id": "power:manhole:CW13", "operation": "deenergise"},
        },
    ]
    a, b, c = enrich_actions(acts)
    assert a["reason"] == "no_critical_site_out"
    assert a["step_text"]["zh-CN"] == "重点单位派送应急电源"
    assert "reason" not in b and b["step_text"]["en"] == "Check fuses, LV lines and the transformer"
    assert c["operation"]["label"] == {"kind": "manhole", "ref": "CW13"}
    assert c["operation"]["why"] == "before_flooding"
