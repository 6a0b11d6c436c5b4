"""KPIs of the incidents in the user's scope (lifeline.incidents.kpi)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from fastapi import APIRouter

from lifeline.api import incident_ops as ops
from lifeline.api.deps import Ctx, CurrentUser
from lifeline.api.models import KpiOut

router = APIRouter(prefix="/api/kpis", tags=["kpis"])


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


@router.get(
    "",
    response_model=KpiOut,
    summary="Counts, mean response times (minutes) and customer-minutes lost",
)
def kpis(user: CurrentUser, ctx: Ctx, freq: str = "D") -> KpiOut:
    from lifeline.incidents.kpi import kpi_summary, kpi_table

    incs = ops.list_frame(ctx, district=user.district_id)
    # open incidents count their customer-minutes until now: the replay's clock during a replay
    now = ctx.now().to_pydatetime()
    table = kpi_table(incs, now)
    per = kpi_summary(incs, freq=freq, by_district=True, now=now) if incs else None
    means: dict[str, float | None] = {}
    measured: dict[str, int] = {}
    per_incident: list[dict[str, Any]] = []
    cml = 0.0
    if len(table):
        for c in [c for c in table.columns if c.startswith("time_to_")]:
            vals = [v for v in (_num(x) for x in table[c]) if v is not None]
            means[c.removesuffix("_min")] = round(sum(vals) / len(vals), 2) if vals else None
            measured[c.removesuffix("_min")] = len(vals)
        cml = float(
            sum(v for v in (_num(x) for x in table["customer_minutes_lost"]) if v is not None)
        )
        t = table.astype(object).where(table.notna(), None)
        per_incident = [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
            for r in t.to_dict("records")
        ]
    per_period = (
        []
        if per is None or per.empty
        else per.astype(object).where(per.notna(), None).to_dict("records")
    )
    return KpiOut(
        incidents=len(incs),
        open=sum(1 for i in incs if i.state not in ("closed", "reviewed")),
        by_state=dict(Counter(i.state for i in incs)),
        by_grade=dict(Counter(i.grade or "-" for i in incs)),
        by_utility=dict(Counter(i.utility for i in incs)),
        mean_minutes=means,
        measured=measured,
        customer_minutes_lost=round(cml, 1),
        per_period=per_period,
        per_incident=per_incident,
    )
