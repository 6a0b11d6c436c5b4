"""`lifeline serve` (API + dashboard) and `lifeline users add|list`."""

from __future__ import annotations

import typer

users_app = typer.Typer(
    help="Users of the API and dashboard (roles: viewer, operator, dispatcher, admin).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``users`` group to the main app."""

    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
        db: str = typer.Option(
            "", help="Store URL; default: LIFELINE_DB or the embedded DuckDB file."
        ),
        mqtt: str = typer.Option(
            "", help="MQTT broker URL to ingest from; default: LIFELINE_MQTT (empty: off)."
        ),
        replay: bool = typer.Option(
            False, "--replay", help="Start a live accelerated replay of the simulated day."
        ),
        speed: float = typer.Option(
            600.0, min=0.01, help="Replay speed: simulated seconds per wall-clock second."
        ),
        date: str = typer.Option("2026-07-15", help="Day to replay (UTC date, YYYY-MM-DD)."),
        seed: int = typer.Option(0, min=0, help="Random seed of the simulated day."),
        demo_users: bool = typer.Option(
            True, help="Create and print demo users when there are none."
        ),
        load_town: bool = typer.Option(
            False, "--load-town", help="(kept for old scripts: the demo town is the default city)"
        ),
        city: str = typer.Option(
            "",
            "--city",
            help="A city package folder (see docs/cities.md); default: the demo town. "
            "An invalid package refuses to start with the validate report.",
        ),
        tile_url: str = typer.Option(
            "",
            envvar="LIFELINE_TILE_URL",
            help="Optional XYZ base-map tile URL (the map works offline without).",
        ),
    ) -> None:
        """Run the API, the operations dashboard (http://HOST:PORT/) and the live engine on a
        city: readings and events from MQTT (LIFELINE_MQTT) and HTTP are scored, correlated into
        incidents and planned as they arrive."""
        from lifeline.api.server import serve as _serve
        from lifeline.cliopts import parse_day

        date = parse_day(date, "--date")

        _serve(
            host=host,
            port=port,
            db=db or None,
            mqtt=mqtt or None,
            replay=replay,
            speed=speed,
            date=date,
            seed=seed,
            demo_users=demo_users,
            load_town=load_town,
            tile_url=tile_url,
            echo=typer.echo,
            city_dir=city or None,
        )

    app.add_typer(users_app, name="users")


@users_app.command("add")
def add(
    name: str = typer.Argument(..., help="User name (letters, digits, _.@-)."),
    role: str = typer.Option(..., "--role", help="viewer, operator, dispatcher or admin."),
    district: str = typer.Option(
        "", "--district", help="Scope the user to one district id (empty: all)."
    ),
    password_stdin: bool = typer.Option(
        False,
        "--password-stdin",
        help="Read the password from standard input (first line; for scripts and CI).",
    ),
    password: str = typer.Option(
        None,
        envvar="LIFELINE_NEW_PASSWORD",
        show_default=False,
        help="Password (at least 8 characters); prompted when neither it nor --password-stdin is given.",
    ),
    db: str = typer.Option("", help="Store URL; default: LIFELINE_DB or the embedded DuckDB file."),
) -> None:
    """Create (or replace) a user; the change is audited."""
    import sys

    from lifeline.api.auth import UserBook
    from lifeline.errors import InputError
    from lifeline.store import open_store

    if password_stdin:
        if password:
            raise InputError(
                "give the password either on stdin or as an option, not both", "--password-stdin"
            )
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise InputError("no password on standard input", "--password-stdin")
    elif password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_store(db or None) as store:
        u = UserBook(store).add(name, password, role, district or None)
        store.append_audit(
            "cli", "add_user", f"user:{u.username}", {"role": u.role, "district_id": u.district_id}
        )
    typer.echo(
        f"user {u.username}: role {u.role}"
        + (f", district {u.district_id}" if u.district_id else "")
    )


@users_app.command("list")
def list_(
    db: str = typer.Option("", help="Store URL; default: LIFELINE_DB or the embedded DuckDB file."),
) -> None:
    """List users with their role and district."""
    from lifeline.api.auth import UserBook
    from lifeline.store import open_store

    with open_store(db or None) as store:
        for u in UserBook(store).list():
            typer.echo(f"{u.username}\t{u.role}\t{u.district_id or '-'}")
