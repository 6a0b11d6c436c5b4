"""`lifeline power` commands: outage location + FLISR, grid monitoring, load forecast."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="Power distribution: outage inference from meters/calls/protection, FLISR, monitoring.",
    no_args_is_help=True,
)


@app.command("locate")
def locate_cmd(
    network: Path = typer.Option(
        ..., "--network", help="pandapower network saved with pandapower.to_json."
    ),
    events: Path = typer.Option(
        ...,
        "--events",
        help="EVENTS.csv with ts,kind,ref; kind: breaker_trip|fpi (ref switch), last_gasp|restore|call (ref load).",
    ),
    fpi_installed: Path | None = typer.Option(
        None,
        "--fpi-installed",
        help="FPI.csv with one column 'switch': switches fitted with a fault passage indicator.",
    ),
    out: Path = typer.Option(..., "--out", help="Where to write the result JSON."),
) -> None:
    """Name the operated device, the fault section and a power-flow-verified restoration plan."""
    from lifeline.power.locate import locate_files

    result = locate_files(network, events, fpi_installed, out)
    dev = result["outage_device"]
    typer.echo(
        f"device={dev} fault_section_lines={len(result['fault_section']['lines'])} "
        f"unsupplied={len(result['unsupplied_loads'])} restored={len(result['restored_loads'])} -> {out}"
    )
