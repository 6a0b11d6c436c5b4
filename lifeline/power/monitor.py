"""Grid monitoring: estimate the state every interval and alarm on what violates the limits.

State estimation by measurement-driven power flow, every ``interval`` (15 min by default):

* metered customers (``meter_kwh`` per interval, or ``p_mw``) take their measured power; a meter
  that reports exactly 0 kWh marks its customer as without supply;
* unmetered loads behind a feeder head with a ``p_mw`` measurement are scaled so that the
  feeder's loads minus its generation match the head (measured/forecast loads); where no head
  is measured they keep the network file's power;
* a feeder head that measures no power and no current is taken as open (tripped);
* ``pandapower.runpp`` then gives line and transformer loadings and bus voltages.

Scores (the :class:`lifeline.detect.base.Detector` protocol: larger = worse, 1 = at the limit):
``loading / max_loading_percent`` per line and transformer, ``|vm - 1| / v_band_pu`` of the
worst supplied bus (computed or measured) of each voltage zone (buses joined without a
transformer; sensor ``power:voltage_zone:<lowest bus>``, the buses outside the band in
``detail``), and the number of customers without supply (sensor
``power:no_supply``, the customers listed in ``detail``). A :class:`ThresholdPolicy` at 1.0
turns them into alarm rows (``lifeline.model.schema.ALARM``) from three detectors:
``power_overload``, ``power_voltage``, ``power_no_supply``. :meth:`GridMonitor.forecast_alarms`
runs the day-ahead forecast (:mod:`lifeline.power.forecast`) through hourly power flows and
raises ``power_overload_forecast`` alarms at the time an overload is expected.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lifeline.detect.base import ThresholdPolicy
from lifeline.errors import InputError
from lifeline.power.forecast import DayAheadForecaster


@dataclass
class MonitorConfig:
    """Limits and cadence of the monitor."""

    v_band_pu: float = 0.07  #: allowed deviation from 1 pu (GB/T 12325: ±7 % for 10 kV and LV)
    max_loading_percent: float = 100.0  #: line / transformer loading limit (%)
    interval: str = "15min"  #: state estimation interval
    report_floor: float = 0.9  #: element scores below this are not returned (keeps frames small)


def _asset_index(asset_id: str, kind: str) -> int | None:
    parts = str(asset_id).split(":")
    if len(parts) >= 3 and parts[0] == "power" and parts[1] == kind:
        try:
            return int(parts[2])
        except ValueError:
            return None
    return None


class GridMonitor:
    """Measurement-driven power-flow monitor of one pandapower network.

    ``sensors`` is the sensor table (``sensor_id, asset_id, quantity``): asset ids
    ``power:load:<i>`` (``meter_kwh`` or ``p_mw``), ``power:line:<i>`` (feeder head ``p_mw`` /
    ``current_a``), ``power:bus:<i>`` (``voltage_pu``). Readings use the long layout
    (``sensor_id, ts, value``).
    """

    name = "power_grid"
    utility = "power"

    def __init__(
        self, net: Any, sensors: pd.DataFrame, config: MonitorConfig | None = None
    ) -> None:
        import pandapower.topology as top

        self.net = copy.deepcopy(net)
        self.config = config or MonitorConfig()
        need = {"sensor_id", "asset_id", "quantity"}
        if not need <= set(sensors.columns):
            raise InputError(
                f"sensor table lacks column(s) {sorted(need - set(sensors.columns))}", "sensors"
            )
        self.sensors = sensors.set_index("sensor_id")
        self.base_p = (self.net.load.p_mw * self.net.load.scaling).astype(float)
        self.base_q = (self.net.load.q_mvar * self.net.load.scaling).astype(float)
        self.forecaster = DayAheadForecaster(interval=self.config.interval)
        # loads and generators behind each measured feeder head line
        heads = {
            i
            for a in self.sensors.asset_id[self.sensors.quantity == "p_mw"]
            if (i := _asset_index(a, "line")) is not None
        }
        self.behind: dict[int, tuple[list[int], list[int]]] = {}
        # voltage zones: galvanically connected buses (transformers separate zones); violations
        # are reported per zone (worst bus), not per bus, so one event makes one alarm
        gz = top.create_nxgraph(self.net, respect_switches=False, include_trafos=False)
        self.zone_of: dict[int, int] = {}
        for comp in top.connected_components(gz):
            z = int(min(comp))
            for b in comp:
                self.zone_of[int(b)] = z
        g = top.create_nxgraph(self.net, respect_switches=True)
        src = set(self.net.ext_grid.bus[self.net.ext_grid.in_service])
        for h in sorted(heads):
            fb, tb = int(self.net.line.at[h, "from_bus"]), int(self.net.line.at[h, "to_bus"])
            g2 = g.copy()
            for u, v, k in list(g2.edges(keys=True)):
                if k[0] == "line" and k[1] == h:
                    g2.remove_edge(u, v, k)
            live: set[int] = set()
            for comp in top.connected_components(g2):
                if comp & src:
                    live |= comp
            dead = {b for b in (fb, tb) if b not in live}
            comp_dead: set[int] = set()
            for comp in top.connected_components(g2):
                if comp & dead:
                    comp_dead |= comp
            loads = [int(i) for i, b in self.net.load.bus.items() if b in comp_dead]
            sgens = [int(i) for i, b in self.net.sgen.bus.items() if b in comp_dead]
            self.behind[h] = (loads, sgens)

    # -- learning -------------------------------------------------------------------------------
    def learn(self, batch: pd.DataFrame) -> None:
        """Learn the day-ahead forecaster from history of the feeder-head ``p_mw`` sensors."""
        heads = self.sensors[
            (self.sensors.quantity == "p_mw") & self.sensors.asset_id.str.startswith("power:line:")
        ]
        hist = batch[batch.sensor_id.isin(heads.index)]
        if not hist.empty:
            self.forecaster.learn(hist)

    # -- state estimation ---------------------------------------------------------------------
    def _intervals(self, batch: pd.DataFrame) -> dict[pd.Timestamp, pd.DataFrame]:
        b = batch.copy()
        b["ts"] = pd.to_datetime(b["ts"], utc=True)
        b = b[b.sensor_id.isin(self.sensors.index)]
        b["slot"] = b["ts"].dt.floor(self.config.interval)
        return {ts: grp for ts, grp in b.groupby("slot")}

    def estimate(self, readings: pd.DataFrame) -> dict[str, Any]:
        """Estimate the state for one interval's readings; returns results and unsupplied loads."""
        import pandapower as pp

        net = self.net
        hours = pd.Timedelta(self.config.interval) / pd.Timedelta("1h")
        mean = readings.groupby("sensor_id")["value"].mean()
        meta = self.sensors.loc[mean.index]
        p = self.base_p.copy()
        metered: set[int] = set()
        no_supply: set[int] = set()
        head_p: dict[int, float] = {}
        head_i: dict[int, float] = {}
        v_meas: dict[int, float] = {}
        for sid, val in mean.items():
            aid, q = meta.at[sid, "asset_id"], meta.at[sid, "quantity"]
            if (li := _asset_index(aid, "load")) is not None and li in p.index:
                mw = val / hours / 1000.0 if q == "meter_kwh" else val
                p[li] = max(float(mw), 0.0)
                metered.add(li)
                if val == 0.0:
                    no_supply.add(li)
            elif (hi := _asset_index(aid, "line")) is not None:
                if q == "p_mw":
                    head_p[hi] = float(val)
                elif q == "current_a":
                    head_i[hi] = float(val)
            elif (bi := _asset_index(aid, "bus")) is not None and q == "voltage_pu":
                v_meas[bi] = float(val)
        tripped = [h for h, v in head_p.items() if abs(v) < 1e-6 and abs(head_i.get(h, 0.0)) < 1e-3]
        for h, hp in head_p.items():
            if h in tripped or h not in self.behind:
                continue
            loads, sgens = self.behind[h]
            gen = float(net.sgen.p_mw.reindex(sgens).fillna(0).sum()) if sgens else 0.0
            known = float(p.reindex([i for i in loads if i in metered]).sum())
            rest = [i for i in loads if i not in metered]
            nominal = float(self.base_p.reindex(rest).sum())
            if rest and nominal > 0:
                p[rest] = self.base_p[rest] * max(hp + gen - known, 0.0) / nominal
        ratio = np.where(self.base_p > 0, p / self.base_p.replace(0, np.nan), 1.0)
        net.load["p_mw"] = p / net.load.scaling.replace(0, 1)
        net.load["q_mvar"] = np.nan_to_num(self.base_q * ratio) / net.load.scaling.replace(0, 1)
        saved = net.line.in_service.copy()
        net.line.loc[tripped, "in_service"] = False
        try:
            pp.runpp(net, numba=False)
            ok = True
        except Exception:  # non-convergence: report it, keep monitoring
            ok = False
        net.line["in_service"] = saved
        if ok:
            dead = net.res_bus.vm_pu.reindex(net.load.bus).isna().to_numpy()
            no_supply |= {
                int(i)
                for i, d in zip(net.load.index, dead, strict=True)
                if d and net.load.at[i, "in_service"]
            }
        return {
            "converged": ok,
            "line_loading": net.res_line.loading_percent.copy() if ok else pd.Series(dtype=float),
            "trafo_loading": net.res_trafo.loading_percent.copy()
            if ok and len(net.trafo)
            else pd.Series(dtype=float),
            "vm_pu": net.res_bus.vm_pu.copy() if ok else pd.Series(dtype=float),
            "v_measured": v_meas,
            "no_supply": sorted(no_supply),
            "tripped_heads": tripped,
        }

    # -- detector protocol --------------------------------------------------------------------
    def score(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Scores per interval (columns ``sensor_id, ts, score, detail``; see module doc)."""
        cfg = self.config
        rows: list[dict[str, Any]] = []
        for ts, grp in sorted(self._intervals(batch).items()):
            st = self.estimate(grp)
            for kind, series in (("line", st["line_loading"]), ("trafo", st["trafo_loading"])):
                for i, v in series.dropna().items():
                    sc = float(v) / cfg.max_loading_percent
                    if sc >= cfg.report_floor:
                        rows.append(
                            {
                                "sensor_id": f"power:{kind}:{i}",
                                "ts": ts,
                                "score": sc,
                                "detail": {
                                    "kind": "overload",
                                    "loading_percent": float(v),
                                    "location": [f"power:{kind}:{i}"],
                                },
                            }
                        )
            volts = {int(b): float(v) for b, v in st["vm_pu"].dropna().items()}
            volts.update(st["v_measured"])
            worst: dict[int, tuple[float, int, float]] = {}
            outside: dict[int, list[int]] = {}
            for b, v in volts.items():
                if v <= 0.0:
                    continue  # a dead bus is "no supply", not a voltage violation
                sc = abs(v - 1.0) / cfg.v_band_pu
                z = self.zone_of.get(b, b)
                if sc >= 1.0:
                    outside.setdefault(z, []).append(b)
                if sc > worst.get(z, (-1.0, 0, 0.0))[0]:
                    worst[z] = (sc, b, v)
            for z, (sc, b, v) in worst.items():
                if sc >= cfg.report_floor:
                    detail = {
                        "kind": "voltage",
                        "vm_pu": v,
                        "bus": b,
                        "buses_outside_band": sorted(outside.get(z, [])),
                        "location": [f"power:bus:{b}"],
                    }
                    rows.append(
                        {
                            "sensor_id": f"power:voltage_zone:{z}",
                            "ts": ts,
                            "score": sc,
                            "detail": detail,
                        }
                    )
            n = len(st["no_supply"])
            rows.append(
                {
                    "sensor_id": "power:no_supply",
                    "ts": ts,
                    "score": float(n),
                    "detail": {
                        "kind": "no_supply",
                        "loads": st["no_supply"],
                        "tripped_heads": st["tripped_heads"],
                        "location": [f"power:load:{i}" for i in st["no_supply"][:50]],
                    },
                }
            )
        if not rows:
            return pd.DataFrame(columns=["sensor_id", "ts", "score", "detail"])
        return pd.DataFrame(rows)

    def alarms(self, batch: pd.DataFrame) -> pd.DataFrame:
        """Alarm rows (schema ``alarm``) for overloads, voltages outside the band, no supply."""

        return self.alarms_from_scores(self.score(batch))

    def alarms_from_scores(self, scores: pd.DataFrame) -> pd.DataFrame:
        """Alarm rows from the output of :meth:`score` (one policy per alarm kind)."""
        from lifeline.model.schema import empty_frame

        if scores.empty:
            return empty_frame("alarm")
        kind = scores.detail.map(lambda d: d["kind"])
        policy = ThresholdPolicy(threshold=1.0, severity_steps=(1.0, 1.2, 1.5))
        parts = [
            policy.alarms(scores[kind == k].reset_index(drop=True), det, self.utility)
            for k, det in (("overload", "power_overload"), ("voltage", "power_voltage"))
        ]
        supply = ThresholdPolicy(threshold=1.0, severity_steps=(1.0, 20.0, 200.0))
        parts.append(
            supply.alarms(
                scores[kind == "no_supply"].reset_index(drop=True), "power_no_supply", self.utility
            )
        )
        parts = [p for p in parts if not p.empty]
        return pd.concat(parts, ignore_index=True) if parts else empty_frame("alarm")

    def forecast_alarms(self, start: pd.Timestamp, hours: int = 24) -> pd.DataFrame:
        """Run the day-ahead forecast of the feeder heads through hourly power flows; alarm
        (``power_overload_forecast``) at the first hour each line/trafo is expected > limit."""
        from lifeline.model.schema import conform, empty_frame

        fc = self.forecaster.predict(start, hours)
        fc["hour"] = pd.to_datetime(fc.ts, utc=True).dt.floor("1h")
        hourly = fc.groupby(["sensor_id", "hour"])["value"].max().reset_index()
        first: dict[str, tuple[pd.Timestamp, float]] = {}
        for hour, grp in hourly.groupby("hour"):
            st = self.estimate(grp.rename(columns={"hour": "ts"})[["sensor_id", "ts", "value"]])
            for kind, series in (("line", st["line_loading"]), ("trafo", st["trafo_loading"])):
                for i, v in series.dropna().items():
                    key = f"power:{kind}:{i}"
                    if v > self.config.max_loading_percent and key not in first:
                        first[key] = (pd.Timestamp(hour), float(v))
        if not first:
            return empty_frame("alarm")
        rows = [
            {
                "alarm_id": f"power_overload_forecast-{k}-{t.strftime('%Y%m%dT%H')}",
                "ts": t,
                "utility": "power",
                "detector": "power_overload_forecast",
                "severity": 2 if v < 120 else 3,
                "sensors": json.dumps([k]),
                "score": v / self.config.max_loading_percent,
                "location": json.dumps([k]),
                "detail": json.dumps({"expected_loading_percent": v, "horizon_h": hours}),
            }
            for k, (t, v) in first.items()
        ]
        return conform("alarm", pd.DataFrame(rows))
