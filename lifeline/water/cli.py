"""`lifeline water` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="water commands.", no_args_is_help=True)
