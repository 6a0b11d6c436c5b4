"""A reported burst's place refined with the network model: the candidate pipes' residual
changes simulated with EPANET at the burst's size and hour, instead of their linear signatures.

The leak signatures (:func:`lifeline.water.network.sensitivity`) are the pressure response to a
small test leak at midnight. Where a leak's response depends on the hour (ky4, whose demands
and controls change its hydraulic state through the day; :meth:`Refiner.hour_agreement`),
that pattern is wrong at most hours and the best linear fits lie hundreds of metres from a
burst. For a burst the hourly channel reports, the 50 pipes that
fit its mean residual change best are simulated: a leak at the pipe's end nodes (an emitter,
as BattLeDIM's leaks are) sized to match the change, against the same flow added to every
demand (the part the residual model's inflow terms take), single period at the pattern hour
of the change. Each pipe's fit is its simulated change projected on the observed one, whitened
as the hourly channel whitens; the report is then picked from these fits as before
(:func:`lifeline.water.locate.pick_pipe`). `lifeline water leaks` uses it where the hour test
says so, unless the labelled history overrules it (:func:`lifeline.water.pipeline.burst_refiner`;
`--refine-bursts` / `--no-refine-bursts` force it): on ky4's development years it placed the
bursts better, on L-Town's worse (docs/water.md).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lifeline.water.epanet import (
    EN_DEMAND,
    EN_DEMANDMULT,
    EN_DURATION,
    EN_EMITTER,
    EN_JUNCTION,
    EN_NODECOUNT,
    EN_PATTERNSTART,
    EN_PRESSURE,
    Toolkit,
)
from lifeline.water.network import PipeGraph

TOP = 50  # pipes simulated per burst (the best linear fits)
TEST_SHARE = 0.05  # the first solve's leak: this share of the hour's total demand
SAMPLE = 40  # pipes whose response is compared across the hours (spread through the network)
HOURS = (6, 12, 18)  # pattern hours compared with midnight, the hour of the linear signatures
AGREEMENT = 0.99  # below this median cosine the signatures depend on the hour: refine (default)


class Refiner:
    """The network's EPANET model, kept open for single-period solves of candidate leaks.
    ``sensors``: the pressure sensors' node ids, in the order of the residual vectors."""

    def __init__(self, inp: str | Path, sensors: list[str], graph: PipeGraph) -> None:
        self.en = Toolkit(inp)
        en = self.en
        en.set_time(EN_DURATION, 0)
        n = en.count(EN_NODECOUNT)
        self.junctions = [i for i in range(1, n + 1) if en.node_type(i) == EN_JUNCTION]
        self.index = {en.node_id(i): i for i in self.junctions}
        self.sensors = [en.node_index(s) for s in sensors]
        self.graph = graph
        self.hour = -1
        self.auto = False  # chosen by the hour test, not asked for: the history may overrule it
        self.demand = 1.0
        self.node_p: dict[int, float] = {}
        self.uniform: dict[float, np.ndarray] = {}
        en.open_hydraulics()

    def close(self) -> None:
        """Release the EPANET project."""
        self.en.close_hydraulics()
        self.en.close()

    def _solve(self) -> tuple[np.ndarray, np.ndarray]:
        """Sensor pressures (m) and junction demands (flow units, emitters included)."""
        self.en.init_hydraulics(0)
        self.en.run_hydraulics()
        return (
            self.en.node_values(self.sensors, EN_PRESSURE),
            self.en.node_values(self.junctions, EN_DEMAND),
        )

    def _at(self, hour: int) -> None:
        """Solve the hour's base state (pattern start ``hour`` h) once."""
        if hour == self.hour:
            return
        self.en.set_time(EN_PATTERNSTART, hour * 3600)
        self.en.set_option(EN_DEMANDMULT, 1.0)
        _, d0 = self._solve()
        self.demand = max(float(np.clip(d0, 0, None).sum()), 1e-9)
        p = self.en.node_values(self.junctions, EN_PRESSURE)
        self.node_p = dict(zip(self.junctions, p, strict=True))
        self.uniform = {}
        self.hour = hour

    def change(self, pipe: str, q: float, hour: int) -> np.ndarray:
        """Residual change (m per sensor) of a leak of ``q`` (flow units) on ``pipe`` at
        ``hour``: pressures with the leak minus pressures with its outflow added to every
        demand in proportion."""
        self._at(hour)
        g = self.graph
        ends = [g.node_names[n] for n in g.ends[g.index(pipe)]]
        nodes = [self.index[e] for e in ends if e in self.index]
        if not nodes or q <= 0:
            return np.zeros(len(self.sensors))
        for nd in nodes:
            c = (q / len(nodes)) / np.sqrt(max(self.node_p[nd], 1.0))
            self.en.set_node_value(nd, EN_EMITTER, c)
        p1, d1 = self._solve()
        for nd in nodes:
            self.en.set_node_value(nd, EN_EMITTER, 0.0)
        out = round(float(np.clip(d1, 0, None).sum()) - self.demand, 3)
        if out not in self.uniform:
            self.en.set_option(EN_DEMANDMULT, 1.0 + out / self.demand)
            self.uniform[out], _ = self._solve()
            self.en.set_option(EN_DEMANDMULT, 1.0)
        return p1 - self.uniform[out]

    def hour_agreement(self, n: int = SAMPLE) -> float:
        """How little the network's response to a leak depends on the hour (cosine, 0..1): the
        median, over ``n`` pipes spread through the network and the pattern hours
        :data:`HOURS`, of the cosine between a test leak's residual change (at
        :data:`TEST_SHARE` of the hour's demand) at that hour and at midnight, the hour of the
        linear leak signatures. Near 1 where the network's hydraulic state is much the same all
        day (L-Town: 0.9995); lower where demands swing through the day or controls switch
        pumps and valves (ky4: 0.90, Net3: 0.94)."""
        pipes = self.graph.pipes[:: max(len(self.graph.pipes) // n, 1)][:n]
        self._at(0)
        base = {p: self.change(p, TEST_SHARE * self.demand, 0) for p in pipes}
        cos = []
        for hour in HOURS:
            self._at(hour)
            for p in pipes:
                a, b = base[p], self.change(p, TEST_SHARE * self.demand, hour)
                na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
                if na > 0 and nb > 0:
                    cos.append(float(a @ b) / (na * nb))
        return float(np.median(cos)) if cos else 1.0

    def fits(
        self, change: np.ndarray, w: np.ndarray, a: np.ndarray, pipes: list[str], hour: int
    ) -> np.ndarray:
        """The fits ``a`` (projections of the whitened ``change`` on the pipes' unit
        signatures) with those of the :data:`TOP` best pipes replaced by the projection on
        their simulated change (``w``: the whitener; ``change`` in m per sensor). Each pipe's
        leak is sized by a first solve at :data:`TEST_SHARE` of the demand, scaled linearly
        to match ``change`` (at most 80 % of the demand)."""
        self._at(hour)
        m = w @ change
        out = a.copy()
        q0 = TEST_SHARE * self.demand
        for j in np.argsort(-a)[:TOP]:
            d0 = self.change(pipes[j], q0, hour)
            nn = float(d0 @ d0)
            q = q0 * float(d0 @ change) / nn if nn > 0 else 0.0
            if q <= 0:
                continue
            v = w @ self.change(pipes[j], min(q, 0.8 * self.demand), hour)
            nv = float(np.linalg.norm(v))
            if nv > 0:
                out[j] = float(v @ m) / nv
        return out
