"""Proportionate response: is the evidence of an incident strong enough to act on it?

A single hotline complaint or a single weak alarm opens an incident **to verify**: the lowest
grade and a verification plan (send a crew to look, sample the water, measure gas), not an
isolation that cuts customers off. Isolation, notification and cascades come once the evidence
confirms the incident. It is confirmed when any of these holds:

* an operator confirmed it (state ``confirmed`` or later);
* an alarm of a utility-specific detector (methane, supply loss, outage inference, leak
  detection, …) of severity ≥ 2 (its policy put it at least one step above its threshold);
* alarms of utility-specific detectors from two or more different sensors or areas;
* an alarm (any detector) and any user evidence (a complaint or a smart-meter event) together;
* three or more complaints from different callers, or three or more smart-meter events.

Generic detectors (threshold, CUSUM, stuck sensor, rate of change: they watch every sensor and
say that something changed, not what) never confirm an incident on their own: a pump schedule
moves every pressure in a town at once.
"""

from __future__ import annotations

from typing import Any

#: states in which an operator has confirmed the incident
CONFIRMED_STATES = (
    "confirmed",
    "dispatched",
    "on_site",
    "isolated",
    "repaired",
    "restored",
    "closed",
    "reviewed",
)


def generic_detectors() -> frozenset[str]:
    """Names of the registered detectors that watch every utility (no specific meaning)."""
    from lifeline.detect.registry import specs

    return frozenset(s.name for s in specs() if not s.utility)


def confirmation(inc: Any) -> dict[str, Any]:
    """``{"confirmed": bool, "rule": str, "evidence": {...counts}}`` for ``inc``."""
    alarms = [e for e in inc.evidence if e.kind == "alarm"]
    generic = generic_detectors()
    specific = [e for e in alarms if e.source not in generic]
    complaints = [e for e in inc.evidence if e.kind == "complaint"]
    meters = [e for e in inc.evidence if e.kind == "meter_event"]
    callers = {e.customer_id or e.evidence_id for e in complaints}
    keys = {
        s for e in specific for s in (e.detail.get("sensors") or [e.evidence_id.rsplit(":", 1)[0]])
    }
    n_meter = sum(e.count() for e in meters)
    counts = {"alarms": len(alarms), "complaints": len(complaints), "meter_events": n_meter}
    rule = ""
    if inc.state in CONFIRMED_STATES:
        rule = "operator_confirmed"
    elif any(e.severity >= 2 for e in specific):
        rule = "strong_alarm"
    elif len(keys) >= 2:
        rule = "alarms_on_two_sensors"
    elif alarms and (complaints or meters):
        rule = "alarm_and_user_evidence"
    elif len(callers) >= 3:
        rule = "three_callers"
    elif n_meter >= 3:
        rule = "three_meter_events"
    return {"confirmed": bool(rule), "rule": rule or "single_weak_evidence", "evidence": counts}
