"""Ageing risk of every pipe: likelihood (Weibull PH, :mod:`lifeline.risk.ageing`) x consequence.

The consequence of a pipe failing is the consequence of losing its valve segment (from
:mod:`lifeline.risk.criticality`): ``customers_cut + critical_weight * critical_cut``. Risk is
then in *customer-equivalents expected to lose supply per year*. Outputs: the ranked renewal
list (CSV), a GeoJSON risk layer in lon/lat (EPSG:4326) and a map plot.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifeline.risk.ageing import (
    annual_failure_probability,
    material_class,
    synthetic_ages,
    synthetic_material,
)
from lifeline.risk.criticality import Criticality
from lifeline.risk.networks import ArrayNet

CRITICAL_WEIGHT = 100.0


def pipe_attributes(net: ArrayNet, records: pd.DataFrame | None, seed: int = 8) -> pd.DataFrame:
    """One row per pipe of ``net``: geometry, diameter, length and age attributes.

    ``records`` (columns pipe, install_year, material, diameter_m, design_life_y, breaks — any may
    be missing or empty) come from the town's asset table or an --assets CSV; pipes without an
    install year get a SYNTHETIC seeded assignment (``age_source = synthetic``).
    """
    pipe = net.is_pipe
    li = np.flatnonzero(pipe)
    a, b = net.ends[li, 0], net.ends[li, 1]
    df = pd.DataFrame(
        {
            "utility": net.utility,
            "pipe": [net.link_ids[i] for i in li],
            "x0": net.xy[a, 0],
            "y0": net.xy[a, 1],
            "x1": net.xy[b, 0],
            "y1": net.xy[b, 1],
            "length_m": net.length_m[li],
            "diameter_m": net.diameter_m[li],
        }
    )
    df["install_year"] = pd.array([pd.NA] * len(df), dtype="Int64")
    df["material"] = ""
    df["design_life_y"] = np.nan
    df["breaks"] = 0.0
    df["age_source"] = ""
    if records is not None and len(records):
        r = records.drop_duplicates("pipe").set_index("pipe")
        idx = df["pipe"].map(lambda p: p in r.index)
        sub = r.reindex(df.loc[idx, "pipe"])
        if "install_year" in sub:
            df.loc[idx, "install_year"] = (
                pd.to_numeric(sub["install_year"], errors="coerce")
                .round()
                .astype("Int64")
                .to_numpy()
            )
        for col in ("material", "age_source"):
            if col in sub:
                df.loc[idx, col] = sub[col].fillna("").astype(str).to_numpy()
        for col in ("design_life_y", "breaks", "diameter_m"):
            if col in sub:
                v = pd.to_numeric(sub[col], errors="coerce").to_numpy(dtype=float)
                cur = df.loc[idx, col].to_numpy(dtype=float)
                df.loc[idx, col] = np.where(np.isfinite(v), v, cur)
        df.loc[idx & (df["age_source"] == ""), "age_source"] = "records"
    missing = df["install_year"].isna().to_numpy()
    if missing.any():
        mid = np.stack([(df.x0 + df.x1) / 2, (df.y0 + df.y1) / 2], axis=1)
        syn = synthetic_ages(mid, net.utility, seed=seed)
        df.loc[missing, "install_year"] = syn["install_year"].to_numpy()[missing]
        no_mat = missing & (df["material"] == "").to_numpy()
        df.loc[no_mat, "material"] = syn["material"].to_numpy()[no_mat]
        df.loc[missing, "age_source"] = "synthetic"
    df["breaks"] = df["breaks"].fillna(0.0)
    no_mat = (
        df["material"]
        .fillna("")
        .astype(str)
        .str.strip()
        .str.lower()
        .isin(("", "none", "nan", "<na>"))
        .to_numpy()
    )
    if no_mat.any():
        # material follows the era of the (recorded or synthetic) install year
        df.loc[no_mat, "material"] = [
            synthetic_material(int(y), net.utility) for y in df.loc[no_mat, "install_year"]
        ]
        df.loc[no_mat & (df["age_source"] != "synthetic").to_numpy(), "age_source"] += (
            "; material synthetic"
        )
    return df


def rank_pipes(
    pipes: pd.DataFrame, crit: Criticality, year: int, critical_weight: float = CRITICAL_WEIGHT
) -> pd.DataFrame:
    """Rank pipes by risk = annual failure probability x segment consequence (highest first).

    Adds age_y, material_class, design_life_y (filled with the class default), beyond_life,
    pof_1y, segment_id, customers_cut, critical_cut, critical_ids, consequence, risk and rank.
    """
    df = pipes.copy()
    df["age_y"] = (year - df["install_year"].astype(float)).clip(lower=0)
    cls = [material_class(m) for m in df["material"]]
    df["material_class"] = [c.name for c in cls]
    life = df["design_life_y"].to_numpy(dtype=float)
    df["design_life_y"] = np.where(
        np.isfinite(life) & (life > 0), life, [c.design_life_y for c in cls]
    )
    df["beyond_life"] = df["age_y"] > df["design_life_y"]
    df["pof_1y"] = annual_failure_probability(
        df["age_y"].to_numpy(),
        list(df["material"]),
        df["diameter_m"].to_numpy(),
        df["design_life_y"].to_numpy(),
        df["breaks"].to_numpy(),
    )
    links = crit.links[crit.links.utility == df["utility"].iloc[0]] if len(df) else crit.links
    seg_of = dict(zip(links.link_id.astype(str), links.segment_id, strict=True))
    df["segment_id"] = df["pipe"].map(seg_of).fillna("")
    segs = (
        crit.segments.set_index("segment_id")
        if len(crit.segments)
        else pd.DataFrame(columns=["customers_cut", "critical_cut", "critical_ids"])
    )
    for col, fill in (("customers_cut", 0), ("critical_cut", 0), ("critical_ids", "")):
        df[col] = df["segment_id"].map(segs[col]).fillna(fill) if col in segs else fill
    df["consequence"] = df["customers_cut"].astype(float) + critical_weight * df[
        "critical_cut"
    ].astype(float)
    df["risk"] = df["pof_1y"] * df["consequence"]
    df = df.sort_values(["risk", "pof_1y"], ascending=False, kind="stable").reset_index(drop=True)
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    return df


def to_geojson(ranked: pd.DataFrame, path: str | Path, crs: str | None) -> dict[str, Any]:
    """Write the risk layer (LineString per pipe, properties = the ranked columns) to ``path``.

    Coordinates are transformed from ``crs`` (e.g. ``EPSG:25832``) to lon/lat with pyproj; with
    ``crs=None`` they stay in the network's own coordinates and the file says so (``crs: local``).
    """
    x = np.concatenate([ranked.x0.to_numpy(float), ranked.x1.to_numpy(float)])
    y = np.concatenate([ranked.y0.to_numpy(float), ranked.y1.to_numpy(float)])
    if crs:
        from pyproj import Transformer

        tr = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        x, y = tr.transform(x, y)
    n = len(ranked)
    keep = [
        "rank",
        "utility",
        "pipe",
        "segment_id",
        "install_year",
        "age_y",
        "material",
        "material_class",
        "diameter_m",
        "length_m",
        "design_life_y",
        "breaks",
        "age_source",
        "beyond_life",
        "pof_1y",
        "customers_cut",
        "critical_cut",
        "critical_ids",
        "consequence",
        "risk",
    ]
    props = (
        ranked[[c for c in keep if c in ranked.columns]]
        .astype(object)
        .where(ranked.notna(), None)
        .to_dict("records")
    )
    feats = []
    for i in range(n):
        p = {k: (v.item() if hasattr(v, "item") else v) for k, v in props[i].items()}
        feats.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [
                        [round(float(x[i]), 7), round(float(y[i]), 7)],
                        [round(float(x[n + i]), 7), round(float(y[n + i]), 7)],
                    ],
                },
                "properties": p,
            }
        )
    doc: dict[str, Any] = {
        "type": "FeatureCollection",
        "name": "lifeline pipe ageing risk",
        "features": feats,
    }
    if not crs:
        doc["crs_note"] = "local network coordinates (no CRS given)"
    Path(path).write_text(json.dumps(doc, default=str))
    return doc


def plot_risk(ranked: pd.DataFrame, path: str | Path, title: str, top: int = 20) -> None:
    """Map of pipes coloured by risk (log scale), pipes beyond service life dashed, top ``top`` labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.colors import LogNorm

    fig, ax = plt.subplots(figsize=(9, 8))
    segs = np.stack(
        [ranked[["x0", "y0"]].to_numpy(float), ranked[["x1", "y1"]].to_numpy(float)], axis=1
    )
    r = ranked["risk"].to_numpy(float)
    pos = r[r > 0]
    norm = LogNorm(
        vmin=max(float(pos.min()) if len(pos) else 1e-6, 1e-6), vmax=max(float(r.max()), 1e-5)
    )
    lc = LineCollection(
        list(segs), array=np.clip(r, norm.vmin, None), cmap="inferno_r", norm=norm, linewidths=1.6
    )
    ax.add_collection(lc)
    old = ranked["beyond_life"].to_numpy(bool)
    if old.any():
        ax.add_collection(
            LineCollection(
                segs[old],
                colors="tab:blue",
                linewidths=0.6,
                linestyles="--",
                label="beyond design life",
            )
        )
    for _, row in ranked.head(top).iterrows():
        ax.annotate(
            str(row["rank"]),
            ((row.x0 + row.x1) / 2, (row.y0 + row.y1) / 2),
            fontsize=7,
            color="darkred",
        )
    ax.autoscale()
    ax.set_aspect("equal")
    fig.colorbar(lc, ax=ax, label="risk (customer-equivalents / year)")
    if old.any():
        ax.legend(loc="lower right")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
