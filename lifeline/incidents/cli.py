"""`lifeline incidents` and `lifeline complaints` commands."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Incidents: list, show, advance through the lifecycle, review.", no_args_is_help=True
)
complaints_app = typer.Typer(
    help="Complaints (hotline tickets, app reports): ingest and classify.", no_args_is_help=True
)
