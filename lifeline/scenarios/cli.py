"""`lifeline demo`: the main job — the demo town's day, end to end, on the configured store."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to the main app."""

    @app.command("demo")
    def demo(
        date: str = typer.Option("2026-07-15", help="Day to replay (UTC date, YYYY-MM-DD)."),
        seed: int = typer.Option(0, help="Random seed of the simulated day (noise, bad records)."),
        db: str = typer.Option("", help="Store URL; default: LIFELINE_DB or the embedded DuckDB file."),
        fresh: bool = typer.Option(True, help="Start from an empty store (drop the previous demo's data)."),
        json_out: Path | None = typer.Option(None, "--json-out", help="Also write the summary as JSON here."),
    ) -> None:
        """Load the demo town, replay a day of its sensor data into the store and report what was seen."""
        from lifeline.scenarios.demo import print_summary, run_demo

        summary = run_demo(date=date, seed=seed, db=db or None, fresh=fresh)
        print_summary(summary)
        if json_out is not None:
            import json

            json_out.write_text(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
