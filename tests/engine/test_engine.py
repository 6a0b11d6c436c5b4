"""The live engine in event time: results do not depend on batching, late data is rejected,
a restarted engine resumes from its checkpoint without duplicates."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifeline.engine import Engine
from lifeline.model.city import City
from lifeline.model.schema import conform
from lifeline.store import open_store
from tests.engine.helpers import DETECTOR, register_low_pressure

DAY = pd.Timestamp("2026-03-02", tz="UTC")


@pytest.fixture
def detector(monkeypatch: pytest.MonkeyPatch) -> str:
    return register_low_pressure(monkeypatch)


def _city() -> City:
    xs = [1000.0, 1100.0, 1200.0, 5000.0]
    ids = [f"J{i + 1}" for i in range(4)]
    assets = conform(
        "asset",
        pd.DataFrame(
            {
                "asset_id": [f"water:junction:{j}" for j in ids],
                "utility": "water",
                "kind": "junction",
                "ref": ids,
                "x_m": xs,
                "y_m": [0.0] * 4,
                "zone_id": ["water:dma:DMA1"] * 3 + ["water:dma:DMA2"],
                "district_id": "d1",
            }
        ),
    )
    sensors = conform(
        "sensor",
        pd.DataFrame(
            {
                "sensor_id": [f"P{i + 1}" for i in range(4)],
                "asset_id": assets.asset_id,
                "utility": "water",
                "quantity": "pressure_m",
                "unit": "m",
                "interval_s": 300,
                "valid_min": -10.0,
                "valid_max": 100.0,
                "x_m": xs,
                "y_m": [0.0] * 4,
                "element": [f"node:{j}" for j in ids],
            }
        ),
    )
    customers = conform(
        "customer",
        pd.DataFrame(
            {
                "customer_id": ["C1", "C2"],
                "name": ["a", "b"],
                "category": "household",
                "critical": False,
                "x_m": [1010.0, 4990.0],
                "y_m": [5.0, 5.0],
                "water_asset_id": ["water:junction:J1", "water:junction:J4"],
                "district_id": "d1",
            }
        ),
    )
    return City(
        name="Test",
        crs="EPSG:32648",
        timezone="Asia/Shanghai",
        assets=assets,
        customers=customers,
        sensors=sensors,
        zones=conform("zone", pd.DataFrame()),
        districts=conform("district", pd.DataFrame()),
        dependencies=conform("dependency", pd.DataFrame()),
        crews=pd.DataFrame(columns=["crew_id", "utility", "name", "x_m", "y_m", "available"]),
    )


def _day() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)
    ts = pd.date_range(DAY, periods=96, freq="300s")  # 00:00–08:00
    rows = []
    for k in range(4):
        v = 40 + rng.normal(0, 0.3, len(ts))
        if k < 2:  # a burst near J1/J2 from 03:00 to 05:00
            v[(ts >= DAY + pd.Timedelta("3h")) & (ts < DAY + pd.Timedelta("5h"))] = 8.0
        if k == 3:  # a single dip at J4 (one reading: no alarm with min_consecutive 2)
            v[80] = 5.0
        rows.append(pd.DataFrame({"sensor_id": f"P{k + 1}", "ts": ts, "value": v}))
    readings = (
        pd.concat(rows).sort_values(["ts", "sensor_id"], kind="stable").reset_index(drop=True)
    )
    complaints = conform(
        "complaint",
        pd.DataFrame(
            {
                "complaint_id": ["CX1"],
                "ts": [DAY + pd.Timedelta("3h20min")],
                "channel": "hotline",
                "text": "没水了",
                "x_m": [1005.0],
                "y_m": [3.0],
                "utility": "water",
                "category": "no_water",
                "customer_id": "C1",
            }
        ),
    )
    return readings, complaints


def _run(batches: list[pd.DataFrame], complaints: pd.DataFrame, store: Any) -> Engine:
    from lifeline.ingest.service import ingest_frame
    from lifeline.model.store_io import import_city

    city = _city()
    import_city(store, city)
    eng = Engine(city, store, detectors=[DETECTOR])
    sent = False
    for b in batches:
        ingest_frame(store, b, source="test", sensors=city.sensors, progress=False, feed=eng)
        if not sent and len(b) and b["ts"].max() >= complaints["ts"].min():
            store.add_complaints(complaints)
            eng.submit_complaints(complaints)
            sent = True
        eng.advance()
    eng.flush()
    return eng


def _outcome(store: Any) -> tuple[list[Any], list[Any]]:
    al = store.list_alarms().sort_values("alarm_id")
    alarms = [
        (r.alarm_id, r.state, str(r.ts), str(r.ended_at), r.severity, round(r.score, 6))
        for r in al.itertuples()
    ]
    inc = store.list_incidents().sort_values("incident_id")
    incidents = []
    for r in inc.itertuples():
        body = json.loads(r.body)
        incidents.append(
            (
                r.incident_id,
                r.grade,
                body["kind"],
                sorted(e["evidence_id"] for e in body["evidence"]),
                body["confirmation"]["rule"],
            )
        )
    return alarms, incidents


def test_batching_does_not_change_alarms_or_incidents(detector: str) -> None:
    readings, complaints = _day()
    results = []
    for batches in (
        [readings],  # the whole day in one batch
        [g for _, g in readings.groupby(readings["ts"].dt.floor("15min"))],  # 15-minute batches
        [readings.iloc[i : i + 1] for i in range(len(readings))],  # reading by reading
    ):
        with open_store(":memory:") as store:
            _run(batches, complaints, store)
            results.append(_outcome(store))
    alarms, incidents = results[0]
    assert len(alarms) == 2  # one episode each on P1 and P2; P4's single dip raises none
    assert {a[1] for a in alarms} == {"closed"}
    assert len(incidents) == 1
    _, grade, kind, evidence, rule = incidents[0]
    assert "CX1" in evidence and len(evidence) == 3
    assert rule != "single_weak_evidence"
    assert results[1] == results[0]
    assert results[2] == results[0]


def test_late_readings_are_rejected_with_a_reason(detector: str) -> None:
    from lifeline.ingest.service import ingest_frame

    readings, complaints = _day()
    with open_store(":memory:") as store:
        eng = _run([readings], complaints, store)
        wm = eng.watermark
        assert wm is not None and wm >= readings["ts"].max()
        late = pd.DataFrame(
            {"sensor_id": ["P3"], "ts": [DAY + pd.Timedelta("1h1min")], "value": [9.0]}
        )
        rep = ingest_frame(
            store, late, source="late", sensors=eng.city.sensors, progress=False, feed=eng
        )
        assert rep.stored == 0 and rep.rejected["late"] == 1
        assert store.read_table("rejected")["reason"].tolist()[-1] == "late"
        assert eng.status()["watermark"] == wm.isoformat()


def test_restart_resumes_from_the_checkpoint_without_duplicates(detector: str) -> None:
    from lifeline.ingest.service import ingest_frame
    from lifeline.model.store_io import import_city

    readings, complaints = _day()
    with open_store(":memory:") as store:
        _run([readings], complaints, store)
        expected = _outcome(store)
    with open_store(":memory:") as store:
        city = _city()
        import_city(store, city)
        first = Engine(city, store, detectors=[DETECTOR])
        cut = DAY + pd.Timedelta("3h42min")  # mid-episode, after the complaint
        ingest_frame(
            store,
            readings[readings.ts < cut],
            source="a",
            sensors=city.sensors,
            progress=False,
            feed=first,
        )
        store.add_complaints(complaints)
        first.submit_complaints(complaints)
        first.advance()
        first.checkpoint()
        # readings stored after the checkpoint but never processed (the process died)
        more = readings[(readings.ts >= cut) & (readings.ts < cut + pd.Timedelta("1h"))]
        ingest_frame(store, more, source="b", sensors=city.sensors, progress=False)
        del first
        second = Engine(city, store, detectors=[DETECTOR])  # resumes
        assert second.pending > 0
        rest = readings[readings.ts >= cut + pd.Timedelta("1h")]
        ingest_frame(store, rest, source="c", sensors=city.sensors, progress=False, feed=second)
        second.flush()
        assert _outcome(store) == expected


def test_an_alarm_that_ends_after_its_incident_left_the_correlator_opens_nothing(
    detector: str,
) -> None:
    """A low pressure at P1 for an hour and at P2 for five: the correlator forgets the incident
    three hours after its last evidence, and P2's alarm ending must not open a second one."""
    rng = np.random.default_rng(5)
    ts = pd.date_range(DAY, periods=96, freq="300s")  # 00:00–08:00
    rows = []
    for k in range(4):
        v = 40 + rng.normal(0, 0.3, len(ts))
        start, end = [("1h", "2h"), ("1h10min", "6h")][k] if k < 2 else ("9h", "9h")
        v[(ts >= DAY + pd.Timedelta(start)) & (ts < DAY + pd.Timedelta(end))] = 8.0
        rows.append(pd.DataFrame({"sensor_id": f"P{k + 1}", "ts": ts, "value": v}))
    readings = pd.concat(rows).sort_values(["ts", "sensor_id"], kind="stable")
    _, complaints = _day()
    with open_store(":memory:") as store:
        _run([readings.reset_index(drop=True)], complaints.iloc[0:0], store)
        alarms, incidents = _outcome(store)
    assert [a[1] for a in alarms] == ["closed", "closed"], alarms
    assert len(incidents) == 1, incidents
    assert sorted(incidents[0][3]) == sorted(a[0] for a in alarms)
