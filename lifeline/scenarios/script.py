"""The scripted demo day: three incidents, the hotline calls they bring, and the detection that
turns the day's readings into alarms.

- 03:10 UTC a water main bursts next to a substation (flooding risk for power);
- 09:20 UTC gas leaks from a main and seeps into a power cable well;
- 15:40 UTC an MV line faults on the feeder that supplies the water pumping station, whose pumps
  stop (cascade into water) until the feeder is restored at 17:40.

Everything is chosen from the town's own tables (dependencies, sections), not hard-coded ids, so
the script follows the town if it is rebuilt. The API's live replay finds these functions through
``lifeline.scenarios.day`` (``demo_events``, ``day_complaints``, ``detect_alarms``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lifeline.scenarios.events import BurstMain, Event, FeederFault, GasLeak

BURST_AT = pd.Timedelta(hours=3, minutes=10)
BURST_FOR = pd.Timedelta(hours=4)  # isolated by the crew after four hours
GAS_AT = pd.Timedelta(hours=9, minutes=20)
FAULT_AT = pd.Timedelta(hours=15, minutes=40)
FAULT_FOR = pd.Timedelta(hours=2)


def _burst_pipe(town: Any) -> str:
    """The water pipe next to a substation (flooding dependency) farthest from every water source
    (reservoirs and tanks, counted in links).

    A burst there floods the substation, and isolating it cuts a street, not the whole town.
    """
    import networkx as nx

    deps = town.dependencies
    pipes = deps.loc[deps["kind"] == "flooding", "depends_on_asset_id"].astype(str)
    g = nx.Graph(town.water.to_graph().to_undirected())
    sources = {*town.water.reservoir_name_list, *town.water.tank_name_list}
    hops = nx.multi_source_dijkstra_path_length(g, sources, weight=lambda u, v, d: 1)
    best, best_hops = "", -1
    for asset_id in pipes:
        link = town.water.get_link(asset_id.split(":")[-1])
        h = min(hops.get(link.start_node_name, 0), hops.get(link.end_node_name, 0))
        if h > best_hops:
            best, best_hops = link.name, h
    return best


def _leak_manhole(town: Any) -> str:
    """The power cable well with a methane detector that lies closest to a gas main."""
    deps = town.dependencies
    prox = deps[
        (deps["kind"] == "proximity")
        & deps["asset_id"].astype(str).str.startswith("power:manhole:")
    ]
    watched = set(
        town.sensors.loc[town.sensors["quantity"] == "methane_pct_lel", "asset_id"].astype(str)
    )
    prox = prox[prox["asset_id"].astype(str).isin(watched)].sort_values("distance_m")
    return str(prox["asset_id"].iloc[0])


def _station_feeder_line(town: Any) -> int:
    """An MV line in the switchable section that feeds the substation of the pumping station.

    The station hangs on an LV bus; its substation transformer's MV bus lies in an MV section
    whose loss trips the feeder breaker and de-energises the whole substation, station included.
    """
    import networkx as nx
    import pandapower.topology as top

    from lifeline.power.topology import build_sections

    net = town.power
    station = int(town.meta["station_bus"])
    lv_side = nx.node_connected_component(top.create_nxgraph(net, include_trafos=False), station)
    trafo = net.trafo[net.trafo["lv_bus"].isin(lv_side)].iloc[0]
    g = build_sections(net)
    lines = g.section_lines[g.bus_section[int(trafo["hv_bus"])]]
    return int(sorted(lines)[0])


def demo_events(town: Any, start: pd.Timestamp) -> list[Event]:
    """The three scripted events of the demo day starting at ``start`` (UTC midnight)."""
    start = pd.Timestamp(start)
    pipe = town.water.get_link(_burst_pipe(town))
    return [
        BurstMain(
            junction=pipe.start_node_name,
            start=start + BURST_AT,
            flow_m3h=40.0,
            end=start + BURST_AT + BURST_FOR,
        ),
        GasLeak(manhole=_leak_manhole(town), start=start + GAS_AT, leak_kg_s=0.02),
        FeederFault(
            line=_station_feeder_line(town),
            start=start + FAULT_AT,
            end=start + FAULT_AT + FAULT_FOR,
        ),
    ]


# ---- hotline calls ---------------------------------------------------------------------------
_CALLS: dict[str, list[tuple[str, str]]] = {
    "burst": [
        ("hotline", "{addr}路面冒水，水很大，像是水管爆了，请赶紧来处理"),
        ("app", "Water gushing out of the road near {addr}, looks like a burst pipe"),
        ("hotline", "家里突然没水了，{addr}，水龙头一滴都没有"),
        ("hotline", "{addr}水压很低，洗澡都不行"),
    ],
    "gas": [
        ("hotline", "{addr}附近井盖旁边闻到很浓的煤气味，怕出事"),
        ("app", "Strong smell of gas near the manhole at {addr}"),
    ],
    "power": [
        ("hotline", "{addr}整栋楼停电了，什么时候来电？"),
        ("app", "Power outage at {addr}, the whole street is dark"),
        ("hotline", "{addr}突然停电，家里老人用制氧机，很着急"),
        ("hotline", "我家没电了，{addr}，邻居家也没有"),
        ("app", "No electricity since this afternoon at {addr}"),
    ],
    "noise": [
        ("hotline", "{addr}灯一直在闪，电压不稳"),
        ("app", "Tap water looks brown and rusty at {addr}"),
    ],
}


def _customers_near(
    town: Any, x: float, y: float, n: int, rng: np.random.Generator
) -> pd.DataFrame:
    c = town.customers[~town.customers["critical"]]
    d = np.hypot(c["x_m"].to_numpy(float) - x, c["y_m"].to_numpy(float) - y)
    near = c.iloc[np.argsort(d)[: max(3 * n, n)]]
    return near.iloc[rng.choice(len(near), size=min(n, len(near)), replace=False)]


def day_complaints(town: Any, start: pd.Timestamp, seed: int = 0) -> pd.DataFrame:
    """The hotline tickets and app reports of the demo day (zh-CN and en), classified and placed.

    Each scripted event brings calls from customers near it, minutes after it starts; two unrelated
    calls (flicker, discoloured water) come from elsewhere. Returns COMPLAINT rows
    (``lifeline.model.schema``) with ``utility``/``category`` from the classifier and ``customer_id``
    from the placement.
    """
    from lifeline.incidents.complaints.ingest import classify_and_place
    from lifeline.model.schema import conform

    rng = np.random.default_rng(seed + 7)
    start = pd.Timestamp(start)
    a = town.assets.set_index("asset_id")
    events = demo_events(town, start)
    rows: list[dict[str, Any]] = []

    def add(
        kind: str,
        x: float,
        y: float,
        t0: pd.Timestamp,
        spread_min: float,
        pool: pd.DataFrame | None = None,
    ) -> None:
        calls = _CALLS[kind]
        who = pool if pool is not None else _customers_near(town, x, y, len(calls), rng)
        for (channel, text), (_, cust) in zip(calls, who.iterrows(), strict=False):
            rows.append(
                {
                    "complaint_id": f"C-{start:%Y%m%d}-{len(rows) + 1:03d}",
                    "ts": t0 + pd.Timedelta(minutes=float(rng.uniform(4, spread_min))),
                    "channel": channel,
                    "text": text.format(addr=cust["address"]),
                    "address": cust["address"],
                    "x_m": float(cust["x_m"]) + float(rng.normal(0, 5)),
                    "y_m": float(cust["y_m"]) + float(rng.normal(0, 5)),
                }
            )

    burst, leak, fault = events
    j = a.loc[f"water:junction:{burst.junction}"]  # type: ignore[union-attr]
    add("burst", float(j["x_m"]), float(j["y_m"]), burst.start, 40)
    m = a.loc[leak.manhole]  # type: ignore[union-attr]
    add("gas", float(m["x_m"]), float(m["y_m"]), leak.start + pd.Timedelta(minutes=20), 60)
    line = a.loc[f"power:line:{fault.line}"]  # type: ignore[union-attr]
    add("power", float(line["x_m"]), float(line["y_m"]), fault.start, 30)
    # unrelated calls far from every event, hours apart from them
    far = town.customers[~town.customers["critical"]]
    ex, ey = (
        np.mean([float(j["x_m"]), float(m["x_m"])]),
        np.mean([float(j["y_m"]), float(m["y_m"])]),
    )
    far = far.iloc[np.argsort(-np.hypot(far["x_m"] - ex, far["y_m"] - ey).to_numpy())[:20]]
    add(
        "noise", 0.0, 0.0, start + pd.Timedelta(hours=11), 90, pool=far.sample(2, random_state=seed)
    )

    df = pd.DataFrame(rows)
    placed = classify_and_place(df, town.customers)
    return conform("complaint", placed)


# ---- detection ---------------------------------------------------------------------------------
@dataclass
class DemoDetection:
    """The platform's detectors over the demo town, fed batch by batch (stateful).

    - water: :class:`lifeline.water.online.WaterLeakDetector` calibrated on three quiet simulated
      days (water only), alarms through ``ThresholdPolicy(threshold=1)``;
    - gas: :class:`lifeline.gas.detector.MethaneAlarmDetector` on the manhole methane sensors;
    - power: a supply-loss detector — a feeder-head current or a substation voltage that falls to
      under 5 % of its normal value is an alarm on that asset (the protective device operated).
    """

    town: Any
    start: pd.Timestamp
    seed: int = 0
    history_days: int = 3
    _water: Any = None
    _gas: Any = None
    #: a pressure drop while the pumping station is without power (and for this long after) is
    #: explained by the outage: it is evidence of the power incident's cascade, not a burst
    cascade_hold: pd.Timedelta = field(default_factory=lambda: pd.Timedelta(hours=2))
    suppressed: int = 0
    _normal: dict[str, float] = field(default_factory=dict)
    _out: set[str] = field(default_factory=set)
    _station_out_until: pd.Timestamp | None = None

    def _prepare(self) -> None:
        from lifeline.gas.town import methane_detector_for
        from lifeline.progress import track
        from lifeline.scenarios.day_water import simulate_water
        from lifeline.water import leaks as lk
        from lifeline.water.online import WaterLeakDetector

        town = self.town
        ws = town.sensors[town.sensors["utility"] == "water"]
        smap = {
            str(r.sensor_id): (
                "pressure" if r.quantity == "pressure_m" else "flow",
                str(r.asset_id).split(":")[-1],
            )
            for r in ws.itertuples()
        }
        days = [
            simulate_water(
                town, self.start - pd.Timedelta(days=k), np.random.default_rng(1000 + k), []
            )
            for k in track(
                range(self.history_days, 0, -1), "Simulating quiet days to calibrate water"
            )
        ]
        self._water = WaterLeakDetector(
            town.water_inp_path,
            params=lk.LeakParams(k=0.5, h=12.0, h_burst=15.0, baseline_days=1),
            sensor_map=smap,
        )
        self._water.learn(pd.concat(days, ignore_index=True))
        self._gas = methane_detector_for(town.sensors, town.assets)

    def __call__(
        self,
        town: Any,
        readings: pd.DataFrame,
        history: pd.DataFrame | None = None,
        t_end: Any = None,
    ) -> pd.DataFrame:
        """Alarms (ALARM rows) raised by ``readings``; ``history`` holds earlier readings."""
        from lifeline.detect.base import ThresholdPolicy
        from lifeline.model.schema import empty_frame

        if self._water is None:
            self._prepare()
        if readings.empty:
            return empty_frame("alarm")
        sid = readings["sensor_id"].astype(str)
        out = []
        supply = self._supply_loss(readings, history)
        water = readings[sid.str.startswith("water:")]
        if len(water):
            scores = self._water.score(water)
            if self._station_out_until is not None:
                explained = scores["ts"] <= self._station_out_until
                self.suppressed += int((explained & (scores["score"] >= 1.0)).sum())
                scores = scores[~explained]
            scores = scores.assign(detail=[self._with_candidates(d) for d in scores["detail"]])
            out.append(ThresholdPolicy(threshold=1.0).alarms(scores, "water-leaks", "water"))
        methane = readings[sid.str.startswith("gas:methane:")]
        if len(methane):
            scores = self._gas.score(methane)
            scores = scores[scores["score"] >= 1.0]
            if len(scores):
                alarms = ThresholdPolicy(threshold=1.0, severity_steps=(1.0, 2.0, 4.0)).alarms(
                    scores, "methane", "gas"
                )
                sensor_asset = self.town.sensors.set_index("sensor_id")["asset_id"].astype(str)
                alarms["location"] = [
                    json.dumps(self._located([sensor_asset.get(json.loads(s)[0], "")], 0.9))
                    for s in alarms["sensors"]
                ]
                out.append(alarms)
        out.append(supply)
        out = [o for o in out if len(o)]
        return pd.concat(out, ignore_index=True) if out else empty_frame("alarm")

    def _supply_loss(self, readings: pd.DataFrame, history: pd.DataFrame | None) -> pd.DataFrame:
        from lifeline.model.schema import conform, empty_frame

        sensors = self.town.sensors.set_index("sensor_id")
        watch = sensors[sensors["quantity"].isin(["current_a", "voltage_pu"])].index.astype(str)
        r = readings[readings["sensor_id"].astype(str).isin(watch)]
        if history is not None and len(history):
            h = history[history["sensor_id"].astype(str).isin(watch)]
            for s, v in h.groupby("sensor_id")["value"].median().items():
                self._normal.setdefault(str(s), float(v))
        rows = []
        for s, g in r.sort_values("ts").groupby("sensor_id"):
            s = str(s)
            normal = self._normal.get(s)
            if normal is None:
                self._normal[s] = float(g["value"].median())
                continue
            for ts, v in zip(g["ts"], g["value"], strict=True):
                dead = normal > 0 and v < 0.05 * normal
                if dead and s not in self._out:
                    self._out.add(s)
                    asset = str(sensors.loc[s, "asset_id"])
                    rows.append(
                        {
                            "alarm_id": f"supply-loss-{s}-{pd.Timestamp(ts):%H%M}",
                            "ts": ts,
                            "utility": "power",
                            "detector": "supply-loss",
                            "severity": 3,
                            "sensors": json.dumps([s]),
                            "score": float(1 - v / normal),
                            "location": json.dumps(self._located([asset], 0.9)),
                            "detail": json.dumps(
                                {"normal": normal, "value": float(v), "asset_id": asset}
                            ),
                        }
                    )
                elif not dead and s in self._out and v > 0.5 * normal:
                    self._out.discard(s)
                if s == self._station_sensor():
                    if s in self._out:
                        self._station_out_until = pd.Timestamp(ts) + self.cascade_hold
                    elif (
                        self._station_out_until is not None
                        and pd.Timestamp(ts) > self._station_out_until
                    ):
                        self._station_out_until = None
        return conform("alarm", pd.DataFrame(rows)) if rows else empty_frame("alarm")

    def _located(self, asset_ids: list[str], confidence: float) -> list[dict[str, Any]]:
        """Location candidates with position and zone from the town's asset table; the first
        has ``confidence``, the next ones less (halved, thirded, …)."""
        a = self.town.assets.set_index("asset_id")
        out = []
        for i, asset_id in enumerate(asset_ids):
            if asset_id not in a.index:
                continue
            r = a.loc[asset_id]
            out.append(
                {
                    "asset_id": asset_id,
                    "confidence": round(confidence / (1 + i), 3),
                    "x_m": float(r["x_m"]),
                    "y_m": float(r["y_m"]),
                    "zone_id": str(r["zone_id"]),
                }
            )
        return out

    def _with_candidates(self, detail: Any) -> Any:
        """Water alarm detail with every candidate pipe as a located candidate (the best first),
        so that correlation sees the whole candidate area, not one pipe."""
        if not isinstance(detail, dict) or not detail.get("candidates"):
            return detail
        cands = [f"water:pipe:{c}" for c in detail["candidates"]]
        return {**detail, "location": self._located(cands, float(detail.get("confidence", 0.5)))}

    def _station_sensor(self) -> str:
        return f"power:voltage:{int(self.town.meta['station_bus'])}"


_DETECTION: dict[int, DemoDetection] = {}


def detect_alarms(
    town: Any, readings: pd.DataFrame, history: pd.DataFrame | None = None, t_end: Any = None
) -> pd.DataFrame:
    """Alarms for a batch of the demo day's readings (one stateful detector set per town)."""
    det = _DETECTION.get(id(town))
    if det is None:
        ts = pd.to_datetime(readings["ts"], utc=True)
        start = ts.min().floor("D") if len(ts) else pd.Timestamp.now(tz="UTC").floor("D")
        det = _DETECTION[id(town)] = DemoDetection(town, start)
    return det(town, readings, history, t_end)


def zone_links(town: Any) -> set[tuple[str, str]]:
    """Pairs of water zones (DMAs) joined by a pipe, both ways: evidence in neighbouring DMAs is
    upstream or downstream of each other, so the correlator may group it (a burst's pressure
    signature often points across a DMA boundary)."""
    a = town.assets
    zone = dict(zip(a["asset_id"].astype(str), a["zone_id"].astype(str), strict=True))
    links: set[tuple[str, str]] = set()
    for _name, link in town.water.links():
        z1 = zone.get(f"water:junction:{link.start_node_name}")
        z2 = zone.get(f"water:junction:{link.end_node_name}")
        if z1 and z2 and z1 != z2 and z1 != "nan" and z2 != "nan":
            links |= {(z1, z2), (z2, z1)}
    return links


def meter_events(town: Any, readings: pd.DataFrame) -> pd.DataFrame:
    """Last-gasp events from smart meters: the first zero reading of a meter that read > 0 before.

    Returns ``ts, utility, event, customer_id``.
    """
    m = readings[readings["sensor_id"].astype(str).str.startswith("power:meter:")].sort_values("ts")
    if m.empty:
        return pd.DataFrame(columns=["ts", "utility", "event", "customer_id"])
    prev = m.groupby("sensor_id")["value"].shift(1)
    first_zero = m[(m["value"] <= 0) & (prev > 0)].drop_duplicates("sensor_id")
    load_to_customer = dict(
        zip(
            town.customers["power_asset_id"].astype(str),
            town.customers["customer_id"].astype(str),
            strict=False,
        )
    )
    sensors = town.sensors.set_index("sensor_id")["asset_id"].astype(str)
    cust = [
        load_to_customer.get(sensors.get(s, ""), "") for s in first_zero["sensor_id"].astype(str)
    ]
    return pd.DataFrame(
        {
            "ts": first_zero["ts"].to_numpy(),
            "utility": "power",
            "event": "last_gasp",
            "customer_id": cust,
        }
    )[lambda d: d["customer_id"] != ""].reset_index(drop=True)
