"""`lifeline town` commands: inventory, map and export (as a city package) of the Schutterwald
demo town."""

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

    from lifeline.datasets.town import load_town
    from lifeline.model.cli import print_inventory, print_solves

    con = Console(emoji=False, width=max(Console().width, 120))
    town = load_town()
    print_inventory(town, con, f"Schutterwald demo town ({town.meta.get('version')}, {town.crs})")
    if not no_solve:
        print_solves(town, con)


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
    directory: Path = typer.Argument(..., help="Folder to write the city package into."),
) -> None:
    """Write the town as a city package (docs/cities.md): city.yaml, water.inp, power.json,
    gas.json, districts.geojson and the CSV tables — the input of `lifeline city validate`."""
    from lifeline.datasets.town import load_town
    from lifeline.errors import InputError
    from lifeline.model.write import write_package

    town = load_town()
    try:
        files = write_package(town, directory)
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
