"""`lifeline ingest`: load reading files (or an MQTT stream) into the store and report counts."""

from __future__ import annotations

from pathlib import Path

import typer


def ingest(
    files: list[Path] = typer.Argument(
        None,
        help="CSV, CSV.gz or Parquet files (long: sensor_id,ts,value; or BattLeDIM wide).",
        show_default=False,
    ),
    fmt: str = typer.Option(
        "auto",
        "--format",
        "-f",
        help="File layout: auto, long or battledim (';' separator, decimal comma, Timestamp column).",
    ),
    sensors: Path | None = typer.Option(
        None,
        "--sensors",
        help="CSV sensor table (sensor_id, valid_min, valid_max, utility, unit) to validate against instead of the store's.",
    ),
    tz: str = typer.Option(
        "UTC",
        "--tz",
        help="Time zone of naive timestamps (no offset), e.g. Europe/Berlin. Timestamps with an offset are converted to UTC.",
    ),
    now: str | None = typer.Option(
        None,
        "--now",
        help="Reference time (ISO 8601) for the future-timestamp check; default: the wall clock. Useful for replays.",
    ),
    db: str | None = typer.Option(
        None,
        "--db",
        help="Store URL (postgresql://… or duckdb:///path); default: LIFELINE_DB or the embedded DuckDB file.",
    ),
    mqtt: str | None = typer.Option(
        None,
        "--mqtt",
        help="Subscribe to this MQTT broker (mqtt://host:port) instead of reading files; default: LIFELINE_MQTT when no file is given.",
    ),
    topic: str | None = typer.Option(
        None,
        "--topic",
        help="MQTT topic filter (default: LIFELINE_MQTT_TOPIC, lifeline/readings/#).",
    ),
    client_id: str = typer.Option(
        "lifeline-ingest",
        "--client-id",
        help="MQTT client id naming the persistent session (keep it fixed so queued QoS-1 messages survive restarts).",
    ),
    max_messages: int | None = typer.Option(
        None, "--max-messages", min=1, help="Stop MQTT ingestion after this many messages."
    ),
    seconds: float | None = typer.Option(
        None,
        "--seconds",
        min=0.0,
        help="Stop MQTT ingestion after this many seconds (default: until Ctrl-C).",
    ),
    register_unknown: bool = typer.Option(
        False,
        "--register-unknown",
        help="Add the sensor columns of BattLeDIM-wide files missing from the sensor table (no valid range) before ingesting; saved to the store unless --sensors is given.",
    ),
    utility: str = typer.Option(
        "water", "--utility", help="Utility of sensors added by --register-unknown."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print the report as JSON instead of tables."
    ),
) -> None:
    """Validate and store sensor readings from files or MQTT; print counts stored and rejected per reason.

    Every rejected record is kept in the store's `rejected` table with its reason and file:line
    (or MQTT topic). Exit code 2 on a missing file, an empty sensor table or an unreachable store.
    """
    import json

    import pandas as pd
    from rich.console import Console

    from lifeline.config import get_settings
    from lifeline.errors import InputError
    from lifeline.ingest.service import IngestReport, ingest_files
    from lifeline.store import open_store

    settings = get_settings()
    if fmt not in ("auto", "long", "battledim"):
        raise InputError(f"unknown format {fmt!r}: use auto, long or battledim", where="--format")
    mqtt_url = mqtt or (settings.mqtt if not files else None)
    if not files and not mqtt_url:
        raise InputError(
            "give one or more FILEs or --mqtt URL (or set LIFELINE_MQTT)", where="lifeline ingest"
        )
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"unknown time zone {tz!r}", where="--tz") from exc
    ref = None
    if now is not None:
        from lifeline.cliopts import parse_time

        ref = pd.Timestamp(parse_time(now, "--now"))
    sensor_table = None
    if sensors is not None:
        if not sensors.is_file():
            raise InputError("no such sensor table", where=str(sensors))
        try:
            sensor_table = pd.read_csv(sensors)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read sensor table: {exc}", where=str(sensors)) from exc
        if "sensor_id" not in sensor_table.columns:
            raise InputError("sensor table has no sensor_id column", where=f"{sensors}:1")
    for f in files or []:
        if not f.is_file():
            raise InputError(
                "no such file" if not f.exists() else "not a regular file", where=str(f)
            )
    console = Console()
    report: IngestReport
    with open_store(db) as store:
        if files and register_unknown:
            from lifeline.ingest.service import register_wide_columns

            sensor_table, added = register_wide_columns(
                store, list(files), fmt, sensor_table, utility
            )
            if added:
                console.print(
                    f"registered {len(added)} sensors: {', '.join(added[:10])}…", style="dim"
                )
        if files:
            report = ingest_files(store, list(files), fmt, sensor_table, now=ref, tz=tz)
        else:
            from lifeline.ingest.mqtt import MqttIngestor

            sub = MqttIngestor(
                store,
                str(mqtt_url),
                topic=topic or settings.mqtt_topic,
                client_id=client_id,
                sensors=sensor_table,
                now=ref,
                tz=tz,
            )
            sub.connect()
            console.print(
                f"subscribed to {sub.topic} on {mqtt_url} as {client_id}; Ctrl-C to stop",
                style="dim",
            )
            report = sub.run(max_messages=max_messages, seconds=seconds)
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2))
    else:
        for t in report.rich_tables():
            console.print(t)
        rate = report.received / report.seconds if report.seconds > 0 else 0.0
        console.print(f"{report.received:,} records in {report.seconds:.2f} s ({rate:,.0f}/s)")
    if report.file_errors:  # whole files unusable: say why, and fail (they are also in `rejected`)
        for e in report.file_errors:
            typer.secho(f"error: {e['where']}: {e['reason']}", fg=typer.colors.RED, err=True)
        typer.secho(
            f"{len(report.file_errors)} file(s) could not be ingested at all (kept in the `rejected` table)",
            err=True,
        )
        raise typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add the `ingest` command to the main app."""
    app.command("ingest", no_args_is_help=False)(ingest)
