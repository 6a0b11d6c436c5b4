"""One map of any city: its networks, substations, sensors and critical sites (matplotlib).

from lifeline.model.plot import plot_city
plot_city(city, Path("city.png"))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

COLORS = {
    "power": "#d62728",
    "gas": "#ff7f0e",
    "water": "#1f77b4",
    "drainage": "#7f7f7f",
    "telecom": "#9467bd",
}
#: sensor marker per quantity (others: "o")
MARKERS = {
    "pressure_m": "^",
    "flow_m3h": ">",
    "level_m": "s",
    "voltage_pu": "D",
    "current_a": "d",
    "p_mw": "h",
    "pressure_bar": "v",
    "methane_pct_lel": "*",
}


def _segments(wkts: Any) -> list[list[tuple[float, float]]]:
    """LINESTRING WKT -> lists of (x, y); other geometries are skipped."""
    segs = []
    for w in wkts:
        s = str(w)
        if not s.upper().startswith("LINESTRING"):
            continue
        body = s[s.index("(") + 1 : s.rindex(")")]
        segs.append([tuple(float(v) for v in p.split()[:2]) for p in body.split(",")])
    return segs  # type: ignore[return-value]


def map_extent(city: Any, margin_m: float = 300.0) -> tuple[float, float, float, float]:
    """(xmin, xmax, ymin, ymax) of the map: the customers with a margin (where the city lives;
    long rural feeders stay partly outside), else every asset."""
    pts = city.customers if len(city.customers) else city.assets
    x, y = pts.x_m.astype(float), pts.y_m.astype(float)
    return (
        float(x.min()) - margin_m,
        float(x.max()) + margin_m,
        float(y.min()) - margin_m,
        float(y.max()) + margin_m,
    )


def _line_layers(city: Any) -> list[tuple[str, Any, float, str]]:
    a = city.assets
    layers: list[tuple[str, Any, float, str]] = [
        ("power", a[(a.utility == "power") & (a.kind == "line")], 0.8, "power lines")
    ]
    gas_pipes = a[(a.utility == "gas") & (a.kind == "pipe")]
    if len(gas_pipes) and city.has("gas"):
        from lifeline.gas.valves import main_pipes

        mains = {f"gas:pipe:{i}" for i in main_pipes(city.gas).index}
        layers += [
            ("gas", gas_pipes[~gas_pipes.asset_id.isin(mains)], 0.3, "gas service lines"),
            ("gas", gas_pipes[gas_pipes.asset_id.isin(mains)], 1.4, "gas mains"),
        ]
    layers.append(("water", a[(a.utility == "water") & (a.kind == "pipe")], 1.0, "water mains"))
    layers.append(("drainage", a[a.utility == "drainage"], 0.8, "drainage conduits"))
    return layers


def plot_city(city: Any, out: Path, title: str | None = None) -> Path:
    """Plot ``city`` on one map (metres in its CRS) and save it at ``out`` (PNG, SVG or PDF)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    out = Path(out)
    x0, x1, y0, y1 = map_extent(city)
    fig, ax = plt.subplots(figsize=(11, 10), dpi=120)
    for util, sel, lw, label in _line_layers(city):
        sel = sel[
            (sel.x_m > x0 - 2000)
            & (sel.x_m < x1 + 2000)
            & (sel.y_m > y0 - 2000)
            & (sel.y_m < y1 + 2000)
        ]
        segs = _segments(sel.geometry_wkt)
        if segs:
            ax.add_collection(
                LineCollection(segs, colors=COLORS[util], linewidths=lw, alpha=0.7, label=label)
            )
    a = city.assets
    for kind, marker, label in (("trafo", "s", "substations"), ("tank", "o", "tanks / reservoirs")):
        sel = a[a.kind.isin([kind, "reservoir"] if kind == "tank" else [kind])]
        if len(sel):
            ax.scatter(
                sel.x_m,
                sel.y_m,
                marker=marker,
                s=40,
                c=[COLORS.get(u, "k") for u in sel.utility],
                edgecolors="k",
                label=label,
                zorder=4,
            )
    s = city.sensors
    for q, g in s.groupby("quantity"):
        ax.scatter(
            g.x_m,
            g.y_m,
            marker=MARKERS.get(str(q), "o"),
            s=35,
            c="#bcbd22" if q == "methane_pct_lel" else "k",
            edgecolors="k",
            linewidths=0.4,
            label=f"sensors: {q}",
            zorder=5,
        )
    crit = city.customers[city.customers.critical.astype(bool)] if len(city.customers) else None
    if crit is not None and len(crit):
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
                str(r.category),
                (r.x_m, r.y_m),
                xytext=(6, 6),
                textcoords="offset points",
                fontsize=8,
            )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_xlabel(f"easting (m, {city.crs})")
    ax.set_ylabel(f"northing (m, {city.crs})")
    nets = ", ".join(city.utilities())
    ax.set_title(title or f"{city.name}: {nets} on one map")
    ax.legend(loc="upper left", fontsize=7, framealpha=0.9)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
