"""KPIs per incident and per period and district.

Per incident (minutes): time to detect (detected − onset, only when the onset is known), to
confirm, dispatch, isolate and restore (each measured from detection), and customer-minutes lost:
Σ customers out × minutes without supply. Outage segments may be given in
``incident.impact["outage_segments"]`` as ``[{"customers": n, "start": ts, "end": ts}]`` (e.g.
most customers restored through ties early, a few at repair); otherwise all customers out lose
supply from onset (or detection) until ``restored``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

from lifeline.incidents.evidence import to_utc
from lifeline.incidents.lifecycle import Incident

STEPS = (
    ("confirm", "confirmed"),
    ("dispatch", "dispatched"),
    ("isolate", "isolated"),
    ("restore", "restored"),
)


def _minutes(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return (b - a).total_seconds() / 60.0


def customer_minutes_lost(inc: Incident, now: Any = None) -> float | None:
    """Customer-minutes lost; an incident not yet restored counts until ``now`` (None if no ``now``)."""
    segs = inc.impact.get("outage_segments")
    end_default = inc.state_time("restored") or (to_utc(now) if now is not None else None)
    if segs:
        total = 0.0
        for s in segs:
            end = to_utc(s["end"]) if s.get("end") else end_default
            if end is None:
                return None
            total += float(s["customers"]) * max(
                0.0, (end - to_utc(s["start"])).total_seconds() / 60.0
            )
        return total
    out = inc.impact.get("customers_out")
    n = len(out) if isinstance(out, list) else float(inc.impact.get("households_out", 0) or 0)
    start = inc.onset_at or inc.state_time("detected") or inc.opened_at
    if end_default is None:
        return None
    return float(n) * max(0.0, (end_default - start).total_seconds() / 60.0)


def incident_kpis(inc: Incident, now: Any = None) -> dict[str, Any]:
    """KPIs of one incident (minutes, customer-minutes); None where a state was not reached."""
    detected = inc.state_time("detected") or inc.opened_at
    row: dict[str, Any] = {
        "incident_id": inc.incident_id,
        "utility": inc.utility,
        "grade": inc.grade,
        "district_id": inc.district_id,
        "opened_at": inc.opened_at,
        "time_to_detect_min": _minutes(inc.onset_at, detected) if inc.onset_at else None,
    }
    for name, state in STEPS:
        row[f"time_to_{name}_min"] = _minutes(detected, inc.state_time(state))
    row["customer_minutes_lost"] = customer_minutes_lost(inc, now)
    return row


def kpi_table(incidents: list[Incident], now: Any = None) -> pd.DataFrame:
    """One KPI row per incident."""
    return pd.DataFrame([incident_kpis(i, now) for i in incidents])


def kpi_summary(
    incidents: list[Incident], freq: str = "D", by_district: bool = True, now: Any = None
) -> pd.DataFrame:
    """KPIs aggregated per period (pandas offset alias, e.g. ``D``, ``W``, ``M``) and district.

    Columns: period, district_id (if ``by_district``), incidents, mean of each time-to KPI
    (minutes) and the total customer-minutes lost.
    """
    t = kpi_table(incidents, now)
    if t.empty:
        return t
    t["period"] = (
        pd.to_datetime(t["opened_at"], utc=True).dt.tz_localize(None).dt.to_period(freq).astype(str)
    )
    keys = ["period", "district_id"] if by_district else ["period"]
    cols = [c for c in t.columns if c.startswith("time_to_")]
    for c in [*cols, "customer_minutes_lost"]:
        t[c] = pd.to_numeric(t[c], errors="coerce")
    agg = t.groupby(keys, dropna=False).agg(
        incidents=("incident_id", "count"),
        **{f"mean_{c}": (c, "mean") for c in cols},
        customer_minutes_lost=("customer_minutes_lost", "sum"),
    )
    return agg.reset_index()


def kpi_reasons(inc: Incident, now: Any = None) -> list[tuple[str, float | None, str]]:
    """Each KPI of one incident as ``(name, value, why_missing)``: the reason is empty when a value
    exists, else says why there is none yet (onset unknown, state not reached, not restored)."""
    k = incident_kpis(inc, now)
    out: list[tuple[str, float | None, str]] = []
    v = k["time_to_detect_min"]
    out.append(("time_to_detect_min", v, "" if v is not None else "onset not known"))
    for name, state in STEPS:
        v = k[f"time_to_{name}_min"]
        out.append(
            (
                f"time_to_{name}_min",
                v,
                "" if v is not None else f"not {state} yet (state {inc.state})",
            )
        )
    v = k["customer_minutes_lost"]
    why = ""
    if v is None:
        why = "not restored yet"
    out.append(("customer_minutes_lost", v, why))
    return out
