"""Scale-out in one process: two engine partitions of the YKT test city share one store, each
fed the half of the stream a shared subscription would give it and forwarding the rest — every
reading is scored by exactly one engine, and the alarms and incidents are those of a single
engine (the gas leak whose evidence spans both partitions ends as one incident, once)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from lifeline.engine.partition import (
    SOURCE,
    Partitioner,
    PartitionFeed,
    decode_route,
    encode_route,
    part_of,
)
from tests.reliability.live_day import (
    CITY,
    COUNT,
    LEAK,
    register_detector,
    scripted_day,
)
from tests.reliability.live_server import outcome, reference_outcome


@pytest.fixture(scope="module")
def city() -> Any:
    from lifeline.model.city import load_city

    return load_city(CITY)


def test_partitions_are_stable_zone_hashes(city: Any) -> None:
    p = Partitioner(city, 2)
    assert part_of("gas:district:G1", 2) == p.part("gas:district:G1")  # same in every process
    parts = dict(zip(p.sensor_ids, p.sensor_part, strict=True))
    # a DMA's sensors stay together; the leak's two sensors fall apart (their zones differ)
    water = city.sensors[city.sensors["utility"] == "water"]["sensor_id"]
    assert len({parts[s] for s in water}) == 1
    assert parts["GM-MH2"] != parts["GP-J3"]
    assert set(p.sensors_of(0)) | set(p.sensors_of(1)) == set(city.sensors["sensor_id"])
    assert Partitioner(city, 1).sensor_part.max() == 0
    # a customer's event goes with its service zone; an unplaced complaint with the nearest asset
    ev = pd.DataFrame({"customer_id": ["H0002"], "utility": ["power"], "element": [""]})
    assert p.events(ev)[0] == p.part("power:feeder:F10")
    mh2 = city.sensors.set_index("sensor_id").loc["GM-MH2"]
    comp = pd.DataFrame([{"utility": "gas", "customer_id": "", "x_m": mh2.x_m + 5, "y_m": mh2.y_m}])
    assert p.complaints(comp)[0] in (0, 1)


def test_route_messages_round_trip() -> None:
    ts = pd.to_datetime(["2026-03-02T01:00:00Z", "2026-03-02T01:05:00Z"], utc=True)
    r = pd.DataFrame({"sensor_id": ["a", "b"], "ts": ts, "value": [1.5, float("nan")]})
    e = pd.DataFrame({"event_id": ["x"], "ts": ts[:1], "kind": ["last_gasp"]})
    doc = decode_route(encode_route("w1", ts[1], readings=r, events=e))
    assert doc["from"] == "w1" and doc["progress"] == ts[1]
    assert doc["readings"]["sensor_id"].tolist() == ["a", "b"]
    assert doc["readings"]["ts"].tolist() == list(ts)
    assert doc["readings"]["value"].iloc[0] == 1.5 and pd.isna(doc["readings"]["value"].iloc[1])
    assert doc["events"]["event_id"].tolist() == ["x"] and doc["events"]["ts"].iloc[0] == ts[0]
    assert doc["complaints"] is None


def test_two_partitions_give_the_single_engine_result(
    city: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lifeline.engine import Engine
    from lifeline.engine.engine import EngineConfig
    from lifeline.engine.shared import SharedIncidents
    from lifeline.ingest.events import EventIndex, ingest_events
    from lifeline.ingest.service import ingest_frame
    from lifeline.model.store_io import import_city
    from lifeline.store import open_store

    register_detector(monkeypatch)
    msgs, readings, events = scripted_day(city)
    expected = reference_outcome(city, readings, events)
    n = 2
    parts = Partitioner(city, n)
    index = EventIndex.of(city.customers, city.power.switch.index)
    with open_store(":memory:") as store:
        import_city(store, city)
        sources = tuple(SOURCE.format(k) for k in range(n))
        engines = [
            Engine(
                city,
                store,
                config=EngineConfig(name=f"engine-{k}of{n}", sources=sources),
                partition=(parts, k),
                shared=SharedIncidents(store, k),
            )
            for k in range(n)
        ]

        def deliver(k: int, payload: bytes) -> None:  # the broker, in-process
            doc = decode_route(payload)
            items = {x: doc[x] for x in ("readings", "events", "complaints") if doc[x] is not None}
            if items:
                engines[k].submit(**items)
            if doc["progress"] is not None:
                engines[k].set_progress(doc["from"], doc["progress"])

        feeds = [PartitionFeed(parts, k, engines[k], deliver) for k in range(n)]
        # the shared subscription hands out messages in turn; each worker stores its share
        step = 40
        for i in range(0, len(msgs), step):
            worker = (i // step) % n
            chunk = msgs[i : i + step]
            rd = pd.DataFrame(
                [
                    {"sensor_id": m.suffix, "ts": m.ts, "value": m.payload["value"]}
                    for m in chunk
                    if m.kind == "reading"
                ]
            )
            if len(rd):
                ingest_frame(
                    store,
                    rd,
                    source="test",
                    sensors=city.sensors,
                    progress=False,
                    feed=feeds[worker],
                )
            ev = [(m.payload, "test") for m in chunk if m.kind == "event"]
            if ev:
                ingest_events(store, ev, index, feed=feeds[worker])
            for f in feeds:
                f.heartbeat()
            for eng in engines:
                eng.advance()
        for eng in engines:
            eng.flush()

        # every reading scored by exactly one engine, the one of its partition
        counts = [
            {s: c for s, c in (eng.get_state()["detectors"][COUNT]["counts"]).items()}
            for eng in engines
        ]
        per_sensor = readings["sensor_id"].value_counts().to_dict()
        assert set(counts[0]).isdisjoint(counts[1])
        assert {**counts[0], **counts[1]} == per_sensor
        for k in range(n):
            assert set(counts[k]) == set(parts.sensors_of(k))
        assert sum(f.forwarded for f in feeds) > 0
        # the same alarms and incidents as one engine: the leak spans the partitions ...
        alarms, incidents = outcome(store)
        assert alarms == expected[0]
        assert incidents == expected[1]
        leak = [i for i in incidents if i[1] == "gas"]
        assert len(leak) == 1 and all(any(s in e for e in leak[0][4]) for s in LEAK)
        # ... and was merged once, across partitions, into the incident one engine opens
        audit = store.list_audit()
        merges = audit[audit["action"] == "merge_incident"]
        assert len(merges) == 1 and "across_partitions" in merges["detail"].iloc[0]
        assert sum(eng.incidents.shared.merges for eng in engines) == 1
