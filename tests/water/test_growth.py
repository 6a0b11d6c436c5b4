"""The growth channel (lifeline/water/growth.py) on an incipient leak the test simulates itself
(WNTR/EPANET, Net3): located from the growth of the hourly residuals since the rise began."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifeline.water import growth
from lifeline.water import leaks as lk
from lifeline.water.network import PipeGraph
from lifeline.water.scada import Leak

from .sim import calibrated
from .test_leaks import hops

START = 24 * 22 + 3  # the leak begins on day 22 at 03:00 (14 days calibrate, 7 build the baseline)
T0 = pd.Timestamp("2021-03-01")
PRM = growth.GrowthParams()
PIPE = "291"  # a pipe the 18 sensors of the test layout place within 300 m (many they do not)


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifeline.config import get_settings

    monkeypatch.setenv("LIFELINE_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()


def _prepared(out: Path, pipe: str | None) -> tuple[Path, lk.Prepared, lk.Model, PipeGraph]:
    """38 days of Net3 with a leak growing from 0 to 150 m³/h over 10 days (or none)."""
    return calibrated(out, pipe, START, days=38, burst_m3h=150.0, ramp_hours=240, seed=4)


def _labels(pre: lk.Prepared) -> tuple[pd.Timestamp, pd.Timestamp, list[Leak], pd.DataFrame]:
    """The simulated leak as a labelled history: the rise's anchor (its day), its start, the
    label and its outflow (m³/h, growing 0 → 150 over 10 days)."""
    start = T0 + pd.Timedelta(hours=START)
    truth = [Leak(PIPE, start, start + pd.Timedelta(days=30), 0.01, "incipient", None)]
    grow = (pd.Series(range(len(pre.idx)), index=pre.idx) - START).clip(0, 240) / 240 * 150.0
    return start.floor("D"), start, truth, pd.DataFrame({PIPE: grow})


def test_a_growing_leak_is_located_where_it_grows(tmp_path: Path) -> None:
    inp, pre, model, graph = _prepared(tmp_path / "leak", PIPE)
    anchor = (T0 + pd.Timedelta(hours=START)).floor("D")
    pairs = growth.candidates(pre, model, graph, [anchor], PRM)
    assert len(pairs) == 1
    first, second = pairs[0]
    assert first.anchor == anchor and second.day > first.day
    best = max(pairs[0], key=lambda p: p.confidence)
    assert hops(inp, best.pipe, PIPE) <= 2
    # the same weeks without a leak do not point anywhere as clearly
    _, pre0, model0, graph0 = _prepared(tmp_path / "none", None)
    quiet = growth.candidates(pre0, model0, graph0, [anchor], PRM)
    assert all(min(a.confidence, b.confidence) < best.confidence for a, b in quiet)


def test_thresholds_from_history_and_what_is_already_known(tmp_path: Path) -> None:
    inp, pre, model, graph = _prepared(tmp_path / "leak", PIPE)
    anchor, start, truth, outflow = _labels(pre)
    prm, info = growth.learn_confidence(pre, model, graph, [anchor], truth, outflow, PRM)
    assert np.isfinite(prm.confidence) and info["history_eur"] > 0  # finding it earns
    pairs = growth.candidates(pre, model, graph, [anchor], prm)
    found = growth.growth_leaks(pairs, graph, [], prm)
    assert len(found) == 1 and hops(inp, found[0].pipe, PIPE) <= 2
    assert found[0].channel == "growth"
    assert start - pd.Timedelta(days=1) <= found[0].time <= found[0].alarm_time
    # a leak known there while it may grow is that leak, not a new one
    known = [(PIPE, start - pd.Timedelta(days=60), start + pd.Timedelta(days=60))]
    assert growth.growth_leaks(pairs, graph, known, prm) == []
    # a history whose only rise is not where any labelled leak is: nothing earns, channel off
    elsewhere = [Leak("10", start, start + pd.Timedelta(days=30), 0.01, "incipient", None)]
    off, info = growth.learn_confidence(
        pre, model, graph, [anchor], elsewhere, outflow.rename(columns={PIPE: "10"}), PRM
    )
    assert off.confidence == float("inf") and "off" in str(info["confidence"])
    assert growth.growth_leaks(pairs, graph, [], off) == []
    # without labels the channel stays off
    off, _ = growth.learn_confidence(pre, model, graph, [anchor], [], pd.DataFrame(), PRM)
    assert off.confidence == float("inf")


def test_threshold_counts_what_it_adds_to_the_burst_reports_of_the_history(tmp_path: Path) -> None:
    _, pre, model, graph = _prepared(tmp_path / "leak", PIPE)
    anchor, start, truth, outflow = _labels(pre)
    hour = pd.Timedelta(hours=1)
    # the burst channel reported the leak on the history and keeps it open for 20 days: the
    # growth channel's report of it would be a second one, so it adds nothing and stays off
    found = [lk.Detection(PIPE, start + hour, start + 2 * hour, 0.9)]
    off, info = growth.learn_confidence(
        pre, model, graph, [anchor], truth, outflow, PRM, found, 20.0
    )
    assert off.confidence == float("inf") and info["history_eur"] == 0
    # a burst report elsewhere (a false alarm) costs the same either way: the channel still earns
    far = max(graph.pipes, key=lambda p: graph.pipe_distance(p, PIPE))
    assert graph.pipe_distance(far, PIPE) > PRM.merge_m
    wrong = [lk.Detection(far, start + hour, start + 2 * hour, 0.9)]
    on, info = growth.learn_confidence(
        pre, model, graph, [anchor], truth, outflow, PRM, wrong, 20.0
    )
    assert np.isfinite(on.confidence) and info["history_eur"] > 0
