"""`lifeline city validate`: the second city passes; each kind of mistake is reported with the
file, line and field where it is (on a broken copy of the package)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifeline.cli import app
from lifeline.model.package import Problem
from lifeline.model.validate import validate_city


def _problems(root: Path, solve: bool = False) -> list[Problem]:
    return validate_city(root, solve=solve).report.errors


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_second_city_passes_with_solves(ykt_dir: Path) -> None:
    v = validate_city(ykt_dir, solve=True)
    assert v.report.errors == [], v.report.text()
    assert v.exit_code == 0
    assert set(v.solves) == {"water", "power", "gas"}
    assert all(r["solved"] for r in v.solves.values())
    assert v.solves["water"]["pressure_m_min"] > 0
    assert 0.9 < v.solves["power"]["vm_pu_min"] <= 1.0
    # what will be derived is said
    warned = {p.file for p in v.report.warnings}
    assert {"valves.csv", "dependencies.csv"} <= warned
    inv = v.inventory()
    assert inv["customers"] == 167 and inv["critical_sites"] == 7


def test_cli_json_and_exit_codes(ykt_dir: Path, ykt_copy: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["city", "validate", str(ykt_dir), "--json", "--no-solve"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["ok"] and out["city"]["crs"] == "EPSG:32648"
    assert out["city"]["timezone"] == "Asia/Shanghai"
    # a problem: exit 1, shown with file and line
    cust = ykt_copy / "customers.csv"
    lines = _lines(cust)
    lines[3] = lines[3].replace(",school,", ",school_x,", 1)
    lines[3] = lines[3].replace(",care_home,", ",nursery,", 1)
    _write(cust, lines)
    r = CliRunner().invoke(app, ["city", "validate", str(ykt_copy), "--no-solve"])
    assert r.exit_code == 1
    assert "customers.csv" in r.output and "nursery" in r.output
    # unusable: no city.yaml -> exit 2
    r = CliRunner().invoke(app, ["city", "validate", str(tmp_path), "--json"])
    assert r.exit_code == 2
    assert json.loads(r.output)["problems"][0]["file"] == "city.yaml"


def test_customers_in_lonlat_say_wrong_crs(ykt_copy: Path) -> None:
    """Coordinates given in degrees: every row is named, and the summary blames the CRS."""
    from lifeline.model.geo import to_lonlat

    cust = ykt_copy / "customers.csv"
    lines = _lines(cust)
    out = [lines[0]]
    for row in lines[1:]:
        f = row.split(",")
        lon, lat = to_lonlat([float(f[4])], [float(f[5])], "EPSG:32648")
        f[4], f[5] = f"{lon[0]:.6f}", f"{lat[0]:.6f}"
        out.append(",".join(f))
    _write(cust, out)
    errs = _problems(ykt_copy)
    rows = [p for p in errs if p.file == "customers.csv" and p.line is not None]
    assert len(rows) == len(lines) - 1
    assert rows[0].line == 2 and rows[0].field == "x,y"
    assert "longitude/latitude" in rows[0].message
    assert any(p.line is None and "another CRS" in p.message for p in errs)


def test_network_in_another_crs(ykt_copy: Path) -> None:
    """city.yaml says EPSG:25832 (UTM 32N) while the models are in UTM 48N: every network is
    outside the CRS's area of use, with the model file and its coordinates field."""
    cfg = ykt_copy / "city.yaml"
    cfg.write_text(cfg.read_text().replace("EPSG:32648", "EPSG:25832"), encoding="utf-8")
    errs = _problems(ykt_copy)
    where = {(p.file, p.field) for p in errs if "area of use" in p.message}
    assert ("water.inp", "[COORDINATES]") in where
    assert ("power.json", "bus.geo") in where and ("gas.json", "junction_geodata") in where
    water = next(p for p in errs if p.file == "water.inp")
    assert water.line == _lines(ykt_copy / "water.inp").index("[COORDINATES]") + 1
    assert "crs in city.yaml" in water.message


def test_unknown_crs_is_unusable(ykt_copy: Path) -> None:
    cfg = ykt_copy / "city.yaml"
    cfg.write_text(cfg.read_text().replace("EPSG:32648", "EPSG:999999"), encoding="utf-8")
    v = validate_city(ykt_copy, solve=False)
    assert v.exit_code == 2
    assert any(p.file == "city.yaml" and p.field == "crs" for p in v.report.errors)


def test_customer_on_a_missing_junction(ykt_copy: Path) -> None:
    cust = ykt_copy / "customers.csv"
    lines = _lines(cust)
    f = lines[9].split(",")
    f[6] = "NO-SUCH-NODE"
    lines[9] = ",".join(f)
    _write(cust, lines)
    errs = _problems(ykt_copy)
    assert len(errs) == 1
    p = errs[0]
    assert (p.file, p.line, p.field) == ("customers.csv", 10, "water_node")
    assert "NO-SUCH-NODE" in p.message and "EPANET" in p.message


def test_sensor_on_missing_element_and_bad_unit(ykt_copy: Path) -> None:
    sens = ykt_copy / "sensors.csv"
    lines = _lines(sens)
    lines[1] = lines[1].replace(",pressure_m,m,", ",pressure_m,psi,")
    lines[2] = lines[2].replace("node:123", "node:9999")
    lines[3] = lines[3].replace(",pressure_m,", ",pressure_kpa,")
    _write(sens, lines)
    errs = {(p.line, p.field): p.message for p in _problems(ykt_copy) if p.file == "sensors.csv"}
    assert "psi" in errs[(2, "unit")] and "expected m" in errs[(2, "unit")]
    assert "9999" in errs[(3, "element")]
    assert "pressure_kpa" in errs[(4, "quantity")] and "pressure_m" in errs[(4, "quantity")]


def test_duplicate_ids(ykt_copy: Path) -> None:
    cust = ykt_copy / "customers.csv"
    lines = _lines(cust)
    lines[20] = lines[21].split(",", 1)[0] + "," + lines[20].split(",", 1)[1]
    _write(cust, lines)
    sens = ykt_copy / "sensors.csv"
    s = _lines(sens)
    s.append(s[1])
    _write(sens, s)
    errs = _problems(ykt_copy)
    dup_c = [p for p in errs if p.file == "customers.csv"]
    assert len(dup_c) == 1 and dup_c[0].line == 22 and dup_c[0].field == "customer_id"
    assert "duplicate" in dup_c[0].message and "line 21" in dup_c[0].message
    dup_s = [p for p in errs if p.file == "sensors.csv"]
    assert len(dup_s) == 1 and dup_s[0].line == len(s) and dup_s[0].field == "sensor_id"


def test_truncated_inp_names_lines(ykt_copy: Path) -> None:
    """Cut the INP in the middle of a [PIPES] line: EPANET names the cut line and the junction
    lines whose patterns are lost; the city is still checked for the rest."""
    inp = ykt_copy / "water.inp"
    text = inp.read_text()
    inp.write_text(text[: text.index("[PIPES]") + 3000])
    v = validate_city(ykt_copy, solve=False)
    errs = [p for p in v.report.errors if p.file == "water.inp"]
    assert errs and all(p.line is not None for p in errs)
    lines = _lines(inp)
    junc = [p for p in errs if p.field == "[JUNCTIONS]"]
    assert junc and all("undefined time pattern" in p.message for p in junc)
    assert lines[junc[0].line - 1].split()[0] == "15"  # the first junction with pattern 3
    cut = [p for p in errs if p.field == "[PIPES]"]
    assert len(cut) == 1 and "syntax error" in cut[0].message and cut[0].line == len(lines)
    assert v.exit_code == 1  # power and gas still load: problems, not unusable
    assert "water" not in v.city.networks and "power" in v.city.networks


def test_broken_csv_names_the_line(ykt_copy: Path) -> None:
    cust = ykt_copy / "customers.csv"
    lines = _lines(cust)
    lines[4] = lines[4] + ",extra,fields"
    _write(cust, lines)
    p = next(p for p in _problems(ykt_copy) if p.file == "customers.csv")
    assert p.line == 5 and "fields" in p.message
    lines = _lines(cust)
    lines = lines[:4] + [lines[4].replace(",", ',"', 1)] + lines[5:8]
    _write(cust, lines)
    p = next(p for p in _problems(ykt_copy) if p.file == "customers.csv")
    assert p.line == 5 and "quote" in p.message


def test_missing_column_and_bad_grading(ykt_copy: Path) -> None:
    sens = ykt_copy / "sensors.csv"
    lines = _lines(sens)
    lines[0] = lines[0].replace("interval_s", "interval")
    _write(sens, lines)
    g = ykt_copy / "grading.yaml"
    g.write_text(g.read_text().replace("source: S4", "source: S9"), encoding="utf-8")
    errs = _problems(ykt_copy)
    col = next(p for p in errs if p.file == "sensors.csv")
    assert col.line == 1 and "interval_s" in col.message
    grad = next(p for p in errs if p.file == "grading.yaml")
    assert grad.field.endswith(".source") and "S9" in grad.message


@pytest.mark.parametrize("what", ["customer", "district"])
def test_outside_every_district(ykt_copy: Path, what: str) -> None:
    d = ykt_copy / "districts.geojson"
    gj = json.loads(d.read_text())
    gj["features"] = gj["features"][1:]  # drop the western district
    d.write_text(json.dumps(gj))
    v = validate_city(ykt_copy, solve=False)
    out = [p for p in v.report.errors if p.file == "customers.csv"]
    assert out and all(p.field == "x,y" and "outside every district" in p.message for p in out)
    assert any("assets lie outside every district" in p.message for p in v.report.warnings)


SWMM = """[TITLE]
tiny drainage for the YKT test city
[OPTIONS]
FLOW_UNITS CMS
[JUNCTIONS]
;name elev maxdepth
D1 250 3
D2 248 3
[OUTFALLS]
OUT1 245 FREE
[CONDUITS]
;name from to length roughness
C1 D1 D2 200 0.013
C2 D2 {to} 150 0.013
[XSECTIONS]
C1 CIRCULAR 0.6 0 0 0
C2 CIRCULAR 0.6 0 0 0
[COORDINATES]
D1 649400 3273800
D2 649600 3273800
OUT1 649750 3273800
"""


def test_drainage_network_structural_check(ykt_copy: Path) -> None:
    """A SWMM model: checked structurally without pyswmm (said as a warning); a conduit to an
    unknown node is named with its line."""
    cfg = ykt_copy / "city.yaml"
    cfg.write_text(
        cfg.read_text().replace("  gas: gas.json\n", "  gas: gas.json\n  drainage: drainage.inp\n"),
        encoding="utf-8",
    )
    (ykt_copy / "drainage.inp").write_text(SWMM.format(to="OUT1"))
    from lifeline.model.checks import check_drainage
    from lifeline.model.package import Report

    rep = Report()
    r = check_drainage(ykt_copy / "drainage.inp", rep, ykt_copy)
    assert r["solved"] and r["nodes"] == 3 and r["links"] == 2 and not rep.errors
    v = validate_city(ykt_copy, solve=False)
    assert v.report.errors == [] and "drainage" in v.city.networks
    assert (v.city.assets.utility == "drainage").sum() == 5
    (ykt_copy / "drainage.inp").write_text(SWMM.format(to="OUT9"))
    rep = Report()
    check_drainage(ykt_copy / "drainage.inp", rep, ykt_copy)
    p = rep.errors[0]
    line = _lines(ykt_copy / "drainage.inp").index("C2 D2 OUT9 150 0.013") + 1
    assert (p.file, p.line, p.field) == ("drainage.inp", line, "[CONDUITS]")
    assert "OUT9" in p.message
