"""The scripted day's feeder fault (15:00–18:00: supply loss, last gasps, hotline calls, the
pumping-station cascade) fed three ways — in one batch, in 15-minute batches, and reading by
reading and event by event through Mosquitto — gives identical alarms and incidents."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pandas as pd
import pytest

from lifeline.scenarios.publish import DayData, EnginePublisher, MqttPublisher, publish_day

START, END = pd.Timedelta("15h"), pd.Timedelta("18h")


@pytest.fixture(scope="module")
def town_and_day() -> tuple[Any, DayData]:
    from lifeline.datasets.town import load_town
    from lifeline.scenarios.demo import demo_day

    town = load_town()
    day = demo_day(town)
    t0 = pd.Timestamp("2026-07-15", tz="UTC")
    a, b = t0 + START, t0 + END

    def cut(df: pd.DataFrame) -> pd.DataFrame:
        ts = pd.to_datetime(df["ts"], utc=True, errors="coerce")
        return df[(ts >= a) & (ts < b)].assign(ts=ts[(ts >= a) & (ts < b)]).reset_index(drop=True)

    part = DayData(cut(day.readings), cut(day.meter_events), cut(day.complaints), start=a, end=b)
    assert len(part.meter_events) > 100 and len(part.complaints) >= 5
    return town, part


def _engine(town: Any, store: Any) -> Any:
    from lifeline.engine import Engine
    from lifeline.model.store_io import import_city

    import_city(store, town)
    return Engine(town, store, resume=False)


def _outcome(store: Any) -> tuple[list[Any], list[Any]]:
    al = store.list_alarms().sort_values("alarm_id")
    alarms = [(r.alarm_id, r.state, r.severity, str(r.ended_at)) for r in al.itertuples()]
    incidents = []
    for r in store.list_incidents().sort_values("incident_id").itertuples():
        body = json.loads(r.body)
        incidents.append(
            (
                r.incident_id,
                r.grade,
                body["kind"],
                sorted(c["kind"] for c in body["cascade"]),
                sorted(e["evidence_id"] for e in body["evidence"]),
            )
        )
    return alarms, incidents


@pytest.mark.services
def test_one_batch_15_minute_batches_and_mqtt_give_the_same_incidents(
    town_and_day: tuple[Any, DayData], mqtt_url: str, mqtt_names: Any
) -> None:
    from lifeline.ingest.events import EventIndex
    from lifeline.ingest.mqtt import MqttIngestor
    from lifeline.ingest.mqtt_events import MqttEventIngestor
    from lifeline.store import open_store

    town, day = town_and_day
    results = []
    # 1. the whole slice in one batch
    with open_store(":memory:") as store:
        eng = _engine(town, store)
        pub = EnginePublisher(store, eng, town, source="one")
        pub.readings(day.readings)
        pub.events(day.meter_events)
        pub.complaints(day.complaints)
        pub.finish()
        results.append(_outcome(store))
    # 2. in 15-minute batches
    with open_store(":memory:") as store:
        eng = _engine(town, store)
        publish_day(day, EnginePublisher(store, eng, town, source="q"), step_s=900)
        results.append(_outcome(store))
    # 3. reading by reading and event by event through Mosquitto (QoS 1)
    with open_store(":memory:") as store:
        eng = _engine(town, store)
        events_prefix = mqtt_names.prefix.replace("/readings", "/events")
        readings = MqttIngestor(
            store,
            mqtt_url,
            topic=mqtt_names.topic,
            client_id=mqtt_names.client_id("readings", mqtt_url),
            feed=eng,
        )
        switches = town.power.switch.index
        events = MqttEventIngestor(
            store,
            mqtt_url,
            EventIndex.of(town.customers, switches),
            topic=f"{events_prefix}/#",
            client_id=mqtt_names.client_id("events", mqtt_url),
            feed=eng,
        )
        readings.connect()
        events.connect()
        stop = threading.Event()
        threads = [
            threading.Thread(target=readings.run, kwargs={"stop": stop}, daemon=True),
            threading.Thread(target=events.run, kwargs={"stop": stop}, daemon=True),
        ]
        for t in threads:
            t.start()
        from lifeline.incidents.complaints.ingest import submit_complaints

        submit_complaints(store, day.complaints, eng)  # hotline calls come over HTTP
        pub = MqttPublisher(
            mqtt_url,
            readings_prefix=f"{mqtt_names.prefix}/",
            events_prefix=f"{events_prefix}/",
            client_id=mqtt_names.client_id("publisher"),
        )
        pub.readings(day.readings)
        pub.events(day.meter_events)
        pub.finish()
        deadline = time.monotonic() + 300
        want = len(day.readings) + len(day.meter_events)
        while time.monotonic() < deadline:
            got = store.count("reading") + store.count("meter_event")
            if got >= want:
                break
            eng.advance()
            time.sleep(0.5)
        stop.set()
        for t in threads:
            t.join(30)
        assert store.count("reading") == len(day.readings)
        assert store.count("meter_event") == len(day.meter_events)
        eng.flush()
        results.append(_outcome(store))
    alarms, incidents = results[0]
    assert alarms and incidents
    kinds = {i[2] for i in incidents}
    assert "power_feeder_fault" in kinds
    feeder = next(i for i in incidents if i[2] == "power_feeder_fault")
    assert "pumping_station_power_loss" in feeder[3]
    assert results[1] == results[0]
    assert results[2] == results[0]
