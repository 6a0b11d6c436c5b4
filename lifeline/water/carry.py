"""Leaks known from the labelled history that are still running when the data begin.

A leak labelled in the history as active at its last time step has not been repaired as far as
the utility knows. When the data follow the history directly, the data say whether it still
runs: a repair raises the night pressures along the leak's signature by its flow times its
sensitivity, and lowers the water balance by its flow. The change from the history's last week
to the data's first week is fitted jointly on the known leaks (each one's signature times its
last labelled flow); a leak whose fitted share of a repair is below one half is still running
and is reported at the first time step of the data: it is a leak in these data, at that place,
from that time on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifeline.water.balance_loc import NightLoc
from lifeline.water.leaks import Detection
from lifeline.water.scada import Leak

WEEK = pd.Timedelta(days=7)


def still_running(
    loc: NightLoc,
    known: list[Leak],
    outflow: pd.DataFrame,
    data_start: pd.Timestamp,
    signatures: dict[str, np.ndarray] | None = None,
) -> tuple[list[Detection], dict[str, float]]:
    """Known leaks still running at ``data_start`` (detections at that time) and, per leak, the
    fitted share of a repair (0: still running, 1: repaired)."""
    day = pd.Timedelta(days=1)
    proj = loc.proj if loc.proj is not None else np.eye(loc.w.shape[0])
    y = pd.DataFrame(loc.rn.to_numpy() @ loc.w.T @ proj.T, index=loc.rn.index)
    before = y.loc[data_start - WEEK : data_start - day].dropna()
    after = y.loc[data_start : data_start + WEEK - day].dropna()
    pix = {p: i for i, p in enumerate(loc.pipes)}
    cols, names = [], []
    for k in known:
        if k.pipe not in pix or k.pipe not in outflow.columns:
            continue
        q = float(outflow[k.pipe].iloc[-288:].mean()) if len(outflow) else 0.0
        sig = (signatures or {}).get(k.pipe, loc.a[pix[k.pipe]])
        if q <= 0 or not np.isfinite(q):
            continue
        cols.append(-sig * q)  # the change a repair would make
        names.append(k.pipe)
    if not names or len(before) < 3 or len(after) < 3:
        return [], {}
    d = after.mean().to_numpy() - before.mean().to_numpy()
    m = np.array(cols).T
    share, *_ = np.linalg.lstsq(m, d, rcond=None)
    out = []
    for p, s in zip(names, share, strict=True):
        if s < 0.5:
            conf = float(np.clip(1.0 - s, 0.0, 1.0))
            out.append(Detection(p, data_start, data_start, conf, [p], 0.0, "known"))
    return out, {p: round(float(s), 3) for p, s in zip(names, share, strict=True)}
