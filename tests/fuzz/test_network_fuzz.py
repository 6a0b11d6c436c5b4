"""Property tests (hypothesis) on the network-model loaders users supply files to: EPANET INP
(:func:`lifeline.water.network.load_network`), pandapower JSON
(:func:`lifeline.power.locate.load_network`) and pandapipes JSON
(:func:`lifeline.gas.network.load_pandapipes`). A corrupted file (lines dropped, duplicated or
replaced by junk, bytes flipped, truncated) loads or raises a LifelineError — never anything else.
"""

from __future__ import annotations

import contextlib
import uuid
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifeline.errors import LifelineError

pytestmark = pytest.mark.filterwarnings("ignore")
TEST_DATA = Path(__file__).resolve().parent.parent / "data"
NET = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

junk = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40
)
# one edit of a text file: (kind, line index, junk text, byte index)
edit = st.tuples(
    st.sampled_from(["drop", "dup", "replace", "flip", "truncate", "insert"]),
    st.integers(min_value=0, max_value=10_000),
    junk,
)


def _mutate(text: str, edits: list[tuple[str, int, str]]) -> bytes:
    lines = text.splitlines(keepends=True)
    data = text.encode()
    for kind, i, j in edits:
        if not lines:
            break
        k = i % len(lines)
        if kind == "drop":
            del lines[k]
        elif kind == "dup":
            lines.insert(k, lines[k])
        elif kind == "replace":
            lines[k] = j + "\n"
        elif kind == "insert":
            lines.insert(k, j + "\n")
        elif kind == "truncate":
            lines = lines[:k]
    data = "".join(lines).encode()
    for kind, i, _ in edits:
        if kind == "flip" and data:
            b = bytearray(data)
            b[i % len(b)] ^= 0xA5
            data = bytes(b)
    return data


def _write(tmp: Path, suffix: str, data: bytes) -> Path:
    p = tmp / f"{uuid.uuid4().hex[:8]}{suffix}"
    p.write_bytes(data)
    return p


@cache
def _power_json() -> str:
    import pandapower as pp

    net = pp.create_empty_network()
    b1, b2, b3 = (pp.create_bus(net, vn_kv=20.0) for _ in range(3))
    pp.create_ext_grid(net, b1)
    pp.create_line(net, b1, b2, 1.0, "NA2XS2Y 1x95 RM/25 12/20 kV")
    pp.create_line(net, b2, b3, 1.0, "NA2XS2Y 1x95 RM/25 12/20 kV")
    pp.create_switch(net, b2, 1, et="l")
    pp.create_load(net, b3, p_mw=0.2)
    return str(pp.to_json(net))


@cache
def _gas_json() -> str:
    import pandapipes as pps

    net = pps.create_empty_network(fluid="lgas")
    j = [pps.create_junction(net, pn_bar=1.0, tfluid_k=283.15) for _ in range(3)]
    pps.create_ext_grid(net, j[0], p_bar=1.0, t_k=283.15)
    pps.create_pipe_from_parameters(net, j[0], j[1], length_km=0.5, diameter_m=0.1)
    pps.create_pipe_from_parameters(net, j[1], j[2], length_km=0.5, diameter_m=0.1)
    pps.create_sink(net, j[2], mdot_kg_per_s=0.01)
    return str(pps.to_json(net))


def test_pristine_models_load(tmp_path: Path) -> None:
    """The unmutated inputs load (so the properties below test corruption, not a broken base)."""
    from lifeline.gas.network import load_pandapipes
    from lifeline.power.locate import load_network as load_power
    from lifeline.water.network import load_network as load_water

    assert len(load_water(TEST_DATA / "water" / "chain.inp").pipe_name_list) > 0
    assert len(load_power(_write(tmp_path, ".json", _power_json().encode()), False).bus) == 3
    assert len(load_pandapipes(_write(tmp_path, ".json", _gas_json().encode())).junction) == 3


@NET
@given(st.lists(edit, min_size=1, max_size=4))
def test_epanet_inp_corrupted(tmp_path: Path, edits: list[tuple[str, int, str]]) -> None:
    """A corrupted EPANET INP file loads or raises a LifelineError."""
    from lifeline.water.network import load_network

    text = (TEST_DATA / "water" / "chain.inp").read_text()
    with contextlib.suppress(LifelineError):
        load_network(_write(tmp_path, ".inp", _mutate(text, edits)))


@NET
@given(st.lists(edit, min_size=1, max_size=4))
def test_pandapower_json_corrupted(tmp_path: Path, edits: list[tuple[str, int, str]]) -> None:
    """A corrupted pandapower JSON file loads or raises a LifelineError."""
    from lifeline.power.locate import load_network

    with contextlib.suppress(LifelineError):
        load_network(_write(tmp_path, ".json", _mutate(_power_json(), edits)), use_cache=False)


@NET
@given(st.lists(edit, min_size=1, max_size=4))
def test_pandapipes_json_corrupted(tmp_path: Path, edits: list[tuple[str, int, str]]) -> None:
    """A corrupted pandapipes JSON file loads or raises a LifelineError."""
    from lifeline.gas.network import load_pandapipes

    with contextlib.suppress(LifelineError):
        load_pandapipes(_write(tmp_path, ".json", _mutate(_gas_json(), edits)))
