"""Hazard zone of a methane release with HyRAM+ (Sandia's hyram 6.1 physics API).

The leak is modelled as a horizontal jet of methane at the main's pressure through an orifice
sized so that HyRAM's nozzle flow equals the estimated leak rate. Three consequence distances are
computed (horizontal release, the worst direction): the jet's distance to the lower flammability limit (mole fraction 5 %), the distance
at which an ignited jet flame's radiant heat flux falls below 4.73 kW/m² (injury in ~20 s), and
the distance at which the BST (Baker–Strehlow–Tang) overpressure of a delayed ignition falls
below 6.9 kPa (1 psi: window breakage, injuries). The hazard radius is the 100 m initial
isolation distance of the US ERG guide 115 laid around the consequence zone: 100 m plus the
largest of the three distances (so never less than 100 m, and growing with the leak rate), and at
least the distance to the farthest manhole where the leak's gas was measured plus a margin
(see :func:`hazard_radius`).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

ERG_115_ISOLATION_M = 100.0
FLUX_W_M2 = 4732.0
OVERPRESSURE_PA = 6900.0
AMBIENT_PA = 101325.0


def hazard_distances(
    rate_kg_per_s: float, pressure_bar_g: float, temp_k: float = 283.15
) -> dict[str, float]:
    """Consequence distances (m) of a methane jet of ``rate_kg_per_s`` at ``pressure_bar_g``.

    Returns ``lfl_m``, ``flame_4_7kw_m``, ``overpressure_1psi_m``, ``orifice_m`` and
    ``radius_m`` (the largest, at least 100 m).
    """
    if not (rate_kg_per_s > 0) or not math.isfinite(rate_kg_per_s):
        return {
            "lfl_m": 0.0,
            "flame_4_7kw_m": 0.0,
            "overpressure_1psi_m": 0.0,
            "orifice_m": 0.0,
            "radius_m": ERG_115_ISOLATION_M,
        }
    logging.getLogger("hyram").setLevel(logging.ERROR)
    from hyram.phys import api

    p_abs = AMBIENT_PA + max(pressure_bar_g, 0.01) * 1e5
    amb = api.create_fluid("AIR", 288.15, AMBIENT_PA)
    rel = api.create_fluid("CH4", temp_k, p_abs)
    d_ref = 0.01
    md_ref = float(
        api.compute_mass_flow(rel, d_ref, amb_pres=AMBIENT_PA, create_plot=False)["rates"][0]
    )
    d = d_ref * math.sqrt(rate_kg_per_s / md_ref)
    # below the critical pressure ratio the jet is subsonic: give HyRAM the rate explicitly
    mdot = None if api.is_choked(rel, AMBIENT_PA) else rate_kg_per_s
    xs = np.geomspace(0.5, 1000.0, 60)
    out = {"orifice_m": d}
    with (
        tempfile.TemporaryDirectory() as tmp,
        contextlib.redirect_stdout(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        cwd = os.getcwd()
        os.chdir(tmp)  # hyram may write files to the working directory
        try:
            plume = api.analyze_jet_plume(
                amb, rel, d, mass_flow=mdot, rel_angle=0.0, create_plot=False, contours=[0.05]
            )
            out["lfl_m"] = float(np.max(plume["streamline_dists"]))
            flame = api.jet_flame_analysis(
                amb, rel, d, mass_flow=mdot, rel_angle=0.0, create_temp_plot=False, create_flux_plot=False,
                flux_coordinates=[(float(x), 1.0, 0.0) for x in xs],
            )  # fmt: skip
            flux = np.asarray(flame[2], float)
            out["flame_4_7kw_m"] = (
                float(xs[flux >= FLUX_W_M2].max()) if np.any(flux >= FLUX_W_M2) else 0.0
            )
            ov = api.compute_overpressure(
                "bst", [(float(x), 0.0, 0.0) for x in xs], amb, rel, d, mass_flow=mdot,
                create_overpressure_plot=False, create_impulse_plot=False,
            )  # fmt: skip
            op = np.asarray(ov["overpressures"], float)
            out["overpressure_1psi_m"] = (
                float(xs[op >= OVERPRESSURE_PA].max()) if np.any(op >= OVERPRESSURE_PA) else 0.0
            )
        finally:
            os.chdir(cwd)
    out["radius_m"] = ERG_115_ISOLATION_M + max(
        out["lfl_m"], out["flame_4_7kw_m"], out["overpressure_1psi_m"]
    )
    return out


#: leak rates (kg/s) of the cached consequence table; distances are interpolated in log-rate
TABLE_RATES = tuple(float(r) for r in np.geomspace(1e-4, 10.0, 11))
_KEYS = ("lfl_m", "flame_4_7kw_m", "overpressure_1psi_m", "orifice_m")


def hazard_table(pressure_bar_g: float, cache_dir: Path | None = None) -> dict[str, list[float]]:
    """HyRAM consequence distances at ``TABLE_RATES`` for a main at ``pressure_bar_g`` (cached).

    Computed once per pressure (rounded to 0.05 bar) and stored as JSON under
    ``<cache_dir>/gas/hazard_<p>.json`` so that later runs do not import hyram (CoolProp's import
    alone takes seconds). Tables for common distribution pressures ship with the package
    (``lifeline/gas/hazard_table.json``, made by :func:`write_packaged_table` with hyram 6.1).
    """
    p = round(max(pressure_bar_g, 0.01) * 20) / 20
    if cache_dir is None:
        from lifeline.config import get_settings

        cache_dir = get_settings().cache_dir
    key = f"{p:.2f}"
    packaged = Path(__file__).with_name("hazard_table.json")
    if packaged.exists():
        try:
            tabs = json.loads(packaged.read_text())
            if key in tabs and tabs[key].get("rates") == list(TABLE_RATES):
                return dict(tabs[key])
        except (OSError, ValueError):
            pass
    path = Path(cache_dir) / "gas" / f"hazard_{key}bar_v1.json"
    if path.exists():
        try:
            cached = json.loads(path.read_text())
            if cached.get("rates") == list(TABLE_RATES):
                return dict(cached)
        except (OSError, ValueError):
            pass
    tab: dict[str, list[float]] = {"rates": list(TABLE_RATES), **{k: [] for k in _KEYS}}
    for r in TABLE_RATES:
        d = hazard_distances(r, p)
        for k in _KEYS:
            tab[k].append(d[k])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(tab))
    except OSError:
        pass
    return tab


def hazard_radius(
    rate_kg_per_s: float,
    pressure_bar_g: float,
    gas_seen_at_m: float = 0.0,
    cache_dir: Path | None = None,
) -> tuple[float, dict[str, float]]:
    """Hazard radius (m) around the leak and the consequence distances behind it.

    Distances come from the cached HyRAM table for the pressure (linear interpolation in
    log-rate; rates outside the table are computed directly). ``gas_seen_at_m``: distance from the
    leak to the farthest manhole whose alarm is attributed to the leak (gas migrates underground
    that far); the zone covers it plus a 50 m margin.
    """
    if not (rate_kg_per_s > 0) or not math.isfinite(rate_kg_per_s):
        d = hazard_distances(0.0, pressure_bar_g)
    elif TABLE_RATES[0] <= rate_kg_per_s <= TABLE_RATES[-1]:
        tab = hazard_table(pressure_bar_g, cache_dir)
        lr = np.log(np.asarray(tab["rates"]))
        d = {}
        for k in _KEYS:
            d[k] = float(np.interp(math.log(rate_kg_per_s), lr, np.asarray(tab[k], float)))
        d["radius_m"] = ERG_115_ISOLATION_M + max(
            d["lfl_m"], d["flame_4_7kw_m"], d["overpressure_1psi_m"]
        )
    else:
        d = hazard_distances(rate_kg_per_s, pressure_bar_g)
    r = max(d["radius_m"], gas_seen_at_m + 50.0 if gas_seen_at_m > 0 else 0.0, ERG_115_ISOLATION_M)
    return float(round(r, 1)), d


PACKAGED_PRESSURES_BAR = (0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.85, 0.9, 0.95, 1.0, 2.0, 4.0)


def write_packaged_table(path: Path | None = None) -> Path:
    """Recompute the packaged HyRAM tables for ``PACKAGED_PRESSURES_BAR`` (takes a few minutes)."""
    import tempfile as _tf

    path = path or Path(__file__).with_name("hazard_table.json")
    out = {}
    with _tf.TemporaryDirectory() as tmp:
        for p in PACKAGED_PRESSURES_BAR:
            tab: dict[str, list[float]] = {"rates": list(TABLE_RATES), **{k: [] for k in _KEYS}}
            for r in TABLE_RATES:
                d = hazard_distances(r, p)
                for k in _KEYS:
                    tab[k].append(round(d[k], 4))
            out[f"{round(p * 20) / 20:.2f}"] = tab
        del tmp
    path.write_text(json.dumps(out, indent=0))
    return path
