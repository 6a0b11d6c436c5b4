"""Hotline calls that scripted incidents bring (the drill's user data), in zh-CN and en."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

CALLS: dict[str, list[tuple[str, str]]] = {
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


#: calls per kind made at the incident's site (a passer-by at the flooded road, a smell at the
#: manhole) rather than from the caller's home
AT_SITE = {"burst": (0, 1), "gas": (0, 1)}


def _cut_customers(city: Any, meter_events: pd.DataFrame | None, t0: pd.Timestamp) -> pd.DataFrame:
    """Customers whose smart meter sent ``last_gasp`` within two minutes of ``t0``."""
    if meter_events is None or not len(meter_events):
        return city.customers.iloc[:0]
    ev = meter_events[meter_events["kind"] == "last_gasp"]
    ts = pd.to_datetime(ev["ts"], utc=True)
    hit = ev[(ts - t0).abs() <= pd.Timedelta(minutes=2)]
    c = city.customers
    return c[c["customer_id"].isin(set(hit["customer_id"].astype(str))) & ~c["critical"]]


def event_complaints(
    city: Any,
    events: list[Any],
    start: pd.Timestamp,
    seed: int = 0,
    unrelated: bool = False,
    meter_events: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The hotline tickets and app reports (zh-CN and en) that ``events`` bring, classified and
    placed, minutes after each event starts: a burst brings two calls from the flooded road at
    the burst and two from homes nearby without water; a gas leak two calls about the smell at
    the manhole; a feeder fault calls from customers who lost supply (those whose meter sent
    ``last_gasp`` in ``meter_events``, nearest the faulted line first; without meter events,
    customers near the line). ``unrelated`` adds two calls far from every event, hours apart (a
    flicker, discoloured water). Returns COMPLAINT rows with ``utility``/``category`` from the
    classifier and ``customer_id`` from the placement."""
    from lifeline.incidents.complaints.ingest import classify_and_place
    from lifeline.model.schema import conform, empty_frame
    from lifeline.scenarios.events import BurstMain, FeederFault, GasLeak

    rng = np.random.default_rng(seed + 7)
    start = pd.Timestamp(start)
    tz = getattr(city, "timezone", None)
    day = start.tz_convert(tz) if tz and start.tzinfo is not None else start  # ids: local date
    a = city.assets.set_index("asset_id")
    rows: list[dict[str, Any]] = []

    def add(
        kind: str,
        x: float,
        y: float,
        t0: pd.Timestamp,
        spread_min: float,
        pool: pd.DataFrame | None = None,
    ) -> None:
        calls = CALLS[kind]
        who = pool if pool is not None else _customers_near(city, x, y, len(calls), rng)
        site = AT_SITE.get(kind, ())
        for k, ((channel, text), (_, cust)) in enumerate(zip(calls, who.iterrows(), strict=False)):
            here = k in site  # reported at the site: placed there, no home address
            cx, cy = (x, y) if here else (float(cust["x_m"]), float(cust["y_m"]))
            row = {
                "complaint_id": f"C-{day:%Y%m%d}-{len(rows) + 1:03d}",
                "ts": t0 + pd.Timedelta(minutes=float(rng.uniform(4, spread_min))),
                "channel": channel,
                "text": text.format(addr=cust["address"]),
                "address": "" if here else cust["address"],
                "x_m": cx + float(rng.normal(0, 5)),
                "y_m": cy + float(rng.normal(0, 5)),
            }
            rows.append(row)

    places = []
    for ev in events:
        if isinstance(ev, BurstMain):
            j = a.loc[f"water:junction:{ev.junction}"]
            add("burst", float(j["x_m"]), float(j["y_m"]), pd.Timestamp(ev.start), 40)
        elif isinstance(ev, GasLeak):
            m = a.loc[ev.manhole]
            add(
                "gas",
                float(m["x_m"]),
                float(m["y_m"]),
                pd.Timestamp(ev.start) + pd.Timedelta(minutes=20),
                60,
            )
        elif isinstance(ev, FeederFault):
            line = a.loc[f"power:line:{ev.line}"]
            x, y = float(line["x_m"]), float(line["y_m"])
            cut = _cut_customers(city, meter_events, pd.Timestamp(ev.start))
            pool = None
            if len(cut):
                n = len(CALLS["power"])
                d = np.hypot(cut["x_m"].to_numpy(float) - x, cut["y_m"].to_numpy(float) - y)
                near = cut.iloc[np.argsort(d, kind="stable")[: 3 * n]]
                pool = near.iloc[rng.choice(len(near), size=min(n, len(near)), replace=False)]
            add("power", x, y, pd.Timestamp(ev.start), 30, pool=pool)
        else:
            continue
        places.append((rows[-1]["x_m"], rows[-1]["y_m"]) if rows else (0.0, 0.0))
    if unrelated and places:
        far = city.customers[~city.customers["critical"]]
        ex, ey = np.mean([p[0] for p in places[:2]]), np.mean([p[1] for p in places[:2]])
        far = far.iloc[np.argsort(-np.hypot(far["x_m"] - ex, far["y_m"] - ey).to_numpy())[:20]]
        add(
            "noise",
            0.0,
            0.0,
            start + pd.Timedelta(hours=11),
            90,
            pool=far.sample(2, random_state=seed),
        )
    if not rows:
        return empty_frame("complaint")
    placed = classify_and_place(pd.DataFrame(rows), city.customers, crs=city.crs)
    return conform("complaint", placed)
