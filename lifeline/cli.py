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
    from lifeline.drainage.cli import app as drainage_app
    from lifeline.gas.cli import app as gas_app
    from lifeline.incidents.cli import app as incidents_app
    from lifeline.incidents.cli import complaints_app
    from lifeline.ingest.cli import register as register_ingest
    from lifeline.power.cli import app as power_app
    from lifeline.risk.cli import register as register_risk
    from lifeline.scenarios.cli import register as register_demo
    from lifeline.water.cli import app as water_app

    app.add_typer(town_app, name="town")
    app.add_typer(water_app, name="water")
    app.add_typer(power_app, name="power")
    app.add_typer(gas_app, name="gas")
    app.add_typer(drainage_app, name="drainage")
    app.add_typer(incidents_app, name="incidents")
    app.add_typer(complaints_app, name="complaints")
    register_ingest(app)
    register_demo(app)
    register_risk(app)
    register_api(app)


_register()


def main() -> None:
    """Entry point: run the CLI; a LifelineError becomes a one-line message and exit code 2."""
    try:
        app()
    except LifelineError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
