"""Done when (issue "One live loop"): the live replay of the scripted day gives the same
incidents as the headless run — same count, kinds, grades and cascades — and replaying it again
adds nothing. Both run the real demo town on their own embedded stores."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
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
    tmp_path: Path,
) -> None:
    from lifeline.api import auth
    from lifeline.api.app import create_app
    from lifeline.api.replay import ReplayRunner, SimulatedDay
    from lifeline.api.server import attach_city
    from lifeline.datasets.town import load_town
    from lifeline.scenarios.demo import run_demo

    town = load_town()
    summary = run_demo(db=f"duckdb://{tmp_path / 'headless.duckdb'}", quiet=True, town=town)
    headless = sorted(
        _key(i["utility"], i["kind"], i["grade"], i["cascade"]) for i in summary["incidents"]
    )
    assert len(headless) >= 3

    auth.HASH_PARAMS = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    try:
        app = create_app(str(tmp_path / "live.duckdb"), secret="live-vs-headless")
    finally:
        auth.HASH_PARAMS = {}
    ctx = app.state.ctx
    attach_city(app, town, resume=False, idle_flush_s=None)
    try:
        for attempt in (1, 2):
            runner = ReplayRunner(
                ctx, SimulatedDay(date="2026-07-15", city=town), speed=1e6, date="2026-07-15"
            )
            ctx.replay = runner
            status = runner.run()
            assert status.phase == "finished", status
            ctx.engine.engine.flush()
            live = _live_incidents(ctx.store)
            if attempt == 1:
                assert live == headless
            else:  # the same day again: late data and repeated ids, nothing new
                assert live == headless and status.incidents == 0
    finally:
        ctx.engine.stop()
