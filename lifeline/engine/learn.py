"""Seeding the live engine's detectors from stored history (``lifeline learn``).

Detectors learn normal behaviour online from the stream, so a city connected today needs no
history; when the store already holds readings, ``learn`` lets every detector study them first
and saves what they learnt in the engine's checkpoint, which ``lifeline serve`` resumes from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from lifeline.model.city import City
    from lifeline.store import Store


def learn_from_store(
    city: City,
    store: Store,
    start: Any = None,
    end: Any = None,
    name: str = "engine",
    chunk: pd.Timedelta = pd.Timedelta(days=1),
    progress: bool = True,
) -> dict[str, Any]:
    """Feed the stored readings in ``[start, end)`` (UTC; all when None) to every detector's
    ``learn`` a day at a time, then checkpoint the detectors' state under ``name`` (the
    engine's watermark is kept). Returns the detectors' statuses and the readings used."""
    from lifeline.engine import Engine, EngineConfig
    from lifeline.progress import make_progress

    eng = Engine(city, store, config=EngineConfig(name=name, assess=False), resume=True)
    r0 = store.read_readings(None, start, end)
    if r0.empty:
        return {"readings": 0, "detectors": [i.spec.name for i in eng.instances]}
    t0, t1 = r0["ts"].min().floor("D"), r0["ts"].max()
    days = pd.date_range(t0, t1 + chunk, freq=chunk)
    n = 0
    with make_progress(transient=True, disable=not progress) as bar:
        task = bar.add_task("learning from stored readings", total=len(days) - 1)
        for a, b in zip(days[:-1], days[1:], strict=True):
            part = r0[(r0["ts"] >= a) & (r0["ts"] < b)]
            n += eng.learn(part)
            bar.advance(task)
    eng.checkpoint()
    return {
        "readings": n,
        "detectors": [inst.detector.status().as_dict() for inst in eng.instances],
    }
