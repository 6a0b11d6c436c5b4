"""A small purpose-made town (two districts, each utility, a few sensors) and an API per test,
on DuckDB and — marked ``services`` — on PostgreSQL in a fresh schema."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest

X0, Y0 = 420_000.0, 5_368_000.0  # EPSG:25832, near Offenburg


def tiny_town() -> dict[str, pd.DataFrame]:
    """Reference tables: districts D1 (west) and D2 (east); water pipes/valve, a power line and
    switch, a gas pipe; pressure, voltage and methane sensors; customers incl. a hospital."""

    def line(x1: float, y1: float, x2: float, y2: float) -> str:
        return f"LINESTRING ({X0 + x1} {Y0 + y1}, {X0 + x2} {Y0 + y2})"

    assets = pd.DataFrame(
        [
            dict(
                asset_id="water:pipe:P1",
                utility="water",
                kind="pipe",
                ref="P1",
                name="P1",
                x_m=X0 + 100,
                y_m=Y0,
                geometry_wkt=line(0, 0, 200, 0),
                zone_id="DMA1",
                district_id="D1",
                diameter_m=0.2,
                length_m=200.0,
            ),
            dict(
                asset_id="water:pipe:P2",
                utility="water",
                kind="pipe",
                ref="P2",
                name="P2",
                x_m=X0 + 1100,
                y_m=Y0,
                geometry_wkt=line(1000, 0, 1200, 0),
                zone_id="DMA2",
                district_id="D2",
                diameter_m=0.15,
                length_m=200.0,
            ),
            dict(
                asset_id="water:valve:V1",
                utility="water",
                kind="valve",
                ref="V1",
                name="V1",
                x_m=X0 + 200,
                y_m=Y0,
                geometry_wkt=None,
                zone_id="DMA1",
                district_id="D1",
            ),
            dict(
                asset_id="water:junction:J1",
                utility="water",
                kind="junction",
                ref="J1",
                name="J1",
                x_m=X0,
                y_m=Y0,
                zone_id="DMA1",
                district_id="D1",
            ),
            dict(
                asset_id="water:junction:J2",
                utility="water",
                kind="junction",
                ref="J2",
                name="J2",
                x_m=X0 + 1000,
                y_m=Y0,
                zone_id="DMA2",
                district_id="D2",
            ),
            dict(
                asset_id="power:line:L1",
                utility="power",
                kind="line",
                ref="1",
                name="L1",
                x_m=X0 + 100,
                y_m=Y0 + 100,
                geometry_wkt=line(0, 100, 200, 100),
                zone_id="F1",
                district_id="D1",
            ),
            dict(
                asset_id="power:switch:S1",
                utility="power",
                kind="switch",
                ref="1",
                name="S1",
                x_m=X0 + 200,
                y_m=Y0 + 100,
                zone_id="F1",
                district_id="D1",
            ),
            dict(
                asset_id="power:bus:B2",
                utility="power",
                kind="bus",
                ref="2",
                name="B2",
                x_m=X0 + 1000,
                y_m=Y0 + 100,
                zone_id="F2",
                district_id="D2",
            ),
            dict(
                asset_id="gas:pipe:G1",
                utility="gas",
                kind="pipe",
                ref="G1",
                name="G1",
                x_m=X0 + 100,
                y_m=Y0 + 200,
                geometry_wkt=line(0, 200, 200, 200),
                zone_id="GD1",
                district_id="D1",
            ),
            dict(
                asset_id="gas:manhole:M2",
                utility="gas",
                kind="manhole",
                ref="M2",
                name="M2",
                x_m=X0 + 1100,
                y_m=Y0 + 200,
                zone_id="GD2",
                district_id="D2",
            ),
        ]
    )
    sensors = pd.DataFrame(
        [
            dict(
                sensor_id="water:p:J1",
                asset_id="water:junction:J1",
                utility="water",
                quantity="pressure_m",
                unit="m",
                interval_s=900,
                valid_min=0.0,
                valid_max=120.0,
                x_m=X0,
                y_m=Y0,
            ),
            dict(
                sensor_id="water:p:J2",
                asset_id="water:junction:J2",
                utility="water",
                quantity="pressure_m",
                unit="m",
                interval_s=900,
                valid_min=0.0,
                valid_max=120.0,
                x_m=X0 + 1000,
                y_m=Y0,
            ),
            dict(
                sensor_id="power:v:B2",
                asset_id="power:bus:B2",
                utility="power",
                quantity="voltage_pu",
                unit="pu",
                interval_s=900,
                valid_min=0.0,
                valid_max=1.5,
                x_m=X0 + 1000,
                y_m=Y0 + 100,
            ),
            dict(
                sensor_id="gas:ch4:M2",
                asset_id="gas:manhole:M2",
                utility="gas",
                quantity="methane_pct_lel",
                unit="%LEL",
                interval_s=60,
                valid_min=0.0,
                valid_max=100.0,
                x_m=X0 + 1100,
                y_m=Y0 + 200,
            ),
        ]
    )
    customers = pd.DataFrame(
        [
            dict(
                customer_id="C1",
                name="Hospital",
                category="hospital",
                critical=True,
                x_m=X0 + 50,
                y_m=Y0 + 30,
                water_asset_id="water:junction:J1",
                district_id="D1",
            ),
            dict(
                customer_id="C2",
                name="House",
                category="household",
                critical=False,
                x_m=X0 + 1050,
                y_m=Y0 + 30,
                water_asset_id="water:junction:J2",
                district_id="D2",
            ),
        ]
    )
    districts = pd.DataFrame(
        [
            dict(district_id="D1", name="West", name_zh="西区", level="district"),
            dict(district_id="D2", name="East", name_zh="东区", level="district"),
        ]
    )
    zones = pd.DataFrame(
        [
            dict(zone_id=z, utility=u, kind="dma", name=z, district_id=d)
            for z, u, d in (("DMA1", "water", "D1"), ("DMA2", "water", "D2"))
        ]
    )
    return {
        "asset": assets,
        "sensor": sensors,
        "customer": customers,
        "district": districts,
        "zone": zones,
    }


ROLE_USERS = {
    "admin": ("admin", None),
    "dispatcher": ("dispatcher", None),
    "operator": ("operator", None),
    "viewer": ("viewer", None),
    "op_d1": ("operator", "D1"),
    "disp_d2": ("dispatcher", "D2"),
}
PASSWORD = "test-password-1"


@dataclass
class Api:
    """A TestClient plus a token per test user (keys of ROLE_USERS)."""

    client: Any
    app: Any
    tokens: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    @property
    def ctx(self) -> Any:
        return self.app.state.ctx


@pytest.fixture(autouse=True)
def _fast_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    from lifeline.api import auth

    monkeypatch.setattr(
        auth, "HASH_PARAMS", {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
    )


def build_api(store_url: str, replay_source: Any = None) -> Api:
    from fastapi.testclient import TestClient

    from lifeline.api.app import create_app

    app = create_app(store_url, secret="test-secret", replay_source=replay_source)
    ctx = app.state.ctx
    for name, df in tiny_town().items():
        ctx.store.replace_table(name, df)
    tokens = {}
    for name, (role, district) in ROLE_USERS.items():
        ctx.users.add(name, PASSWORD, role, district)
        tokens[name] = ctx.signer.issue(name)[0]
    return Api(TestClient(app), app, tokens)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.services)])
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    """The API on DuckDB (in memory) and on PostgreSQL (a fresh schema, dropped afterwards)."""
    if request.param == "duckdb":
        url = ":memory:"
    else:
        pg = request.getfixturevalue("pg_url")
        sep = "&" if "?" in pg else "?"
        url = f"{pg}{sep}schema=api_{uuid.uuid4().hex[:10]}"
    a = build_api(url)
    with a.client:
        yield a
        if request.param == "postgres":
            a.ctx.store.drop_schema()


def readings_at(ts: pd.Timestamp, values: dict[str, float]) -> list[dict[str, Any]]:
    return [{"sensor_id": s, "ts": ts.isoformat(), "value": v} for s, v in values.items()]
