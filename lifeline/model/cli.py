"""`lifeline city validate|info|import`: a city package (docs/cities.md) checked, described and
loaded into the store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

app = typer.Typer(
    help="A city package (city.yaml, network models, CSV tables): validate, describe, import.",
    no_args_is_help=True,
)

DIR = typer.Argument(..., help="The city package folder (with city.yaml).")
#: reference tables loaded by `city import` (store table -> City attribute)
IMPORT_TABLES = {
    "asset": "assets",
    "customer": "customers",
    "sensor": "sensors",
    "zone": "zones",
    "district": "districts",
    "dependency": "dependencies",
}


def _console() -> Any:
    from rich.console import Console

    return Console(emoji=False, width=None if sys.stdout.isatty() else 160)


@app.command("validate")
def validate_cmd(
    directory: Path = DIR,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    no_solve: bool = typer.Option(
        False, "--no-solve", help="Skip running EPANET, pandapower and pandapipes."
    ),
    limit: int = typer.Option(200, "--limit", min=1, help="Problems shown in the table."),
) -> None:
    """Check everything later steps rely on; every problem with file, line and field.

    Exit code 0: usable (warnings allowed); 1: problems to fix; 2: unusable.
    """
    from lifeline.model.validate import validate_city

    v = validate_city(directory, solve=not no_solve, progress=not as_json and sys.stderr.isatty())
    if as_json:
        typer.echo(json.dumps(v.as_dict(), ensure_ascii=False, indent=1, default=str))
        raise typer.Exit(v.exit_code)
    print_validation(v, _console(), limit)
    raise typer.Exit(v.exit_code)


def print_validation(v: Any, con: Any, limit: int = 200) -> None:
    """The validation result as rich tables: problems, solve figures, a verdict."""
    from rich.table import Table

    c = v.city
    head = f"city package {v.root}"
    if c is not None:
        head += (
            f": {c.name}" + (f" / {c.name_zh}" if c.name_zh else "") + f", {c.crs}, {c.timezone}"
        )
    con.print(head)
    probs = v.report.problems
    if probs:
        t = Table(title=f"{len(v.report.errors)} error(s), {len(v.report.warnings)} warning(s)")
        for col in ("level", "file", "line", "field", "message"):
            t.add_column(col, overflow="fold")
        for p in probs[:limit]:
            style = "red" if p.level == "error" else "yellow"
            t.add_row(
                f"[{style}]{p.level}[/{style}]",
                p.file,
                str(p.line or ""),
                p.field,
                p.message,
                style=None,
            )
        con.print(t)
        if len(probs) > limit:
            con.print(f"… and {len(probs) - limit} more (--limit or --json)")
    if v.solves:
        t = Table(title="Networks solve")
        for col in ("network", "solved", "figures"):
            t.add_column(col)
        for util, r in v.solves.items():
            figs = ", ".join(f"{k}={val}" for k, val in r.items() if k not in ("solved", "error"))
            t.add_row(
                util, "yes" if r.get("solved") else "[red]NO[/red]", figs or r.get("error", "")
            )
        con.print(t)
    verdict = {
        0: "[green]OK[/green]: the package can be imported and served",
        1: "[red]PROBLEMS[/red]: fix the errors above",
        2: "[red]UNUSABLE[/red]: the package cannot be read",
    }[v.exit_code]
    con.print(f"{verdict} (exit {v.exit_code})")


def print_inventory(city: Any, con: Any, title: str | None = None) -> None:
    """The inventory of ``city``: assets, customers, critical sites, sensors, zones, districts,
    dependencies, valves and crews."""
    from rich.table import Table

    a = city.assets
    t = Table(title=title or f"{city.name} ({city.crs}, {city.timezone})")
    for c in ("utility", "kind", "count"):
        t.add_column(c)
    for (u, k), n in a.groupby(["utility", "kind"]).size().items():
        t.add_row(str(u), str(k), str(n))
    con.print(t)
    cust = city.customers
    t = Table(title="Customers by category")
    for c in ("category", "count", "critical"):
        t.add_column(c)
    for cat, g in cust.groupby("category"):
        t.add_row(str(cat), str(len(g)), str(int(g.critical.sum())))
    con.print(t)
    t = Table(title="Critical sites")
    for c in ("customer", "category", "name", "power", "gas", "water", "district"):
        t.add_column(c, overflow="fold")
    for r in cust[cust.critical.astype(bool)].itertuples():
        t.add_row(
            str(r.customer_id),
            str(r.category),
            str(r.name),
            str(r.power_asset_id or "-"),
            str(r.gas_asset_id or "-"),
            str(r.water_asset_id or "-"),
            str(r.district_id or "-"),
        )
    con.print(t)
    t = Table(title="Sensors by quantity")
    for c in ("utility", "quantity", "unit", "interval_s", "count"):
        t.add_column(c)
    for (u, q, un, iv), n in (
        city.sensors.groupby(["utility", "quantity", "unit", "interval_s"]).size().items()
    ):
        t.add_row(str(u), str(q), str(un), str(iv), str(n))
    con.print(t)
    t = Table(title="Zones")
    for c in ("zone_id", "utility", "kind", "name", "assets"):
        t.add_column(c)
    counts = a.zone_id.value_counts()
    for r in city.zones.itertuples():
        t.add_row(r.zone_id, r.utility, r.kind, r.name, str(int(counts.get(r.zone_id, 0))))
    con.print(t)
    t = Table(title="Administrative districts")
    for c in ("district_id", "name", "name_zh", "level", "customers"):
        t.add_column(c)
    cc = cust.district_id.value_counts()
    for r in city.districts.itertuples():
        t.add_row(r.district_id, r.name, r.name_zh, r.level, str(int(cc.get(r.district_id, 0))))
    con.print(t)
    t = Table(title="Cross-utility dependencies")
    for c in ("kind", "from utility", "on utility", "count", "example"):
        t.add_column(c)
    for (k, u, w), g in city.dependencies.groupby(["kind", "utility", "depends_on_utility"]):
        ex = g.iloc[0]
        t.add_row(str(k), str(u), str(w), str(len(g)), f"{ex.asset_id} -> {ex.depends_on_asset_id}")
    con.print(t)
    derived = (city.meta or {}).get("derived", {})
    con.print(
        f"water valves: {len(city.water_valves)}"
        + (" (generated)" if derived.get("water_valves") else "")
        + f", gas valves: {len(city.gas_valves)} (rule), crews: {len(city.crews)}"
        + (" (default)" if derived.get("crews") else "")
    )


def print_solves(city: Any, con: Any) -> None:
    """Solve every network once and print the figures."""
    from rich.table import Table

    from lifeline.model.checks import solve_all

    t = Table(title="Networks solve")
    for c in ("network", "solved", "figures"):
        t.add_column(c)
    for net, r in solve_all(city).items():
        figs = ", ".join(
            f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
            for k, v in r.items()
            if k != "solved"
        )
        t.add_row(net, "yes" if r["solved"] else "NO", figs)
    con.print(t)


@app.command("info")
def info_cmd(
    directory: Path = DIR,
    map_png: Path | None = typer.Option(
        None, "--map", help="Also draw the city on one map (PNG, SVG or PDF)."
    ),
    solve: bool = typer.Option(
        False, "--solve", help="Also solve every network once and print the figures."
    ),
) -> None:
    """The inventory of a city package (assets, customers, sensors, zones, districts, …)."""
    from lifeline.model.city import load_city

    city = load_city(directory, progress=sys.stderr.isatty())
    con = _console()
    title = f"{city.name}" + (f" / {city.name_zh}" if city.name_zh else "")
    print_inventory(city, con, f"{title} ({city.crs}, {city.timezone})")
    if solve:
        print_solves(city, con)
    if map_png is not None:
        from lifeline.model.plot import plot_city

        con.print(f"wrote {plot_city(city, map_png)}")


def import_city(city: Any, db: str | None = None) -> dict[str, Any]:
    """Load ``city``'s reference tables and settings into the store at ``db`` (default:
    LIFELINE_DB); a PostgreSQL store's geometry follows the city's EPSG code. Returns counts."""
    from lifeline.model.geo import epsg_code
    from lifeline.store import open_store

    srid = epsg_code(city.crs)
    out: dict[str, Any] = {"tables": {}}
    with open_store(db, srid=srid) as store:
        for table, attr in IMPORT_TABLES.items():
            out["tables"][table] = store.replace_table(table, getattr(city, attr))
        meta = {
            "city.name": city.name,
            "city.name_zh": city.name_zh,
            "city.crs": city.crs,
            "city.timezone": city.timezone,
            "city.root": str(Path(city.root).resolve()) if city.root else "",
        }
        store.set_meta(meta)
        out["store"] = store.kind
        out["srid"] = getattr(store, "srid", None)
        out["meta"] = meta
    return out


@app.command("import")
def import_cmd(
    directory: Path = DIR,
    db: str = typer.Option("", "--db", help="Store URL; default: LIFELINE_DB or the DuckDB file."),
) -> None:
    """Load the reference tables (assets, customers, sensors, zones, districts, dependencies)
    into the store and build the derived tables (zones, valves, dependencies; cached)."""
    from lifeline.model.city import load_city

    city = load_city(directory, progress=sys.stderr.isatty())
    res = import_city(city, db or None)
    for table, n in res["tables"].items():
        typer.echo(f"{table}: {n} rows")
    srid = f", SRID {res['srid']}" if res["store"] == "postgresql" else ""
    typer.echo(
        f"imported {city.name} ({city.crs}, {city.timezone}) into the {res['store']} store{srid}; "
        f"derived tables cached in {city.cache_dir}"
    )
