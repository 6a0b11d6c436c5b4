"""A private Mosquitto broker (own port, own persistence directory) that a fault test may stop
and restart without disturbing the shared one of scripts/services.sh."""

from __future__ import annotations

import getpass
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PrivateBroker:
    """``start()`` / ``stop()`` a mosquitto with persistence in ``folder`` on ``port``; the
    session store (subscriptions, queued QoS-1 messages) survives a stop/start."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        if not Path(MOSQUITTO).exists():
            pytest.skip("mosquitto not installed")
        self.folder = folder
        self.port = port or free_port()
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {folder}/\n"
            f"user {getpass.getuser()}\n"
            "max_queued_messages 100000\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 20.0) -> None:
        log = (self.folder / f"mosquitto.{self.starts}.log").open("wb")
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT
        )
        self.starts += 1
        deadline = time.monotonic() + timeout_s
        while not _listening(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"private mosquitto did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM (mosquitto writes its persistence file) and wait for the process to end."""
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout_s)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout_s)
