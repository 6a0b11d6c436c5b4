"""Which protective device operated, and which region the evidence proves holds the fault.

Device (outage inference). Protection trips name their switch directly. Without a trip (LV
fuses, unmonitored breakers) the device is inferred from meters and calls: every closed switch
that cuts customers is a hypothesis; one or two devices (two overlapping outages, disjoint) are
scored by a Bayesian likelihood of the reports:

* each customer behind an operated device reports (last gasp or call) with an unknown
  probability ``p`` shared by the incident, integrated over a uniform prior on
  [``p_min``, ``p_max``] (messages get lost: 5–40 % of meters);
* a reporting customer behind no operated device is noise (own service fuse, in-house fault),
  with a small rate ``noise_rate`` per customer;
* a second device costs its prior (``double_prior`` spread over every candidate).

Devices in series that cut exactly the same customers explain the evidence equally; the one
farthest downstream (deepest from the supply) is named, as protection selectivity makes the
device nearest the fault operate first.

Fault region (fault passage indicators). The fault lies on a line behind the device. Fault
current passes every closed switch from the supply down to the faulted section (the supply
tree path). A line stays a hypothesis when its path holds every fired indicator; among those,
the ones with the fewest silent fitted indicators on the path (ideally none) are kept. The
region is the union of the kept lines' switchable sections — the smallest region the evidence
proves, never a guess smaller than that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lifeline.power.evidence import Evidence
from lifeline.power.topology import SectionGraph, SupplyTree


@dataclass
class InferenceParams:
    """Prior knowledge of the inference (probabilities, per incident or per customer)."""

    p_min: float = 0.4  #: lowest plausible share of cut customers that report (last gasp or call)
    p_max: float = 0.995  #: highest plausible share
    noise_rate: float = 2.0  #: expected unrelated outage reports per incident (whole network)
    double_prior: float = 0.15  #: prior probability that a second, overlapping outage occurred
    no_outage_prior: float = 0.05  #: prior that reports without any trip are all unrelated noise
    max_pair_candidates: int = 40  #: devices kept (best single scores) when searching pairs


@dataclass
class Device:
    """An inferred operated device: switch index, customers it cuts, and why."""

    switch: int
    loads: frozenset[int]
    source: str  # "trip" or "meters"
    equivalents: list[int]


def _log_marginal(k: int, n: int, params: InferenceParams, grid: np.ndarray) -> float:
    """log of the mean over p in the prior grid of p^k (1-p)^(n-k)."""
    vals = k * np.log(grid) + (n - k) * np.log1p(-grid)
    m = float(vals.max())
    return m + math.log(float(np.mean(np.exp(vals - m))))


def candidate_devices(g: SectionGraph, tree: SupplyTree) -> dict[frozenset[int], list[int]]:
    """Closed switches grouped by the customers they cut; each group lists the switches
    farthest downstream first (selectivity order)."""
    groups: dict[frozenset[int], list[int]] = {}
    for sw, secs in tree.cut.items():
        if not secs:
            continue
        loads = frozenset(g.loads_of(secs))
        if loads:
            groups.setdefault(loads, []).append(sw)
    for loads, sws in groups.items():
        sws.sort(key=lambda s: (-tree.depth.get(tree.child.get(s, -2), 0), s))
        groups[loads] = sws
    return groups


def infer_devices(
    g: SectionGraph,
    tree: SupplyTree,
    ev: Evidence,
    params: InferenceParams | None = None,
    groups: dict[frozenset[int], list[int]] | None = None,
) -> list[Device]:
    """The operated devices: protection trips, plus devices inferred from meter/call reports.

    With trips, the reports they do not explain may add one inferred device (an overlapping
    outage elsewhere) when that beats calling them noise. Without trips, one or two devices
    are inferred; an empty list means the reports look like noise only. ``groups`` is
    :func:`candidate_devices` of ``(g, tree)`` when the caller keeps it across calls.
    """
    params = params or InferenceParams()
    groups = candidate_devices(g, tree) if groups is None else groups
    by_switch = {s: loads for loads, sws in groups.items() for s in sws}
    fixed: list[Device] = []
    for sw in ev.trips:
        loads = by_switch.get(sw, frozenset())
        if not loads and sw in tree.cut:
            loads = frozenset(g.loads_of(tree.cut[sw]))
        fixed.append(Device(sw, loads, "trip", [sw]))
    observed = set(ev.reported_out()) & set(g.load_mw)
    n_loads = max(len(g.load_mw), 1)
    log_eps = math.log(min(params.noise_rate / n_loads, 0.5))
    log_1m_eps = math.log1p(-min(params.noise_rate / n_loads, 0.5))
    grid = np.linspace(params.p_min, params.p_max, 60)
    covered_fixed: set[int] = set().union(*(d.loads for d in fixed)) if fixed else set()
    rest = observed - covered_fixed
    if not rest:
        return fixed
    # the fixed (tripped) devices' own terms are common to all hypotheses: score the rest only
    n_free = n_loads - len(covered_fixed)

    def score(sets: list[frozenset[int]]) -> float:
        union: set[int] = set()
        k = n = 0
        for s in sets:
            union |= s
            k += len(s & rest)
            n += len(s - covered_fixed)
        noise = len(rest - union)
        quiet_outside = n_free - n - noise
        return _log_marginal(k, n, params, grid) + noise * log_eps + quiet_outside * log_1m_eps

    cands = [
        (loads, sws)
        for loads, sws in groups.items()
        if loads & rest and not (loads & covered_fixed)
    ]
    base = len(rest) * log_eps + (n_free - len(rest)) * log_1m_eps  # all reports are noise
    n_c = max(len(groups), 1)  # prior: any device may operate, not only those near reports
    some = 1 - params.no_outage_prior
    single_prior = math.log(some * (1 - params.double_prior) / n_c)
    pair_prior = (
        math.log(some * params.double_prior / (n_c * (n_c - 1) / 2)) if n_c > 1 else -math.inf
    )
    base += math.log(params.no_outage_prior)
    if fixed:
        # an extra outage on top of a known trip is the "double" case
        single_prior = math.log(params.double_prior / n_c)
        base += math.log(1 - params.double_prior) - math.log(params.no_outage_prior)
    scored = sorted(
        ((score([loads]) + single_prior, loads, sws) for loads, sws in cands), key=lambda t: -t[0]
    )
    best_val, best = base, []
    if scored and scored[0][0] > best_val:
        best_val, best = scored[0][0], [(scored[0][1], scored[0][2])]
    if not fixed:
        top = scored[: params.max_pair_candidates]
        for i in range(len(top)):
            for j in range(i + 1, len(top)):
                a, b = top[i][1], top[j][1]
                if a & b:
                    continue
                val = score([a, b]) + pair_prior
                if val > best_val:
                    best_val, best = val, [(a, top[i][2]), (b, top[j][2])]
    out = list(fixed)
    reported = ev.reported_out()
    for loads, sws in sorted(
        best, key=lambda t: min((reported[i] for i in t[0] & rest), default=None) or 0
    ):
        out.append(Device(sws[0], loads, "meters", list(sws)))
    return out


def fault_region(
    g: SectionGraph,
    tree: SupplyTree,
    device: Device,
    ev: Evidence,
) -> tuple[set[int], dict[str, object]]:
    """Sections the evidence proves hold the fault behind ``device`` and how it was decided.

    Returns (sections, detail) with detail keys ``hypothesis_lines``, ``min_misses``,
    ``fired`` (indicators behind the device that fired).
    """
    area = tree.cut.get(device.switch, frozenset())
    line_secs = [s for s in area if g.section_lines.get(s)]
    if not line_secs:
        return set(), {"hypothesis_lines": [], "min_misses": 0, "fired": []}
    paths = {s: set(tree.path_switches(s)) for s in line_secs}
    # indicators that belong to this device's area (on some path behind the device)
    relevant = set().union(*paths.values())
    fired = ev.fpi_fired & relevant
    installed = ev.fpi_installed
    if installed is not None:
        installed = (installed | fired) & relevant
    keep = [s for s in line_secs if fired <= paths[s]]
    if not keep:  # an indicator fired off every single-line path: keep the best-covered lines
        best_cov = max(len(fired & paths[s]) for s in line_secs)
        keep = [s for s in line_secs if len(fired & paths[s]) == best_cov]
    if installed is None:
        misses = dict.fromkeys(keep, 0)
    else:
        misses = {s: len((paths[s] & installed) - fired) for s in keep}
    m = min(misses.values())
    region = {s for s in keep if misses[s] == m}
    detail: dict[str, object] = {
        "hypothesis_lines": g.lines_of(region),
        "min_misses": m,
        "fired": sorted(fired),
    }
    return region, detail
