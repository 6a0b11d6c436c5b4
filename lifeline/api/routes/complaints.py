"""Hotline / app complaints: list and record (classified by the complaint classifier when the
utility is not given)."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query

from lifeline.api.deps import Ctx, CurrentUser, Operator
from lifeline.api.models import ComplaintIn, ComplaintOut
from lifeline.errors import InputError

router = APIRouter(prefix="/api/complaints", tags=["complaints"])
log = logging.getLogger(__name__)


def _customer_districts(ctx: Any) -> dict[str, str]:
    key = ("cust_district", ctx.ref_version())
    if key not in ctx.cache:
        c = ctx.store.read_table("customer")
        ctx.cache[key] = {
            str(k): str(v)
            for k, v in zip(c["customer_id"], c["district_id"], strict=True)
            if v is not None and not pd.isna(v)
        }
    return ctx.cache[key]  # type: ignore[no-any-return]


def classify(text: str) -> tuple[str, str]:
    """(utility, category) of a complaint text by the shared classifier; ("", "") if unavailable."""
    try:
        from lifeline.incidents.complaints.classifier import classify as _classify

        p = _classify([text])
        return str(p["utility"].iloc[0]), str(p["category"].iloc[0])
    except Exception as exc:  # the classifier is optional for the API
        log.warning("complaint classification unavailable: %s", exc)
        return "", ""


@router.get("", response_model=list[ComplaintOut], summary="Complaints, newest first")
def list_complaints(
    user: CurrentUser,
    ctx: Ctx,
    since: datetime | None = None,
    utility: str | None = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 200,
) -> list[ComplaintOut]:
    df = ctx.store.list_complaints(since=since, utility=utility).iloc[::-1]
    cd = _customer_districts(ctx)
    out = []
    for r in df.astype(object).where(df.notna(), None).to_dict("records"):
        r["district_id"] = cd.get(str(r.get("customer_id") or ""))
        if user.sees(r["district_id"]):
            out.append(ComplaintOut(**r))
    return out[:limit]


@router.post(
    "", response_model=ComplaintOut, status_code=201, summary="Record a complaint (operator)"
)
def post_complaint(body: ComplaintIn, user: Operator, ctx: Ctx) -> ComplaintOut:
    ts = pd.Timestamp(body.ts) if body.ts else pd.Timestamp.now("UTC")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    utility, category = body.utility or "", body.category or ""
    if not utility:
        utility, c2 = classify(body.text)
        category = category or c2
    cid = (
        body.complaint_id
        or "C-" + hashlib.sha1(f"{ts.isoformat()}|{body.text}".encode()).hexdigest()[:10]
    )
    row = {
        **body.model_dump(),
        "complaint_id": cid,
        "ts": ts,
        "utility": utility or None,
        "category": category or None,
    }
    district = _customer_districts(ctx).get(str(body.customer_id or ""))
    if user.district_id and district != user.district_id:
        raise InputError(
            f"complaint must name a customer in your district {user.district_id}",
            where="customer_id",
        )
    frame = pd.DataFrame([row])
    if ctx.city is not None and not body.utility:
        # classified above; placed on the city's customers (x_m/y_m in the city's CRS, an
        # address or a customer id) so that it can join incidents
        from lifeline.incidents.complaints.place import Placer

        placed = Placer(ctx.city.customers, crs=ctx.crs).place(frame)
        for col in ("customer_id", "x_m", "y_m"):
            if col in placed.columns and (row.get(col) in (None, "") or pd.isna(row.get(col))):
                v = placed[col].iloc[0]
                row[col] = None if pd.isna(v) else v
        district = district or str(placed.get("district_id", pd.Series([""])).iloc[0] or "") or None
        frame = pd.DataFrame([row])
    from lifeline.incidents.complaints.ingest import submit_complaints

    if submit_complaints(ctx.store, frame, ctx.engine) == 0:
        raise InputError(f"complaint {cid!r} already exists", where="complaint_id")
    ctx.audit(user, "add_complaint", cid, {"utility": utility, "category": category})
    ctx.bus.publish(
        "complaint",
        {
            "complaint_id": cid,
            "utility": utility,
            "category": category,
            "text": body.text,
            "ts": ts.isoformat(),
        },
        district,
    )
    return ComplaintOut(**{**row, "district_id": district})
