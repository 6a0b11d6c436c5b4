"""Likelihood of failure of buried pipes: a Weibull proportional-hazards model (see docs/risk.md).

Cumulative hazard of a pipe of age ``t`` years::

    H(t) = phi * (t / eta) ** beta,   eta = L / ln(2) ** (1 / beta)
    phi  = (D_ref / D) ** a_D * (1 + breaks) ** a_B

``beta`` (ageing steepness) is set by material, ``L`` is the design life (the asset's
``design_life_y`` or the material default), so half of a reference pipe population (DN 150, no
recorded break) has reached the end-of-life failure by ``L``. ``phi`` is the proportional-hazards
factor for diameter (smaller pipes break more, Kettler & Goulter 1985) and break history
(previous breaks multiply the hazard, Andreou, Marks & Clark 1987). The probability of failure in
the next year is ``1 - exp(-(H(t + 1) - H(t)))``. Parameters are engineering defaults chosen from
the ranges in these studies — not fitted to any network — and can be overridden per material.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lifeline.errors import InputError


@dataclass(frozen=True)
class MaterialClass:
    """Default Weibull shape and design life (years) of a pipe material class."""

    name: str
    beta: float
    design_life_y: float


MATERIALS: dict[str, MaterialClass] = {
    "grey cast iron": MaterialClass("grey cast iron", 3.0, 100.0),
    "ductile iron": MaterialClass("ductile iron", 2.5, 80.0),
    "steel": MaterialClass("steel", 2.5, 60.0),
    "asbestos cement": MaterialClass("asbestos cement", 3.0, 60.0),
    "PVC": MaterialClass("PVC", 2.0, 60.0),
    "PE": MaterialClass("PE", 2.0, 80.0),
    "unknown": MaterialClass("unknown", 2.5, 70.0),
}
_PATTERNS = (
    ("ductile iron", r"ductile|\bggg\b|\bdi\b|\bdci\b"),
    ("grey cast iron", r"cast iron|grey|gray|\bgg\b|\bci\b"),
    ("steel", r"steel|\bst\b|\bst\s?\d"),
    ("asbestos cement", r"asbestos|\bac\b|fibre cement|fiber cement"),
    ("PVC", r"pvc"),
    ("PE", r"\bpe\b|pe\s?\d|pe-|polyethylene|hdpe|mdpe|\bpe100|\bpe80"),
)
D_REF_M = 0.15
A_DIAMETER = 0.5
A_BREAKS = 1.0


def material_class(material: str) -> MaterialClass:
    """Map a free-text material (``"PE 100"``, ``"GG"``, ``"ductile iron, cement-lined"``) to a class."""
    s = str(material or "").lower()
    for name, pat in _PATTERNS:
        if re.search(pat, s):
            return MATERIALS[name]
    return MATERIALS["unknown"]


def cumulative_hazard(
    age_y: np.ndarray, beta: np.ndarray, design_life_y: np.ndarray, phi: np.ndarray
) -> np.ndarray:
    """H(t) of the model above (dimensionless) for arrays of age (years), shape, design life, factor."""
    eta = np.asarray(design_life_y, float) / np.log(2.0) ** (1.0 / np.asarray(beta, float))
    t = np.clip(np.asarray(age_y, float), 0.0, None)
    return np.asarray(phi, float) * (t / eta) ** np.asarray(beta, float)


def annual_failure_probability(
    age_y: np.ndarray | float,
    material: str | list[str] | np.ndarray,
    diameter_m: np.ndarray | float = D_REF_M,
    design_life_y: np.ndarray | float | None = None,
    breaks: np.ndarray | float = 0.0,
) -> np.ndarray:
    """Probability (0..1) that a pipe fails within the next year.

    Example: ``annual_failure_probability(60, "grey cast iron", 0.1)`` (age 60 y, DN 100).
    Increases with age (beta > 1) and with recorded breaks, decreases with diameter.
    """
    age = np.atleast_1d(np.asarray(age_y, float))
    mats = [material] * len(age) if isinstance(material, str) else list(material)
    cls = [material_class(m) for m in mats]
    beta = np.array([c.beta for c in cls])
    life = np.array([c.design_life_y for c in cls])
    if design_life_y is not None:
        given = np.broadcast_to(np.asarray(design_life_y, float), age.shape)
        life = np.where(np.isfinite(given) & (given > 0), given, life)
    d = np.clip(np.broadcast_to(np.asarray(diameter_m, float), age.shape), 0.05, 2.0)
    d = np.where(np.isfinite(d), d, D_REF_M)
    b = np.clip(np.broadcast_to(np.asarray(breaks, float), age.shape), 0.0, None)
    phi = (D_REF_M / d) ** A_DIAMETER * (1.0 + b) ** A_BREAKS
    dh = cumulative_hazard(age + 1.0, beta, life, phi) - cumulative_hazard(age, beta, life, phi)
    return 1.0 - np.exp(-dh)


#: synthetic eras (last install year, water material, gas material) — see docs/risk.md
ERAS = (
    (1969, "grey cast iron", "steel"),
    (1995, "ductile iron", "PE 80"),
    (9999, "PE 100", "PE 100"),
)
SYNTHETIC_SEED = 8


def synthetic_ages(
    xy: np.ndarray,
    utility: str,
    seed: int = SYNTHETIC_SEED,
    cell_m: float = 400.0,
    years: tuple[int, int] = (1950, 2020),
) -> pd.DataFrame:
    """SYNTHETIC install years and materials for pipes without records (labelled ``synthetic``).

    Towns grow by neighbourhood: pipes in the same ``cell_m`` grid cell share an era year
    (uniform in ``years``, seeded) with a +-3 year jitter; the material follows the era
    (:data:`ERAS`). Pipes without coordinates get an unclustered year. Returns columns
    install_year, material, age_source.
    """
    rng = np.random.default_rng(seed)
    xy = np.asarray(xy, float).reshape(-1, 2)
    n = len(xy)
    ok = np.isfinite(xy).all(axis=1)
    year = rng.integers(years[0], years[1] + 1, size=n)
    if ok.any():
        cells = np.floor((xy[ok] - np.nanmin(xy[ok], axis=0)) / cell_m).astype(np.int64)
        key = cells[:, 0] * 1_000_003 + cells[:, 1]
        uniq, inv = np.unique(key, return_inverse=True)
        era = rng.integers(years[0], years[1] + 1, size=len(uniq))
        year[ok] = np.clip(era[inv] + rng.integers(-3, 4, size=int(ok.sum())), years[0], years[1])
    col = 1 if utility == "water" else 2
    mat = [next(e[col] for e in ERAS if y <= e[0]) for y in year]
    return pd.DataFrame(
        {"install_year": year.astype(np.int64), "material": mat, "age_source": "synthetic"}
    )


def synthetic_material(year: int, utility: str) -> str:
    """The material of the synthetic era (:data:`ERAS`) that ``year`` falls in."""
    col = 1 if utility == "water" else 2
    return str(next(e[col] for e in ERAS if year <= e[0]))


def read_assets_csv(path: str) -> pd.DataFrame:
    """Read a pipe-assets CSV: ``pipe`` (or ``asset_id``/``link_id``), ``install_year``, optional
    ``material``, ``diameter_m``, ``design_life_y``, ``breaks``. Bad values raise InputError with the line.
    """
    from pathlib import Path

    p = Path(path)
    if not p.is_file():
        raise InputError("assets file not found", str(p))
    df = pd.read_csv(p, dtype=str).fillna("")
    df.columns = [c.strip() for c in df.columns]
    key = next((c for c in ("pipe", "link_id", "asset_id", "ref") if c in df.columns), None)
    if key is None:
        raise InputError("missing column 'pipe' (or asset_id/link_id)", str(p))
    if "install_year" not in df.columns:
        raise InputError("missing column 'install_year'", str(p))
    out = pd.DataFrame({"pipe": df[key].astype(str).str.split(":").str[-1]})
    for col, lo, hi in (
        ("install_year", 1800, 2100),
        ("diameter_m", 0.005, 5.0),
        ("design_life_y", 1, 300),
        ("breaks", 0, 1000),
    ):
        if col not in df.columns:
            out[col] = np.nan
            continue
        vals = pd.to_numeric(df[col].replace("", np.nan), errors="coerce")
        bad = (df[col] != "") & (vals.isna() | (vals < lo) | (vals > hi))
        if col == "install_year":
            bad |= vals.isna()
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise InputError(
                f"{col} {df[col].iloc[i]!r} is not a number in [{lo}, {hi}]", f"{p}:{i + 2}"
            )
        out[col] = vals.to_numpy()
    out["material"] = df["material"] if "material" in df.columns else ""
    out["age_source"] = "assets file"
    return out
