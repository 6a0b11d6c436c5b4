"""The printed summary of a demo or drill: incident times in the city's own timezone."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("tz", "local"), [("Asia/Shanghai", "10:00"), ("Europe/Berlin", "04:00")])
def test_incident_times_are_the_citys_local_time(
    tz: str, local: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from lifeline.scenarios.demo import print_summary

    summary = {
        "city": {"name": "X", "timezone": tz},
        "ingest": {"per_utility": {}, "rejected": {}},
        "store": "duckdb",
        "readings_in_store": 0,
        "incidents": [
            {
                "incident_id": "INC-20260715-0200-000001",
                "opened_at": "2026-07-15T02:00:00+00:00",
                "utility": "power",
                "kind": "power_feeder_fault",
                "grade": "III",
                "location": {"district_id": "D1"},
                "evidence_counts": {"alarm": 1},
                "cascade": [],
                "actions": [],
                "safety": [],
            }
        ],
    }
    print_summary(summary, width=160)
    out = capsys.readouterr().out
    assert f"{local} " in out, out
