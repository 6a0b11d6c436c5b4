"""Every lifecycle transition: allowed ones pass with an audit entry, others are refused."""

from __future__ import annotations

import itertools

import pytest

from lifeline.errors import StateError
from lifeline.incidents.lifecycle import STATES, TRANSITIONS, Incident, advance
from tests.incidents.helpers import alarm, ts

ALLOWED = [(a, b) for a, bs in TRANSITIONS.items() for b in bs]
REFUSED = [(a, b) for a, b in itertools.product(STATES, STATES) if (a, b) not in ALLOWED]


def _at(state: str) -> Incident:
    inc = Incident("INC-1", "water", ts(0), state=state)
    inc.timeline = {"detected": ts(0).isoformat()}
    return inc


@pytest.mark.parametrize(("frm", "to"), ALLOWED)
def test_allowed_transition_writes_audit(frm: str, to: str) -> None:
    inc = _at(frm)
    seen: list[dict] = []
    entry = advance(inc, to, "operator 王", f"because {to}", ts=ts(10), sink=seen.append)
    assert inc.state == to
    assert inc.timeline[to] == ts(10).isoformat()
    assert inc.audit[-1] == entry == seen[0]
    assert entry["actor"] == "operator 王" and entry["detail"] == {
        "from": frm,
        "to": to,
        "why": f"because {to}",
    }
    assert entry["object_id"] == "INC-1"


@pytest.mark.parametrize(("frm", "to"), REFUSED)
def test_refused_transition(frm: str, to: str) -> None:
    inc = _at(frm)
    with pytest.raises(StateError, match=f"cannot go from {frm} to {to}"):
        advance(inc, to, "op", "why", ts=ts(10))
    assert inc.state == frm and not inc.audit


def test_actor_reason_time_required() -> None:
    inc = _at("detected")
    with pytest.raises(StateError, match="actor"):
        advance(inc, "confirmed", " ", "x", ts=ts(1))
    with pytest.raises(StateError, match="reason"):
        advance(inc, "confirmed", "op", "", ts=ts(1))
    with pytest.raises(StateError, match="before the last transition"):
        advance(inc, "confirmed", "op", "x", ts=ts(-5))
    with pytest.raises(StateError, match="unknown state"):
        advance(inc, "fixed", "op", "x", ts=ts(1))


def test_full_path_and_row_roundtrip() -> None:
    inc = Incident("INC-2", "water", ts(0), evidence=[alarm("a1", 0)])
    path = [
        "confirmed",
        "dispatched",
        "on_site",
        "isolated",
        "repaired",
        "restored",
        "closed",
        "reviewed",
    ]
    for i, s in enumerate(path, start=1):
        advance(inc, s, "op", "step", ts=ts(10 * i))
    assert len(inc.audit) == len(path)
    row = inc.to_row()
    back = Incident.from_row(row)
    assert back.state == "reviewed" and back.timeline == inc.timeline
    assert back.evidence[0].evidence_id == "a1" and back.evidence[0].ts == inc.evidence[0].ts
    assert [a["detail"]["to"] for a in back.audit] == path
