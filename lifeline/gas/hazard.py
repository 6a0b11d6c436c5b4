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
import logging
import math
import os
import tempfile

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
    xs = np.geomspace(0.5, 1000.0, 60)
    out = {"orifice_m": d}
    with tempfile.TemporaryDirectory() as tmp, contextlib.redirect_stdout(io.StringIO()):
        cwd = os.getcwd()
        os.chdir(tmp)  # hyram may write files to the working directory
        try:
            plume = api.analyze_jet_plume(
                amb, rel, d, rel_angle=0.0, create_plot=False, contours=[0.05]
            )
            out["lfl_m"] = float(np.max(plume["streamline_dists"]))
            flame = api.jet_flame_analysis(
                amb, rel, d, rel_angle=0.0, create_temp_plot=False, create_flux_plot=False,
                flux_coordinates=[(float(x), 1.0, 0.0) for x in xs],
            )  # fmt: skip
            flux = np.asarray(flame[2], float)
            out["flame_4_7kw_m"] = (
                float(xs[flux >= FLUX_W_M2].max()) if np.any(flux >= FLUX_W_M2) else 0.0
            )
            ov = api.compute_overpressure(
                "bst", [(float(x), 0.0, 0.0) for x in xs], amb, rel, d,
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


def hazard_radius(
    rate_kg_per_s: float, pressure_bar_g: float, gas_seen_at_m: float = 0.0
) -> tuple[float, dict[str, float]]:
    """Hazard radius (m) around the leak and the consequence distances behind it.

    ``gas_seen_at_m``: distance from the leak to the farthest manhole whose alarm is attributed to
    the leak (gas migrates underground that far); the zone covers it plus a 50 m margin.
    """
    d = hazard_distances(rate_kg_per_s, pressure_bar_g)
    r = max(d["radius_m"], gas_seen_at_m + 50.0 if gas_seen_at_m > 0 else 0.0, ERG_115_ISOLATION_M)
    return float(round(r, 1)), d
