"""Growing (incipient) leaks: a rise of leakage in the water balance, located from the growth of
the hourly pressure residuals since it began.

The water balance (:mod:`lifeline.water.balance`) sees a rise of daily leakage within days, but
not where the water goes. From the day a rise began (its *anchor*), the hourly residuals of
every later week are compared with the same-hour baseline frozen at the anchor (the median of
the week before it), whitened like the hourly channel, and the change is located on the leak
signatures as a burst is (:func:`lifeline.water.locate.locate_change`: the
likelihood-weighted medoid of the best fits, moved within the search radius). A leak that grows
keeps pointing at the same place week after week; a change of consumption or the seasons
wanders. A rise is reported when two consecutive weekly picks lie within ``merge_m`` of each
other and both fit with at least the confidence learnt on the history
(:func:`learn_confidence`: the threshold that earns most by the BattLeDIM score on the labelled
history). The pick with the higher confidence is the pipe; the time is the end of the first day
of the first of the two weeks (the leak was running by then; the balance dates a rise to the
day, not the hour). Places near leaks already known, reported by the burst channel or found
here are left to those leaks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from lifeline.water.leaks import Detection, Model, Prepared
from lifeline.water.locate import frozen_change, locate_change
from lifeline.water.network import PipeGraph
from lifeline.water.repeats import not_repeated
from lifeline.water.scada import Leak

DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class GrowthParams:
    """Thresholds and windows of the growth channel (confidence 0..1, metres, weeks, days)."""

    confidence: float = float("inf")  # learnt on the history; inf: the channel is off
    merge_m: float = 300.0
    weeks: int = 8  # how long after its anchor a rise is followed
    span_days: float = 120.0  # a leak found or known stays a nuisance this long


@dataclass
class Pick:
    """The located pipe of one week after an anchor: week end, pipe, confidence."""

    anchor: pd.Timestamp
    day: pd.Timestamp
    pipe: str
    confidence: float


def week_pick(
    pre: Prepared, model: Model, graph: PipeGraph, anchor: pd.Timestamp, day: pd.Timestamp
) -> Pick | None:
    """Locate the change of the week ending ``day`` against the same-hour baseline frozen at
    ``anchor`` (None when fewer than two days of complete hours)."""
    ns = pre.idx.asi8
    t0 = int(np.searchsorted(ns, anchor.value))
    t1 = int(np.searchsorted(ns, day.value))
    if t0 + 24 > len(ns) or t1 <= t0:
        return None
    diff = frozen_change(pre.r, pre.b, pre.idx, t0, max(t0, t1 - 7 * 24), t1)
    if len(diff) < 48:
        return None
    w = pre.ws[min((t1 - 1) // 24, len(pre.ws) - 1)]
    det = locate_change(diff.mean(axis=0), w, model, graph, anchor, day)
    return Pick(anchor, day, det.pipe, det.confidence)


def candidates(
    pre: Prepared, model: Model, graph: PipeGraph, anchors: list[pd.Timestamp], prm: GrowthParams
) -> list[tuple[Pick, Pick]]:
    """For every anchor, consecutive weekly picks that agree (within ``merge_m``): the first
    such pair, with the lower of the two confidences deciding (see the module doc)."""
    out = []
    end = pre.idx[-1]
    for anchor in sorted(anchors):
        prev: Pick | None = None
        for wk in range(1, prm.weeks + 1):
            day = anchor + 7 * wk * DAY
            if day > end + DAY:
                break
            p = week_pick(pre, model, graph, anchor, day)
            if p is None:
                prev = None
                continue
            if prev is not None and graph.pipe_distance(p.pipe, prev.pipe) <= prm.merge_m:
                out.append((prev, p))
                break
            prev = p
    return out


def report_spans(
    bursts: Sequence[Detection], open_days: float
) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    """(pipe, from, until) of the burst channel's reports: a place is a reported leak's from two
    days before its report until ``open_days`` (days, at least two) after it, while the report
    stays open (an incipient leak the hourly channel reported keeps growing)."""
    return [(d.pipe, d.time - 2 * DAY, d.time + max(2.0, open_days) * DAY) for d in bursts]


def _strength(pair: tuple[Pick, Pick]) -> float:
    return min(pair[0].confidence, pair[1].confidence)


def learn_confidence(
    pre: Prepared,
    model: Model,
    graph: PipeGraph,
    anchors: list[pd.Timestamp],
    truth: list[Leak],
    outflow: pd.DataFrame,
    prm: GrowthParams,
    bursts: Sequence[Detection] = (),
    open_days: float = 2.0,
) -> tuple[GrowthParams, dict[str, Any]]:
    """The confidence threshold that earns the most on the labelled history by the BattLeDIM
    score (each leak found earns its water from then on, each false alarm costs 500 €: the
    false-positive budget in money). Learnt as the channel runs on the data: ``bursts``, the
    burst channel's reports on the history, are scored with the channel's finds, so a second
    report of a leak they found is a false alarm, a place stays theirs while their report is
    open (:func:`report_spans`) and a report of theirs put where a find was put before it is
    left out (:func:`repeats.not_repeated`), as on the data. The earnings are what the channel
    adds to the burst reports. Leaks running on the history's first day are known. Off (inf)
    when no threshold earns anything, or without labels and outflows."""
    from lifeline.water.score import Submission, score

    if not truth or outflow.empty or not anchors:
        return prm, {"confidence": "off (no labelled leaks with outflows on the history)"}
    pairs = candidates(pre, model, graph, anchors, prm)
    h0 = pre.idx[0]
    span = pd.Timedelta(days=prm.span_days)
    others = report_spans(bursts, open_days)
    others += [(k.pipe, h0 - 365 * DAY, h0 + span) for k in truth if k.start <= h0 <= k.end]
    known = [k for k in truth if k.start <= h0 <= k.end]
    new = [k for k in truth if k not in known]
    base = [Submission(d.pipe, d.time) for d in bursts]
    eur0 = score(base, new, outflow, graph, ignore=known).score_eur
    best_thr, best_eur, table = float("inf"), 0.0, []
    for thr in sorted({_strength(p) for p in pairs}, reverse=True):
        found = growth_leaks(pairs, graph, others, replace(prm, confidence=thr))
        subs = [Submission(d.pipe, d.time) for d in found]
        # what the channel adds to the burst channel's reports (a second report of a leak
        # they found is a false alarm); a burst report put where a find was put before it is
        # left out, as on the data (:func:`not_repeated`)
        kept = [Submission(d.pipe, d.time) for d in not_repeated(bursts, found, open_days)]
        res = score(kept + subs, new, outflow, graph, ignore=known)
        gain = res.score_eur - eur0
        table.append((round(thr, 3), round(gain), res.tp, res.fp))
        if gain > best_eur:
            best_thr, best_eur = thr, gain
    info: dict[str, Any] = {
        "confidence": round(best_thr, 3) if np.isfinite(best_thr) else "off (earns nothing)",
        "history_eur": round(best_eur),
        "pairs": len(pairs),
        "by_threshold": table[:12],
    }
    return replace(prm, confidence=best_thr), info


def growth_leaks(
    pairs: list[tuple[Pick, Pick]],
    graph: PipeGraph,
    others: list[tuple[str, pd.Timestamp, pd.Timestamp]],
    prm: GrowthParams,
) -> list[Detection]:
    """Growing leaks from the agreeing weekly picks of the balance rises (:func:`candidates`;
    see the module doc). ``others``: (pipe, from, until) of leaks already known or reported,
    each while its flow may change (a burst around its start, a growing leak for
    ``span_days``); a pick within ``merge_m`` of one whose window meets the weeks from the
    anchor to the channel's alarm (the second pick) is that leak."""
    out: list[Detection] = []
    span = pd.Timedelta(days=prm.span_days)
    for first, second in pairs:
        if _strength((first, second)) < prm.confidence:
            continue
        best = max((first, second), key=lambda p: p.confidence)
        taken = others + [(d.pipe, d.time, d.time + span) for d in out]
        if any(
            a <= second.day
            and b >= first.anchor
            and graph.pipe_distance(best.pipe, p) <= prm.merge_m
            for p, a, b in taken
        ):
            continue
        start = first.day - 6 * DAY  # a day into the first week: the anchor is a whole day
        out.append(
            Detection(
                best.pipe,
                start,
                second.day,
                best.confidence,
                [first.pipe, second.pipe],
                channel="growth",
            )
        )
    return out
