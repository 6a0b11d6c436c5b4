"""One suite, both stores (DuckDB and PostgreSQL/PostGIS): the Store contract."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from lifeline.errors import ConfigError, InputError, NotFoundError
from lifeline.model.schema import TABLES
from lifeline.store import Store, open_store
from tests.store.helpers import sensors_frame

T0 = pd.Timestamp("2024-03-01T00:00:00Z")


def readings(
    sensor: str, n: int, start: pd.Timestamp = T0, step_s: int = 60, value0: float = 0.0
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "sensor_id": sensor,
            "ts": start + pd.to_timedelta(np.arange(n) * step_s, unit="s"),
            "value": value0 + np.arange(n, dtype=float),
            "quality": 0,
        }
    )


def test_every_table_exists_with_schema_columns(store: Store) -> None:
    for name, cols in TABLES.items():
        df = store.read_table(name)
        assert list(df.columns) == list(cols), name
        assert len(df) == 0
        for c, t in cols.items():
            if t.startswith("datetime64"):
                assert str(df[c].dtype) == "datetime64[ns, UTC]"
    store.init_schema()  # idempotent


def test_replace_table_round_trip_and_replaces(store: Store) -> None:
    s = sensors_frame()
    assert store.replace_table("sensor", s) == 3
    back = store.read_table("sensor")
    pd.testing.assert_frame_equal(
        back.drop(columns=["interval_s"]).reset_index(drop=True),
        s.drop(columns=["interval_s"]).astype(back.drop(columns=["interval_s"]).dtypes.to_dict()),
    )
    assert back["interval_s"].tolist() == [60, 60, 60]
    store.replace_table("sensor", s.iloc[:1])
    assert store.read_table("sensor")["sensor_id"].tolist() == ["s0"]
    with pytest.raises(InputError):
        store.replace_table("reading", readings("s0", 1))


def test_customer_bool_and_empty_strings_survive(store: Store) -> None:
    cust = pd.DataFrame(
        {
            "customer_id": ["c1", "c2"],
            "category": ["hospital", "household"],
            "critical": [True, False],
            "gas_asset_id": ["", "gas:sink:3"],
            "x_m": [1.0, np.nan],
            "y_m": [2.0, np.nan],
        }
    )
    store.replace_table("customer", cust)
    back = store.read_table("customer")
    assert back["critical"].tolist() == [True, False]
    assert back["gas_asset_id"].tolist()[1] == "gas:sink:3"
    assert np.isnan(back["x_m"].iloc[1])


def test_write_readings_is_idempotent_and_counts_new(store: Store) -> None:
    r = readings("s0", 100)
    assert store.write_readings(r) == 100
    assert store.write_readings(r) == 0  # a re-sent reading is a duplicate, not a second row
    more = pd.concat([r.iloc[50:], readings("s0", 10, start=T0 + pd.Timedelta("100min"))])
    assert store.write_readings(more) == 10
    assert store.count("reading") == 110
    # duplicates inside one batch are stored once
    dup = pd.concat([readings("s1", 5), readings("s1", 5)])
    assert store.write_readings(dup) == 5


def test_read_readings_window_and_order(store: Store) -> None:
    store.write_readings(pd.concat([readings("s1", 60), readings("s0", 60, value0=100.0)]))
    got = store.read_readings(["s0"], T0 + pd.Timedelta("10min"), T0 + pd.Timedelta("20min"))
    assert got["sensor_id"].unique().tolist() == ["s0"]
    assert len(got) == 10  # start inclusive, end exclusive
    assert got["ts"].is_monotonic_increasing
    assert got["value"].iloc[0] == 110.0
    assert str(got["ts"].dtype) == "datetime64[ns, UTC]"
    both = store.read_readings(["s0", "s1"])
    assert both["sensor_id"].tolist() == ["s0"] * 60 + ["s1"] * 60
    naive = store.read_readings("s1", "2024-03-01 00:30", None)  # naive bounds are UTC
    assert len(naive) == 30


def test_latest_readings(store: Store) -> None:
    store.write_readings(pd.concat([readings("s0", 5), readings("s1", 3, value0=7.0)]))
    last = store.latest_readings().set_index("sensor_id")
    assert last.loc["s0", "value"] == 4.0
    assert last.loc["s1", "ts"] == T0 + pd.Timedelta("2min")
    assert store.latest_readings(["s1"])["sensor_id"].tolist() == ["s1"]


def test_existing_readings_mask(store: Store) -> None:
    store.write_readings(readings("s0", 10))
    cand = pd.concat([readings("s0", 3, start=T0 + pd.Timedelta("8min")), readings("s1", 2)])
    assert store.existing_readings_mask(cand).tolist() == [True, True, False, False, False]
    far = readings("s0", 3, start=T0 + pd.Timedelta("30D"))
    assert not store.existing_readings_mask(far).any()


def test_one_sensor_last_day_is_fast(store: Store) -> None:
    n_sensors, per = 12, 2 * 1440  # two days of minute data for 12 sensors
    frames = [readings(f"s{i}", per, value0=float(i)) for i in range(n_sensors)]
    store.write_readings(pd.concat(frames, ignore_index=True))
    end = T0 + pd.Timedelta("2D")
    store.read_readings("s7", end - pd.Timedelta("1D"), end)  # warm
    t = time.perf_counter()
    day = store.read_readings("s7", end - pd.Timedelta("1D"), end)
    assert len(day) == 1440
    assert time.perf_counter() - t < 0.5


def test_rejected_counts(store: Store) -> None:
    now = pd.Timestamp.now("UTC")
    rej = pd.DataFrame(
        {
            "received_at": [now] * 3,
            "source": ["f.csv:2", "f.csv:3", "lifeline/readings/x"],
            "reason": ["non_numeric", "non_numeric", "malformed_json"],
            "detail": ["a", "b", "c"],
            "raw": ["x", "y", "{"],
        }
    )
    assert store.write_rejected(rej) == 3
    assert store.rejected_counts() == {"malformed_json": 1, "non_numeric": 2}
    assert store.read_table("rejected")["source"].tolist()[:2] == ["f.csv:2", "f.csv:3"]


def test_alarms_and_complaints(store: Store) -> None:
    alarms = pd.DataFrame(
        {
            "alarm_id": ["a1", "a2", "a3"],
            "ts": [T0, T0 + pd.Timedelta("1h"), T0 + pd.Timedelta("2h")],
            "utility": ["water", "gas", "water"],
            "detector": ["threshold"] * 3,
            "severity": [1, 3, 2],
            "sensors": ['["s0"]', '["s1"]', '["s0"]'],
            "score": [0.5, 9.0, 2.0],
        }
    )
    assert store.add_alarms(alarms) == 3
    assert store.add_alarms(alarms.iloc[:1]) == 0
    got = store.list_alarms(since=T0 + pd.Timedelta("30min"), utility="water")
    assert got["alarm_id"].tolist() == ["a3"]
    assert got["severity"].tolist() == [2]
    assert store.list_alarms()["alarm_id"].tolist() == ["a1", "a2", "a3"]
    comp = pd.DataFrame(
        {
            "complaint_id": ["c1", "c2"],
            "ts": [T0, T0 + pd.Timedelta("5min")],
            "channel": ["hotline", "app"],
            "text": ["停水了", "smell of gas"],
            "utility": ["water", "gas"],
        }
    )
    assert store.add_complaints(comp) == 2
    assert store.list_complaints(utility="water")["text"].tolist() == ["停水了"]
    assert store.list_complaints(since=T0 + pd.Timedelta("1min"))["complaint_id"].tolist() == ["c2"]


def test_incidents_upsert_get_list(store: Store) -> None:
    inc = {
        "incident_id": "i1",
        "state": "open",
        "utility": "gas",
        "opened_at": T0,
        "district_id": "d1",
        "body": {"alarms": ["a2"]},
    }
    store.upsert_incident(inc)
    store.upsert_incident(
        {**inc, "incident_id": "i2", "district_id": "d2", "opened_at": T0 + pd.Timedelta("1h")}
    )
    store.upsert_incident({**inc, "state": "closed", "grade": "III"})
    got = store.get_incident("i1")
    assert got["state"] == "closed" and got["grade"] == "III"
    assert '"alarms"' in got["body"]
    assert store.list_incidents(state="open")["incident_id"].tolist() == ["i2"]
    assert store.list_incidents(district="d1")["incident_id"].tolist() == ["i1"]
    assert len(store.list_incidents()) == 2
    with pytest.raises(NotFoundError):
        store.get_incident("nope")


def test_audit_trail(store: Store) -> None:
    store.append_audit("op1", "open", "i1", {"why": "alarm"}, ts=T0)
    store.append_audit("op2", "approve", "i1", None, ts=T0 + pd.Timedelta("1min"))
    store.append_audit("op1", "open", "i2", ts=T0)
    a = store.list_audit("i1")
    assert a["action"].tolist() == ["open", "approve"]
    assert a["actor"].tolist() == ["op1", "op2"]
    assert len(store.list_audit()) == 3


def test_context_manager_and_unknown_table(store: Store) -> None:
    with pytest.raises(NotFoundError):
        store.read_table("nope")


def test_open_store_urls(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with open_store(f"duckdb://{tmp_path}/x.duckdb") as s:
        s.write_readings(readings("s0", 3))
    with open_store(f"duckdb://{tmp_path}/x.duckdb") as s:  # persisted
        assert s.count("reading") == 3
    with open_store() as s:  # default: the DuckDB file under the (test) data dir
        assert s.kind == "duckdb"
    with pytest.raises(ConfigError):
        open_store("mysql://x")


@pytest.mark.services
def test_postgis_geometry_and_srid(pg_url: str) -> None:
    import uuid

    from lifeline.store.postgres_store import PostgresStore

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with PostgresStore(f"{pg_url}?schema={schema}&srid=25832") as pg:
        try:
            pg.init_schema()
            pg.replace_table("sensor", sensors_frame())
            df = pg._query(
                "SELECT sensor_id, ST_X(geom) AS x, ST_SRID(geom) AS srid FROM sensor ORDER BY sensor_id"
            )
            assert df["x"].tolist() == [414000.0, 414001.0, 414002.0]
            assert set(df["srid"]) == {25832}
            near = pg._query(
                "SELECT sensor_id FROM sensor WHERE ST_DWithin(geom, ST_SetSRID(ST_MakePoint(?, ?), 25832), 1.5)",
                [414000.0, 5369000.0],
            )
            assert sorted(near["sensor_id"]) == ["s0", "s1"]
        finally:
            pg.drop_schema()


def test_assume_new_falls_back_when_a_key_exists(store: Store) -> None:
    store.write_readings(readings("s0", 5))
    # a writer that believed its batch new (e.g. a race): no error, no second row
    assert store.write_readings(readings("s0", 8), assume_new=True) == 3
    assert store.count("reading") == 8
    assert store.write_readings(readings("s1", 4), assume_new=True) == 4


@pytest.mark.services
def test_postgres_reconnects_after_the_server_drops_the_connection(pg_url: str) -> None:
    import uuid

    import psycopg

    from lifeline.errors import StoreError
    from lifeline.store.postgres_store import PostgresStore

    with PostgresStore(pg_url, schema=f"t_{uuid.uuid4().hex[:12]}") as pg:
        try:
            pg.init_schema()
            pg.write_readings(readings("s0", 3))
            pid = int(pg._query("SELECT pg_backend_pid() AS p")["p"].iloc[0])
            with psycopg.connect(pg_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", [pid])
            with pytest.raises(StoreError):
                pg.count("reading")  # the call that meets the dead connection fails clearly
            assert pg.count("reading") == 3  # the next one reconnects, same schema
        finally:
            pg.drop_schema()
