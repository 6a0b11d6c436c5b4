"""Batched pressure-driven (PDD) EPANET runs: close a set of links, solve one period, read demand.

One EPANET project per chunk of scenarios: the INP (passed as text, so a remote Dask worker needs
no shared file system) is opened once, then for every scenario the links are closed, one
hydraulic period is solved and the delivered demand read, and the links are reopened. The
demand model is EPANET 2.2's pressure-driven analysis (Wagner et al. 1988 pressure–outflow
relation); networks saved as demand-driven are switched to PDD with ``required_m``. The solve is
at the peak-demand hour of the first week unless an hour is given.
"""

from __future__ import annotations

import ctypes
import os
import tempfile
from dataclasses import dataclass
from typing import Any

import numpy as np

from lifeline.errors import NetworkModelError

#: EPANET flow-unit code -> (m³/h per flow unit, metres per pressure unit)
UNITS: dict[int, tuple[float, float]] = {
    0: (101.9406, 0.70307),
    1: (0.2271247, 0.70307),
    2: (157.7255, 0.70307),
    3: (189.4204, 0.70307),
    4: (51.39, 0.70307),
    5: (3.6, 1.0),
    6: (0.06, 1.0),
    7: (41.66667, 1.0),
    8: (1.0, 1.0),
    9: (1 / 24, 1.0),
}
EN_DEMAND, EN_PRESSURE, EN_INITSTATUS, EN_STATUS, EN_DIAMETER = 9, 11, 4, 11, 0
EN_DURATION, EN_PATTERNSTART = 0, 4


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
    """An open EPANET project ready for single-period solves."""

    def __init__(self, inp_text: str, tmp: str, settings: PddSettings) -> None:
        from wntr.epanet.toolkit import ENepanet

        inp = os.path.join(tmp, "net.inp")
        with open(inp, "w") as fh:
            fh.write(inp_text)
        self.en = ENepanet(version=2.2)
        try:
            self.en.ENopen(inp, os.path.join(tmp, "r.rpt"), os.path.join(tmp, "r.bin"))
        except Exception as exc:
            raise NetworkModelError(f"EPANET cannot open the model: {exc}") from exc
        en = self.en
        qf, pf = UNITS.get(int(en.ENgetflowunits()), (1.0, 1.0))
        self.qf, self.pf = qf, pf
        dtype, pmin, preq, pexp = (
            ctypes.c_int(),
            ctypes.c_double(),
            ctypes.c_double(),
            ctypes.c_double(),
        )
        en.ENlib.EN_getdemandmodel(
            en._project,
            ctypes.byref(dtype),
            ctypes.byref(pmin),
            ctypes.byref(preq),
            ctypes.byref(pexp),
        )
        if dtype.value != 1:  # demand-driven model: switch to PDD
            en.ENlib.EN_setdemandmodel(
                en._project,
                1,
                ctypes.c_double(settings.minimum_m / pf),
                ctypes.c_double(settings.required_m / pf),
                ctypes.c_double(settings.exponent),
            )
        en.ENsettimeparam(EN_DURATION, 0)
        en.ENsettimeparam(EN_PATTERNSTART, int(settings.hour_s))
        n_nodes = en.ENgetcount(0)
        self.junc = [i for i in range(1, n_nodes + 1) if en.ENgetnodetype(i) == 0]
        self.node_ids = [en.ENgetnodeid(i) for i in range(1, n_nodes + 1)]
        self.status0: dict[int, float] = {}
        self._lidx: dict[str, int] = {}
        en.ENopenH()

    def link(self, name: str) -> int | None:
        """1-based EPANET index of link ``name`` (None if absent); remembers its initial status."""
        if name not in self._lidx:
            try:
                i = int(self.en.ENgetlinkindex(name))
            except Exception:
                return None
            self._lidx[name] = i
            self.status0[i] = self.en.ENgetlinkvalue(i, EN_INITSTATUS)
        return self._lidx[name]

    def _shut(self, i: int) -> float | None:
        """Close link ``i``; a check-valve pipe (status not settable) gets a ~zero diameter.

        Returns the diameter to restore, or None if the status was set.
        """
        try:
            self.en.ENsetlinkvalue(i, EN_INITSTATUS, 0)
            return None
        except Exception:
            d0 = float(self.en.ENgetlinkvalue(i, EN_DIAMETER))
            self.en.ENsetlinkvalue(i, EN_DIAMETER, d0 * 1e-4)
            return d0

    def solve(self, closed: list[int]) -> tuple[np.ndarray, np.ndarray] | None:
        """Close 1-based links ``closed``, solve; return (demand m³/h, pressure m) per junction."""
        en = self.en
        undo = {i: self._shut(i) for i in closed}
        try:
            en.ENinitH(10)  # re-initialise flows: results do not depend on the run order
            en.ENrunH()
            d = np.array([en.ENgetnodevalue(i, EN_DEMAND) for i in self.junc]) * self.qf
            p = np.array([en.ENgetnodevalue(i, EN_PRESSURE) for i in self.junc]) * self.pf
            out: tuple[np.ndarray, np.ndarray] | None = (d, p)
        except Exception:
            out = None  # this closure does not solve
        finally:
            for i, k0 in undo.items():
                if k0 is None:
                    en.ENsetlinkvalue(i, EN_INITSTATUS, self.status0[i])
                else:
                    en.ENsetlinkvalue(i, EN_DIAMETER, k0)
        return out

    def close(self) -> None:
        try:
            self.en.ENcloseH()
        finally:
            self.en.ENclose()


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
