"""Fixed bands: a reading's distance from the normal value in units of the band's half width.

Each sensor has a band ``[lo, hi]`` around a normal value ``ref``: the standard band of its
quantity (:data:`STANDARD_BANDS`) clipped to the sensor's valid range, else its valid range
(``valid_min``, ``valid_max``) around the range's middle. For a standard band the score is
``(x − ref) / (hi − ref)`` above ``ref`` and ``(ref − x) / (ref − lo)`` below: 0 at the normal
value, 1 at the band's edge (the default policy's threshold), 2 one half-width outside. A valid
range holds its edges (0 A on a feeder is valid), so it scores 0 inside and ``1 + distance
outside / half-width`` outside. An open side scores 0, and a sensor with neither a standard band
nor a closed valid range is not judged (scores 0).

A reading under ``dead_below`` (voltage under 5 % of nominal) is an interruption, not a
voltage-band violation: it scores 0 here and is the ``power_supply_loss`` detector's case.

The detector keeps no state: it is ready at once and split-invariant by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from lifeline.detect.readings import SensorArrays
from lifeline.detect.stream import StreamDetector

if TYPE_CHECKING:
    import pandas as pd

    from lifeline.model.city import City


@dataclass(frozen=True)
class Band:
    """A standard band of a quantity (``lo``/``hi`` may be infinite: an open side)."""

    lo: float
    ref: float
    hi: float
    source: str
    dead_below: float = -np.inf


#: standard bands per quantity (units of the quantity)
STANDARD_BANDS: dict[str, Band] = {
    "voltage_pu": Band(
        0.90,
        1.00,
        1.10,
        "EN 50160:2010 §4.2.2: supply voltage variations within ±10 % of the nominal voltage",
        dead_below=0.05,  # EN 50160 §3.28: an interruption is under 5 % of the reference voltage
    ),
    "methane_pct_lel": Band(
        -np.inf,
        0.0,
        20.0,
        "early warning at 20 %LEL, under GB/T 50493-2019's first alarm level (≤ 25 %LEL)",
    ),
}


class ThresholdDetector(StreamDetector):
    """Distance outside a fixed band per sensor (module doc)."""

    name = "threshold"
    utility = ""
    warmup = "none (fixed bands)"
    time_arrays: tuple[str, ...] = ()
    rich_from = 0.9

    def __init__(
        self,
        sensors: SensorArrays,
        lo: np.ndarray,
        ref: np.ndarray,
        hi: np.ndarray,
        source: list[str],
        dead_below: np.ndarray | None = None,
        inclusive: np.ndarray | None = None,
    ) -> None:
        super().__init__(sensors)
        self.lo = np.asarray(lo, float)
        self.ref = np.asarray(ref, float)
        self.hi = np.asarray(hi, float)
        self.source = list(source)
        self.dead_below = (
            np.full(self.n, -np.inf) if dead_below is None else np.asarray(dead_below, float)
        )
        self._band = [[_num(a), _num(b)] for a, b in zip(self.lo, self.hi, strict=True)]
        #: per sensor: the band's edges are inside it (a valid range)
        self.inclusive = (
            np.zeros(self.n, bool) if inclusive is None else np.asarray(inclusive, bool)
        )

    def _arrays(self) -> dict[str, np.ndarray]:
        return {}

    def _run(
        self, pos: np.ndarray, ts: np.ndarray, val: np.ndarray
    ) -> tuple[np.ndarray, Callable[[int], dict[str, Any]]]:
        ref, lo, hi = self.ref[pos], self.lo[pos], self.hi[pos]
        with np.errstate(divide="ignore", invalid="ignore"):
            up = np.where(np.isfinite(hi) & (hi > ref), (val - ref) / (hi - ref), 0.0)
            down = np.where(np.isfinite(lo) & (lo < ref), (ref - val) / (ref - lo), 0.0)
        score = np.where(val >= ref, up, down)
        incl = self.inclusive[pos]
        if incl.any():
            score = np.where(incl, np.where(score <= 1.0, 0.0, score), score)
        score = np.where(np.isfinite(ref), score, 0.0)
        score = np.where(val < self.dead_below[pos], 0.0, np.maximum(score, 0.0))

        def rich(i: int) -> dict[str, Any]:
            p = int(pos[i])
            return {
                **self._base[p],
                "value": float(val[i]),
                "band": self._band[p],
                "side": "high" if val[i] >= self.ref[p] else "low",
                "source": self.source[p],
            }

        return score, rich


def _num(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def bands_for(
    sensors: SensorArrays,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Per sensor ``(lo, ref, hi, source, inclusive)``: the quantity's standard band within the
    valid range, else the valid range around its middle (``inclusive``; open when the range
    is open)."""
    n = len(sensors)
    lo, ref, hi = np.full(n, -np.inf), np.full(n, np.nan), np.full(n, np.inf)
    incl = np.zeros(n, bool)
    src: list[str] = []
    for i in range(n):
        vmin, vmax = sensors.valid_min[i], sensors.valid_max[i]
        band = STANDARD_BANDS.get(str(sensors.quantity[i]))
        if band is not None:
            lo[i], ref[i], hi[i] = max(band.lo, vmin), band.ref, min(band.hi, vmax)
            src.append(band.source)
        elif np.isfinite(vmin) and np.isfinite(vmax):
            lo[i], ref[i], hi[i] = vmin, (vmin + vmax) / 2, vmax
            incl[i] = True
            src.append("the sensor's valid range (sensors.csv valid_min, valid_max)")
        else:
            src.append("")
    return lo, ref, hi, src, incl


def build(city: City, sensors: pd.DataFrame) -> ThresholdDetector:
    """A :class:`ThresholdDetector` on ``sensors`` with standard or valid-range bands."""
    arr = SensorArrays.from_table(sensors, city)
    lo, ref, hi, src, incl = bands_for(arr)
    dead = np.array(
        [
            STANDARD_BANDS[q].dead_below if q in STANDARD_BANDS else -np.inf
            for q in map(str, arr.quantity)
        ]
    )
    return ThresholdDetector(arr, lo, ref, hi, src, dead, incl)
