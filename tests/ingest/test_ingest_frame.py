"""In-process replay (the demo's path) into both stores: counts per reason and per utility."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifeline.errors import IngestError
from lifeline.ingest import ingest_frame
from lifeline.store import Store
from tests.store.helpers import sensors_frame

T0 = pd.Timestamp("2024-03-01T00:00:00Z")


def day(n: int = 300) -> pd.DataFrame:
    ts = T0 + pd.to_timedelta(np.arange(n), unit="min")
    return pd.concat(
        [
            pd.DataFrame({"sensor_id": "s0", "ts": ts, "value": 40.0}),  # water, 0..100
            pd.DataFrame(
                {"sensor_id": "s1", "ts": ts, "value": np.where(np.arange(n) % 10 == 0, 12.0, 4.0)}
            ),  # gas
            pd.DataFrame({"sensor_id": "sX", "ts": ts[:5], "value": 1.0}),
        ],
        ignore_index=True,
    )


def test_replay_counts_per_reason_and_utility(store: Store) -> None:
    store.replace_table("sensor", sensors_frame())
    rep = ingest_frame(store, day(), "demo-day", now=T0 + pd.Timedelta("1D"), chunk_rows=200)
    assert rep.stored == 300 + 270
    assert rep.rejected == {"out_of_range": 30, "unknown_sensor": 5}
    assert rep.per_utility["water"] == {"stored": 300}
    assert rep.per_utility["gas"] == {"stored": 270, "rejected": 30}
    assert rep.per_utility[""] == {"rejected": 5}
    assert store.count("reading") == 570
    assert store.rejected_counts() == {"out_of_range": 30, "unknown_sensor": 5}
    again = ingest_frame(store, day(), "demo-day", now=T0 + pd.Timedelta("1D"))
    assert again.stored == 0 and again.rejected["duplicate"] == 570
    assert rep.as_dict()["rejected_total"] == 35


def test_records_as_dicts_and_empty_sensor_table(store: Store) -> None:
    with pytest.raises(IngestError, match="sensor table is empty"):
        ingest_frame(store, [{"sensor_id": "s0", "ts": "2024-03-01T00:00Z", "value": 1}], "x")
    rep = ingest_frame(
        store,
        [{"sensor_id": "s0", "ts": "2024-03-01T00:00Z", "value": 1}, {"sensor_id": "s0"}],
        "x",
        sensors=sensors_frame(),
        now=T0,
    )
    assert rep.stored == 1 and rep.rejected == {"missing_field": 1}
