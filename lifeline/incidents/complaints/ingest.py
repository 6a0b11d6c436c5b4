"""Read complaint files (CSV or JSON), classify and place each complaint.

Input columns: ``ts`` and ``text`` (required); ``complaint_id``, ``channel``, ``address``,
``x_m``/``y_m`` (the city's CRS) or ``lon``/``lat`` (WGS84) optional. Timestamps without a zone are
read as UTC.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from lifeline.errors import InputError

REQUIRED = ("ts", "text")


def read_complaints(path: Path) -> pd.DataFrame:
    """Read a CSV, JSON array or JSON-lines file of complaints; raises InputError naming file/line/field."""
    if not path.exists():
        raise InputError("file not found", where=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False)
            line_of = {i: i + 2 for i in range(len(df))}  # header is line 1
        elif suffix in (".json", ".jsonl", ".ndjson"):
            text = path.read_text(encoding="utf-8")
            if suffix == ".json" and text.lstrip().startswith("["):
                records = json.loads(text)
            else:
                records = [json.loads(line) for line in text.splitlines() if line.strip()]
            if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
                raise InputError("expected a JSON array of objects", where=str(path))
            df = pd.DataFrame(records)
            line_of = {i: i + 1 for i in range(len(df))}
        else:
            raise InputError("unsupported file type (use .csv, .json or .jsonl)", where=str(path))
    except (json.JSONDecodeError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot parse: {exc}", where=str(path)) from exc
    for col in REQUIRED:
        if col not in df.columns:
            raise InputError(f"missing column {col!r}", where=str(path))
    ts = pd.to_datetime(df["ts"], errors="coerce", utc=True)
    for i in range(len(df)):
        if pd.isna(ts.iloc[i]):
            raise InputError(
                f"bad timestamp {df['ts'].iloc[i]!r}", where=f"{path}:{line_of[i]}: ts"
            )
        if not str(df["text"].iloc[i] or "").strip():
            raise InputError("empty text", where=f"{path}:{line_of[i]}: text")
    df["ts"] = ts
    if "complaint_id" not in df.columns:
        df["complaint_id"] = ""
    df["complaint_id"] = [
        cid if str(cid or "").strip() else "C-" + hashlib.sha1(f"{t}|{x}".encode()).hexdigest()[:10]
        for cid, t, x in zip(df["complaint_id"], df["ts"], df["text"], strict=True)
    ]
    if "channel" not in df.columns:
        df["channel"] = "hotline"
    for col in ("address", "x_m", "y_m", "lon", "lat"):
        if col not in df.columns:
            df[col] = "" if col == "address" else float("nan")
    for col in ("x_m", "y_m", "lon", "lat"):
        df[col] = pd.to_numeric(df[col].replace("", float("nan")), errors="coerce")
    return df


def classify_and_place(
    df: pd.DataFrame, customers: pd.DataFrame | None, crs: str | None = None
) -> pd.DataFrame:
    """Add utility, category (+ margins) and placement columns to a complaint table.

    ``crs``: the city's CRS of the customers' coordinates (needed to place lon/lat complaints;
    without it they are placed by address only). Without a customer table every row is
    unplaced with reason ``no customer table``.
    """
    from lifeline.incidents.complaints.classifier import classify
    from lifeline.incidents.complaints.place import Placer

    out = df.reset_index(drop=True).copy()
    pred = classify(out["text"].astype(str).tolist())
    for col in pred.columns:
        out[col] = pred[col].to_numpy()
    if customers is not None and len(customers):
        out = Placer(customers, crs=crs).place(out)
    else:
        out["customer_id"] = ""
        out["district_id"] = ""
        out["place_method"] = "unplaced"
        out["place_reason"] = "no customer table"
    return out


def submit_complaints(store: Any, df: pd.DataFrame, engine: Any = None) -> int:
    """Store classified and placed complaints (idempotent on complaint_id) and hand the new
    ones to the live engine; a complaint older than the engine's watermark is stored but not
    correlated (it arrived too late for the loop). Returns how many were new."""
    from lifeline.model.schema import conform

    rows = conform("complaint", df)
    known = (
        set(store.list_complaints(since=rows["ts"].min())["complaint_id"].astype(str))
        if len(rows)
        else set()
    )
    new = rows[~rows["complaint_id"].astype(str).isin(known)]
    n = store.add_complaints(new) if len(new) else 0
    if engine is not None and len(new):
        nb = engine.not_before()
        engine.submit_complaints(new if nb is None else new[new["ts"] >= nb])
    return int(n)
