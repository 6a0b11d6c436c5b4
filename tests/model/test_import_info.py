"""`lifeline city import` (DuckDB and PostgreSQL/PostGIS with the city's SRID), `city info`
with its map, and the API serving the second city's CRS, timezone and extent."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lifeline.cli import app


def test_import_into_duckdb(ykt_dir: Path, ykt: Any, tmp_path: Path) -> None:
    db = tmp_path / "city.duckdb"
    r = CliRunner().invoke(app, ["city", "import", str(ykt_dir), "--db", str(db)])
    assert r.exit_code == 0, r.output
    assert "EPSG:32648" in r.output and "Asia/Shanghai" in r.output
    from lifeline.store import open_store

    with open_store(str(db)) as st:
        assert st.count("asset") == len(ykt.assets)
        assert st.count("customer") == len(ykt.customers) == 167
        assert st.count("sensor") == len(ykt.sensors)
        assert st.count("district") == 3 and st.count("zone") == len(ykt.zones)
        assert st.count("dependency") == len(ykt.dependencies) > 0
        meta = st.get_meta()
        assert meta["city.crs"] == "EPSG:32648" and meta["city.timezone"] == "Asia/Shanghai"
        assert meta["city.name_zh"] == ykt.name_zh and meta["city.root"] == str(ykt_dir.resolve())
        s = st.read_table("sensor").set_index("sensor_id")
        assert s.at["GM-MH1", "asset_id"] == "power:manhole:MH1"


@pytest.mark.services
def test_import_into_postgis_follows_the_city_srid(ykt: Any, pg_url: str) -> None:
    """A store created for the demo town (SRID 25832) is converted to the city's EPSG:32648;
    reopening it without an SRID keeps 32648; distances in metres work in the new SRID."""
    from lifeline.model.cli import import_city
    from lifeline.store import open_store

    sep = "&" if "?" in pg_url else "?"
    url = f"{pg_url}{sep}schema=city_{uuid.uuid4().hex[:10]}"
    with open_store(url) as st:
        assert st.geometry_srid("asset") == 25832  # type: ignore[attr-defined]
    try:
        res = import_city(ykt, url)
        assert res["store"] == "postgresql" and res["srid"] == 32648
        assert res["tables"]["customer"] == 167
        with open_store(url) as st:
            for t in ("asset", "customer", "sensor"):
                assert st.geometry_srid(t) == 32648  # type: ignore[attr-defined]
            q = st._query(  # type: ignore[attr-defined]
                "SELECT customer_id, ST_SRID(geom) AS srid, ST_X(geom) AS x FROM customer "
                "WHERE ST_DWithin(geom, ST_SetSRID(ST_MakePoint(?, ?), 32648), 1.0)",
                [649740.0, 3273553.0],
            )
            assert q.customer_id.tolist() == ["CRIT-HOSP"] and q.srid.tolist() == [32648]
            n = st._query(  # type: ignore[attr-defined]
                "SELECT count(*) AS n FROM asset WHERE ST_Within(geom, ST_Transform("
                "ST_MakeEnvelope(106.4, 29.4, 106.7, 29.7, 4326), 32648))"
            )
            assert int(n.n.iloc[0]) == len(ykt.assets)
    finally:
        with open_store(url) as st:
            st.drop_schema()  # type: ignore[attr-defined]


def test_info_and_map(ykt_dir: Path, tmp_path: Path) -> None:
    png = tmp_path / "ykt.png"
    r = CliRunner().invoke(app, ["city", "info", str(ykt_dir), "--map", str(png)])
    assert r.exit_code == 0, r.output
    for text in ("hospital", "pumping_station", "methane_pct_lel", "JB-GYQ", "supply", "crews: 5"):
        assert text in r.output, text
    assert png.stat().st_size > 20_000
    from PIL import Image

    with Image.open(png) as im:
        assert im.size[0] > 800 and len(set(im.convert("RGB").getdata())) > 50


def test_api_serves_the_city_crs_and_extent(ykt: Any) -> None:
    from fastapi.testclient import TestClient

    from lifeline.api.app import create_app
    from lifeline.model.cli import import_city

    application = create_app(":memory:", secret="s")
    ctx = application.state.ctx
    import_city_into(ctx.store, ykt, import_city)
    ctx.city = ykt  # what `serve --city` sets: the API takes the CRS and timezone from it
    ctx.users.add("viewer", "test-password-1", "viewer", None)
    tok = ctx.signer.issue("viewer")[0]
    with TestClient(application) as c:
        h = {"Authorization": f"Bearer {tok}"}
        net = c.get("/api/networks", headers=h).json()
        assert net["crs"] == "EPSG:32648" and net["timezone"] == "Asia/Shanghai"
        lon, lat = net["center"]
        assert 106.4 < lon < 106.7 and 29.4 < lat < 29.8  # Jiangbei, Chongqing
        b = net["bbox"]
        assert b[0] < lon < b[2] and b[1] < lat < b[3]
        gj = c.get("/api/networks/water", headers=h).json()
        xs = [
            f["geometry"]["coordinates"][0]
            for f in gj["features"]
            if f["geometry"]["type"] == "Point"
        ]
        assert xs and all(106.4 < x < 106.7 for x in xs)
        a = c.get("/api/assets?kind=pump", headers=h).json()
        assert {i["asset_id"] for i in a["items"]} == {"water:pump:10", "water:pump:335"}
        assert all(29.4 < i["lat"] < 29.8 for i in a["items"])


def import_city_into(store: Any, city: Any, _: Any) -> None:
    """The tables `city import` loads, into an open store."""
    from lifeline.model.cli import IMPORT_TABLES

    for table, attr in IMPORT_TABLES.items():
        store.replace_table(table, getattr(city, attr))
