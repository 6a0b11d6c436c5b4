"""The ``waterlogging_points.csv`` extension table: the drainage network's waterlogging points.

Columns ``point_id,node,threshold_m`` (optional ``name,name_zh``): a point on a road or at an
underpass, the SWMM node whose ponding (node depth above its MaxDepth) is the water on the road,
and the depth (m) at which the road is closed — 0.15 m on a lane (GB 51222-2017), 0.27 m at an
underpass (Beijing's closure depth). The live warning detector warns at these points.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from lifeline.model.package import Package

FILE = "waterlogging_points.csv"
COLUMNS = ["point_id", "node", "threshold_m", "name", "name_zh"]


def empty_points() -> pd.DataFrame:
    """A points table with no rows."""
    return pd.DataFrame(
        {c: pd.Series(dtype=float if c == "threshold_m" else object) for c in COLUMNS}
    )


def convert_points(pkg: Package, models: dict[str, Any]) -> pd.DataFrame:
    """The package's waterlogging points, checked against the SWMM model (errors name file,
    line and field): node a junction or storage node of the model, threshold a depth > 0 m."""
    df = pkg.tables.get("waterlogging_points")
    if df is None:
        return empty_points()
    el = models.get("drainage")
    rep = pkg.report
    if el is None:
        rep.error(FILE, "waterlogging points need a drainage network (networks: drainage)")
        return empty_points()
    nodes = {n for n, k in el.nodes.items() if k in ("junction", "storage")}
    rows = []
    seen: dict[str, int] = {}
    for r in df.to_dict("records"):
        line = int(r["_line"])
        pid, node = str(r.get("point_id") or ""), str(r.get("node") or "")
        if not pid:
            rep.error(FILE, "empty point_id", line, "point_id")
            continue
        if pid in seen:
            rep.error(FILE, f"duplicate id {pid!r} (first on line {seen[pid]})", line, "point_id")
            continue
        seen[pid] = line
        if node not in nodes:
            rep.error(
                FILE,
                f"node {node!r} is not a junction or storage node of the SWMM model",
                line,
                "node",
            )
            continue
        try:
            th = float(r["threshold_m"])
        except (TypeError, ValueError):
            th = float("nan")
        if not th > 0:
            rep.error(
                FILE,
                f"threshold_m must be a depth > 0 (m), got {r['threshold_m']!r}",
                line,
                "threshold_m",
            )
            continue
        rows.append(
            {
                "point_id": pid,
                "node": node,
                "threshold_m": th,
                "name": str(r.get("name") or ""),
                "name_zh": str(r.get("name_zh") or ""),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS) if rows else empty_points()
