"""`lifeline demo` (the demo town's scripted day, end to end) and `lifeline drill` (scripted
incidents on any city, published into the live loop)."""

from __future__ import annotations

import sys
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``demo`` and ``drill`` commands to the main app."""

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

    @app.command("drill")
    def drill(
        city: Path = typer.Option(
            ..., "--city", help="The city package folder (see docs/cities.md)."
        ),
        event: list[str] = typer.Option(
            ...,
            "--event",
            help="A scripted incident KIND:ELEMENT@TIME (repeatable): burst:PIPE@HH:MM (EPANET "
            "pipe id), feeder_fault:SWITCH@HH:MM (pandapower line switch index, or line:N), "
            "gas_leak:JUNCTION@HH:MM (pandapipes junction index). TIME is the city's local "
            "time on --date, or ISO 8601.",
        ),
        date: str = typer.Option(
            "",
            "--date",
            help="Drill date YYYY-MM-DD in the city's timezone; default: the date of an ISO "
            "--event time, else yesterday.",
        ),
        seed: int = typer.Option(0, help="Random seed of the simulated day (noise, calls)."),
        publish: str = typer.Option(
            "",
            "--publish",
            help="Publish to this MQTT broker (mqtt://HOST:PORT): readings to "
            "LIFELINE_MQTT_TOPIC's prefix + sensor id, events to LIFELINE_MQTT_EVENTS_TOPIC's "
            "prefix + kind; hotline calls go to --api when given.",
        ),
        api: str = typer.Option(
            "",
            "--api",
            help="The lifeline API (http://HOST:PORT): POST readings, events and calls there "
            "(with --publish: only the calls). Needs --user and --password-stdin.",
        ),
        user: str = typer.Option("", "--user", help="API user (operator or above)."),
        password_stdin: bool = typer.Option(
            False, "--password-stdin", help="Read the API user's password from stdin."
        ),
        speed: float = typer.Option(
            0.0,
            help="Pace the publication: simulated seconds per wall-clock second (0: as fast "
            "as possible).",
        ),
        step_s: int = typer.Option(
            900, "--step-s", min=60, help="Publish in event-time steps of this many seconds."
        ),
        db: str = typer.Option(
            "",
            help="In-process mode only: store URL; default: a fresh embedded DuckDB file "
            "drill.duckdb in the data dir.",
        ),
        json_flag: bool = typer.Option(
            False, "--json", help="In-process mode: print the summary as JSON on stdout."
        ),
        history_days: int = typer.Option(
            2,
            "--history-days",
            min=0,
            max=14,
            help="In-process mode: quiet days simulated before the drill for the detectors to "
            "learn normal behaviour from (a live server learns online, or from `lifeline learn`).",
        ),
    ) -> None:
        """A drill (应急演练): simulate scripted incidents on a city's own network models — the
        readings of every sensor (WNTR, pandapower, pandapipes), the smart meters' and
        breakers' events and the hotline calls they bring — and publish them into the live
        loop. With --publish (MQTT) or --api (HTTP) they go to a running `lifeline serve
        --city`; without either the day runs in-process through a fresh engine and the
        incidents are printed. Exit 0 when done, 2 on a bad spec, package or connection."""
        from lifeline.scenarios.drill_run import run_drill

        password = ""
        if api:
            if not user or not password_stdin:
                raise typer.BadParameter(
                    "--api needs --user and --password-stdin", param_hint="--api"
                )
            password = sys.stdin.readline().rstrip("\r\n")
        code = run_drill(
            city_dir=city,
            specs=event,
            date=date or None,
            seed=seed,
            mqtt=publish or None,
            api=api or None,
            user=user,
            password=password,
            speed=speed or None,
            step_s=step_s,
            db=db or None,
            as_json=json_flag,
            history_days=history_days,
        )
        raise typer.Exit(code)
