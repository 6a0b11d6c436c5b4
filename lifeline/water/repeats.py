"""Whether an alarm is a leak reported already (the burst channel's repeat rules).

A reported leak alarms again: while the same-hour baseline absorbs its step, when its step is
seen at a second sensor group an hour later, and, for an incipient leak, every week or two as it
keeps growing. These rules decide which alarms are such repeats; the batch loop
(:func:`lifeline.water.leaks.detect_prepared`), the online detector's bursts confirmed by their
night (:mod:`lifeline.water.online`) and the growth channel's learning on the history
(:mod:`lifeline.water.growth`) use them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from lifeline.water.leaks import Detection, LeakParams
    from lifeline.water.network import PipeGraph


def absorb_time(prm: LeakParams) -> pd.Timedelta:
    """How long the same-hour baseline takes to follow a step: half the baseline plus a day."""
    return pd.Timedelta(hours=24 * (prm.baseline_days // 2 + 1))


def is_rerun(
    det: Detection, near: list[Detection], dets: list[Detection], absorb: pd.Timedelta
) -> bool:
    """Whether a step verified on the raw data is a reported leak seen again: one reported
    within ``merge_m`` (``near``) began less than ``absorb`` before or after it (the baseline
    has not absorbed that leak's step yet), or any reported one began within an hour of it
    (that burst's step, placed elsewhere)."""
    hour = pd.Timedelta(hours=1)
    return any(abs(det.time - o.time) <= absorb for o in near) or any(
        abs(det.time - o.time) <= hour for o in dets
    )


def same_place(det: Detection, dets: Sequence[Detection], days: float, top: int = 5) -> bool:
    """Whether ``det`` is put where a leak reported in the ``days`` before it (``dets``) was:
    their ``top`` candidates (the ones the report lists) share a pipe. The signatures cannot
    tell the two places apart, and a second leak there within the time a report stays open is
    much less likely than the first one, still growing, alarming again."""
    mine = set(det.candidates[:top]) | {det.pipe}
    return any(
        det.time - o.time <= pd.Timedelta(days=days)
        and bool(mine & (set(o.candidates[:top]) | {o.pipe}))
        for o in dets
        if o.time <= det.time
    )


def reported_recently(
    det: Detection, dets: Sequence[Detection], graph: PipeGraph, prm: LeakParams
) -> bool:
    """Whether one of the leaks reported already (``dets``) lies within ``merge_m`` of ``det``
    and alarmed in the ``merge_days`` before it: the rule for an alarm whose step the raw data
    do not verify (or cannot tell)."""
    days = pd.Timedelta(days=prm.merge_days)
    return any(
        graph.pipe_distance(det.pipe, o.pipe) <= prm.merge_m
        and det.alarm_time - o.alarm_time <= days
        for o in dets
    )


def verified_repeat(
    det: Detection,
    dets: list[Detection],
    graph: PipeGraph,
    prm: LeakParams,
    place: Callable[[Detection], Detection] | None = None,
) -> tuple[Detection, bool]:
    """Whether a burst whose step the raw data verify is one of the leaks reported already
    (``dets``): a re-run of one within ``merge_m`` (:func:`is_rerun`), or, placed by ``place``
    (optional: as it would be reported), put where one of the ``merge_days`` before it was
    (:func:`same_place`). Returns the burst (placed, unless it is a re-run) and the verdict."""
    near = [o for o in dets if graph.pipe_distance(det.pipe, o.pipe) <= prm.merge_m]
    if is_rerun(det, near, dets, absorb_time(prm)):
        return det, True
    if place is not None:
        det = place(det)
    return det, same_place(det, dets, prm.merge_days)


def not_repeated(
    dets: Sequence[Detection], reports: Sequence[Detection], days: float
) -> list[Detection]:
    """The burst reports ``dets`` without those put where one of ``reports`` (the other
    channels' reports) was put in the ``days`` before them, that report's alarm coming first
    (:func:`same_place`): a growing leak another channel reported, alarming again."""
    return [
        d
        for d in dets
        if not same_place(d, [o for o in reports if o.alarm_time <= d.alarm_time], days)
    ]
