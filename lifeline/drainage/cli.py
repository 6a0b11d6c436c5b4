"""`lifeline drainage` commands: waterlogging warnings from rain, nowcasts and sensors (SWMM)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="Drainage and waterlogging (EPA SWMM via pyswmm): ponding forecasts and warnings.",
    no_args_is_help=True,
)


@app.command("warn")
def warn_cmd(
    network: Path = typer.Option(..., "--network", help="EPA SWMM 5 model (INP) of the sewer."),
    observed: Path = typer.Option(
        ...,
        "--observed",
        help="Folder with rain.csv (ts,gauge_id,rain_mm_h), levels.csv (ts,sensor_id,value) and "
        "sensors.csv (sensor_id,node,quantity).",
    ),
    forecasts: Path = typer.Option(
        ...,
        "--forecasts",
        help="Folder of rainfall nowcasts forecast_YYYYmmddTHHMM.csv (ts,gauge_id,rain_mm_h).",
    ),
    points: Path = typer.Option(
        ..., "--points", help="Waterlogging points CSV (point_id,node,threshold_m,name)."
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        help="WARNINGS.csv to write (issued_at,point_id,expected_start,expected_peak_m).",
    ),
) -> None:
    """Replay the day in real time: at each nowcast issue time forecast the ponding at every
    point with SWMM (observed rain, corrected nowcast, level sensors) and write a line for each
    warning issued or updated."""
    from lifeline.drainage.warn import run_warn

    summary = run_warn(network, observed, forecasts, points, out)
    typer.echo(
        f"{summary.lines} warning line(s) for {len(summary.points_warned)} point(s) at "
        f"{summary.issue_times} issue time(s) written to {out} ({summary.seconds:.1f} s)"
    )
