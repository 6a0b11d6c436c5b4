"""HTTP JSON batches: per-item errors, the good items of a batch kept; into both stores."""

from __future__ import annotations

import json

import pandas as pd

from lifeline.ingest.jsonin import parse_http_batch
from lifeline.store import Store
from tests.conftest import TEST_DATA
from tests.store.helpers import sensors_frame

NOW = pd.Timestamp("2024-06-01T00:00:00Z")
SENSORS = sensors_frame()


def test_http_batch_with_bad_items() -> None:
    body = (TEST_DATA / "ingest" / "http_bad.json").read_bytes()
    good, rej = parse_http_batch(body, SENSORS, NOW, batch_id="b1")
    assert good["value"].tolist() == [41.5, 3.5]
    assert good["ts"].tolist() == [
        pd.Timestamp("2024-03-01T00:00Z"),
        pd.Timestamp("2024-03-01T00:01Z"),
    ]
    by_src = dict(zip(rej["source"], rej["reason"], strict=True))
    assert by_src == {
        "http:b1[1]": "malformed_json",
        "http:b1[2]": "missing_field",
        "http:b1[4]": "non_numeric",
        "http:b1[5]": "unknown_sensor",
        "http:b1[6]": "missing_field",
        "http:b1[7]": "non_finite",
        "http:b1[8]": "malformed_json",
    }
    raw = dict(zip(rej["source"], rej["raw"], strict=True))
    assert json.loads(raw["http:b1[4]"]) == {
        "sensor_id": "s0",
        "ts": "2024-03-01T00:02:00Z",
        "value": True,
    }
    assert raw["http:b1[1]"] == '"a string"'


def test_http_bare_list_and_single_object() -> None:
    items = [{"sensor_id": "s1", "ts": "2024-03-01T00:00:00Z", "value": 1.0, "quality": 2}]
    good, rej = parse_http_batch(json.dumps(items).encode(), SENSORS, NOW)
    assert good["quality"].tolist() == [2] and rej.empty
    good, rej = parse_http_batch(json.dumps(items[0]), SENSORS, NOW)
    assert len(good) == 1


def test_http_body_not_json_or_wrong_shape() -> None:
    for body in [
        (TEST_DATA / "ingest" / "http_truncated.json").read_bytes(),
        b"\xff\xfe",
        b"",
        b"42",
        b'{"readings": 3}',
    ]:
        good, rej = parse_http_batch(body, SENSORS, NOW, batch_id="x")
        assert good.empty
        assert rej["reason"].tolist() == ["malformed_json"]
        assert rej["source"].iloc[0].startswith("http:x")


def test_http_batch_into_store(store: Store) -> None:
    store.replace_table("sensor", SENSORS)
    body = (TEST_DATA / "ingest" / "http_bad.json").read_bytes()
    good, rej = parse_http_batch(body, SENSORS, NOW, known_keys=store.existing_readings_mask)
    assert store.write_readings(good) == 2
    store.write_rejected(rej)
    again, rej2 = parse_http_batch(body, SENSORS, NOW, known_keys=store.existing_readings_mask)
    assert again.empty
    assert (rej2["reason"] == "duplicate").sum() == 2
    assert store.rejected_counts()["malformed_json"] == 2
