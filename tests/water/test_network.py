"""EPANET sensitivities and pipe-path distances on the chain network."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifeline.errors import NetworkModelError, NotFoundError
from lifeline.water.network import load_network, pipe_graph, sensitivity

NET = Path(__file__).parents[1] / "data" / "water" / "chain.inp"


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lifeline.config import get_settings

    monkeypatch.setenv("LIFELINE_CACHE_DIR", str(tmp_path / "cache"))
    get_settings.cache_clear()


def test_leak_lowers_pressure_most_near_the_leak() -> None:
    s = sensitivity(NET, ["j1", "j4", "j7"])
    col = s.matrix[:, s.junctions.index("j7")]
    assert (col < 0).all()
    # a leak at the dead end j7 lowers j7 more than j4, and j4 more than j1 (nearest the reservoir)
    assert col[2] < col[1] < col[0]
    again = sensitivity(NET, ["j1", "j4", "j7"])  # from the cache
    assert (again.matrix == s.matrix).all()


def test_pipe_distances() -> None:
    g = pipe_graph(load_network(NET))
    assert g.pipe_distance("p1", "p1") == 0.0
    assert g.pipe_distance("p1", "p3") == pytest.approx(200.0)
    assert g.pipe_distance("p3", "p1") == pytest.approx(200.0)
    with pytest.raises(NotFoundError):
        g.pipe_distance("p1", "zz")


def test_bad_network(tmp_path: Path) -> None:
    with pytest.raises(NetworkModelError):
        load_network(tmp_path / "missing.inp")
    bad = tmp_path / "bad.inp"
    bad.write_text("[PIPES]\n p1 a b\n[END]\n")
    with pytest.raises(NetworkModelError):
        load_network(bad)
