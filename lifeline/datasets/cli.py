"""`lifeline town` commands: inventory, map and export of the Schutterwald demo town."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="The Schutterwald demo town: power, gas and (synthetic) water on one map.",
    no_args_is_help=True,
)


@app.command()
def info(
    no_solve: bool = typer.Option(
        False, "--no-solve", help="Skip solving the three networks (faster)."
    ),
) -> None:
    """Print the town's inventory and confirm that each network solves."""
    from rich.console import Console
    from rich.table import Table

    from lifeline.datasets.checks import solve_all
    from lifeline.datasets.town import load_town

    con = Console(emoji=False, width=max(Console().width, 120))
    town = load_town()
    a = town.assets
    t = Table(title=f"Schutterwald demo town ({town.meta.get('version')}, {town.crs})")
    for c in ("utility", "kind", "count"):
        t.add_column(c)
    for (u, k), n in a.groupby(["utility", "kind"]).size().items():
        t.add_row(str(u), str(k), str(n))
    con.print(t)
    t = Table(title="Customers by category")
    t.add_column("category")
    t.add_column("count")
    t.add_column("critical")
    for cat, g in town.customers.groupby("category"):
        t.add_row(str(cat), str(len(g)), str(int(g.critical.sum())))
    con.print(t)
    t = Table(title="Critical sites")
    for c in ("customer", "category", "name", "power", "gas", "water", "district"):
        t.add_column(c)
    for r in town.customers[town.customers.critical].itertuples():
        t.add_row(
            r.customer_id,
            r.category,
            r.name,
            r.power_asset_id,
            r.gas_asset_id or "-",
            r.water_asset_id,
            r.district_id,
        )
    con.print(t)
    t = Table(title="Sensors by quantity")
    for c in ("utility", "quantity", "unit", "interval_s", "count"):
        t.add_column(c)
    for (u, q, un, iv), n in (
        town.sensors.groupby(["utility", "quantity", "unit", "interval_s"]).size().items()
    ):
        t.add_row(str(u), str(q), str(un), str(iv), str(n))
    con.print(t)
    t = Table(title="Zones")
    for c in ("zone_id", "utility", "kind", "name", "assets"):
        t.add_column(c)
    counts = a.zone_id.value_counts()
    for r in town.zones.itertuples():
        t.add_row(r.zone_id, r.utility, r.kind, r.name, str(int(counts.get(r.zone_id, 0))))
    con.print(t)
    t = Table(title="Administrative districts")
    for c in ("district_id", "name", "name_zh", "level", "customers"):
        t.add_column(c)
    cc = town.customers.district_id.value_counts()
    for r in town.districts.itertuples():
        t.add_row(r.district_id, r.name, r.name_zh, r.level, str(int(cc.get(r.district_id, 0))))
    con.print(t)
    t = Table(title="Cross-utility dependencies")
    for c in ("kind", "from utility", "on utility", "count", "example"):
        t.add_column(c)
    for (k, u, v), g in town.dependencies.groupby(["kind", "utility", "depends_on_utility"]):
        ex = g.iloc[0]
        t.add_row(str(k), str(u), str(v), str(len(g)), f"{ex.asset_id} -> {ex.depends_on_asset_id}")
    con.print(t)
    con.print(
        f"water valves: {len(town.water_valves)} (rule, docs/town.md), gas valves: {len(town.gas_valves)} (rule, docs/town.md)"
    )
    if no_solve:
        return
    t = Table(title="Networks solve")
    t.add_column("network")
    t.add_column("solved")
    t.add_column("figures")
    for net, r in solve_all(town).items():
        figs = ", ".join(
            f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
            for k, v in r.items()
            if k != "solved"
        )
        t.add_row(net, "yes" if r["solved"] else "NO", figs)
    con.print(t)


@app.command("map")
def map_(
    out: Path = typer.Option(
        Path("town.png"), "--out", help="Image file to write (PNG, SVG or PDF)."
    ),
) -> None:
    """Plot the three networks on one map with critical sites and sensors."""
    from lifeline.datasets.plot import plot_town
    from lifeline.datasets.town import load_town

    path = plot_town(load_town(), out)
    typer.echo(f"wrote {path}")


@app.command()
def export(
    directory: Path = typer.Argument(
        ..., help="Directory to write the models and CSV tables into."
    ),
) -> None:
    """Write water.inp, power.json, gas.json and the CSV tables (customers, sensors, valves, …)."""
    from lifeline.datasets.checks import export_town
    from lifeline.datasets.town import load_town
    from lifeline.errors import InputError

    town = load_town()
    try:
        files = export_town(town, directory)
    except OSError as exc:
        raise InputError(
            f"cannot write the export: {exc.strerror or exc}", where=str(directory)
        ) from exc
    for f in files:
        typer.echo(str(f))


@app.command()
def build(
    force: bool = typer.Option(False, "--force", help="Rebuild even if a cached town exists."),
) -> None:
    """Build (or rebuild) the cached town from the bundled pandapower/pandapipes networks."""
    import shutil

    from lifeline.datasets.town import load_town, town_cache_dir

    d = town_cache_dir()
    if force:
        shutil.rmtree(d, ignore_errors=True)
    town = load_town()
    typer.echo(f"town {town.meta.get('version')} cached in {d}")
