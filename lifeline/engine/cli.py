"""`lifeline learn`: seed the live engine's detectors from stored history; `lifeline worker`:
one partition of a scaled-out live loop."""

from __future__ import annotations

import typer

from lifeline.errors import ConfigError


def register(app: typer.Typer) -> None:
    """Add ``learn`` and ``worker`` to the main app."""

    @app.command("worker")
    def worker(
        partition: int = typer.Option(..., "--partition", help="This worker's partition, 0 … N-1."),
        of: int = typer.Option(..., "--of", help="How many workers share the stream (N)."),
        city: str = typer.Option(
            "", "--city", help="City package folder (default: the demo town)."
        ),
        db: str = typer.Option("", help="PostgreSQL URL; default: LIFELINE_DB."),
        mqtt: str = typer.Option("", help="MQTT broker URL; default: LIFELINE_MQTT."),
    ) -> None:
        """Run engine partition K of N: take a share of `lifeline/readings/#` and
        `lifeline/events/#` (MQTT shared subscription), store it, score and correlate the
        partition's zones, forward the rest to their workers. Run N of them against one
        PostgreSQL and `lifeline serve --workers N` for the API and dashboard. Stops on Ctrl-C
        or SIGTERM (checkpointing)."""
        import signal
        import threading

        from lifeline.config import get_settings
        from lifeline.engine.worker import Worker
        from lifeline.model.city import resolve_city

        s = get_settings()
        if of < 1:
            raise ConfigError("--of must be at least 1", where="--of")
        c = resolve_city(city or None)
        w = Worker.from_settings(c, partition, of, db or s.db, mqtt or s.mqtt, s).start()
        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        typer.echo(
            f"lifeline worker {partition}/{of} on {c.name}: "
            f"{len(w.parts.sensors_of(partition))} sensors, "
            f"{len(w.engine.instances)} detectors (group {s.worker_group})"
        )
        while not done.wait(1.0):
            pass
        w.stop()
        st = w.status()
        typer.echo(
            f"stopped: watermark {st['watermark']}, ingested {st['ingested']}, "
            f"forwarded {st['forwarded']}"
        )

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
