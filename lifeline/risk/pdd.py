"""Batched pressure-driven (PDD) EPANET runs: close a set of links, solve one period, read demand.

One EPANET project (:class:`lifeline.water.epanet.Toolkit`, lifeline's one toolkit wrapper) per
chunk of scenarios: the INP (passed as text, so a remote Dask worker needs no shared file system)
is opened once, then for every scenario the links are closed, one
hydraulic period is solved and the delivered demand read, and the links are reopened. The
demand model is EPANET 2.2's pressure-driven analysis (Wagner et al. 1988 pressure–outflow
relation); networks saved as demand-driven are switched to PDD with ``required_m``. The solve is
at the peak-demand hour of the first week unless an hour is given.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from lifeline.errors import NetworkModelError
from lifeline.water.epanet import (
    EN_DEMAND,
    EN_DIAMETER,
    EN_DURATION,
    EN_INITSTATUS,
    EN_JUNCTION,
    EN_NODECOUNT,
    EN_PATTERNSTART,
    EN_PDA,
    EN_PRESSURE,
    UNITS,
    Toolkit,
    ToolkitError,
    describe,
)

__all__ = ["UNITS", "PddSettings", "peak_hour_s", "run_chunk"]


@dataclass
class PddSettings:
    """Settings of the scenario runs. Pressures in m, time in s."""

    hour_s: int = 0  # model time of the single-period solve (pattern start)
    required_m: float = 20.0  # PDD required pressure used when the model is demand-driven
    minimum_m: float = 0.0
    exponent: float = 0.5
    served_below: float = 0.5  # a node is 'cut' below this fraction of its baseline delivery


def peak_hour_s(wn: Any, days: int = 7) -> int:
    """Model time (s) of the pattern step with the highest total base demand in the first ``days``."""
    step = int(wn.options.time.pattern_timestep or 3600)
    n = max(1, days * 86400 // step)
    total = np.zeros(n)
    default = wn.options.hydraulic.pattern
    for name in wn.junction_name_list:
        for d in wn.get_node(name).demand_timeseries_list:
            pat = (
                d.pattern
                if d.pattern is not None
                else (wn.get_pattern(default) if default in wn.pattern_name_list else None)
            )
            if pat is None or not len(pat.multipliers):
                total += d.base_value
            else:
                m = np.asarray(pat.multipliers, dtype=float)
                total += d.base_value * m[np.arange(n) % len(m)]
    return int(np.argmax(total)) * step


class _Project:
    """An open EPANET project (:class:`lifeline.water.epanet.Toolkit`) ready for single-period
    solves."""

    def __init__(self, inp_text: str, tmp: str, settings: PddSettings) -> None:
        inp = os.path.join(tmp, "net.inp")
        with open(inp, "w") as fh:
            fh.write(inp_text)
        try:
            self.en = Toolkit(inp)
        except ToolkitError as exc:
            raise NetworkModelError(f"EPANET cannot open the model: {describe(exc.code)}") from exc
        en = self.en
        qf, pf = UNITS.get(en.flow_units(), (1.0, 1.0))
        self.qf, self.pf = qf, pf
        if en.demand_model()[0] != EN_PDA:  # demand-driven model: switch to PDD
            en.set_demand_model(
                EN_PDA, settings.minimum_m / pf, settings.required_m / pf, settings.exponent
            )
        en.set_time(EN_DURATION, 0)
        en.set_time(EN_PATTERNSTART, int(settings.hour_s))
        n_nodes = en.count(EN_NODECOUNT)
        self.junc = [i for i in range(1, n_nodes + 1) if en.node_type(i) == EN_JUNCTION]
        self.node_ids = [en.node_id(i) for i in range(1, n_nodes + 1)]
        self.status0: dict[int, float] = {}
        self._lidx: dict[str, int] = {}
        en.open_hydraulics()

    def link(self, name: str) -> int | None:
        """1-based EPANET index of link ``name`` (None if absent); remembers its initial status."""
        if name not in self._lidx:
            i = self.en.link_index(name, missing_ok=True)
            if i == 0:
                return None
            self._lidx[name] = i
            self.status0[i] = self.en.link_value(i, EN_INITSTATUS)
        return self._lidx[name]

    def _shut(self, i: int) -> float | None:
        """Close link ``i``; a check-valve pipe (status not settable) gets a ~zero diameter.

        Returns the diameter to restore, or None if the status was set.
        """
        try:
            self.en.set_link_value(i, EN_INITSTATUS, 0)
            return None
        except ToolkitError:
            d0 = self.en.link_value(i, EN_DIAMETER)
            self.en.set_link_value(i, EN_DIAMETER, d0 * 1e-4)
            return d0

    def solve(self, closed: list[int]) -> tuple[np.ndarray, np.ndarray] | None:
        """Close 1-based links ``closed``, solve; return (demand m³/h, pressure m) per junction."""
        en = self.en
        undo = {i: self._shut(i) for i in closed}
        try:
            en.init_hydraulics(10)  # re-initialise flows: results do not depend on the run order
            en.run_hydraulics()
            d = en.node_values(self.junc, EN_DEMAND) * self.qf
            p = en.node_values(self.junc, EN_PRESSURE) * self.pf
            out: tuple[np.ndarray, np.ndarray] | None = (d, p)
        except ToolkitError:
            out = None  # this closure does not solve
        finally:
            for i, k0 in undo.items():
                if k0 is None:
                    en.set_link_value(i, EN_INITSTATUS, self.status0[i])
                else:
                    en.set_link_value(i, EN_DIAMETER, k0)
        return out

    def close(self) -> None:
        try:
            self.en.close_hydraulics()
        except ToolkitError:
            pass
        finally:
            self.en.close()


def run_chunk(task: tuple[str, list[list[str]], PddSettings]) -> dict[str, Any]:
    """Run one chunk: ``(inp_text, scenarios, settings)``; each scenario is a list of link ids.

    Returns ``{"junctions": [...], "baseline": demand m³/h, "cut": [[(junction pos, served
    fraction), ...] per scenario, or None if it did not solve], "unserved_m3h": [...]}`` where a
    junction is listed when it gets less than ``served_below`` of its baseline delivery.
    Module-level so that process pools and Dask workers can run it.
    """
    inp_text, scenarios, settings = task
    with tempfile.TemporaryDirectory() as tmp:
        pr = _Project(inp_text, tmp, settings)
        try:
            base = pr.solve([])
            if base is None:
                raise NetworkModelError("the intact network does not solve (EPANET)")
            d0 = base[0]
            cut: list[list[tuple[int, float]] | None] = []
            unserved: list[float] = []
            has = d0 > 1e-9
            for sc in scenarios:
                r = pr.solve([i for i in (pr.link(k) for k in sc) if i is not None])
                if r is None:
                    cut.append(None)
                    unserved.append(float("nan"))
                    continue
                frac = np.ones_like(d0)
                frac[has] = np.clip(r[0][has], 0, None) / d0[has]
                low = np.flatnonzero(has & (frac < settings.served_below))
                cut.append([(int(i), round(float(frac[i]), 4)) for i in low])
                unserved.append(float(np.sum(np.clip(d0 - np.clip(r[0], 0, None), 0, None))))
            return {
                "junctions": [pr.node_ids[i - 1] for i in pr.junc],
                "baseline": d0.tolist(),
                "cut": cut,
                "unserved_m3h": unserved,
            }
        finally:
            pr.close()
