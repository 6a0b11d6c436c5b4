"""Stuck sensor: the same value for longer than the sensor's own behaviour makes plausible.

A *run* is a sequence of readings equal to the first one (within ``1e-9`` relative). For each
sensor the detector learns, from the runs that ended normally:

* ``q`` — the probability that a reading repeats the previous one (a quantised or slow sensor
  repeats often, a noisy one almost never), as ``(repeats + ½) / (differences + 1)``;
* ``R`` — the longest run seen (forgotten slowly: halved every 7 days of readings).

A run of ``r`` repeats lasting ``d`` scores ``min(r / max(r_q, 2 R), d / D)``, where
``r_q = ln(10⁻⁶) / ln(q)`` is the run length that normal repetition reaches with probability
10⁻⁶ and ``D = max(1 h, 6 readings)``. So the score reaches 1 (the default threshold) only when a
run is both improbable for this sensor, at least twice as long as any normal run and at least an
hour long.

**A run at zero is a state, not a fault.** A de-energised bus reads 0 pu, an open feeder 0 A, a
stopped pump 0 m³/h, a clean manhole 0 %LEL: these are real and may last hours. A run at a value
within 5 % of the sensor's learnt normal magnitude (the EWMA of ``|x|``, one-day time constant)
from zero never scores (nor teaches ``q`` and ``R``); outages are the ``power_supply_loss``
detector's business. A dead sensor
that reports a constant 0 is therefore not found here: it needs a comparison with its neighbours.

Warm-up: one day of readings per sensor (288 at 5-min intervals), so that ``q`` and ``R`` come
from the sensor's own behaviour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from lifeline.detect.readings import DAY_NS, NO_TS, SensorArrays
from lifeline.detect.stream import StreamDetector, rich_base

if TYPE_CHECKING:
    import pandas as pd

    from lifeline.model.city import City

P_FALSE = 1e-6
MIN_RUN_S = 3600.0
MIN_RUN_READINGS = 6
ZERO_FRACTION = 0.05
LEVEL_TAU_S = 86_400.0
FORGET_S = 7 * 86_400.0
WARMUP_DAYS = 1.0
REL_TOL = 1e-9


@njit(cache=True)
def _stuck_kernel(
    pos, ts, val, dt_s, last_x, run, run_start, run_alarmed, c_rep, c_tot, max_run, level,
    n_seen, last_ts, out_score, out_run, out_q, out_dur,
):  # type: ignore[no-untyped-def]  # fmt: skip
    ln_p = np.log(P_FALSE)
    for i in range(len(pos)):
        s = pos[i]
        t = ts[i]
        x = val[i]
        out_score[i] = np.nan
        if t <= last_ts[s]:
            continue
        if last_ts[s] == NO_TS:
            last_x[s] = x
            run[s] = 0.0
            run_start[s] = t
            level[s] = abs(x)
            n_seen[s] = 1.0
            last_ts[s] = t
            out_score[i] = 0.0
            continue
        n_seen[s] += 1.0
        same = abs(x - last_x[s]) <= REL_TOL * max(1.0, abs(x))
        if same:
            run[s] += 1.0
        else:
            was_zero = abs(last_x[s]) <= max(1e-9, ZERO_FRACTION * level[s])
            if run_alarmed[s] == 0.0 and not was_zero:  # a normal run: learn from it
                decay = 0.5 ** ((run[s] + 1.0) * dt_s[s] / FORGET_S)
                c_rep[s] = c_rep[s] * decay + run[s]
                c_tot[s] = c_tot[s] * decay + run[s] + 1.0
                max_run[s] = max(max_run[s] * decay, run[s])
            run[s] = 0.0
            run_start[s] = t
            run_alarmed[s] = 0.0
            a = min(1.0, dt_s[s] / LEVEL_TAU_S)
            level[s] += a * (abs(x) - level[s])
            last_x[s] = x
        q = (c_rep[s] + 0.5) / (c_tot[s] + 1.0)
        q = min(q, 0.999999)
        r_q = ln_p / np.log(q)
        dur = (t - run_start[s]) / 1e9
        ready = n_seen[s] * dt_s[s] >= WARMUP_DAYS * DAY_NS / 1e9
        zero = abs(x) <= max(1e-9, ZERO_FRACTION * level[s])
        score = 0.0
        if ready and run[s] > 0 and not zero:
            need = max(r_q, 2.0 * max_run[s], 1.0)
            span = max(MIN_RUN_S, MIN_RUN_READINGS * dt_s[s])
            score = min(run[s] / need, dur / span)
            if score >= 1.0:
                run_alarmed[s] = 1.0
        out_score[i] = score
        out_run[i] = run[s]
        out_q[i] = q
        out_dur[i] = dur
        last_ts[s] = t


class StuckDetector(StreamDetector):
    """A value repeated for implausibly long (module doc)."""

    name = "stuck_sensor"
    utility = ""
    warmup = "1 day of readings per sensor (288 at 5-min intervals)"
    time_arrays = ("last_ts", "run_start")
    rich_from = 0.5

    def __init__(self, sensors: SensorArrays) -> None:
        super().__init__(sensors)
        n = self.n
        self.dt_s = sensors.interval_s.astype(float)
        self.last_x = np.zeros(n)
        self.run = np.zeros(n)
        self.run_start = np.full(n, NO_TS, np.int64)
        self.run_alarmed = np.zeros(n)
        self.c_rep = np.zeros(n)
        self.c_tot = np.zeros(n)
        self.max_run = np.zeros(n)
        self.level = np.zeros(n)
        self.n_seen = np.zeros(n)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {
            "last_ts": self.last_ts,
            "run_start": self.run_start,
            "last_value": self.last_x,
            "run": self.run,
            "run_alarmed": self.run_alarmed,
            "repeats": self.c_rep,
            "differences": self.c_tot,
            "longest_run": self.max_run,
            "level": self.level,
            "readings": self.n_seen,
        }

    def _ready(self) -> np.ndarray:
        return self.n_seen * self.dt_s >= WARMUP_DAYS * 86_400.0

    def _run(
        self, pos: np.ndarray, ts: np.ndarray, val: np.ndarray
    ) -> tuple[np.ndarray, Callable[[int], dict[str, Any]]]:
        m = len(pos)
        score, run, q, dur = (np.zeros(m) for _ in range(4))
        _stuck_kernel(
            pos, ts, val, self.dt_s, self.last_x, self.run, self.run_start, self.run_alarmed,
            self.c_rep, self.c_tot, self.max_run, self.level, self.n_seen, self.last_ts,
            score, run, q, dur,
        )  # fmt: skip

        def rich(i: int) -> dict[str, Any]:
            d = rich_base(self, int(pos[i]))
            d.update(
                {
                    "value": float(val[i]),
                    "repeats": int(run[i]),
                    "minutes": round(float(dur[i]) / 60.0, 1),
                    "repeat_probability": round(float(q[i]), 6),
                }
            )
            return d

        return score, rich


def build(city: City, sensors: pd.DataFrame) -> StuckDetector:
    """A :class:`StuckDetector` on ``sensors`` of ``city``."""
    return StuckDetector(SensorArrays.from_table(sensors, city))
