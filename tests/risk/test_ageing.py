"""Weibull proportional-hazards likelihood and the risk ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lifeline.risk.ageing import annual_failure_probability, material_class, synthetic_ages
from lifeline.risk.criticality import Criticality
from lifeline.risk.rank import rank_pipes


def test_failure_probability_rises_with_age_breaks_and_falls_with_diameter() -> None:
    ages = np.arange(0, 150, 5.0)
    for mat in ("grey cast iron", "PE 100", "ductile iron", "steel", "unknown stuff"):
        p = annual_failure_probability(ages, mat, 0.15)
        assert np.all(np.diff(p) > 0) and np.all((p >= 0) & (p <= 1)), mat
    assert (
        annual_failure_probability(60, "GG", 0.15, breaks=2)[0]
        > annual_failure_probability(60, "GG", 0.15)[0]
    )
    assert (
        annual_failure_probability(60, "GG", 0.1)[0] > annual_failure_probability(60, "GG", 0.3)[0]
    )
    # an explicit design life shifts the curve: shorter life, higher hazard at the same age
    assert (
        annual_failure_probability(50, "PE", 0.15, design_life_y=40)[0]
        > annual_failure_probability(50, "PE", 0.15, design_life_y=100)[0]
    )


def test_material_classes() -> None:
    assert material_class("ductile iron, cement-lined").name == "ductile iron"
    assert material_class("grey cast iron").name == "grey cast iron"
    assert material_class("PE 100 SDR11").name == "PE"
    assert material_class("").name == "unknown"


def test_synthetic_ages_are_seeded_and_labelled() -> None:
    xy = np.random.default_rng(1).random((200, 2)) * 2000
    a, b = synthetic_ages(xy, "water"), synthetic_ages(xy, "water")
    assert a.equals(b) and set(a.age_source) == {"synthetic"}
    assert a.install_year.between(1950, 2020).all()


def test_ranking_orders_by_probability_times_consequence() -> None:
    pipes = pd.DataFrame(
        {
            "utility": "water",
            "pipe": ["old_small", "old_big_cons", "new_big_cons", "mid"],
            "x0": 0.0,
            "y0": 0.0,
            "x1": 1.0,
            "y1": 1.0,
            "length_m": 100.0,
            "diameter_m": 0.15,
            "install_year": pd.array([1910, 1910, 2015, 1970], dtype="Int64"),
            "material": "grey cast iron",
            "design_life_y": np.nan,
            "breaks": 0.0,
            "age_source": "records",
        }
    )
    segs = pd.DataFrame(
        {
            "segment_id": ["water:S0", "water:S1"],
            "customers_cut": [5, 500],
            "critical_cut": [0, 1],
            "critical_ids": ["", "HOSP"],
        }
    )
    links = pd.DataFrame(
        {
            "utility": "water",
            "link_id": ["old_small", "old_big_cons", "new_big_cons", "mid"],
            "kind": "Pipe",
            "segment_id": ["water:S0", "water:S1", "water:S1", "water:S0"],
        }
    )
    r = rank_pipes(pipes, Criticality(segs, links), 2026)
    assert list(r["pipe"])[0] == "old_big_cons"
    assert r.risk.is_monotonic_decreasing and list(r["rank"]) == [1, 2, 3, 4]
    assert r.set_index("pipe").loc["old_big_cons", "beyond_life"]
    assert not r.set_index("pipe").loc["new_big_cons", "beyond_life"]
    big = r.set_index("pipe")
    assert big.loc["old_big_cons", "consequence"] == 600  # 500 customers + 100 x 1 critical site
