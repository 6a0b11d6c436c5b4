"""`lifeline serve --help` and `lifeline users add/list` through register() on a fresh app."""

from __future__ import annotations

from pathlib import Path

import pytest
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


def test_serve_and_demo_refuse_a_busy_port_before_starting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import sys
    import time

    from lifeline.cli import main

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))  # a port the OS gives us, held for the test
    busy.listen()
    port = str(busy.getsockname()[1])
    try:
        for args in (["serve", "--port", port], ["demo", "--port", port]):
            monkeypatch.setattr(sys, "argv", ["lifeline", *args])
            t0 = time.monotonic()
            with pytest.raises(SystemExit) as exc:
                main()
            err = capsys.readouterr().err
            assert exc.value.code == 2, err
            assert f"--port: port {port} on 127.0.0.1 is already in use" in err
            assert "serving on" not in err and time.monotonic() - t0 < 10  # nothing was loaded
    finally:
        busy.close()


def test_bind_port_takes_a_free_port_and_names_a_bad_host() -> None:
    from lifeline.api.server import bind_port
    from lifeline.errors import ConfigError

    sock = bind_port("127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] > 0
    finally:
        sock.close()
    with pytest.raises(ConfigError, match="--host"):
        bind_port("no-such-host.invalid", 8000)
