"""Commands that took the demo town take ``--city DIR``: complaints are placed with the city's
CRS, risk runs on its networks, incidents are shown in its timezone; `resolve_city`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from typer.testing import CliRunner

from lifeline.cli import app


def test_resolve_city(ykt_dir: Path, ykt: Any, tmp_path: Path) -> None:
    import pytest

    from lifeline.model.city import city_timezone, resolve_city
    from lifeline.model.package import CityPackageError

    c = resolve_city(ykt_dir)
    assert c.crs == "EPSG:32648" and c.timezone == "Asia/Shanghai"
    assert len(c.customers) == len(ykt.customers)
    assert city_timezone(ykt_dir) == "Asia/Shanghai"
    with pytest.raises(CityPackageError, match="city.yaml"):
        resolve_city(tmp_path)


def test_complaints_placed_with_the_city_crs(ykt_dir: Path, ykt: Any, tmp_path: Path) -> None:
    from lifeline.model.geo import to_lonlat

    hosp = ykt.customers.set_index("customer_id").loc["CRIT-HOSP"]
    lon, lat = to_lonlat([hosp.x_m + 3], [hosp.y_m - 2], ykt.crs)
    f = tmp_path / "c.csv"
    pd.DataFrame(
        {
            "ts": ["2026-07-15T03:10:00Z", "2026-07-15T03:20:00Z"],
            "text": ["医院停水了，水龙头没有水", "闻到燃气味"],
            "lon": [float(lon[0]), None],
            "lat": [float(lat[0]), None],
            "address": ["", hosp.address],
        }
    ).to_csv(f, index=False)
    r = CliRunner().invoke(
        app, ["complaints", "ingest", str(f), "--city", str(ykt_dir), "--no-store", "--json"]
    )
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert [x["customer_id"] for x in rows] == ["CRIT-HOSP", "CRIT-HOSP"]
    assert [x["place_method"] for x in rows] == ["lonlat", "address"]
    assert rows[0]["utility"] == "water" and rows[1]["utility"] == "gas"


def test_risk_criticality_on_the_city(ykt_dir: Path, ykt: Any, tmp_path: Path) -> None:
    out = tmp_path / "crit.json"
    r = CliRunner().invoke(
        app,
        [
            "risk",
            "criticality",
            "--city",
            str(ykt_dir),
            "--utility",
            "gas,power",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    res = json.loads(out.read_text())
    gas = pd.DataFrame(res["gas"]["segments"])
    # customers are linked to gas junctions: a segment cuts customers, the regulator's outlet
    # main cuts every gas customer
    n_gas = int((ykt.customers.gas_asset_id != "").sum())
    assert gas.customers_cut.max() == n_gas
    power = pd.DataFrame(res["power"]["segments"])
    assert power.customers_cut.max() <= len(ykt.customers) and power.critical_cut.max() >= 1


def test_incidents_listed_in_the_city_timezone(
    ykt_dir: Path, tmp_path: Path, monkeypatch: Any
) -> None:
    from lifeline.config import get_settings
    from lifeline.incidents.lifecycle import Incident
    from lifeline.store import open_store

    db = str(tmp_path / "i.duckdb")
    inc = Incident(
        incident_id="INC-1",
        utility="water",
        opened_at=pd.Timestamp("2026-07-15T03:10:00Z").to_pydatetime(),
        x_m=649740.0,
        y_m=3273553.0,
    )
    with open_store(db) as st:
        st.upsert_incident(inc.to_row())
    monkeypatch.setenv("LIFELINE_DB", db)
    get_settings.cache_clear()
    r = CliRunner().invoke(app, ["incidents", "list", "--city", str(ykt_dir)])
    assert r.exit_code == 0, r.output
    assert "Asia/Shanghai" in r.output and "2026-07-15 11:10 CST" in r.output
    # without --city: the imported city's timezone (store metadata)
    with open_store(db) as st:
        st.set_meta({"city.timezone": "Asia/Shanghai"})
    r = CliRunner().invoke(app, ["incidents", "show", "INC-1"])
    assert r.exit_code == 0, r.output
    assert "opened 2026-07-15 11:10 CST" in r.output
