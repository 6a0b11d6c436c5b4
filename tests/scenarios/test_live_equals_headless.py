"""Done when (issue "One live loop"): the live replay of the scripted day gives the same
incidents as the headless run — same count, kinds, grades and cascades — and replaying it again
adds nothing. Both run the real demo town on their own embedded stores (the session's shared
runs: ``headless_day`` in tests/scenarios/conftest.py, ``replayed_demo_day`` in
tests/conftest.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any


def _key(utility: str, kind: str, grade: str, cascade: list[dict[str, Any]]) -> tuple[Any, ...]:
    return (
        utility,
        kind,
        grade,
        tuple(sorted(Counter(str(c.get("kind")) for c in cascade).items())),
    )


def _live_incidents(store: Any) -> list[tuple[Any, ...]]:
    from lifeline.incidents.lifecycle import Incident

    rows = store.list_incidents().to_dict("records")
    out = []
    for r in rows:
        inc = Incident.from_row({k: (None if v is None or v != v else v) for k, v in r.items()})
        out.append(_key(inc.utility, inc.kind, inc.grade, inc.cascade))
    return sorted(out)


def test_the_live_replay_gives_the_headless_incidents_and_a_second_replay_adds_nothing(
    headless_day: dict[str, Any], replayed_demo_day: Any
) -> None:
    headless = sorted(
        _key(i["utility"], i["kind"], i["grade"], i["cascade"]) for i in headless_day["incidents"]
    )
    assert len(headless) >= 3
    ctx = replayed_demo_day.ctx
    assert replayed_demo_day.status.phase == "finished", replayed_demo_day.status
    assert _live_incidents(ctx.store) == headless
    # the same day again: late data and repeated ids, nothing new
    status = replayed_demo_day.replay()
    assert status.phase == "finished", status
    assert _live_incidents(ctx.store) == headless and status.incidents == 0
