"""The leak detector in the platform: fed readings as they arrive, it raises located alarms.

:class:`WaterLeakDetector` implements :class:`lifeline.detect.base.Detector` with the burst
channel of `lifeline water leaks` — the same calibrated pressure model, the same hourly CUSUM
per candidate pipe, the same raw-data burst test (a burst whose supply step the day hid waits
for the night after it: :meth:`WaterLeakDetector._confirmed`) and the same thresholds learnt
from the history (:func:`lifeline.water.pipeline.learn_bursts`: bootstrap false-alarm budget,
step and night gates). The slow-leak channels (growth, balance episodes) stay in the batch
command. The live engine builds it as the registered detector ``water-leaks`` (:func:`build`).

Readings are long layout (``sensor_id``, ``ts``, ``value``); a sensor id is mapped to the
network by name (a node id → pressure in m, a tank id → level in m, a link id → flow in the INP
flow unit), or through an explicit ``sensor_map`` {sensor_id: ("pressure"|"flow"|"level",
asset_id)}; readings of sensors outside an explicit map are left alone (:func:`build` makes the
map from a city's sensor table). ``learn`` buffers readings and calibrates once
``calib_days + baseline_days`` days are there. ``score`` returns one row per completed hour (an
hour is complete when a reading at or after its last time step has arrived): ``score`` is the
largest CUSUM over its threshold, kept below 1 unless the batch logic reports a leak at that
hour (then ≥ 1, an alarm with ``ThresholdPolicy(threshold=1)``); ``detail.location`` holds the
located pipe and candidates. Every hour is computed from the same window of data before it, so
the scores do not depend on how the readings are batched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifeline.detect.base import SCORE_COLUMNS, DetectorStatus, empty_scores
from lifeline.errors import InputError
from lifeline.water import leaks as lk
from lifeline.water.locate import burst_placer
from lifeline.water.repeats import absorb_time, verified_repeat
from lifeline.water.scada import Leak, Scada
from lifeline.water.tankzone import TankZones

if TYPE_CHECKING:
    from lifeline.model.city import City

HOUR = pd.Timedelta(hours=1)
BELOW_ALARM = 0.999  # the score of an hour with no reported leak stays under the threshold 1


class WaterLeakDetector:
    """Online leak detector for one water network (see module docstring)."""

    name = "water-leaks"
    utility = "water"
    inputs = "readings"

    def __init__(
        self,
        network: str | Path,
        params: lk.LeakParams | None = None,
        sensor_map: dict[str, tuple[str, str]] | None = None,
        key: str | None = None,
        asset_prefix: str = "",
        m3h_per_unit: float | None = None,
        labels: list[Leak] | None = None,
    ) -> None:
        from lifeline.water.network import load_network, pipe_graph

        self.network = str(network)
        self.wn = load_network(network)
        self.graph = pipe_graph(self.wn)
        self.base_params = params or lk.LeakParams()
        self.sensor_map = sensor_map
        self.key = key or Path(self.network).stem
        self.asset_prefix = asset_prefix  # location asset ids: prefix + pipe id
        self.m3h_per_unit = m3h_per_unit  # m³/h per unit of the flow readings (None: the INP's)
        self.labels = labels or []  # leaks known in the history it learns on (BattLeDIM truth)
        self.model: lk.Model | None = None
        self.z_thr = 3.0
        self.tanks: list[tuple[str, float]] = []
        self.state = lk.AlarmState()
        self.pending: list[lk.Detection] = []  # bursts waiting for the night after them
        self.thresholds: dict[str, Any] = {}
        self.problem = ""  # why the detector cannot calibrate (shown in its status)
        self._retry_at = pd.Timestamp.min
        self._buf = pd.DataFrame()
        self._step_s = 300
        self._nodes = set(self.wn.node_name_list)
        self._tanks = set(self.wn.tank_name_list)
        self._links = set(self.wn.link_name_list)
        self._placement: tuple[Any, str] | None = None  # (Refiner or None, why), decided once

    # ---- mapping -------------------------------------------------------------------------
    def _column(self, sensor_id: str) -> str | None:
        """The buffer column of a sensor (``P:``/``F:``/``L:`` + asset id); None for a sensor
        outside an explicit ``sensor_map``."""
        if self.sensor_map is not None:
            if sensor_id not in self.sensor_map:
                return None
            kind, asset = self.sensor_map[sensor_id]
            return {"pressure": "P:", "flow": "F:", "level": "L:"}[kind] + asset
        if sensor_id in self._tanks:
            return "L:" + sensor_id
        if sensor_id in self._nodes:
            return "P:" + sensor_id
        if sensor_id in self._links:
            return "F:" + sensor_id
        raise InputError(
            f"sensor {sensor_id!r} is neither a node nor a link of {self.network}", "sensor_id"
        )

    def _add(self, batch: pd.DataFrame) -> None:
        """Append a long batch to the raw buffer (wide: one column per mapped sensor)."""
        for col in ("sensor_id", "ts", "value"):
            if col not in batch.columns:
                raise InputError(f"batch lacks column {col!r}", "batch")
        if batch.empty:
            return
        b = pd.DataFrame(
            {
                "col": [self._column(str(s)) for s in batch["sensor_id"]],
                "ts": pd.to_datetime(batch["ts"], utc=True).dt.tz_convert(None),
                "value": pd.to_numeric(batch["value"], errors="coerce").to_numpy(float),
            }
        ).dropna(subset=["col"])
        if b.empty:
            return
        wide = b.pivot_table(index="ts", columns="col", values="value", aggfunc="mean")
        buf = wide if self._buf.empty else pd.concat([self._buf, wide])
        buf = buf[~buf.index.duplicated(keep="last")].sort_index()
        self._buf = buf.reindex(columns=sorted(buf.columns))

    def _scada(self, wide: pd.DataFrame) -> Scada:
        def part(prefix: str) -> pd.DataFrame:
            cols = [c for c in wide.columns if c.startswith(prefix)]
            return wide[cols].rename(columns=lambda c: c[2:])

        return Scada(
            part("P:"), part("F:"), part("L:"), pd.DataFrame(index=wide.index), self._step_s
        )

    def _window_days(self) -> int:
        """Days of data before an hour that its computation uses (baseline + whitening)."""
        return self.base_params.baseline_days + 14 + 1

    # ---- protocol ------------------------------------------------------------------------
    def learn(self, batch: pd.DataFrame) -> None:
        """Buffer a history batch; calibrate once ``calib_days + baseline_days`` days are in."""
        self._add(batch)
        if self.model is None:
            self._fit()

    def _fit(self) -> None:
        """Calibrate the model and learn the thresholds on the buffer, as the batch run does
        on its history: with ``labels`` (the leaks known in that history), the model is fitted
        on the hours without them and the thresholds learnt as with ``--history-truth``;
        without, the history is taken as leak-free (its leaks then raise the thresholds)."""
        from lifeline.water.network import sensitivity, tank_areas
        from lifeline.water.pipeline import learn_bursts, quiet_hours

        prm = self.base_params
        need = pd.Timedelta(hours=24 * (prm.calib_days + prm.baseline_days) - 2)
        if len(self._buf) < 2 or self._buf.index[-1] - self._buf.index[0] < need:
            return  # not the warm-up's span yet (checked before resampling the whole buffer)
        if self.problem and self._buf.index[-1] < self._retry_at:
            return  # it could not calibrate: try again a day later, not on every batch
        self._step_s = max(1, int(np.median(np.diff(self._buf.index.asi8)) // 10**9))
        sc = self._scada(self._buf)
        hist = lk.hourly(sc)
        if len(hist) < 24 * (prm.calib_days + prm.baseline_days) - 1:
            return
        sensors = [c[2:] for c in hist.columns if c.startswith("P:")]
        if len(sensors) < 2:
            self.problem = "fewer than 2 pressure sensors on the network's nodes to learn from"
            self._retry_at = self._buf.index[-1] + pd.Timedelta(days=1)
            self._trim()
            return
        sens = sensitivity(self.network, sensors)
        self.problem = ""
        # a leak still running when the history ends ends there, as in a labelled year
        end = pd.Timestamp(hist.index[-1])
        labels = [replace(k, end=min(k.end, end)) for k in self.labels if k.start <= end]
        quiet = quiet_hours(pd.DatetimeIndex(hist.index), labels) if labels else None
        model = lk.calibrate(hist, self.wn, sens, self.graph, prm, quiet)
        self.tanks = tank_areas(self.wn, list(hist.columns), self.m3h_per_unit)
        pre = lk.prepare(hist, model)
        _, self.z_thr, self.thresholds = learn_bursts(
            pre, model, self.graph, lk.raw_frame(sc), self.tanks, labels
        )
        self.model = model
        self.state = lk.AlarmState(last=pd.Timestamp(hist.index[-1]))
        self._trim()

    def _refiner(self, sensors: list[str]) -> Any:
        """The network model that places a reported burst, or None for the linear signatures,
        decided as the batch command decides without labelled leak outflows: by the hour test
        (:func:`lifeline.water.pipeline.burst_refiner`); once, the model stays open."""
        if self._placement is None:
            from lifeline.water.pipeline import burst_refiner

            info: dict[str, Any] = {}
            rf = burst_refiner(self.network, sensors, self.graph, None, info)
            self._placement = (rf, str(info["burst_placement"]))
        return self._placement[0]

    def _trim(self) -> None:
        keep = self._buf.index[-1] - pd.Timedelta(days=self._window_days() + 1)
        self._buf = self._buf[self._buf.index >= keep]

    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Score new readings: one row per completed hour (see the module docstring)."""
        self._add(batch)
        if self.model is None:
            self._fit()
            return empty_scores()
        if batch.empty or self._buf.empty or self.state.last is None:
            return empty_scores()
        complete = (self._buf.index[-1] + pd.Timedelta(seconds=self._step_s)).floor("h")
        hours = pd.date_range(self.state.last + HOUR, complete - HOUR, freq="h")
        rows = [r for h in hours if (r := self._hour(h)) is not None]
        self._trim()
        if not rows:
            return empty_scores()
        out = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
        out["ts"] = pd.to_datetime(out["ts"]).dt.tz_localize("UTC")
        out["score"] = out["score"].astype(float)
        return out

    def _hour(self, hour: pd.Timestamp) -> dict[str, Any] | None:
        """Run the alarm loop over ``hour`` (from the window of data before it)."""
        from lifeline.water.pipeline import burst_test

        assert self.model is not None
        model = self.model
        lo = hour.floor("D") - pd.Timedelta(days=self._window_days())
        raw = self._buf.loc[lo : hour + HOUR - pd.Timedelta(seconds=1)]
        sc = self._scada(raw)
        h = lk.hourly(sc).reindex(pd.date_range(lo, hour, freq="h"))
        h = h.reindex(columns=[c for c in h.columns if c in self._buf.columns])
        if h.loc[hour].isna().all():
            self.state.last = hour
            return None
        pre = lk.prepare(h, model)
        levels: list[tuple[pd.Timestamp, float, int]] = []
        rawf = lk.raw_frame(sc)
        test = burst_test(rawf, model, self.tanks, self.z_thr)

        def waiting(det: lk.Detection) -> tuple[lk.Detection, bool | None]:
            d2, ok = test(det)
            if ok is False and self._night_pending(test.last):
                self.pending.append(det)
            return d2, ok

        new = lk.detect_prepared(
            pre,
            model,
            self.graph,
            burst=waiting,
            state=self.state,
            levels=levels,
            refiner=self._refiner(model.sensors),
        )
        new += self._confirmed(test, hour, pre)
        level, j = (levels[-1][1], levels[-1][2]) if levels else (0.0, 0)
        if new:
            d = new[-1]
            score = max(1.0, level)
            location = self._candidates(d.candidates or [d.pipe], d.confidence)
            extra = {"pipe": d.pipe, "start": str(d.time), "confidence": round(d.confidence, 3)}
        else:
            score = float(np.clip(level, 0.0, BELOW_ALARM))
            location = self._candidates([model.pipes[j]], min(level, 1.0) * 0.5)
            extra = {}
        return {
            "key": self.key,
            "ts": hour,
            "score": float(score),
            "detail": {"location": location, "cusum_over_h": round(float(level), 4), **extra},
        }

    def _night_pending(self, st: Any) -> bool:
        """Whether the burst test turned an alarm down only because the night after its step
        is not in the data yet (``st``: the alarm's :class:`lifeline.water.rawstep.Step`): a
        pressure step over the gate and a rise of the supply under the step's σ, with a learnt
        night gate (the batch command, which sees that night, decides on it;
        :func:`lifeline.water.calib.is_burst`)."""
        from lifeline.water import calib

        assert self.model is not None
        return bool(
            np.isfinite(self.model.params.night_z)
            and st.z >= self.z_thr
            and 0 < st.supply_z < calib.SUPPLY_SIGMAS
            and st.night_end is None
            and not np.isfinite(st.night_z)
        )

    def _confirmed(self, test: Any, hour: pd.Timestamp, pre: lk.Prepared) -> list[lk.Detection]:
        """Bursts waiting for their night (:meth:`_night_pending`) that the night now confirms
        (``test``: this hour's burst test, :func:`lifeline.water.pipeline.burst_test`),
        reported at this ``hour`` unless they are a leak reported already
        (:func:`lifeline.water.repeats.verified_repeat`, the batch loop's rule for a verified
        step). Where the network model places bursts, a confirmed burst is placed as the batch
        loop places it, from the residuals of its change (``pre``: this hour's window,
        :meth:`_placer`). The loop then takes the leak's step out as it does for any report. A
        burst the night turns down, or whose night has not come two days after its alarm, is
        dropped."""
        assert self.model is not None
        prm, st = self.model.params, self.state
        absorb = absorb_time(prm)
        out, keep = [], []
        for det in self.pending:
            d2, ok = test(det)
            if not ok:
                if self._night_pending(test.last) and hour < det.alarm_time + pd.Timedelta(days=2):
                    keep.append(det)
                continue
            d2, repeat = verified_repeat(d2, st.dets, self.graph, prm, self._placer(det, pre))
            if repeat:
                continue
            t0 = det.time - pd.Timedelta(hours=prm.onset_margin_h)
            st.steps.append((t0, t0 + absorb))
            st.hold_until = hour + pd.Timedelta(hours=prm.holdoff_h)
            st.dets.append(d2)
            out.append(d2)
        self.pending = keep
        return out

    def _placer(
        self, det: lk.Detection, pre: lk.Prepared
    ) -> Callable[[lk.Detection], lk.Detection] | None:
        """How a burst reported late (confirmed by its night) is placed: with the network model
        where it places bursts (:meth:`_refiner`), from the residual change between the alarm's
        change point and ``loc_hours`` after its alarm in ``pre`` (the batch loop's
        :func:`lifeline.water.locate.refine_burst`); None (the linear signatures' place stands)
        without the model or when ``pre`` no longer holds those hours."""
        assert self.model is not None
        refiner = self._refiner(self.model.sensors)
        if refiner is None:
            return None
        ns = pre.idx.asi8
        start = det.time - pd.Timedelta(hours=self.model.params.onset_margin_h)
        t0, ta = (int(np.searchsorted(ns, t.value)) for t in (start, det.alarm_time))
        if ta >= len(ns) or pre.idx[t0] != start or pre.idx[ta] != det.alarm_time:
            return None
        return burst_placer(pre, t0, ta, self.model, self.graph, refiner)

    def _candidates(self, pipes: list[str], top: float) -> list[dict[str, Any]]:
        """Location candidates: asset id (``asset_prefix`` + pipe id), confidence in 0..1
        (decreasing down the list) and the pipe's mid-point (network coordinates)."""
        from lifeline.detect.readings import location

        out = []
        for i, p in enumerate(pipes[:5]):
            link = self.wn.get_link(p)
            a, b = link.start_node.coordinates, link.end_node.coordinates
            conf = float(np.clip(top, 0.0, 1.0)) / (i + 1)
            x, y = (float(a[0]) + float(b[0])) / 2, (float(a[1]) + float(b[1])) / 2
            out.append(location(self.asset_prefix + str(p), round(x, 2), round(y, 2), conf))
        return out

    def status(self) -> DetectorStatus:
        """Ready once calibrated; the warm-up is ``calib_days + baseline_days`` days."""
        n = sum(c.startswith("P:") for c in self._buf.columns)
        ready = self.model is not None
        prm = self.base_params
        return DetectorStatus(
            self.name,
            ready,
            sensors=n,
            sensors_ready=n if ready else 0,
            warmup=f"{prm.calib_days + prm.baseline_days} days of readings of the network",
            detail={
                "thresholds": _jsonable(self.thresholds),
                "burst_placement": self._placement[1] if self._placement else "not decided yet",
            }
            if ready
            else ({"problem": self.problem} if self.problem else {}),
        )

    def get_state(self) -> dict[str, Any]:
        """Model, thresholds, alarm loop and the raw window, JSON-serialisable."""
        st = self.state
        out: dict[str, Any] = {
            "step_s": self._step_s,
            "buffer": {
                "index": [str(t) for t in self._buf.index],
                "columns": list(self._buf.columns),
                "values": _jsonable(self._buf.to_numpy()),
            },
        }
        if self.model is None:
            return out
        m = self.model
        out["model"] = {
            "sensors": m.sensors,
            "source_flows": m.source_flows,
            "other_flows": m.other_flows,
            "levels": m.levels,
            "theta": _jsonable(m.theta),
            "sigma": _jsonable(m.sigma),
            "pipes": m.pipes,
            "unit_sig": _jsonable(m.unit_sig),
            "params": _jsonable(asdict(m.params)),
            "cov": _jsonable(m.cov) if m.cov is not None else None,
            "zones": asdict(m.zones) if m.zones is not None else None,
        }
        out["z_thr"] = self.z_thr
        out["tanks"] = [[t, a] for t, a in self.tanks]
        out["thresholds"] = _jsonable(self.thresholds)
        out["alarm"] = {
            "c": _jsonable(st.c) if st.c is not None else None,
            "zero_at": [int(x) for x in st.zero_at] if st.zero_at is not None else None,
            "steps": [[str(a), str(b)] for a, b in st.steps],
            "hold_until": str(st.hold_until) if st.hold_until is not None else None,
            "dets": [_jsonable(asdict(d)) for d in st.dets],
            "pending": [_jsonable(asdict(d)) for d in self.pending],
            "last": str(st.last) if st.last is not None else None,
        }
        return out

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned."""
        self._step_s = int(state["step_s"])
        b = state["buffer"]
        self._buf = pd.DataFrame(
            _array(b["values"]).reshape(len(b["index"]), len(b["columns"])),
            index=pd.DatetimeIndex([pd.Timestamp(t) for t in b["index"]]),
            columns=b["columns"],
        )
        if "model" not in state:
            self.model = None
            self.pending = []
            return
        m = state["model"]
        names = {f.name for f in fields(lk.LeakParams)}
        prm = lk.LeakParams(**{k: _num(v) for k, v in m["params"].items() if k in names})
        self.model = lk.Model(
            m["sensors"],
            m["source_flows"],
            m["other_flows"],
            m["levels"],
            _array(m["theta"]),
            _array(m["sigma"]),
            m["pipes"],
            _array(m["unit_sig"]),
            prm,
            _array(m["cov"]) if m["cov"] is not None else None,
            _zones(m.get("zones")),
        )
        self.z_thr = float(state["z_thr"])
        self.tanks = [(str(t), float(a)) for t, a in state["tanks"]]
        self.thresholds = state.get("thresholds", {})
        a = state["alarm"]
        ts = lambda x: pd.Timestamp(x) if x is not None else None  # noqa: E731
        self.state = lk.AlarmState(
            c=_array(a["c"]) if a["c"] is not None else None,
            zero_at=np.array(a["zero_at"], dtype=np.int64) if a["zero_at"] is not None else None,
            steps=[(pd.Timestamp(x), pd.Timestamp(y)) for x, y in a["steps"]],
            hold_until=ts(a["hold_until"]),
            dets=[_detection(d) for d in a["dets"]],
            last=ts(a["last"]),
        )
        self.pending = [_detection(d) for d in a.get("pending", [])]


#: sensor quantities the detector reads, by the kind of reading its model takes
QUANTITIES = {"pressure_m": "pressure", "flow_m3h": "flow", "level_m": "level"}


def sensor_map(sensors: pd.DataFrame, wn: Any) -> dict[str, tuple[str, str]]:
    """{sensor id: (kind, network id)} for a city's water sensors (``schema.SENSOR`` rows):
    pressure (m) and tank level (m) sensors on ``node:<id>``, flow sensors (m³/h) on
    ``link:<id>``. Sensors whose element is not in the network ``wn`` are left out."""
    nodes, links, tanks = set(wn.node_name_list), set(wn.link_name_list), set(wn.tank_name_list)
    out: dict[str, tuple[str, str]] = {}
    for sid, q, el in zip(
        sensors["sensor_id"].astype(str),
        sensors["quantity"].astype(str),
        sensors.get("element", pd.Series("", index=sensors.index)).fillna("").astype(str),
        strict=True,
    ):
        kind, _, ref = el.partition(":")
        what = QUANTITIES.get(q)
        ok = (
            (what == "pressure" and kind == "node" and ref in nodes)
            or (what == "level" and kind == "node" and ref in tanks)
            or (what == "flow" and kind == "link" and ref in links)
        )
        if ok and what is not None:
            out[sid] = (what, ref)
    return out


def build(city: City, sensors: pd.DataFrame) -> WaterLeakDetector:
    """The leak detector of the live engine for ``city``'s water network and its pressure,
    flow and tank-level ``sensors``: located alarms name ``water:pipe:<id>`` assets. Flows are
    read in m³/h (the sensor table's ``flow_m3h``), the unit of the tanks' filling in the
    supply step. The leaks of the city's ``known_leaks.csv`` are its labels: those that fall
    in the weeks it learns on are taken out of the model's fit and count as found when it
    learns its thresholds (:mod:`lifeline.model.known_leaks`)."""
    from lifeline.model.known_leaks import as_labels

    path = city.networks["water"]
    det = WaterLeakDetector(
        path,
        key="water:leaks",
        asset_prefix="water:pipe:",
        m3h_per_unit=1.0,
        labels=as_labels(city.known_leaks),
    )
    det.sensor_map = sensor_map(sensors, det.wn)
    return det


def _detection(d: dict[str, Any]) -> lk.Detection:
    """A :class:`lk.Detection` from its :meth:`WaterLeakDetector.get_state` form."""
    return lk.Detection(
        d["pipe"],
        pd.Timestamp(d["time"]),
        pd.Timestamp(d["alarm_time"]),
        float(d["confidence"]),
        list(d.get("candidates") or []),
        float(_num(d.get("strength", 0.0))),
        str(d.get("channel", "burst")),
    )


def _num(v: Any) -> Any:
    """Undo :func:`_jsonable` for one value (non-finite floats were written as strings)."""
    if isinstance(v, str) and v in ("inf", "-inf", "nan"):
        return float(v)
    return v


def _zones(z: dict[str, Any] | None) -> TankZones | None:
    """The :class:`TankZones` of a checkpoint (None: none, or a checkpoint from before them)."""
    if z is None:
        return None
    bounds = {str(t): (float(lo), float(hi)) for t, (lo, hi) in z["bounds"].items()}
    return TankZones(dict(z["node_tank"]), list(z["sensor_tank"]), bounds)


def _array(v: Any) -> np.ndarray:
    """A float array from nested lists where None stands for NaN."""
    return np.array(v, dtype=float) if v is not None else np.array([], dtype=float)


def _jsonable(v: Any) -> Any:
    """Strict-JSON form: arrays as nested lists with NaN as None, ±inf as strings, timestamps
    as text."""
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "f":  # at once: the raw window holds weeks of readings
            o = v.astype(object)
            o[np.isnan(v)] = None
            o[np.isposinf(v)] = "inf"
            o[np.isneginf(v)] = "-inf"
            return o.tolist()
        return _jsonable(v.tolist())
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, float | np.floating):
        x = float(v)
        if np.isnan(x):
            return None
        return x if np.isfinite(x) else str(x)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, pd.Timestamp):
        return str(v)
    return v
