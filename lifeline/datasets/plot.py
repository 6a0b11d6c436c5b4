"""One map of the demo town: the three networks, critical sites and sensors (matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lifeline.datasets.town import Town

COLORS = {
    "power": "#d62728",
    "gas": "#ff7f0e",
    "water": "#1f77b4",
    "drainage": "#7f7f7f",
    "telecom": "#9467bd",
}


def _segments(wkts: Any) -> list[list[tuple[float, float]]]:
    segs = []
    for w in wkts:
        body = str(w)[len("LINESTRING (") : -1]
        segs.append([tuple(float(v) for v in p.split()) for p in body.split(", ")])
    return segs  # type: ignore[return-value]


def plot_town(town: Town, out: Path, title: str | None = None) -> Path:
    """Plot the town on one map (EPSG:25832 metres) and save it as an image at ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    a = town.assets
    village = town.customers
    x0, x1 = village.x_m.min() - 300, village.x_m.max() + 300
    y0, y1 = village.y_m.min() - 300, village.y_m.max() + 300
    fig, ax = plt.subplots(figsize=(11, 10), dpi=120)
    from lifeline.datasets.gas_town import main_pipes

    mains = {f"gas:pipe:{i}" for i in main_pipes(town.gas).index}
    gas_pipes = a[(a.utility == "gas") & (a.kind == "pipe")]
    layers = [
        ("power", a[(a.utility == "power") & (a.kind == "line")], 0.6, "power lines (MV+LV)"),
        ("gas", gas_pipes[~gas_pipes.asset_id.isin(mains)], 0.3, "gas house connections"),
        ("gas", gas_pipes[gas_pipes.asset_id.isin(mains)], 1.4, "gas mains"),
        ("water", a[(a.utility == "water") & (a.kind == "pipe")], 1.0, "water mains (synthetic)"),
    ]
    for util, sel, lw, label in layers:
        sel = sel[
            (sel.x_m > x0 - 2000)
            & (sel.x_m < x1 + 2000)
            & (sel.y_m > y0 - 2000)
            & (sel.y_m < y1 + 2000)
        ]
        ax.add_collection(
            LineCollection(
                _segments(sel.geometry_wkt),
                colors=COLORS[util],
                linewidths=lw,
                alpha=0.7,
                label=label,
            )
        )
    tr = a[(a.utility == "power") & (a.kind == "trafo")]
    ax.scatter(
        tr.x_m,
        tr.y_m,
        marker="s",
        s=40,
        c=COLORS["power"],
        edgecolors="k",
        label="substations",
        zorder=4,
    )
    s = town.sensors
    for q, m in (
        ("pressure_m", "^"),
        ("flow_m3h", ">"),
        ("pressure_bar", "v"),
        ("methane_pct_lel", "*"),
    ):
        sel = s[s.quantity == q]
        ax.scatter(
            sel.x_m,
            sel.y_m,
            marker=m,
            s=35,
            c="k" if q != "methane_pct_lel" else "#bcbd22",
            edgecolors="k",
            linewidths=0.4,
            label=f"sensors: {q}",
            zorder=5,
        )
    crit = village[village.critical]
    ax.scatter(
        crit.x_m,
        crit.y_m,
        marker="P",
        s=160,
        c="#2ca02c",
        edgecolors="k",
        label="critical sites",
        zorder=6,
    )
    for r in crit.itertuples():
        ax.annotate(
            str(r.category), (r.x_m, r.y_m), xytext=(6, 6), textcoords="offset points", fontsize=8
        )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel("easting (m, EPSG:25832)")
    ax.set_ylabel("northing (m, EPSG:25832)")
    ax.set_title(title or "Schutterwald demo town: power, gas and (synthetic) water on one map")
    ax.legend(loc="upper left", fontsize=7, framealpha=0.9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
