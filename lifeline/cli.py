"""The ``lifeline`` command. Each domain contributes a sub-command group from its own ``cli.py``.

Domain CLI modules import heavy libraries (WNTR, pandapower, pandapipes, …) only inside their
commands, so ``lifeline --help`` and every command start fast.
"""

from __future__ import annotations

import sys

import typer

from lifeline.errors import LifelineError

app = typer.Typer(
    name="lifeline",
    help="Urban lifeline safety platform: water, power and gas — sense, warn, locate, decide, act, evaluate, review.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from lifeline.api.cli import register as register_api
    from lifeline.datasets.cli import app as town_app
    from lifeline.engine.cli import register as register_engine
    from lifeline.gas.cli import app as gas_app
    from lifeline.incidents.cli import app as incidents_app
    from lifeline.incidents.cli import complaints_app
    from lifeline.ingest.cli import register as register_ingest
    from lifeline.model.cli import app as city_app
    from lifeline.power.cli import app as power_app
    from lifeline.risk.cli import register as register_risk
    from lifeline.scenarios.cli import register as register_demo
    from lifeline.water.cli import app as water_app

    app.add_typer(city_app, name="city")
    app.add_typer(town_app, name="town")
    app.add_typer(water_app, name="water")
    app.add_typer(power_app, name="power")
    app.add_typer(gas_app, name="gas")
    app.add_typer(incidents_app, name="incidents")
    app.add_typer(complaints_app, name="complaints")
    register_ingest(app)
    register_demo(app)
    register_risk(app)
    register_api(app)
    register_engine(app)


_register()


def _log_to_console() -> None:
    """Print warnings of the ``lifeline`` loggers (e.g. an INP with nodes without coordinates)
    on stderr as one line each: ``warning: …``."""
    import logging

    logger = logging.getLogger("lifeline")
    if logger.handlers:
        return

    class _Fmt(logging.Formatter):
        def format(self, record: logging.LogRecord) -> str:
            return f"{record.levelname.lower()}: {super().format(record)}"

    h = logging.StreamHandler(sys.stderr)
    h.setFormatter(_Fmt("%(message)s"))
    h.setLevel(logging.WARNING)
    logger.addHandler(h)
    logger.setLevel(logging.WARNING)


def main() -> None:
    """Entry point: run the CLI; a LifelineError becomes a one-line message and exit code 2.

    Any other exception is a bug: it is reported in one line with exit code 1 (the traceback is
    shown when ``LIFELINE_DEBUG`` is set).
    """
    import os

    _log_to_console()
    try:
        app()
    except LifelineError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except Exception as exc:
        if os.environ.get("LIFELINE_DEBUG"):
            raise
        typer.secho(
            f"error: unexpected {type(exc).__name__}: {exc} "
            "(a bug in lifeline: please report it; LIFELINE_DEBUG=1 shows the traceback)",
            fg=typer.colors.RED,
            err=True,
        )
        sys.exit(1)


if __name__ == "__main__":
    main()
