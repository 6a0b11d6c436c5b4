"""`lifeline gas` commands."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(
    help="Gas: methane alarms in manholes, leak localisation, shut-off and hazard zone.",
    no_args_is_help=True,
)


@app.command("locate")
def locate(
    network: Path = typer.Option(
        ...,
        "--network",
        help="pandapipes network JSON (pandapipes.to_json), coordinates in metres.",
    ),
    sensors: Path = typer.Option(
        ...,
        "--sensors",
        help="SENSORS.csv: sensor_id,kind,junction,x,y (kind pressure_bar or methane_pct_lel).",
    ),
    readings: Path = typer.Option(
        ..., "--readings", help="READINGS.csv or .csv.gz: ts,sensor_id,value (bar gauge / %LEL)."
    ),
    out: Path = typer.Option(
        ..., "--out", help="Output JSON: alarms, leak, shut_off, hazard_radius_m."
    ),
    valves: Path | None = typer.Option(
        None, "--valves", help="Optional valve layer CSV: valve_id,pipe,junction."
    ),
    level1: float = typer.Option(
        25.0, "--level1", min=0.0, max=100.0, help="Level-1 alarm set point, %LEL."
    ),
    level2: float = typer.Option(
        50.0, "--level2", min=0.0, max=100.0, help="Level-2 alarm set point, %LEL."
    ),
) -> None:
    """Grade and classify methane alarms, locate a gas leak, plan the shut-off and size the hazard zone."""
    from lifeline.gas.methane import AlarmConfig
    from lifeline.gas.service import locate_files

    result = locate_files(
        network, sensors, readings, valves, AlarmConfig(level1=level1, level2=level2)
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str))
    leak = result["leak"]
    msg = f"{len(result['alarms'])} alarm(s); " + (
        f"leak at junction {leak['junction']} (pipe {leak['pipe']}), ~{leak['rate_kg_per_s']} kg/s; hazard radius {result['hazard_radius_m']} m"
        if leak
        else "no leak"
    )
    typer.echo(msg)
