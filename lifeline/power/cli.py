"""`lifeline power` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="power commands.", no_args_is_help=True)
