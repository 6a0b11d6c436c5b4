"""``lifeline risk rank|criticality`` and ``lifeline sensors place``.

Without ``--network`` the commands run on a city (``--city DIR``, a city package; default the
demo town: water, gas and power); with ``--network L-TOWN.inp`` on any EPANET model (water). Heavy libraries are imported inside the
commands. ``register(app)`` adds both groups to the main ``lifeline`` app.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import typer

from lifeline.errors import InputError

risk_app = typer.Typer(
    help="Pipeline ageing risk and segment criticality (water, gas, power).", no_args_is_help=True
)
sensors_app = typer.Typer(
    help="Placement of new pressure (water) or methane (gas) sensors.", no_args_is_help=True
)

NETWORK = typer.Option(
    None, "--network", help="EPANET INP file (water only); default: the city (--city)."
)
CITY = typer.Option(
    None, "--city", help="City package folder (docs/cities.md); default: the demo town."
)
VALVES = typer.Option(
    None,
    "--valves",
    help="Valve layer CSV valve,node,link (INP only); default: generated WNTR strategic N-1.",
)
CUSTOMERS = typer.Option(
    None, "--customers", help="Customers CSV customer_id,node,category,critical (INP only)."
)
EXECUTOR = typer.Option(
    "inprocess", "--executor", help="Scenario fan-out: inprocess, processes or dask."
)
CLUSTER = typer.Option(
    None, "--cluster", help="Dask scheduler address tcp://HOST:PORT (implies --executor dask)."
)
WORKERS = typer.Option(
    None, "--workers", min=1, help="Worker processes (process pool or local Dask cluster)."
)
HOUR = typer.Option(
    None,
    "--hour",
    min=0.0,
    max=24.0,
    help="Hour of the model day for the PDD runs; default: the peak-demand hour.",
)
CRS = typer.Option(
    None, "--crs", help="CRS of an INP's coordinates, e.g. EPSG:32648 (a city's is known)."
)


def register(app: typer.Typer) -> None:
    """Add ``risk`` and ``sensors`` to the main ``lifeline`` app."""
    app.add_typer(risk_app, name="risk")
    app.add_typer(sensors_app, name="sensors")


def _console() -> Any:
    import sys

    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=160)


def _utilities(value: str | None, city: Any) -> list[str]:
    if not value:
        return [u for u in ("water", "gas", "power") if city.has(u)] if city else ["water"]
    out = [u.strip() for u in value.split(",") if u.strip()]
    for u in out:
        if u not in ("water", "gas", "power"):
            raise InputError(f"unknown utility {u!r} (water, gas, power)", "--utility")
    return out


def _executor(kind: str, cluster: str | None, workers: int | None) -> Any:
    from lifeline.risk.executors import get_executor

    return get_executor(kind, cluster, workers)


def _suffix(path: Path, allowed: tuple[str, ...], option: str) -> str:
    s = path.suffix.lower()
    if s not in allowed:
        raise InputError(
            f"unsupported file type {s or '(none)'!r}; use {' or '.join(allowed)}", option
        )
    return s


@risk_app.command("criticality")
def criticality_cmd(
    network: Path | None = NETWORK,
    city: Path | None = CITY,
    utility: str | None = typer.Option(
        None,
        "--utility",
        help="Comma list of water,gas,power (default: all of the city's, water for an INP).",
    ),
    valves: Path | None = VALVES,
    customers: Path | None = CUSTOMERS,
    executor: str = EXECUTOR,
    cluster: str | None = CLUSTER,
    workers: int | None = WORKERS,
    hour: float | None = HOUR,
    required_m: float = typer.Option(
        20.0,
        "--required-m",
        min=0.1,
        help="PDD required pressure (m) for demand-driven models.",
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write all segments to a .csv or .json file."
    ),
    plot: Path | None = typer.Option(
        None, "--plot", help="PNG: the most critical segments per utility."
    ),
    top: int = typer.Option(10, "--top", min=0, help="Rows per utility in the printed table."),
) -> None:
    """Consequence of losing every water segment, gas segment and power section."""
    import time

    import pandas as pd
    from rich.table import Table

    from lifeline.risk import service

    if out is not None:
        _suffix(out, (".csv", ".json"), "--out")
    t0 = time.perf_counter()
    inp = service.load_inputs(network, valves, customers, city=city)
    us = _utilities(utility, inp.town)
    t1 = time.perf_counter()
    with _executor(executor, cluster, workers) as ex:
        crits = service.criticality(
            inp, us, ex, None if hour is None else int(hour * 3600), required_m
        )
    t2 = time.perf_counter()
    con = _console()
    for note in inp.notes:
        con.print(f"[dim]note: {note}[/dim]")
    for u, c in crits.items():
        seg = c.segments
        key = "load_lost_mw" if u == "power" else "customers_cut"
        tab = Table(
            title=f"{inp.name} — {u}: {len(seg)} segments ({c.meta.get('method', seg['method'].iloc[0] if len(seg) else '')})"
        )
        cols = ["segment_id", "n_pipes", "customers_cut", "critical_cut", "critical_ids"] + (
            ["load_lost_mw", "load_lost_after_ties_mw"] if u == "power" else []
        )
        for col in cols:
            tab.add_column(col)
        for _, r in seg.sort_values([key, "critical_cut"], ascending=False).head(top).iterrows():
            tab.add_row(*[str(r[col]) for col in cols])
        con.print(tab)
    con.print(
        f"criticality of {sum(len(c.segments) for c in crits.values())} segments in {t2 - t1:.1f} s "
        f"(+ {t1 - t0:.1f} s loading) on {ex.describe()}"
    )
    if out is not None:
        if out.suffix.lower() == ".csv":
            pd.concat([c.segments for c in crits.values()], ignore_index=True).to_csv(
                out, index=False
            )
        else:
            out.write_text(
                json.dumps(
                    {
                        u: {"meta": c.meta, "segments": c.segments.to_dict("records")}
                        for u, c in crits.items()
                    },
                    indent=1,
                    default=str,
                )
            )
        con.print(f"wrote {out}")
    if plot is not None:
        _plot_criticality(crits, plot, inp.name)
        con.print(f"wrote {plot}")


def _plot_criticality(crits: dict[str, Any], path: Path, name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(crits), 1, figsize=(9, 3.2 * len(crits)), squeeze=False)
    for ax, (u, c) in zip(axes[:, 0], crits.items(), strict=True):
        key = "load_lost_mw" if u == "power" else "customers_cut"
        seg = c.segments.sort_values(key, ascending=False).head(15)
        colors = ["tab:red" if k > 0 else "tab:blue" for k in seg["critical_cut"]]
        ax.barh(seg["segment_id"].astype(str)[::-1], seg[key].to_numpy()[::-1], color=colors[::-1])
        ax.set_xlabel("load lost (MW)" if u == "power" else "customers cut off")
        ax.set_title(f"{name} — {u}: most critical segments (red: a critical site is cut)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


@risk_app.command("rank")
def rank_cmd(
    network: Path | None = NETWORK,
    city: Path | None = CITY,
    assets: Path | None = typer.Option(
        None,
        "--assets",
        help="Pipe records CSV pipe,install_year[,material,diameter_m,design_life_y,breaks].",
    ),
    utility: str | None = typer.Option(
        None,
        "--utility",
        help="Comma list of water,gas (default: both of the city's, water for an INP).",
    ),
    valves: Path | None = VALVES,
    customers: Path | None = CUSTOMERS,
    year: int = typer.Option(
        dt.date.today().year,
        "--year",
        min=1800,
        max=2200,
        help="Evaluation year (ages are counted to it).",
    ),
    critical_weight: float = typer.Option(
        100.0,
        "--critical-weight",
        min=0.0,
        help="Consequence weight of a critical site, in customers.",
    ),
    executor: str = EXECUTOR,
    cluster: str | None = CLUSTER,
    workers: int | None = WORKERS,
    hour: float | None = HOUR,
    crs: str | None = CRS,
    out: Path | None = typer.Option(None, "--out", help="Ranked renewal list CSV."),
    geojson: Path | None = typer.Option(
        None, "--geojson", help="Risk layer GeoJSON (lon/lat when the CRS is known)."
    ),
    plot: Path | None = typer.Option(None, "--plot", help="PNG map of pipe risk."),
    top: int = typer.Option(20, "--top", min=0, help="Rows in the printed table."),
) -> None:
    """Rank pipes for renewal: annual failure probability (Weibull PH) x segment consequence."""
    from rich.table import Table

    from lifeline.risk import service
    from lifeline.risk.rank import plot_risk, to_geojson

    if out is not None:
        _suffix(out, (".csv",), "--out")
    inp = service.load_inputs(network, valves, customers, assets, crs, city=city)
    us = [u for u in _utilities(utility, inp.town) if u != "power"] or ["water"]
    with _executor(executor, cluster, workers) as ex:
        crits = service.criticality(inp, us, ex, None if hour is None else int(hour * 3600))
    ranked = service.rank(inp, crits, year, critical_weight)
    con = _console()
    for note in inp.notes:
        con.print(f"[dim]note: {note}[/dim]")
    tab = Table(
        title=f"{inp.name}: pipe renewal ranking ({year}; risk = P(fail in 1 y) x consequence)"
    )
    cols = [
        "rank",
        "utility",
        "pipe",
        "material",
        "install_year",
        "age_y",
        "design_life_y",
        "pof_1y",
        "customers_cut",
        "critical_cut",
        "risk",
        "age_source",
    ]
    for c in cols:
        tab.add_column(c)
    for _, r in ranked.head(top).iterrows():
        tab.add_row(*[f"{r[c]:.4g}" if isinstance(r[c], float) else str(r[c]) for c in cols])
    con.print(tab)
    old = ranked[ranked["beyond_life"]]
    for u in us:
        ou = old[old.utility == u]
        n_u = int((ranked.utility == u).sum())
        if len(ou):
            oldest = ou.sort_values("age_y", ascending=False).head(5)
            names = ", ".join(
                f"{p} ({int(a)} y)" for p, a in zip(oldest["pipe"], oldest["age_y"], strict=True)
            )
            con.print(
                f"[yellow]WARNING[/yellow] {u}: {len(ou)} of {n_u} pipes ({ou.length_m.sum() / 1000:.1f} km) are beyond "
                f"their design life; oldest: {names}"
            )
        else:
            con.print(f"{u}: no pipe beyond its design life ({n_u} pipes)")
    if out is not None:
        ranked.drop(columns=["x0", "y0", "x1", "y1"]).to_csv(out, index=False)
        con.print(f"wrote {out}")
    if geojson is not None:
        to_geojson(ranked, geojson, inp.crs)
        con.print(
            f"wrote {geojson}" + ("" if inp.crs else " (local coordinates: give --crs for lon/lat)")
        )
    if plot is not None:
        plot_risk(ranked, plot, f"{inp.name}: pipe ageing risk ({year})")
        con.print(f"wrote {plot}")


@sensors_app.command("place")
def place_cmd(
    network: Path | None = NETWORK,
    city: Path | None = CITY,
    kind: str = typer.Option(
        "pressure", "--kind", help="pressure (water) or methane (gas; a city with manholes)."
    ),
    n: int = typer.Option(10, "--n", min=1, help="Number of new sensors to place."),
    threshold_m: float = typer.Option(
        0.1,
        "--threshold-m",
        min=0.001,
        help="Pressure drop (m) a sensor must see to detect a leak.",
    ),
    leak_fraction: float = typer.Option(
        0.05,
        "--leak-fraction",
        min=0.0001,
        max=1.0,
        help="Leak size as a share of the total demand.",
    ),
    radius_m: float = typer.Option(
        30.0,
        "--radius-m",
        min=0.0,
        help="Methane: migration radius (m) from a main to a manhole.",
    ),
    assets: Path | None = typer.Option(
        None, "--assets", help="Pipe records CSV for the risk weights (see risk rank)."
    ),
    valves: Path | None = VALVES,
    customers: Path | None = CUSTOMERS,
    year: int = typer.Option(
        dt.date.today().year,
        "--year",
        min=1800,
        max=2200,
        help="Evaluation year for the risk weights.",
    ),
    executor: str = EXECUTOR,
    cluster: str | None = CLUSTER,
    workers: int | None = WORKERS,
    no_existing: bool = typer.Option(
        False, "--no-existing", help="Ignore the city's existing sensors."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Chosen locations, .csv or .json (with the coverage curve)."
    ),
    plot: Path | None = typer.Option(
        None, "--plot", help="PNG: coverage against the number of sensors."
    ),
) -> None:
    """Choose N sensor locations maximising risk-weighted leak detectability (greedy coverage)."""

    from lifeline.risk import placement, service

    if kind not in ("pressure", "methane"):
        raise InputError(f"unknown sensor kind {kind!r} (pressure, methane)", "--kind")
    if out is not None:
        _suffix(out, (".csv", ".json"), "--out")
    inp = service.load_inputs(network, valves, customers, assets, city=city)
    if kind == "methane" and (
        inp.town is None or not inp.town.has("gas") or not (inp.town.assets.kind == "manhole").any()
    ):
        raise InputError(
            "methane placement needs a city with a gas network and manholes (--city, no --network)",
            "--kind",
        )
    u = "water" if kind == "pressure" else "gas"
    with _executor(executor, cluster, workers) as ex:
        crits = service.criticality(inp, [u], ex)
    ranked = service.rank(inp, crits, year, 100.0)
    existing: list[str] = []
    import pandas as pd

    if kind == "pressure":
        ends = [
            (inp.wn.get_link(p).start_node_name, inp.wn.get_link(p).end_node_name)
            for p in ranked["pipe"]
        ]
        cands, cover = placement.pressure_cover(
            inp.inp_path, ranked, ends, threshold_m, leak_fraction
        )
        xy = [inp.wn.get_node(c).coordinates for c in cands]
        locs = pd.DataFrame(
            {"location": cands, "x_m": [p[0] for p in xy], "y_m": [p[1] for p in xy]}
        )
        if inp.town is not None and not no_existing:
            s = inp.town.sensors
            existing = [
                a.removeprefix("water:junction:") for a in s[s.quantity == "pressure_m"].asset_id
            ]
    else:
        a = inp.town.assets
        mh = a[a.kind == "manhole"]
        locs = pd.DataFrame(
            {"location": mh.asset_id.to_numpy(), "x_m": mh.x_m.to_numpy(), "y_m": mh.y_m.to_numpy()}
        )
        cover = placement.methane_cover(locs, ranked, radius_m)
        if not no_existing:
            s = inp.town.sensors
            existing = list(s[s.quantity == "methane_pct_lel"].asset_id)
    pl = placement.place(cover, ranked["risk"].to_numpy(float), locs, n, existing)
    con = _console()
    con.print(pl.picks.to_string(index=False))
    con.print(
        f"{kind}: {len(locs)} candidate locations, {pl.n_targets} target pipes; existing sensors cover "
        f"{pl.baseline:.1%} of the risk; with {len(pl.picks)} new: {pl.curve[-1] if pl.curve else pl.baseline:.1%}"
    )
    if "short_reason" in pl.meta:
        hint = (
            f" (a leak of --leak-fraction {leak_fraction:g} of the demand lowers the pressure by less "
            f"than --threshold-m {threshold_m:g} m there: lower the threshold or raise the leak size)"
            if kind == "pressure"
            else f" (no other manhole lies within --radius-m {radius_m:g} m of an uncovered main)"
        )
        typer.secho(
            f"warning: asked for {n} locations, placed {len(pl.picks)}: {pl.meta['short_reason']}{hint}",
            fg=typer.colors.YELLOW,
            err=True,
        )
    if out is not None:
        if out.suffix.lower() == ".csv":
            pl.picks.to_csv(out, index=False)
        else:
            out.write_text(
                json.dumps(
                    {
                        "kind": kind,
                        "baseline": pl.baseline,
                        "curve": pl.curve,
                        "picks": pl.picks.to_dict("records"),
                    },
                    indent=1,
                    default=str,
                )
            )
        con.print(f"wrote {out}")
    if plot is not None:
        placement.plot_coverage(
            pl, plot, f"{inp.name}: {kind} sensors — risk-weighted leak coverage"
        )
        con.print(f"wrote {plot}")
