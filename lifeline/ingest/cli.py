"""`lifeline ingest` command."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ingest command to the main app."""
