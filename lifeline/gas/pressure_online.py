"""Online gas pressure-drop detector: the leak scan of :mod:`lifeline.gas.pressure`, window by
window, on the streamed ``pressure_bar`` readings.

Readings are averaged into 5-minute event-time bins (aligned on the epoch). A bin closes when a
reading of a later bin arrives; at every third bin end (15 min of event time, aligned on the
epoch) the scan runs on the last ``WINDOW_BINS`` closed bins (6 h) and one score row is emitted
at that time, keyed ``gas:network`` (one key per
network: the leak's place moves with the evidence and is in the detail). So the rows depend
only on the readings' times, never on how the stream is cut into batches. A reading for a bin
that has already closed is ignored.

Score: ``min(stat / STAT_ALONE, drop / DROP_MIN)``: the scan's statistic (explained variance
over noise variance) against 150 and the fitted drop at the most affected sensor against
1 mbar — the two conditions of a pressure-only leak in ``lifeline gas locate`` (docs/gas.md:
150 ≈ 2 × the largest no-leak statistic of the development scenarios' odd half). Detail: the
best junction, rate (kg/s), onset, ramp, statistic, drop (mbar) and the three best junctions
as location candidates.

Warm-up: 12 closed bins (1 h) with at least 3 pressure sensors reporting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.detect.base import DetectorStatus, empty_scores
from lifeline.detect.readings import (
    NO_TS,
    floats_in,
    floats_out,
    location,
    positions,
    score_frame,
    ts_ns,
    values,
)
from lifeline.gas.network import GasNetwork
from lifeline.gas.pressure import BIN_MIN, scan_binned

if TYPE_CHECKING:
    from lifeline.model.city import City

KEY = "gas:network"
WINDOW_BINS = 72
MIN_BINS = 12
STAT_ALONE = 150.0
DROP_MIN_BAR = 0.001
BIN_NS = int(BIN_MIN * 60e9)
SCAN_EVERY = 3  # bins: the window is scanned every 15 min of event time


class PressureDropDetector:
    """Leak-like pressure drops in a gas network from its pressure sensors (module doc)."""

    name = "gas_pressure_drop"
    utility = "gas"
    inputs = "readings"
    warmup = "1 h of readings (12 bins of 5 min) from at least 3 pressure sensors"

    def __init__(
        self,
        net: GasNetwork,
        sensor_ids: list[str],
        zones: dict[int, str] | None = None,
    ) -> None:
        self.net = net
        self.sensor_ids = [str(s) for s in sensor_ids]  # in net.sensor_junction order
        self.index = pd.Index(self.sensor_ids)
        self.zones = zones or {}
        k = len(self.sensor_ids)
        self.cur_bin = NO_TS
        self.cur_sum = np.zeros(k)
        self.cur_n = np.zeros(k)
        self.bins: list[int] = []  # closed bin starts (ns)
        self.means: list[np.ndarray] = []  # their mean pressure per sensor (NaN: no reading)

    # ---- protocol ----------------------------------------------------------------------------
    def learn(self, batch: pd.DataFrame) -> None:
        """Fill the window from history (the bins of :meth:`score`, without scanning)."""
        self._ingest(batch, scan=False)

    def status(self) -> DetectorStatus:
        """Ready once the window holds :data:`MIN_BINS` bins."""
        return DetectorStatus(
            name=self.name,
            ready=len(self.bins) >= MIN_BINS,
            sensors=len(self.sensor_ids),
            sensors_ready=len(self.sensor_ids) if len(self.bins) >= MIN_BINS else 0,
            warmup=self.warmup,
        )

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """One row per bin closed by this batch (module doc)."""
        return self._ingest(batch, scan=True)

    def _ingest(self, batch: pd.DataFrame, scan: bool) -> pd.DataFrame:
        if batch is None or batch.empty or not self.sensor_ids:
            return empty_scores()
        pos = positions(self.index, batch["sensor_id"])
        ts = ts_ns(batch["ts"])
        v = values(batch["value"])
        ok = (pos >= 0) & np.isfinite(v)
        pos, ts, v = pos[ok], ts[ok], v[ok]
        order = np.argsort(ts, kind="stable")
        pos, ts, v = pos[order], ts[order], v[order]
        b = ts // BIN_NS * BIN_NS
        rows: list[tuple[int, float, dict[str, Any]]] = []
        for start, stop in _runs(b):
            bin_start = int(b[start])
            if self.cur_bin != NO_TS and bin_start < self.cur_bin:
                continue  # late: that bin has closed
            if bin_start > self.cur_bin:
                if self.cur_bin != NO_TS:
                    row = self._close(scan)
                    if row is not None:
                        rows.append(row)
                self.cur_bin = bin_start
                self.cur_sum[:] = 0.0
                self.cur_n[:] = 0.0
            np.add.at(self.cur_sum, pos[start:stop], v[start:stop])
            np.add.at(self.cur_n, pos[start:stop], 1.0)
        if not rows:
            return empty_scores()
        t, sc, det = zip(*rows, strict=True)
        keys = np.array([KEY] * len(rows), dtype=object)
        return score_frame(keys, np.array(t, np.int64), np.array(sc), list(det))

    def get_state(self) -> dict[str, Any]:
        """The open bin's sums and the window of closed bins, JSON-able."""
        return {
            "detector": self.name,
            "version": 1,
            "sensors": self.sensor_ids,
            "open_bin": None
            if self.cur_bin == NO_TS
            else pd.Timestamp(self.cur_bin, tz="UTC").isoformat(),
            "open_sum": floats_out(self.cur_sum),
            "open_n": floats_out(self.cur_n),
            "bins": [pd.Timestamp(t, tz="UTC").isoformat() for t in self.bins],
            "means": [floats_out(m) for m in self.means],
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`get_state` output (sensors matched by id)."""
        ids = [str(s) for s in state.get("sensors", [])]
        dst = self.index.get_indexer(pd.Index(ids)) if ids else np.zeros(0, int)
        ok = dst >= 0

        def remap(vals: Any, fill: float) -> np.ndarray:
            out = np.full(len(self.sensor_ids), fill)
            src = floats_in(vals)
            if len(src) == len(ids):
                out[dst[ok]] = src[ok]
            return out

        ob = state.get("open_bin")
        self.cur_bin = NO_TS if ob is None else pd.Timestamp(ob).value
        self.cur_sum = remap(state.get("open_sum"), 0.0)
        self.cur_n = remap(state.get("open_n"), 0.0)
        self.bins = [pd.Timestamp(t).value for t in state.get("bins", [])]
        self.means = [remap(m, np.nan) for m in state.get("means", [])]

    # ---- internals ---------------------------------------------------------------------------
    def _close(self, scan: bool) -> tuple[int, float, dict[str, Any]] | None:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(self.cur_n > 0, self.cur_sum / np.maximum(self.cur_n, 1), np.nan)
        self.bins.append(self.cur_bin)
        self.means.append(mean)
        if len(self.bins) > WINDOW_BINS:
            del self.bins[: len(self.bins) - WINDOW_BINS]
            del self.means[: len(self.means) - WINDOW_BINS]
        t_end = self.cur_bin + BIN_NS
        if len(self.bins) < MIN_BINS or not scan or (t_end // BIN_NS) % SCAN_EVERY:
            return None
        return t_end, *self._scan()

    def _scan(self) -> tuple[float, dict[str, Any]]:
        t = np.array(self.bins, np.int64)
        idx = pd.DatetimeIndex(t.view("M8[ns]"))
        wide = pd.DataFrame(np.vstack(self.means), index=idx, columns=self.sensor_ids)
        if len(t) != (t[-1] - t[0]) // BIN_NS + 1 or wide.isna().to_numpy().any():
            full = pd.date_range(idx.min(), idx.max(), freq=f"{int(BIN_MIN)}min")
            wide = wide.reindex(full).interpolate(limit_direction="both")
        scan = scan_binned(self.net, wide, self.sensor_ids, self.net.candidate)
        if not scan.ok:
            return 0.0, {"location": [], "ok": False}
        best = scan.best
        stat = float(scan.stat[best])
        drop = float(np.nanmax(scan.drop_bar)) if len(scan.drop_bar) else 0.0
        score = max(0.0, min(stat / STAT_ALONE, drop / DROP_MIN_BAR))
        top = [int(j) for j in np.argsort(-scan.stat)[:3] if scan.stat[j] > 0]
        cands = [
            location(
                f"gas:junction:{int(self.net.junction[j])}",
                float(self.net.jx[j]),
                float(self.net.jy[j]),
                0.6 * float(scan.stat[j]) / stat if stat > 0 else 0.0,
                self.zones.get(int(self.net.junction[j]), ""),
            )
            for j in top
        ]
        t0 = scan.t0[best]
        return score, {
            "location": cands,
            "junction": int(self.net.junction[best]),
            "rate_kg_s": round(float(scan.rate[best]), 6),
            "onset": None if np.isnat(t0) else pd.Timestamp(t0).tz_localize("UTC").isoformat(),
            "ramp_min": float(scan.ramp_min[best]),
            "stat": round(stat, 2),
            "drop_mbar": round(drop * 1000.0, 3),
            "sigma_bar": float(scan.sigma_bar),
            "sensors": list(self.sensor_ids),
        }


def _runs(b: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of the runs of equal values in the sorted array ``b``."""
    if not len(b):
        return []
    cut = np.flatnonzero(np.diff(b)) + 1
    starts = np.r_[0, cut]
    stops = np.r_[cut, len(b)]
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def build(city: City, sensors: pd.DataFrame) -> PressureDropDetector:
    """A :class:`PressureDropDetector` on the city's gas network and its ``pressure_bar``
    sensors on junctions (``element`` ``junction:<index>``)."""
    from lifeline.gas.network import load_network
    from lifeline.gas.town import network_file

    s = sensors[sensors["element"].fillna("").astype(str).str.startswith("junction:")]
    junctions = [int(float(e.split(":", 1)[1])) for e in s["element"].astype(str)]
    path = city.networks.get("gas") or network_file(city.gas)
    net = load_network(path, np.asarray(junctions, dtype=int))
    zones: dict[int, str] = {}
    a = city.assets
    if len(a) and "zone_id" in a.columns:
        g = a[a["asset_id"].astype(str).str.startswith("gas:junction:")]
        for aid, z in zip(g["asset_id"].astype(str), g["zone_id"], strict=True):
            if isinstance(z, str) and z and z != "nan":
                zones[int(aid.rsplit(":", 1)[1])] = z
    return PressureDropDetector(net, s["sensor_id"].astype(str).tolist(), zones)
