"""Detection and localisation of a burst that the test simulates itself (WNTR/EPANET, Net3)."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd
import pytest

from lifeline.detect.base import Detector, ThresholdPolicy
from lifeline.water.network import load_network
from lifeline.water.online import WaterLeakDetector
from lifeline.water.pipeline import run_leaks, write_results
from lifeline.water.score import read_submission

from .sim import calibrated, simulate

BURST_HOUR = 24 * 24 + 5  # day 24, 05:00


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifeline.config import get_settings

    monkeypatch.setenv("LIFELINE_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()


def hops(inp: Path, a: str, b: str) -> int:
    """Number of link-to-link steps between links ``a`` and ``b``."""
    wn = load_network(inp)
    g = nx.Graph()
    for node in wn.node_name_list:
        links = wn.get_links_for_node(node)
        g.add_edges_from((x, y) for x in links for y in links if x != y)
    return int(nx.shortest_path_length(g, a, b))


@pytest.mark.parametrize("pipe", ["173", "251"])
def test_burst_found_on_right_pipe(tmp_path: Path, pipe: str) -> None:
    inp, scada, _ = simulate(tmp_path, pipe, BURST_HOUR)
    dets = run_leaks(inp, scada, progress=False)
    burst = pd.Timestamp("2021-03-01") + pd.Timedelta(hours=BURST_HOUR)
    assert dets, "the burst was not detected"
    first = dets[0]
    assert burst <= first.time <= burst + pd.Timedelta(hours=6)
    assert first.alarm_time <= burst + pd.Timedelta(hours=12)
    assert hops(inp, first.pipe, pipe) <= 2
    out = tmp_path / "results.txt"
    write_results(dets, out)
    assert read_submission(out)[0].pipe == first.pipe


@pytest.mark.parametrize(
    ("verified", "where", "late", "new"),
    [
        (True, "near", False, True),
        (True, "same", False, False),
        (True, "same", True, True),
        (None, "near", False, False),
    ],
)
def test_a_burst_near_an_earlier_report_is_a_new_leak_unless_it_is_put_in_the_same_place(
    tmp_path: Path, verified: bool | None, where: str, late: bool, new: bool
) -> None:
    """A leak reported ten days before (within ``merge_days``; ``late``: just after them),
    ``near`` (within ``merge_m``, none of the burst's five candidates) or at the ``same`` place.
    When the raw data verify the new burst's step, it is a new leak (the earlier leak's step was
    absorbed by the baseline long ago and a leak that persists makes no new step) unless it is
    put where the open report is: its candidates share a pipe, the earlier leak growing. When
    the raw data cannot tell (``None``), an alarm near a recent report is that leak again."""
    from lifeline.water import leaks as lk

    inp, pre, model, graph = calibrated(tmp_path, "173", BURST_HOUR)
    n = model.params.calib_days * 24
    burst = pd.Timestamp("2021-03-01") + pd.Timedelta(hours=BURST_HOUR)

    def raw_test(d: lk.Detection) -> tuple[lk.Detection, bool | None]:
        """A raw-data test that finds the step where the burst began and nowhere else."""
        step = abs(d.time - burst) <= pd.Timedelta(hours=6)
        return d, (step if verified else None)

    alone = lk.detect_prepared(pre, model, graph, start=n, burst=raw_test)
    assert len(alone) == 1
    put = alone[0]
    if where == "same":
        pipe = put.pipe
    else:
        shown = set(put.candidates[:5]) | {put.pipe}
        pipe = min(
            (p for p in model.pipes if p not in shown),
            key=lambda p: graph.pipe_distance(put.pipe, p),
        )
        assert graph.pipe_distance(put.pipe, pipe) <= model.params.merge_m
    days = model.params.merge_days + 1 if late else 10
    earlier = put.time - pd.Timedelta(days=days)
    state = lk.AlarmState(dets=[lk.Detection(pipe, earlier, earlier, 1.0)])
    dets = lk.detect_prepared(pre, model, graph, start=n, burst=raw_test, state=state)
    if new:
        assert len(dets) == 1 and hops(inp, dets[0].pipe, "173") <= 2
        assert burst <= dets[0].time <= burst + pd.Timedelta(hours=6)
    else:
        assert dets == []


@pytest.mark.xfail(
    strict=True,
    reason="known weakness (issue 16): the second burst's change includes the first's step, "
    "so it is placed next to the first and merged as its re-alarm; taking the reported steps "
    "out before placing it was tried and not kept (bench/results/battledim_ab_second_burst.json)",
)
def test_a_second_burst_hours_after_a_first_is_found_where_it_is(tmp_path: Path) -> None:
    """Two bursts six hours apart, far from each other: both should be reported, the second at
    its own place and hour. Today the second's change is located with the first's step still
    in it (the baseline has not absorbed it yet), lands next to the first and is merged as its
    re-alarm (ky4 w7 and w32, development worlds: bursts of 37-46 m³/h lost so)."""
    from lifeline.water import leaks as lk

    later = BURST_HOUR + 6
    inp, pre, model, graph = calibrated(tmp_path, "251", BURST_HOUR, second=("173", later))
    assert graph.pipe_distance("173", "251") > 2 * model.params.merge_m
    t0 = pd.Timestamp("2021-03-01")
    starts = [t0 + pd.Timedelta(hours=h) for h in (BURST_HOUR, later)]

    def raw_test(d: lk.Detection) -> tuple[lk.Detection, bool | None]:
        """A raw-data test that verifies a step within two hours of either burst's start."""
        return d, any(abs(d.time - s) <= pd.Timedelta(hours=2) for s in starts)

    n = model.params.calib_days * 24
    dets = lk.detect_prepared(pre, model, graph, start=n, burst=raw_test)
    assert len(dets) == 2
    assert hops(inp, dets[0].pipe, "251") <= 2 and hops(inp, dets[1].pipe, "173") <= 2
    # the hourly change point (the raw data sharpen it in the command), not the first burst's
    assert abs(dets[1].time - starts[1]) <= pd.Timedelta(hours=2)


@pytest.mark.parametrize("verified", [True, None])
def test_a_burst_on_a_holiday_is_not_vetoed_when_the_raw_data_see_its_step(
    tmp_path: Path, verified: bool | None
) -> None:
    """On a holiday the inflow is below its same-hour baseline all day, which the hourly repair
    veto reads as a repair. When the raw data verify the burst's supply step, that decides;
    when they cannot tell (``None``), the veto stands."""
    from lifeline.water import leaks as lk

    inp, pre, model, graph = calibrated(tmp_path, "251", BURST_HOUR, holiday=BURST_HOUR // 24)
    n = model.params.calib_days * 24
    burst = pd.Timestamp("2021-03-01") + pd.Timedelta(hours=BURST_HOUR)
    assert (
        pre.dq[BURST_HOUR : BURST_HOUR + 6].mean() < model.params.q_veto
    )  # the holiday looks like a repair

    def raw_test(d: lk.Detection) -> tuple[lk.Detection, bool | None]:
        step = abs(d.time - burst) <= pd.Timedelta(hours=6)
        return d, (step if verified else None)

    dets = lk.detect_prepared(pre, model, graph, start=n, burst=raw_test)
    hits = [d for d in dets if burst <= d.time <= burst + pd.Timedelta(hours=6)]
    if verified:
        assert len(hits) == 1 and hops(inp, hits[0].pipe, "251") <= 2
    else:
        assert hits == []


def test_no_burst_no_alarm(tmp_path: Path) -> None:
    inp, scada, _ = simulate(tmp_path, None, BURST_HOUR, seed=3)
    assert run_leaks(inp, scada, progress=False) == []


@pytest.mark.xfail(
    strict=True,
    reason="known weakness (issue 16): the CUSUM threshold is bootstrapped on the same history "
    "the model was fitted on; on 21 leak-free days it comes out at the grid floor and the "
    "first day of new data raises a false alarm before the burst",
)
def test_history_calibration(tmp_path: Path) -> None:
    hist_dir = tmp_path / "hist"
    hist_dir.mkdir()
    inp, hist, _ = simulate(hist_dir, None, 0, days=21, seed=5)
    # the data do not follow the history: the burst comes after a week of same-hour baseline
    burst = pd.Timestamp("2021-03-01") + pd.Timedelta(hours=24 * 9 + 3)
    _, scada, _ = simulate(tmp_path, "173", 24 * 9 + 3, days=12, seed=6)
    dets = run_leaks(inp, scada, history_dir=hist, progress=False)
    assert dets and hops(inp, dets[0].pipe, "173") <= 2
    assert burst <= dets[0].time <= burst + pd.Timedelta(hours=6)


def _long(scada: Path) -> pd.DataFrame:
    frames = []
    for kind in ("Pressures", "Flows", "Levels"):
        df = pd.read_csv(
            next(scada.glob(f"*_{kind}.csv")), sep=";", decimal=",", index_col=0, parse_dates=True
        )
        long = df.stack().rename("value").reset_index()
        long.columns = ["ts", "sensor_id", "value"]
        frames.append(long)
    out = pd.concat(frames)
    out["ts"] = pd.to_datetime(out["ts"]).dt.tz_localize("UTC")
    return out


def test_online_detector_alarm_within_an_hour(tmp_path: Path) -> None:
    inp, scada, _ = simulate(tmp_path, "251", BURST_HOUR)
    readings = _long(scada)
    burst = pd.Timestamp("2021-03-01", tz="UTC") + pd.Timedelta(hours=BURST_HOUR)
    det = WaterLeakDetector(inp)
    assert isinstance(det, Detector)
    det.learn(readings[readings["ts"] < pd.Timestamp("2021-03-22", tz="UTC")])
    later = readings[readings["ts"] >= pd.Timestamp("2021-03-22", tz="UTC")]
    scores = pd.concat([det.score(g) for _, g in later.groupby(later["ts"].dt.floor("6h"))])
    alarms = ThresholdPolicy(threshold=1.0).alarms(scores, det.name, det.utility)
    assert len(alarms) >= 1
    first = alarms.sort_values("ts").iloc[0]
    assert burst <= first["ts"] <= burst + pd.Timedelta(hours=1)
    located = first["location"]
    assert hops(inp, __import__("json").loads(located)[0]["asset_id"], "251") <= 2


def test_dead_sensor_is_dropped_and_reported(tmp_path: Path) -> None:
    inp, scada, sensors = simulate(tmp_path, "251", BURST_HOUR)
    path = next(scada.glob("*_Pressures.csv"))
    df = pd.read_csv(path, sep=";", decimal=",", index_col=0)
    df[sensors[3]] = float("nan")
    df.to_csv(path, sep=";", decimal=",")
    report: dict = {}
    dets = run_leaks(inp, scada, progress=False, report=report)
    assert report["dropped_sensors"] == [sensors[3]]
    assert dets and hops(inp, dets[0].pipe, "251") <= 2


def _truth(folder: Path, pipe: str, start: pd.Timestamp, end: pd.Timestamp, m3h: float) -> Path:
    """A truth folder labelling one abrupt leak of ``m3h`` on ``pipe`` from ``start`` to ``end``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leaks.csv").write_text(
        "linkID,startTime,endTime,leakDiameter,leakType,peakTime\n"
        f"{pipe},{start:%Y-%m-%d %H:%M},{end:%Y-%m-%d %H:%M},0.05,abrupt,{start:%Y-%m-%d %H:%M}\n"
    )
    idx = pd.date_range(start.floor("D") - pd.Timedelta(days=30), end, freq="1h")
    flow = pd.DataFrame({pipe: ((idx >= start) & (idx <= end)) * m3h}, index=idx)
    flow.index.name = "Timestamp"
    flow.to_csv(folder / "leak_outflow.csv")
    return folder


@pytest.mark.parametrize("labelled", [True, False])
def test_the_burst_channel_reports_only_when_it_earned_on_the_history(
    tmp_path: Path, labelled: bool
) -> None:
    """The history holds a burst on pipe 173. Labelled as it is, the channel's report there
    earns its water and the data's burst (pipe 251) is reported; labelled as a leak elsewhere
    (so the report is a false alarm and the label's leak is missed), the channel earned less
    than its false alarms cost and stays off, saying so."""
    hist_dir = tmp_path / "hist"
    hist_dir.mkdir()
    inp, hist, _ = simulate(hist_dir, "173", BURST_HOUR, seed=5)
    start = pd.Timestamp("2021-03-01") + pd.Timedelta(hours=BURST_HOUR)
    end = pd.Timestamp("2021-03-28 23:00")
    truth = _truth(tmp_path / "truth", "173" if labelled else "10", start, end, 300.0)
    _, scada, _ = simulate(tmp_path, "251", BURST_HOUR, seed=6)
    report: dict = {}
    dets = run_leaks(inp, scada, hist, truth, progress=False, report=report)
    # Net3's response to a leak depends on the hour, so the model would place the bursts; with
    # a labelled history the placement that earned more there is used (tests/water/test_refine.py)
    assert "on the labelled history" in report["burst_placement"]
    assert (report["history_bursts"]["tp"] == 1) == labelled
    burst = [d for d in dets if start <= d.time <= start + pd.Timedelta(hours=6)]
    if labelled:
        assert burst and hops(inp, burst[0].pipe, "251") <= 2
        assert report["bursts"] == "on"
    else:
        assert burst == []
        assert report["bursts"].startswith("off")


def test_a_burst_put_where_another_channel_reported_a_growing_leak_is_left_out() -> None:
    """A burst report whose candidates hold the pipe another channel reported (its alarm first,
    within ``days``) is that leak again; one that came before that alarm, one put elsewhere and
    one after ``days`` are reports of their own."""
    from lifeline.water.leaks import Detection
    from lifeline.water.repeats import not_repeated

    t = pd.Timestamp("2022-03-01")
    day = pd.Timedelta(days=1)
    growth = Detection("p7", t, t + 10 * day, 0.9, ["p7"], channel="growth")

    def burst(at: pd.Timestamp, cands: list[str]) -> Detection:
        return Detection(cands[0], at, at + pd.Timedelta(hours=2), 0.8, cands)

    again = burst(t + 12 * day, ["p5", "p6", "p7"])
    before = burst(t + 5 * day, ["p5", "p6", "p7"])  # reported before the growth alarm
    elsewhere = burst(t + 12 * day, ["p1", "p2", "p3"])
    late = burst(t + 30 * day, ["p7"])
    kept = not_repeated([before, again, elsewhere, late], [growth], days=20.0)
    assert kept == [before, elsewhere, late]
