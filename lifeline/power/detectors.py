"""Power detectors on SCADA readings: supply loss, overload and voltage band.

* :class:`SupplyLossDetector` — a feeder-head or transformer current, or a busbar voltage, that
  falls under 5 % of its learnt normal value: the protective device upstream operated (EN 50160
  §3.28 calls a voltage under 5 % of the reference an interruption). Score: the fraction of
  normal lost, ``1 − |x| / normal`` (0..1); the default policy raises at 0.95 (under 5 % left)
  with severity 3 at once and clears when the value is back over half of normal. The normal
  value is the EWMA of ``|x|`` (one-day time constant) over readings that are over half of it;
  it starts from the first hour of readings. Active power is not watched: a feeder with local
  generation may pass through 0 MW while supplied.
* :func:`overload_detector` — loading of a line or transformer against its rating in the
  network model: a line's ``current_a`` against ``max_i_ka · df · parallel``, its ``p_mw``
  against ``√3 · vn_kv · max_i_ka · df · parallel`` (MVA; active power only, so a lower bound of
  the loading); a transformer's ``p_mw`` against ``sn_mva``, its ``current_a`` against the HV
  rated current ``sn_mva / (√3 · vn_hv_kv)``. Score: loading as a fraction (1 = 100 %).
* :func:`voltage_band_detector` — a bus voltage outside its band: ``min_vm_pu``/``max_vm_pu``
  of the bus in the network model when set, else GB/T 12325-2008 by nominal voltage (≥ 35 kV:
  ±5 %; 1–20 kV and three-phase LV: ±7 %; single-phase 220 V: +7 % / −10 %). Score as the
  threshold detector's (1 at the band edge); an interruption (< 5 % of nominal) scores 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from lifeline.detect.readings import SensorArrays
from lifeline.detect.stream import StreamDetector, rich_base
from lifeline.detect.threshold import ThresholdDetector

if TYPE_CHECKING:
    import pandas as pd

    from lifeline.model.city import City

LOSS_FRACTION = 0.05
RESTORED_FRACTION = 0.5
NORMAL_TAU_S = 86_400.0
WARMUP_S = 3600.0
GBT12325 = "GB/T 12325-2008 电能质量 供电电压偏差 (supply voltage deviation)"


@njit(cache=True)
def _loss_kernel(
    pos, ts, val, dt_s, normal, n_norm, last_ts, out_score, out_normal,
):  # type: ignore[no-untyped-def]  # fmt: skip
    for i in range(len(pos)):
        s = pos[i]
        t = ts[i]
        out_score[i] = np.nan
        if t <= last_ts[s]:
            continue
        last_ts[s] = t
        x = abs(val[i])
        ready = n_norm[s] * dt_s[s] >= WARMUP_S and normal[s] > 0.0
        score = 0.0
        if ready:
            score = min(max(1.0 - x / normal[s], 0.0), 1.0)
        out_score[i] = score
        out_normal[i] = normal[s]
        if not ready or x >= RESTORED_FRACTION * normal[s]:
            n_norm[s] += 1.0
            a = max(min(1.0, dt_s[s] / NORMAL_TAU_S), 1.0 / n_norm[s])
            normal[s] += a * (x - normal[s])


class SupplyLossDetector(StreamDetector):
    """A current or voltage falling to under 5 % of its learnt normal value (module doc)."""

    name = "power_supply_loss"
    utility = "power"
    warmup = "1 h of readings per sensor (12 at 5-min intervals, 60 at 1-min)"
    rich_from = 0.5

    def __init__(self, sensors: SensorArrays) -> None:
        super().__init__(sensors)
        self.dt_s = sensors.interval_s.astype(float)
        self.normal = np.zeros(self.n)
        self.n_norm = np.zeros(self.n)
        self._base = sensors.base_details(confidence=0.9)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"last_ts": self.last_ts, "normal": self.normal, "readings": self.n_norm}

    def _ready(self) -> np.ndarray:
        return (self.n_norm * self.dt_s >= WARMUP_S) & (self.normal > 0)

    def _run(
        self, pos: np.ndarray, ts: np.ndarray, val: np.ndarray
    ) -> tuple[np.ndarray, Callable[[int], dict[str, Any]]]:
        m = len(pos)
        score, normal = np.zeros(m), np.zeros(m)
        _loss_kernel(pos, ts, val, self.dt_s, self.normal, self.n_norm, self.last_ts, score, normal)

        def rich(i: int) -> dict[str, Any]:
            p = int(pos[i])
            d = rich_base(self, p)
            d.update(
                {
                    "value": float(val[i]),
                    "normal": float(normal[i]),
                    "asset_id": str(self.sensors.asset_id[p]),
                    "quantity": str(self.sensors.quantity[p]),
                    "deenergised": bool(score[i] >= 1.0 - LOSS_FRACTION),
                }
            )
            return d

        return score, rich


def _kind_ref(element: str) -> tuple[str, int | None]:
    kind, _, ref = str(element).partition(":")
    try:
        return kind, int(float(ref))
    except ValueError:
        return kind, None


def ratings(net: Any, sensors: SensorArrays) -> tuple[np.ndarray, list[str]]:
    """Per sensor the rated value in the sensor's unit (A or MW; NaN when the element has no
    rating) and where it comes from."""
    rated = np.full(len(sensors), np.nan)
    why: list[str] = []
    for i in range(len(sensors)):
        kind, ref = _kind_ref(sensors.element[i])
        q = str(sensors.quantity[i])
        text = ""
        if net is not None and ref is not None and kind == "line" and ref in net.line.index:
            ln = net.line.loc[ref]
            i_ka = float(ln.max_i_ka) * float(ln.get("df", 1.0)) * float(ln.get("parallel", 1))
            vn = float(net.bus.at[int(ln.from_bus), "vn_kv"])
            if q == "current_a":
                rated[i], text = i_ka * 1000.0, "line max_i_ka · df · parallel"
            elif q == "p_mw":
                rated[i], text = math.sqrt(3) * vn * i_ka, "√3 · vn_kv · line max_i_ka (MVA)"
        elif net is not None and ref is not None and kind == "trafo" and ref in net.trafo.index:
            tr = net.trafo.loc[ref]
            sn = float(tr.sn_mva) * float(tr.get("parallel", 1))
            if q == "p_mw":
                rated[i], text = sn, "trafo sn_mva"
            elif q == "current_a":
                rated[i] = sn / (math.sqrt(3) * float(tr.vn_hv_kv)) * 1000.0
                text = "trafo rated HV current sn_mva / (√3 · vn_hv_kv)"
        why.append(text)
    return rated, why


def overload_detector(city: City, sensors: pd.DataFrame) -> ThresholdDetector:
    """Loading against the element's rating (module doc); a band ``[−rated, rated]`` around 0."""
    arr = SensorArrays.from_table(sensors, city)
    net = city.power if city.has("power") else None
    rated, why = ratings(net, arr)
    ok = np.isfinite(rated) & (rated > 0)
    det = ThresholdDetector(
        arr,
        lo=np.where(ok, -rated, -np.inf),
        ref=np.where(ok, 0.0, np.nan),
        hi=np.where(ok, rated, np.inf),
        source=[f"rating from the network model: {w}" if w else "" for w in why],
    )
    det.name, det.utility, det.rich_from = "power_overload", "power", 0.9
    return det


def voltage_band(
    vn_kv: float, lo_pu: float = math.nan, hi_pu: float = math.nan
) -> tuple[float, float, str]:
    """``(lo, hi, source)`` of a bus: the model's ``min_vm_pu``/``max_vm_pu`` when both are set,
    else GB/T 12325-2008 by nominal voltage ``vn_kv``."""
    if math.isfinite(lo_pu) and math.isfinite(hi_pu) and lo_pu < 1.0 < hi_pu:
        return lo_pu, hi_pu, "bus min_vm_pu / max_vm_pu of the network model"
    if vn_kv >= 35.0:
        return 0.95, 1.05, f"{GBT12325}: ≥ 35 kV, |deviation| sum ≤ 10 %"
    if vn_kv >= 0.38:
        return 0.93, 1.07, f"{GBT12325}: 20 kV and below, three-phase: ±7 %"
    return 0.90, 1.07, f"{GBT12325}: 220 V single-phase: +7 % / −10 %"


def voltage_band_detector(city: City, sensors: pd.DataFrame) -> ThresholdDetector:
    """Bus voltage against its band (module doc)."""
    arr = SensorArrays.from_table(sensors, city)
    net = city.power if city.has("power") else None
    n = len(arr)
    lo, hi, src = np.full(n, 0.90), np.full(n, 1.10), []
    for i in range(n):
        kind, ref = _kind_ref(arr.element[i])
        vn, a, b = 0.4, math.nan, math.nan
        if net is not None and kind == "bus" and ref is not None and ref in net.bus.index:
            row = net.bus.loc[ref]
            vn = float(row.vn_kv)
            a = float(row.get("min_vm_pu", math.nan))
            b = float(row.get("max_vm_pu", math.nan))
        lo[i], hi[i], text = voltage_band(vn, a, b)
        src.append(text)
    det = ThresholdDetector(
        arr, lo=lo, ref=np.ones(n), hi=hi, source=src, dead_below=np.full(n, LOSS_FRACTION)
    )
    det.name, det.utility, det.rich_from = "power_voltage_band", "power", 0.9
    return det


def supply_loss_detector(city: City, sensors: pd.DataFrame) -> SupplyLossDetector:
    """A :class:`SupplyLossDetector` on ``sensors`` of ``city``."""
    return SupplyLossDetector(SensorArrays.from_table(sensors, city))
