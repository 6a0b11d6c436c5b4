"""The one-pass cut analysis against brute force; segments against WNTR; incremental updates."""

from __future__ import annotations

import numpy as np

from lifeline.risk.graph import components, cut_tree, segment_labels


def _brute(n: int, edges: np.ndarray, sources: np.ndarray, w: np.ndarray) -> np.ndarray:
    out = np.zeros(n)
    base = _supplied(n, edges, sources, -1)
    for u in range(n):
        if not base[u]:
            out[u] = w[u]
            continue
        still = _supplied(n, edges, sources, u)
        out[u] = w[base & ~still].sum()
    return out


def _supplied(n: int, edges: np.ndarray, sources: np.ndarray, removed: int) -> np.ndarray:
    keep = (edges[:, 0] != removed) & (edges[:, 1] != removed)
    lab = components(n, edges[keep, 0], edges[keep, 1])
    ok = np.zeros(n, dtype=bool)
    for s in sources:
        if s != removed:
            ok |= lab == lab[s]
    if removed >= 0:
        ok[removed] = False
    return ok


def test_cut_sums_equal_brute_force_on_random_graphs() -> None:
    rng = np.random.default_rng(0)
    for trial in range(30):
        n = int(rng.integers(3, 25))
        m = int(rng.integers(n - 1, 2 * n))
        edges = rng.integers(0, n, size=(m, 2))
        edges = edges[edges[:, 0] != edges[:, 1]]
        if trial % 3 == 0:  # parallel edges must not hide a cut vertex
            edges = np.concatenate([edges, edges[:2]])
        sources = rng.choice(n, size=int(rng.integers(1, 3)), replace=False)
        w = rng.integers(0, 5, size=n).astype(float)
        tree = cut_tree(n, edges, sources)
        assert np.allclose(tree.cut_sums(w), _brute(n, edges, sources, w)), trial


def test_incremental_update_equals_full_recompute() -> None:
    from lifeline.risk import scale, synth

    net = synth.city(1500, seed=5)
    res = scale.global_consequence(net)
    node = int(np.flatnonzero(net.customers > 0)[-1])
    delta = np.array([12.0, 1.0, 0.5])
    new, changed = scale.incremental_update(res, node, delta)
    net.customers[node] += 12
    net.critical[node] += 1
    net.demand[node] += 0.5
    full = scale.global_consequence(net).cut
    assert np.allclose(new, full)
    differs = np.flatnonzero(
        ~np.isclose(full, scale.global_consequence(synth.city(1500, seed=5)).cut).all(axis=1)
    )
    assert set(differs.tolist()) == set(changed)  # exactly the changed part, nothing else


def test_segments_match_wntr_valve_segments() -> None:
    import wntr

    from lifeline.risk.networks import from_wntr

    wn = wntr.network.WaterNetworkModel(str(wntr_example("Net3.inp")))
    vl = wntr.network.generate_valve_layer(wn, "strategic", 1, seed=3)
    node_seg_w, link_seg_w, _ = wntr.metrics.topographic.valve_segments(wn.to_graph(), vl)
    net = from_wntr(wn, vl.assign(valve=[f"V{i}" for i in range(len(vl))]))
    node_seg, link_seg = segment_labels(len(net.node_ids), net.ends, net.valves)
    # same partition of nodes and links (labels may differ)
    pairs = set(zip(node_seg.tolist(), node_seg_w.loc[net.node_ids].tolist(), strict=True))
    pairs |= set(
        zip(
            (link_seg + 10_000).tolist(),
            (link_seg_w.loc[net.link_ids] + 10_000).tolist(),
            strict=True,
        )
    )
    assert len({a for a, _ in pairs}) == len(pairs) == len({b for _, b in pairs})


def test_synthetic_city_is_large_connected_and_valved() -> None:
    from lifeline.risk import synth

    net = synth.city(5000, seed=2)
    assert len(net.link_ids) >= 5000
    assert len(np.unique(components(len(net.node_ids), net.ends[:, 0], net.ends[:, 1]))) == 1
    assert len(net.valves) > 0 and set(np.unique(net.diameter_m)) >= {0.1, 0.3}
    assert net.elevation_m is not None and np.ptp(net.elevation_m) > 1


def wntr_example(name: str):  # type: ignore[no-untyped-def]
    """Path of an example INP bundled with the installed wntr package."""
    from pathlib import Path

    import wntr

    base = Path(wntr.__file__).parent
    hits = list(base.rglob(name))
    if not hits:
        import pytest

        pytest.skip(f"{name} not bundled with wntr")
    return hits[0]
