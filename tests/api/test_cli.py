"""`lifeline serve --help` and `lifeline users add/list` through register() on a fresh app."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from lifeline.api.cli import register


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_users_add_and_list(tmp_path: Path) -> None:
    db = str(tmp_path / "u.duckdb")
    r = CliRunner().invoke(
        _app(),
        [
            "users",
            "add",
            "ana",
            "--role",
            "operator",
            "--district",
            "D1",
            "--password",
            "secret-123",
            "--db",
            db,
        ],
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(
        _app(), ["users", "add", "bob", "--role", "boss", "--password", "secret-123", "--db", db]
    )
    assert r.exit_code != 0 and "unknown role" in str(r.exception)
    r = CliRunner().invoke(_app(), ["users", "list", "--db", db])
    assert r.output.strip().splitlines() == ["ana\toperator\tD1"]

    from lifeline.api.auth import UserBook
    from lifeline.store import open_store

    with open_store(db) as store:
        assert UserBook(store).verify("ana", "secret-123") is not None
        assert UserBook(store).verify("ana", "wrong-pass") is None
        assert "add_user" in set(store.list_audit("user:ana")["action"])


def test_serve_help_lists_options() -> None:
    r = CliRunner().invoke(_app(), ["serve", "--help"])
    assert r.exit_code == 0
    for opt in ("--host", "--port", "--replay", "--speed", "--tile-url"):
        assert opt in r.output


def test_users_add_password_stdin_and_prompt(tmp_path: Path) -> None:
    """Non-interactive (scripts, CI): the password on stdin, in a real process; without any
    password option the prompt (with confirmation) still works."""
    import os
    import subprocess
    import sys

    from lifeline.api.auth import UserBook
    from lifeline.store import open_store

    db = str(tmp_path / "u.duckdb")
    env = {k: v for k, v in os.environ.items() if k != "LIFELINE_NEW_PASSWORD"}
    cmd = [sys.executable, "-m", "lifeline.cli", "users", "add", "ci-bot", "--role", "viewer"]
    p = subprocess.run(
        [*cmd, "--password-stdin", "--db", db],
        input="stdin-pass-1\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert "user ci-bot: role viewer" in p.stdout
    p = subprocess.run(
        [*cmd, "--password-stdin", "--db", db], input="", capture_output=True, text=True, env=env
    )
    assert p.returncode == 2 and "no password on standard input" in p.stderr
    r = CliRunner().invoke(
        _app(),
        ["users", "add", "eve", "--role", "admin", "--db", db],
        input="prompt-pass-1\nprompt-pass-1\n",
    )
    assert r.exit_code == 0, r.output
    with open_store(db) as store:
        book = UserBook(store)
        assert book.verify("ci-bot", "stdin-pass-1") is not None
        assert book.verify("eve", "prompt-pass-1") is not None
