"""`lifeline gas` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="gas commands.", no_args_is_help=True)
