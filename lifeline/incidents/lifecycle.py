"""The incident and its lifecycle.

States: detected → confirmed → dispatched → on_site → isolated → repaired → restored → closed →
reviewed. Only the transitions in :data:`TRANSITIONS` are allowed (one step forward; a detected
or confirmed incident may also be closed as a false alarm). Every transition appends an audit
entry (who, when, why) and stamps the state's time in the timeline, which the KPIs use.

An :class:`Incident` serialises to one row of ``schema.INCIDENT`` with everything else in the
JSON ``body``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from lifeline.errors import InputError, StateError
from lifeline.incidents.evidence import Evidence, to_utc

STATES: Final = (
    "detected",
    "confirmed",
    "dispatched",
    "on_site",
    "isolated",
    "repaired",
    "restored",
    "closed",
    "reviewed",
)
TRANSITIONS: Final[dict[str, tuple[str, ...]]] = {
    "detected": ("confirmed", "closed"),
    "confirmed": ("dispatched", "closed"),
    "dispatched": ("on_site",),
    "on_site": ("isolated",),
    "isolated": ("repaired",),
    "repaired": ("restored",),
    "restored": ("closed",),
    "closed": ("reviewed",),
    "reviewed": (),
}
STATE_ZH: Final = {
    "detected": "已发现",
    "confirmed": "已确认",
    "dispatched": "已派单",
    "on_site": "已到场",
    "isolated": "已隔离",
    "repaired": "已修复",
    "restored": "已恢复供应",
    "closed": "已关闭",
    "reviewed": "已复盘",
}

AuditSink = Callable[[dict[str, Any]], None]


@dataclass
class Incident:
    """One incident: evidence, why it was grouped, location, grade, cascade, plan and timeline."""

    incident_id: str
    utility: str
    opened_at: datetime
    state: str = "detected"
    updated_at: datetime | None = None
    kind: str = ""  # incident type used to retrieve plans, e.g. water_main_burst
    grade: str = ""
    district_id: str = ""
    x_m: float | None = None
    y_m: float | None = None
    onset_at: datetime | None = None  # when the event began, if known (scenario, forensic)
    evidence: list[Evidence] = field(default_factory=list)
    grouping: list[dict[str, Any]] = field(default_factory=list)  # evidence_id, rule, values
    location: dict[str, Any] = field(default_factory=dict)
    timeline: dict[str, str] = field(default_factory=dict)  # state -> ISO ts
    audit: list[dict[str, Any]] = field(default_factory=list)
    impact: dict[str, Any] = field(default_factory=dict)
    cascade: list[dict[str, Any]] = field(default_factory=list)
    grading: dict[str, Any] = field(default_factory=dict)
    routing: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    safety: list[dict[str, Any]] = field(default_factory=list)
    approval: dict[str, Any] = field(default_factory=dict)
    merged_from: list[str] = field(default_factory=list)
    narrative: str = ""
    confirmation: dict[str, Any] = field(default_factory=dict)  # see lifeline.incidents.confirm

    def __post_init__(self) -> None:
        if self.state not in STATES:
            raise StateError(f"unknown state {self.state!r}", where=self.incident_id)
        self.opened_at = to_utc(self.opened_at)
        self.updated_at = to_utc(self.updated_at) if self.updated_at else self.opened_at
        self.timeline.setdefault("detected", self.opened_at.isoformat())

    def state_time(self, state: str) -> datetime | None:
        """When the incident entered ``state`` (UTC), or None."""
        ts = self.timeline.get(state)
        return to_utc(ts) if ts else None

    def evidence_ids(self) -> set[str]:
        """Ids of all evidence items."""
        return {e.evidence_id for e in self.evidence}

    def to_row(self) -> dict[str, Any]:
        """One ``schema.INCIDENT`` row; the rest of the incident goes to ``body`` (JSON)."""
        body = {
            "kind": self.kind,
            "onset_at": self.onset_at.isoformat() if self.onset_at else None,
            "evidence": [e.to_dict() for e in self.evidence],
            "grouping": self.grouping,
            "location": self.location,
            "timeline": self.timeline,
            "audit": self.audit,
            "impact": self.impact,
            "cascade": self.cascade,
            "grading": self.grading,
            "routing": self.routing,
            "plan": self.plan,
            "actions": self.actions,
            "safety": self.safety,
            "approval": self.approval,
            "merged_from": self.merged_from,
            "narrative": self.narrative,
            "confirmation": self.confirmation,
        }
        return {
            "incident_id": self.incident_id,
            "state": self.state,
            "utility": self.utility,
            "grade": self.grade,
            "opened_at": self.opened_at,
            "updated_at": self.updated_at,
            "district_id": self.district_id,
            "x_m": self.x_m if self.x_m is not None else float("nan"),
            "y_m": self.y_m if self.y_m is not None else float("nan"),
            "body": json.dumps(body, ensure_ascii=False, default=str),
        }

    @classmethod
    def from_row(cls, row: Any) -> Incident:
        """Inverse of :meth:`to_row` (row: mapping or pandas Series)."""
        try:
            body = json.loads(row["body"]) if row.get("body") else {}
        except (json.JSONDecodeError, TypeError) as exc:
            raise InputError(
                f"incident body is not JSON: {exc}", where=str(row.get("incident_id"))
            ) from exc

        def num(v: Any) -> float | None:
            try:
                f = float(v)
            except (TypeError, ValueError):
                return None
            return f if math.isfinite(f) else None

        return cls(
            incident_id=str(row["incident_id"]),
            utility=str(row.get("utility") or ""),
            opened_at=to_utc(row["opened_at"]),
            state=str(row.get("state") or "detected"),
            updated_at=to_utc(row["updated_at"]) if row.get("updated_at") is not None else None,
            grade=str(row.get("grade") or "") if row.get("grade") is not None else "",
            district_id=str(row.get("district_id") or "")
            if row.get("district_id") is not None
            else "",
            x_m=num(row.get("x_m")),
            y_m=num(row.get("y_m")),
            kind=body.get("kind", ""),
            onset_at=to_utc(body["onset_at"]) if body.get("onset_at") else None,
            evidence=[Evidence.from_dict(e) for e in body.get("evidence", [])],
            grouping=body.get("grouping", []),
            location=body.get("location", {}),
            timeline=body.get("timeline", {}),
            audit=body.get("audit", []),
            impact=body.get("impact", {}),
            cascade=body.get("cascade", []),
            grading=body.get("grading", {}),
            routing=body.get("routing", {}),
            plan=body.get("plan", {}),
            actions=body.get("actions", []),
            confirmation=body.get("confirmation", {}),
            safety=body.get("safety", []),
            approval=body.get("approval", {}),
            merged_from=body.get("merged_from", []),
            narrative=body.get("narrative", ""),
        )


def allowed_next(state: str) -> tuple[str, ...]:
    """States reachable from ``state`` in one transition."""
    if state not in TRANSITIONS:
        raise StateError(f"unknown state {state!r}")
    return TRANSITIONS[state]


def audit_entry(
    incident: Incident, actor: str, action: str, detail: dict[str, Any], ts: datetime
) -> dict[str, Any]:
    """An audit entry (columns of ``schema.AUDIT``, detail as a dict)."""
    return {
        "ts": ts.isoformat(),
        "actor": actor,
        "action": action,
        "object_id": incident.incident_id,
        "detail": detail,
    }


def advance(
    incident: Incident,
    to_state: str,
    actor: str,
    why: str,
    ts: Any = None,
    sink: AuditSink | None = None,
) -> dict[str, Any]:
    """Move ``incident`` to ``to_state``; returns the audit entry (also appended and sent to ``sink``).

    Raises StateError if the transition is not allowed, the actor or reason is empty, or ``ts``
    lies before the incident's last transition.
    """
    if to_state not in STATES:
        raise StateError(
            f"unknown state {to_state!r}; states are {', '.join(STATES)}",
            where=incident.incident_id,
        )
    if to_state not in TRANSITIONS[incident.state]:
        allowed = ", ".join(TRANSITIONS[incident.state]) or "none"
        raise StateError(
            f"cannot go from {incident.state} to {to_state} (allowed: {allowed})",
            where=incident.incident_id,
        )
    if not actor.strip():
        raise StateError("a transition needs an actor (who)", where=incident.incident_id)
    if not why.strip():
        raise StateError("a transition needs a reason (why)", where=incident.incident_id)
    when = to_utc(ts) if ts is not None else datetime.now(UTC)
    last = max((to_utc(t) for t in incident.timeline.values()), default=incident.opened_at)
    if when < last:
        raise StateError(
            f"transition time {when.isoformat()} is before the last transition {last.isoformat()}",
            where=incident.incident_id,
        )
    entry = audit_entry(
        incident, actor, "transition", {"from": incident.state, "to": to_state, "why": why}, when
    )
    incident.state = to_state
    incident.timeline[to_state] = when.isoformat()
    incident.updated_at = when
    incident.audit.append(entry)
    if sink is not None:
        sink(entry)
    return entry
