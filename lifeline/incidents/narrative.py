"""Narrative summary of an incident: a template (always), or an optional language model.

If ``LIFELINE_LLM_URL`` (settings.llm_url) points to an OpenAI-compatible endpoint, it may write
the narrative from the incident's facts; any failure falls back to the template. The computed
actions never depend on the narrative.
"""

from __future__ import annotations

from typing import Any

from lifeline.incidents.lifecycle import STATE_ZH, Incident

UTILITY_ZH = {"water": "供水", "power": "供电", "gas": "燃气"}


def template_narrative(inc: Incident, lang: str = "zh-CN") -> str:
    """Deterministic summary from the incident's facts."""
    n_alarm = sum(1 for e in inc.evidence if e.kind == "alarm")
    n_comp = sum(1 for e in inc.evidence if e.kind == "complaint")
    n_meter = sum(1 for e in inc.evidence if e.kind == "meter_event")
    out = len(inc.impact.get("customers_out", []) or [])
    crit = inc.impact.get("critical_sites_out", 0)
    if lang.startswith("zh"):
        s = (
            f"{inc.opened_at:%m月%d日%H:%M}发现{UTILITY_ZH.get(inc.utility, inc.utility)}事件（{inc.kind}），"
            f"等级{inc.grade or '未定'}{inc.grading.get('name_zh', '')}，当前状态：{STATE_ZH.get(inc.state, inc.state)}。"
            f"证据：告警{n_alarm}条、投诉{n_comp}条、表计事件{n_meter}条。影响用户{out}户，重点单位{crit}个。"
        )
        if inc.cascade:
            s += (
                "连锁影响：" + "；".join(f"{c['kind']}→{c['to_asset']}" for c in inc.cascade) + "。"
            )
        return s
    s = (
        f"{inc.utility} incident ({inc.kind}) detected {inc.opened_at:%Y-%m-%d %H:%M} UTC, grade {inc.grade or 'n/a'}, "
        f"state {inc.state}. Evidence: {n_alarm} alarms, {n_comp} complaints, {n_meter} meter events. "
        f"{out} customers affected, {crit} critical sites."
    )
    if inc.cascade:
        s += " Cascade: " + "; ".join(f"{c['kind']} -> {c['to_asset']}" for c in inc.cascade) + "."
    return s


def narrative(inc: Incident, lang: str | None = None, timeout_s: float = 10.0) -> dict[str, Any]:
    """``{"text", "source": "llm"|"template", "error"?}``; the LLM is used only if configured and working."""
    from lifeline.config import get_settings

    settings = get_settings()
    lang = lang or settings.lang
    fallback = template_narrative(inc, lang)
    if not settings.llm_url:
        return {"text": fallback, "source": "template"}
    try:
        import httpx

        facts = template_narrative(inc, "en")
        prompt = f"Write a short incident summary for a city emergency operator in {lang}. Facts: {facts} Do not add facts."
        r = httpx.post(
            settings.llm_url.rstrip("/") + "/chat/completions",
            json={
                "model": "default",
                "messages": [{"role": "user", "content": prompt}],
                "temperature": 0,
            },
            timeout=timeout_s,
        )
        r.raise_for_status()
        text = r.json()["choices"][0]["message"]["content"].strip()
        if not text:
            raise ValueError("empty completion")
        return {"text": text, "source": "llm"}
    except Exception as exc:  # any endpoint problem: keep the template
        return {"text": fallback, "source": "template", "error": str(exc)}
