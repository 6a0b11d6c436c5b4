"""A live server (uvicorn in a thread, free localhost port) on a generated grid town, and the
Debian chromium driven by Playwright (never downloaded: executable_path=/usr/bin/chromium)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tests.conftest import fast_password_hashing

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
X0, Y0 = 420_000.0, 5_368_000.0
PASSWORD = "browser-test-1"


def grid_town(n: int = 8, step: float = 150.0) -> dict[str, pd.DataFrame]:
    """An n×n street grid: water pipes on the streets, power lines and gas pipes offset along
    them, valves/switches at crossings, pressure/voltage/methane sensors; districts W and E."""
    assets, sensors = [], []

    def d(x: float) -> str:
        return "W" if x < X0 + step * (n - 1) / 2 else "E"

    for i in range(n):
        for j in range(n):
            x, y = X0 + i * step, Y0 + j * step
            assets.append(
                dict(
                    asset_id=f"water:junction:J{i}_{j}",
                    utility="water",
                    kind="junction",
                    name=f"J{i}_{j}",
                    x_m=x,
                    y_m=y,
                    zone_id=f"DMA{d(x)}",
                    district_id=d(x),
                )
            )
            if (i + j) % 3 == 0:
                assets.append(
                    dict(
                        asset_id=f"water:valve:V{i}_{j}",
                        utility="water",
                        kind="valve",
                        name=f"V{i}_{j}",
                        x_m=x + 8,
                        y_m=y,
                        zone_id=f"DMA{d(x)}",
                        district_id=d(x),
                    )
                )
            if (i * 7 + j) % 5 == 0:
                sensors.append(
                    dict(
                        sensor_id=f"water:p:J{i}_{j}",
                        asset_id=f"water:junction:J{i}_{j}",
                        utility="water",
                        quantity="pressure_m",
                        unit="m",
                        interval_s=900,
                        valid_min=0.0,
                        valid_max=80.0,
                        x_m=x,
                        y_m=y,
                    )
                )
            for di, dj, tag in ((1, 0, "h"), (0, 1, "v")):
                if i + di < n and j + dj < n:
                    x2, y2 = x + di * step, y + dj * step
                    assets.append(
                        dict(
                            asset_id=f"water:pipe:P{tag}{i}_{j}",
                            utility="water",
                            kind="pipe",
                            name=f"P{tag}{i}_{j}",
                            x_m=(x + x2) / 2,
                            y_m=(y + y2) / 2,
                            geometry_wkt=f"LINESTRING ({x} {y}, {x2} {y2})",
                            zone_id=f"DMA{d(x)}",
                            district_id=d(x),
                            diameter_m=0.3 if j == n // 2 else 0.12,
                        )
                    )
                    if (i + j) % 2 == 0:
                        assets.append(
                            dict(
                                asset_id=f"power:line:L{tag}{i}_{j}",
                                utility="power",
                                kind="line",
                                name=f"L{tag}{i}_{j}",
                                x_m=(x + x2) / 2 + 12,
                                y_m=(y + y2) / 2 + 12,
                                geometry_wkt=f"LINESTRING ({x + 12} {y + 12}, {x2 + 12} {y2 + 12})",
                                zone_id="F1",
                                district_id=d(x),
                            )
                        )
                    if j % 2 == 1 and tag == "h":
                        assets.append(
                            dict(
                                asset_id=f"gas:pipe:G{tag}{i}_{j}",
                                utility="gas",
                                kind="pipe",
                                name=f"G{tag}{i}_{j}",
                                x_m=(x + x2) / 2,
                                y_m=(y + y2) / 2 - 15,
                                geometry_wkt=f"LINESTRING ({x} {y - 15}, {x2} {y2 - 15})",
                                zone_id="GD1",
                                district_id=d(x),
                            )
                        )
            if (i + j) % 4 == 0:
                assets.append(
                    dict(
                        asset_id=f"power:bus:B{i}_{j}",
                        utility="power",
                        kind="trafo",
                        name=f"T{i}_{j}",
                        x_m=x + 12,
                        y_m=y + 12,
                        zone_id="F1",
                        district_id=d(x),
                    )
                )
                sensors.append(
                    dict(
                        sensor_id=f"power:v:B{i}_{j}",
                        asset_id=f"power:bus:B{i}_{j}",
                        utility="power",
                        quantity="voltage_pu",
                        unit="pu",
                        interval_s=900,
                        valid_min=0.0,
                        valid_max=1.5,
                        x_m=x + 12,
                        y_m=y + 12,
                    )
                )
            if j % 2 == 1 and i % 3 == 1:
                assets.append(
                    dict(
                        asset_id=f"gas:manhole:M{i}_{j}",
                        utility="gas",
                        kind="manhole",
                        name=f"M{i}_{j}",
                        x_m=x,
                        y_m=y - 15,
                        zone_id="GD1",
                        district_id=d(x),
                    )
                )
                sensors.append(
                    dict(
                        sensor_id=f"gas:ch4:M{i}_{j}",
                        asset_id=f"gas:manhole:M{i}_{j}",
                        utility="gas",
                        quantity="methane_pct_lel",
                        unit="%LEL",
                        interval_s=60,
                        valid_min=0.0,
                        valid_max=100.0,
                        x_m=x,
                        y_m=y - 15,
                    )
                )
    districts = pd.DataFrame(
        [
            dict(district_id="W", name="West", name_zh="西区"),
            dict(district_id="E", name="East", name_zh="东区"),
        ]
    )
    customers = pd.DataFrame(
        [
            dict(
                customer_id="H1",
                name="Hospital",
                category="hospital",
                critical=True,
                x_m=X0 + 300,
                y_m=Y0 + 300,
                water_asset_id="water:junction:J2_2",
                district_id="W",
            )
        ]
    )
    return {
        "asset": pd.DataFrame(assets),
        "sensor": pd.DataFrame(sensors),
        "district": districts,
        "customer": customers,
    }


def day_readings(
    sensors: pd.DataFrame, end: pd.Timestamp, hours: int = 12, seed: int = 0
) -> pd.DataFrame:
    """Plausible readings: pressures with a daily dip, voltages near 1 pu, methane near 0."""
    rng = np.random.default_rng(seed)
    ts = pd.date_range(end - pd.Timedelta(hours=hours), end, freq="15min")
    rows = []
    for s in sensors.itertuples():
        h = ts.hour.to_numpy() + ts.minute.to_numpy() / 60
        if s.quantity == "pressure_m":
            v = 48 - 6 * np.exp(-((h - 8) ** 2) / 6) + rng.normal(0, 0.3, len(ts))
        elif s.quantity == "voltage_pu":
            v = 1.0 - 0.02 * np.exp(-((h - 19) ** 2) / 4) + rng.normal(0, 0.003, len(ts))
        else:
            v = np.abs(rng.normal(0.5, 0.2, len(ts)))
        rows += [
            {"sensor_id": s.sensor_id, "ts": t, "value": float(x)}
            for t, x in zip(ts, v, strict=True)
        ]
    return pd.DataFrame(rows)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Live:
    url: str
    app: Any

    @property
    def ctx(self) -> Any:
        return self.app.state.ctx

    def token(self, user: str) -> str:
        return str(self.ctx.signer.issue(user)[0])


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    from lifeline.api.app import create_app

    with fast_password_hashing():
        app = create_app(
            str(tmp_path_factory.mktemp("web") / "web.duckdb"), secret="browser-secret"
        )
        ctx = app.state.ctx
        for name, df in grid_town().items():
            ctx.store.replace_table(name, df)
        ctx.store.write_readings(
            day_readings(ctx.store.read_table("sensor"), pd.Timestamp("2026-07-15T12:00:00Z"))
        )
        for name, role, district in (
            ("dispatcher", "dispatcher", None),
            ("viewer", "viewer", None),
            ("operator", "operator", None),
        ):
            ctx.users.add(name, PASSWORD, role, district)
    with serve(app) as live:
        yield live


@contextmanager
def serve(app: Any, lifespan: str = "auto") -> Iterator[Live]:
    """``app`` served by uvicorn in a thread on a free localhost port until the block ends.
    ``lifespan="off"`` leaves the app's engine and store open when the server stops (for an
    app a longer-lived fixture owns)."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan
    )
    server = uvicorn.Server(config)
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    try:
        yield Live(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        th.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        msg = f"{CHROMIUM} is missing: run `bash scripts/browser.sh` (Debian chromium)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        msg = "playwright (Python) is not installed: pip install -e '.[dev]'"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield b
        b.close()
