"""How the defaults of `lifeline drainage warn` were chosen (drainage dev set, tuning half only).

1. For every dev day, replay the day with the real forecaster (SWMM analysis run + forecast
   runs) but with several rain factors at once (members 0.75, 1, 1.5, 2 x the 3-nowcast lagged
   mean) and record, per issue time, each member's predicted ponding per point, the nowcast bias
   and the depth-gauge readings (cached, this is the slow part).
2. For each candidate decision setting — rain factor c, bias power a (driving rain =
   nowcast x c x bias^a, clipped to 0.5-2), margin k, persistence — replay the actual
   :class:`lifeline.drainage.warn.WarningPolicy` on predictions interpolated between the members
   (in log rain factor) and score with the dev scorer.
3. Choose on the TUNE days only: among settings with POD >= 0.9 and median lead >= 45 min, the
   lowest FAR (then the highest CSI). The held-out days' figures are printed next to each
   setting but play no part in the choice.

Writes bench/results/drainage_tuning.json (the frontier on the tuning days, with the held-out
figures of the same settings).

    .venv/bin/python bench/drainage_tune.py [--data ../shared/data/drainage_dev] [--cache DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from drainage import TUNE, load_scorer, summarize

from lifeline.drainage.feed import RecordedFeed
from lifeline.drainage.io import STEP, read_points, write_warnings
from lifeline.drainage.model import load_network
from lifeline.drainage.nowcast import Bias
from lifeline.drainage.ponding import (
    ForecastConfig,
    PointForecast,
    PondingForecaster,
    Prediction,
    observed_ponding,
)
from lifeline.drainage.warn import PolicyConfig, WarningPolicy

REPO = Path(__file__).resolve().parent.parent
MEMBERS = (0.75, 1.0, 1.5, 2.0)


def record(scen: Path) -> dict:
    """Replay one day with all members; returns what the policy replay needs."""
    model = load_network(scen / "network.inp")
    points = read_points(scen / "points.csv")
    feed = RecordedFeed(scen / "observed", scen / "forecasts")
    times = feed.issue_times()
    cfg = ForecastConfig(
        rain_factor=1.0, bias_power=0.0, factor_bounds=(1.0, 1.0), scales=MEMBERS, quiet_mm_h=1.0
    )
    issues, ticks = [], []
    if times:
        end = max(feed.end or times[-1], times[-1])
        clock = sorted(set(pd.date_range(times[0], end, freq=STEP)) | set(times))
        with PondingForecaster(model, points, feed.sensors, feed.start, cfg) as fc:
            for t in clock:
                snap = feed.snapshot(t)
                if t in set(times):
                    p = fc.update(t, snap.observed, snap.forecasts)
                    issues.append(
                        {
                            "t": t,
                            "bias": p.bias,
                            "now": p.now_m,
                            "obs": p.observed_m,
                            "members": {
                                s: {k: (v.start, v.peak_ts, v.peak_m) for k, v in m.items()}
                                for s, m in p.members.items()
                            },
                        }
                    )
                else:
                    ticks.append((t, observed_ponding(snap.observed, feed.sensors, points, t)))
    return {"issues": issues, "ticks": ticks}


def interpolate(rec: dict, factor: float) -> dict[str, PointForecast]:
    """Predicted ponding per point at rain ``factor``, interpolated between the members."""
    sc = np.array(sorted(rec["members"]))
    out = {}
    for pid in rec["members"][sc[0]]:
        peaks = np.maximum.accumulate([rec["members"][s][pid][2] for s in sc])
        peak = float(np.interp(np.log(factor), np.log(sc), peaks))
        above = [s for s in sc if s >= factor - 1e-9 and rec["members"][s][pid][0] is not None]
        start = rec["members"][above[0]][pid][0] if above else None
        peak_ts = rec["members"][above[0]][pid][1] if above else None
        out[pid] = PointForecast(pid, start, peak_ts, peak)
    return out


def replay(day: dict, points: list, c: float, a: float, policy: PolicyConfig) -> list[dict]:
    """The warning lines the policy issues on one recorded day."""
    pol = WarningPolicy(points, policy)
    lines = []
    events = [(r["t"], "issue", r) for r in day["issues"]] + [
        (t, "tick", obs) for t, obs in day["ticks"]
    ]
    for t, kind, payload in sorted(events, key=lambda e: e[0]):
        if kind == "tick":
            lines += pol.observe(t, payload)
            continue
        b: Bias = payload["bias"]
        f = float(np.clip(c * b.ratio**a, 0.5, 2.0))
        pred = Prediction(
            t,
            {1.0: interpolate(payload, f)},
            payload["now"],
            payload["obs"],
            b,
            1.0,
            f,
            {},
            0.0,
            True,
        )
        lines += pol.decide(pred)
    return [ln.as_row() for ln in lines]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "drainage_dev")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/lifeline-drainage-tune"))
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "drainage_tuning.json")
    a = ap.parse_args()
    data = a.data.resolve()
    names = sorted(d for d in os.listdir(data) if (data / d / "points.csv").exists())
    sd = load_scorer(data)
    a.cache.mkdir(parents=True, exist_ok=True)
    days, pts = {}, {}
    for n in names:
        f = a.cache / f"{n}.pkl"
        if not f.exists():
            print(f"recording {n} ...", flush=True)
            pickle.dump(record(data / n), f.open("wb"))
        days[n] = pickle.load(f.open("rb"))
        pts[n] = read_points(data / n / "points.csv")
    tune = [n for n in names if n in TUNE]
    held = [n for n in names if n not in TUNE]
    grid = itertools.product((1.0, 1.1, 1.25, 1.4), (0.0, 0.5, 1.0), (1.0, 1.5, 2.0), (1, 2))
    rows = []
    out_dir = a.cache / "lines"
    for c, bp, k, ps in grid:
        pol = PolicyConfig(margin=k, persist=ps)
        res = []
        for n in names:
            path = out_dir / n / "warnings.csv"
            write_warnings(replay(days[n], pts[n], c, bp, pol), path)
            res.append(sd.score_scenario(n, str(data / n), str(data / n / "truth"), str(path)))
        row = {
            "rain_factor": c,
            "bias_power": bp,
            "margin": k,
            "persist": ps,
            "tuned_on": summarize([r for r in res if r["scenario"] in tune]),
            "held_out": summarize([r for r in res if r["scenario"] in held]),
        }
        rows.append(row)
        t = row["tuned_on"]
        print(
            f"c {c:.2f} a {bp:.1f} k {k:.1f} persist {ps}: tune POD {t['pod']:.3f} "
            f"FAR {t['far']:.3f} lead {t['lead_median_min']}",
            flush=True,
        )

    def key(r: dict) -> tuple:
        return (r["tuned_on"]["far"], -r["tuned_on"]["csi"])

    ok = [
        r
        for r in rows
        if r["tuned_on"]["pod"] >= 0.9 and (r["tuned_on"]["lead_median_min"] or 0) >= 45
    ]
    chosen = min(ok, key=key) if ok else max(rows, key=lambda r: r["tuned_on"]["csi"])
    front = []
    for r in sorted(rows, key=key):
        t = r["tuned_on"]
        if t["pod"] < 0.9:
            continue
        if all(
            (f["tuned_on"]["lead_median_min"] or 0) < (t["lead_median_min"] or 0) for f in front
        ):
            front.append(r)
    print("\nfrontier on the tuning days (FAR up, lead up), with the held-out figures:")
    for r in front:
        t, h = r["tuned_on"], r["held_out"]
        print(
            f"  c {r['rain_factor']:.2f} a {r['bias_power']:.1f} k {r['margin']:.1f} "
            f"persist {r['persist']} | tune POD {t['pod']:.3f} FAR {t['far']:.3f} lead "
            f"{t['lead_median_min']} | held-out POD {h['pod']:.3f} FAR {h['far']:.3f} lead "
            f"{h['lead_median_min']}"
        )
    print(
        f"chosen: {json.dumps({k: chosen[k] for k in ('rain_factor', 'bias_power', 'margin', 'persist')})}"
    )
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(
        json.dumps(
            {
                "members": MEMBERS,
                "tuned_on_days": tune,
                "held_out_days": held,
                "rule": "tuning days: POD >= 0.9 and median lead >= 45 min, lowest FAR, then CSI",
                "chosen": chosen,
                "frontier": front,
                "all": rows,
            },
            indent=1,
            default=str,
        )
        + "\n"
    )
    print(f"written {a.out}")


if __name__ == "__main__":
    main()
