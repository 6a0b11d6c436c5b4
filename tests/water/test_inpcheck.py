"""An INP that WNTR cannot read (or reads silently wrong) is reported by section and line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from lifeline.errors import NetworkModelError
from lifeline.water.inpcheck import check_inp_text
from lifeline.water.network import load_network

NET = Path(__file__).parents[1] / "data" / "water" / "chain.inp"
TEXT = NET.read_text()
LINES = TEXT.splitlines(keepends=True)


def _line_of(text: str) -> int:
    """1-based number of the first line of chain.inp containing ``text``."""
    return next(i for i, x in enumerate(LINES, start=1) if text in x)


def _write(tmp_path: Path, text: str, name: str = "net.inp") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_the_pristine_file_has_no_problems() -> None:
    check = check_inp_text(TEXT)
    assert check.errors == [] and check.warnings == []


def test_truncated_file_names_the_cut_not_a_wntr_attribute_error(tmp_path: Path) -> None:
    cut = "".join(LINES[: _line_of(" p4 ")])  # ends inside [PIPES], before [OPTIONS]
    with pytest.raises(NetworkModelError) as exc:
        load_network(_write(tmp_path, cut))
    msg = str(exc.value)
    assert "truncated" in msg and "[PIPES]" in msg and "no [OPTIONS] section" in msg
    assert "NoneType" not in msg and "factor" not in msg


def test_a_line_cut_in_half_names_its_line_and_fields(tmp_path: Path) -> None:
    n = _line_of(" p3 ")
    cut = "".join(LINES[: n - 1]) + " p3   j3     j4\n" + "".join(LINES[n:])
    with pytest.raises(NetworkModelError) as exc:
        load_network(_write(tmp_path, cut))
    assert f"net.inp:{n}" in str(exc.value) and f"line {n} [PIPES]: 3 field(s)" in str(exc.value)


def test_references_to_undefined_nodes_curves_and_patterns() -> None:
    text = TEXT.replace(" p6   j6     j7", " p6   j6     j99").replace(
        " j7   10     2.0", " j7   10     2.0   weekly"
    )
    text = text.replace("[OPTIONS]", "[PUMPS]\n pu1 R j1 HEAD nocurve\n\n[OPTIONS]")
    msgs = [str(p) for p in check_inp_text(text).errors]
    assert f"line {_line_of(' p6 ')} [PIPES]: p6: end node 'j99' is not a defined node" in msgs
    assert any("j7: demand pattern 'weekly' is not a defined pattern" in m for m in msgs)
    assert any("pu1: head curve 'nocurve' is not a defined curve" in m for m in msgs)


def test_bad_numbers_duplicates_and_unknown_sections() -> None:
    text = TEXT.replace(" p2   j2     j3     100 ", " p2   j2     j3     -5  ")
    text = text.replace(" j5   10     1.0", " j5   ten    1.0\n j5   10     1.0")
    text = text.replace("[TIMES]", "[TIMEZ]")
    msgs = [str(p) for p in check_inp_text(text).errors]
    assert any("[PIPES]: p2: length -5 must be > 0" in m for m in msgs)
    assert any("[JUNCTIONS]: j5: elevation 'ten' is not a number" in m for m in msgs)
    assert any("id 'j5' is defined twice" in m for m in msgs)
    assert any("unknown section header '[TIMEZ]'" in m for m in msgs)


def test_cut_inside_coordinates_loads_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cut = "".join(LINES[: _line_of(" j4  400")])  # j5, j6, j7 lose their coordinates
    with caplog.at_level(logging.WARNING, logger="lifeline"):
        wn = load_network(_write(tmp_path, cut, "cut.inp"))
    assert len(wn.junction_name_list) == 7
    text = caplog.text
    assert "3 of 8 node(s) have no coordinates (j5, j6, j7)" in text
    assert "inside [COORDINATES] without [END]" in text


def test_binary_and_empty_files(tmp_path: Path) -> None:
    png = tmp_path / "map.inp"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    with pytest.raises(NetworkModelError, match="not a text file"):
        load_network(png)
    with pytest.raises(NetworkModelError, match="empty"):
        load_network(_write(tmp_path, "  \n", "empty.inp"))
