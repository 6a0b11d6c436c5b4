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


def event_complaints(
    city: Any,
    events: list[Any],
    start: pd.Timestamp,
    seed: int = 0,
    unrelated: bool = False,
) -> pd.DataFrame:
    """The hotline tickets and app reports (zh-CN and en) that ``events`` bring, classified and
    placed: each event brings calls from customers near it, minutes after it starts;
    ``unrelated`` adds two calls far from every event, hours apart (a flicker, discoloured
    water). Returns COMPLAINT rows with ``utility``/``category`` from the classifier and
    ``customer_id`` from the placement."""
    from lifeline.incidents.complaints.ingest import classify_and_place
    from lifeline.model.schema import conform, empty_frame
    from lifeline.scenarios.events import BurstMain, FeederFault, GasLeak

    rng = np.random.default_rng(seed + 7)
    start = pd.Timestamp(start)
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
            add("power", float(line["x_m"]), float(line["y_m"]), pd.Timestamp(ev.start), 30)
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
