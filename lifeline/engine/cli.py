"""`lifeline learn`: seed the live engine's detectors from stored history."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add ``learn`` to the main app."""

    @app.command("learn")
    def learn(
        city: str = typer.Option(
            "", "--city", help="City package folder (default: the demo town)."
        ),
        since: str = typer.Option(
            "", help="First day to learn from (UTC, YYYY-MM-DD); default: all."
        ),
        until: str = typer.Option(
            "", help="Day after the last one (UTC, YYYY-MM-DD); default: all."
        ),
        db: str = typer.Option(
            "", help="Store URL; default: LIFELINE_DB or the embedded DuckDB file."
        ),
    ) -> None:
        """Let every detector study the readings already stored, and save what they learnt in
        the engine's checkpoint (``lifeline serve`` resumes from it)."""
        from rich.console import Console
        from rich.table import Table

        from lifeline.cliopts import parse_day
        from lifeline.engine.learn import learn_from_store
        from lifeline.model.city import resolve_city
        from lifeline.store import open_store

        c = resolve_city(city or None)
        with open_store(db or None) as store:
            out = learn_from_store(
                c,
                store,
                parse_day(since, "--since") if since else None,
                parse_day(until, "--until") if until else None,
            )
        con = Console()
        con.print(f"learnt from {out['readings']:,} stored readings")
        t = Table(title="detectors")
        for col in ("detector", "ready", "sensors ready", "warm-up"):
            t.add_column(col)
        for d in out["detectors"]:
            if isinstance(d, dict):
                t.add_row(
                    d["name"],
                    "yes" if d.get("ready") else "no",
                    f"{d.get('sensors_ready', 0)}/{d.get('sensors', 0)}",
                    str(d.get("warmup", "")),
                )
        con.print(t)
