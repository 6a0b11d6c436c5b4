"""The leak detector in the platform: fed readings as they arrive, it raises located alarms.

:class:`WaterLeakDetector` implements :class:`lifeline.detect.base.Detector`. Readings are long
layout (``sensor_id``, ``ts``, ``value``); a sensor id is mapped to the network by name (a node
id → pressure in m, a tank id → level in m, a link id → flow in the INP flow unit), or through an
explicit ``sensor_map`` {sensor_id: ("pressure"|"flow"|"level", asset_id)}.

At every new time step the detector takes the mean of the last hour, subtracts the calibrated
regression and the same-hour baseline of the previous days, whitens with the residual covariance
and updates one CUSUM per candidate pipe (increments scaled to the step). The score is
``max(CUSUM / h, projection / h_burst)``: a score ≥ 1 is an alarm with ``ThresholdPolicy()``.
``detail`` carries the located pipe, candidates and a confidence in 0..1.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from lifeline.errors import InputError
from lifeline.water import leaks as lk
from lifeline.water.scada import Scada


class WaterLeakDetector:
    """Online leak detector for one water network (see module docstring)."""

    name = "water-leaks"
    utility = "water"

    def __init__(
        self,
        network: str | Path,
        params: lk.LeakParams | None = None,
        sensor_map: dict[str, tuple[str, str]] | None = None,
    ) -> None:
        from lifeline.water.network import load_network, pipe_graph

        self.network = str(network)
        self.wn = load_network(network)
        self.graph = pipe_graph(self.wn)
        self.params = params or lk.LeakParams(k=0.5, h=12.0, h_burst=15.0)
        self.sensor_map = sensor_map
        self.model: lk.Model | None = None
        self._buf = pd.DataFrame()
        self._c: np.ndarray | None = None
        self._zero: np.ndarray | None = None
        self._last: pd.Timestamp | None = None
        self._w: np.ndarray | None = None

    # ---- mapping -------------------------------------------------------------------------
    def _column(self, sensor_id: str) -> str:
        if self.sensor_map and sensor_id in self.sensor_map:
            kind, asset = self.sensor_map[sensor_id]
            return {"pressure": "P:", "flow": "F:", "level": "L:"}[kind] + asset
        if sensor_id in set(self.wn.tank_name_list):
            return "L:" + sensor_id
        if sensor_id in set(self.wn.node_name_list):
            return "P:" + sensor_id
        if sensor_id in set(self.wn.link_name_list):
            return "F:" + sensor_id
        raise InputError(
            f"sensor {sensor_id!r} is neither a node nor a link of {self.network}", "sensor_id"
        )

    def _wide(self, batch: pd.DataFrame) -> pd.DataFrame:
        for col in ("sensor_id", "ts", "value"):
            if col not in batch.columns:
                raise InputError(f"batch lacks column {col!r}", "batch")
        b = batch.copy()
        b["col"] = [self._column(str(s)) for s in b["sensor_id"]]
        ts = pd.to_datetime(b["ts"], utc=True).dt.tz_convert(None)
        w = b.assign(ts=ts).pivot_table(index="ts", columns="col", values="value", aggfunc="mean")
        return w.sort_index()

    # ---- protocol ------------------------------------------------------------------------
    def learn(self, batch: pd.DataFrame) -> None:
        """Calibrate on a history batch (at least ``calib_days`` + ``baseline_days`` days)."""
        from lifeline.water.network import sensitivity

        wide = self._wide(batch)
        self._buf = wide if self._buf.empty else pd.concat([self._buf, wide]).sort_index()
        self._buf = self._buf[~self._buf.index.duplicated(keep="last")]
        sc = self._scada(self._buf)
        hist = lk.hourly(sc)
        if len(hist) < 24 * (self.params.baseline_days + 2):
            raise InputError(
                f"need at least {self.params.baseline_days + 2} days of history to learn", "batch"
            )
        sensors = [c[2:] for c in hist.columns if c.startswith("P:")]
        sens = sensitivity(self.network, sensors)
        self.model = lk.calibrate(hist, self.wn, sens, self.graph, self.params)
        self._c = np.zeros(len(self.model.pipes))
        self._zero = np.zeros(len(self.model.pipes), dtype=int)
        self._last = pd.Timestamp(self._buf.index[-1])
        d = self._hour_residuals(self._buf)
        ok = d[np.isfinite(d).all(axis=1)][-14 * 24 * 12 :]
        self._w = lk._whitener(lk._robust_cov(ok) if len(ok) > 100 else self.model.cov)  # type: ignore[arg-type]

    def _scada(self, wide: pd.DataFrame) -> Scada:
        step = int(np.median(np.diff(wide.index.asi8)) / 1e9) if len(wide) > 1 else 300

        def part(prefix: str) -> pd.DataFrame:
            cols = [c for c in wide.columns if c.startswith(prefix)]
            return wide[cols].rename(columns=lambda c: c[2:])

        return Scada(part("P:"), part("F:"), part("L:"), pd.DataFrame(index=wide.index), step)

    def _hour_residuals(self, wide: pd.DataFrame) -> np.ndarray:
        """Residuals of the trailing 1-hour means at every step, minus the same-hour baseline."""
        assert self.model is not None
        step_s = int(np.median(np.diff(wide.index.asi8)) / 1e9) if len(wide) > 1 else 300
        grid = wide.resample(f"{step_s}s").mean()
        n = max(1, 3600 // step_s)
        roll = grid.rolling(n, min_periods=max(1, n // 2)).mean()
        r = self.model.residuals(roll)
        per_day = 86400 // step_s
        lags = np.stack(
            [np.roll(r, per_day * k, axis=0) for k in range(1, self.params.baseline_days + 1)]
        )
        lags[:, : per_day * self.params.baseline_days] = np.nan
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", RuntimeWarning
            )  # all-NaN columns before the baseline fills
            base = np.nanmedian(lags, axis=0)
        self._grid_index = grid.index
        return np.asarray(r - base)

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Score new readings: one row per new time step (sensor_id = the detector's name)."""
        if self.model is None or self._c is None or self._zero is None or self._w is None:
            raise InputError("learn() must be called before score()", "WaterLeakDetector")
        wide = self._wide(batch)
        self._buf = pd.concat([self._buf, wide]).sort_index()
        self._buf = self._buf[~self._buf.index.duplicated(keep="last")]
        keep_from = self._buf.index[-1] - pd.Timedelta(days=self.params.baseline_days + 2)
        self._buf = self._buf[self._buf.index >= keep_from]
        d = self._hour_residuals(self._buf)
        idx = self._grid_index
        new = np.flatnonzero(idx > self._last) if self._last is not None else np.arange(len(idx))
        step_s = int(np.median(np.diff(idx.asi8)) / 1e9) if len(idx) > 1 else 300
        frac = step_s / 3600.0
        u = self.model.unit_sig @ self._w.T
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        prm = self.params
        rows = []
        for i in new:
            if not np.isfinite(d[i]).all():
                continue
            z = self._w @ d[i]
            proj = u @ z
            self._c = np.maximum(0.0, self._c + (proj - prm.k) * frac)
            jb = int(np.argmax(np.maximum(self._c / prm.h, proj / prm.h_burst)))
            sc = float(max(self._c[jb] / prm.h, proj[jb] / prm.h_burst))
            best = float(proj[jb])
            conf = float(np.clip(best / (np.linalg.norm(z) + 1e-12), 0.0, 1.0))
            cand = [self.model.pipes[j] for j in np.argsort(-proj)[:5]]
            rows.append(
                {
                    "sensor_id": self.name,
                    "ts": pd.Timestamp(idx[i]).tz_localize("UTC"),
                    "score": sc,
                    "detail": {
                        "location": [self.model.pipes[jb]],
                        "candidates": cand,
                        "confidence": round(conf, 3),
                    },
                }
            )
            if sc >= 1.0:
                self._c[:] = 0.0
        self._last = pd.Timestamp(idx[-1])
        return pd.DataFrame(rows, columns=["sensor_id", "ts", "score", "detail"])
