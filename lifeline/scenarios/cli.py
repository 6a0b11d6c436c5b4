"""`lifeline demo`: the main job — the demo town's scripted day, end to end."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command to the main app."""

    @app.command("demo")
    def demo(
        headless: bool = typer.Option(
            False,
            "--headless",
            help="Run the day in-process without any server, print the results and exit.",
        ),
        json_flag: bool = typer.Option(
            False,
            "--json",
            help="With --headless: print the resulting incidents (and counts) as JSON on stdout.",
        ),
        date: str = typer.Option("2026-07-15", help="Day to replay (UTC date, YYYY-MM-DD)."),
        seed: int = typer.Option(
            0, min=0, help="Random seed of the simulated day (noise, bad records, calls)."
        ),
        db: str = typer.Option(
            "", help="Store URL; default: LIFELINE_DB or the embedded DuckDB file."
        ),
        host: str = typer.Option("127.0.0.1", help="Server address (live mode)."),
        port: int = typer.Option(8000, min=1, max=65535, help="Server port (live mode)."),
        speed: float = typer.Option(
            600.0, min=0.01, help="Live replay speed: simulated seconds per wall-clock second."
        ),
        json_out: Path | None = typer.Option(
            None, "--json-out", help="With --headless: also write the JSON here."
        ),
    ) -> None:
        """The scripted demo day: a burst main, a gas leak into a power cable well, and a feeder fault
        that stops the water pumping station, with the hotline calls they bring.

        Live (default): starts the API and dashboard on HOST:PORT with the demo town and an
        accelerated replay of the day, prints the URL and the demo logins; incidents appear on the
        map as they are detected. --headless: runs the same day in-process on the embedded store
        (readings stored and rejected per utility, alarms, incidents with grade, plan and safety
        checks) and exits.
        """
        from lifeline.cliopts import parse_day

        date = parse_day(date, "--date")
        if not headless:
            from lifeline.api.server import serve as _serve

            _serve(
                host=host,
                port=port,
                db=db or None,
                mqtt=None,
                replay=True,
                speed=speed,
                date=date,
                seed=seed,
                demo_users=True,
                load_town=True,
                tile_url="",
                echo=typer.echo,
            )
            return

        import json

        from lifeline.scenarios.demo import print_summary, run_demo

        summary = run_demo(date=date, seed=seed, db=db or None, quiet=json_flag)
        text = json.dumps(summary, indent=2, ensure_ascii=False, default=str)
        if json_out is not None:
            json_out.write_text(text)
        if json_flag:
            typer.echo(text)
        else:
            print_summary(summary)
