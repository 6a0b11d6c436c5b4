"""Solve checks of a city's networks: does each model load and solve as the later steps need?

* water: an EPANET 2.2 extended-period run with pressure-driven demand (WNTR
  ``EpanetSimulator``, at most :data:`WATER_HOURS` hours; required pressure
  :data:`REQUIRED_PRESSURE_M` when the INP sets none); EPANET's own parser names bad INP lines;
* power: a pandapower AC power flow (``runpp``);
* gas: a pandapipes steady hydraulic pipeflow;
* drainage: a short SWMM run when ``pyswmm`` is installed, else a structural check of the INP
  (every link's nodes exist, every node has coordinates, at least one outfall).

Each check returns ``{"solved": bool, <figures>}`` and records problems (file, line, field) in a
:class:`lifeline.model.package.Report`. Models are copied, never changed.
"""

from __future__ import annotations

import copy
import math
import tempfile
from pathlib import Path
from typing import Any

from lifeline.model.package import Report

#: hours of the EPANET check run (the model's duration when shorter)
WATER_HOURS = 24
#: PDD required pressure (m) when the INP has none (EPANET's default 0.1 m is no service level)
REQUIRED_PRESSURE_M = 10.0
#: a bus voltage outside this band (pu) is reported as a warning
VOLTAGE_BAND_PU = (0.9, 1.1)


def _rel(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(Path(path).relative_to(root))
        except ValueError:
            pass
    return str(path)


def check_water(
    wn: Any, path: Path, report: Report | None = None, root: Path | None = None
) -> dict[str, Any]:
    """Run the water model ``wn`` (a copy) with EPANET, pressure-driven demand, for up to
    :data:`WATER_HOURS` h. Figures: min/max pressure at demand junctions (m), junctions below
    0 m. An EPANET error is a problem of ``path``."""
    import wntr

    rep = report or Report()
    fname = _rel(path, root)
    w = copy.deepcopy(wn)
    w.options.hydraulic.demand_model = "PDD"
    if (w.options.hydraulic.required_pressure or 0.0) < 0.1:
        w.options.hydraulic.required_pressure = REQUIRED_PRESSURE_M
        w.options.hydraulic.minimum_pressure = 0.0
    dur = int(w.options.time.duration or 0)
    w.options.time.duration = min(dur, WATER_HOURS * 3600)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            res = wntr.sim.EpanetSimulator(w).run_sim(file_prefix=f"{tmp}/check")
    except Exception as exc:  # wntr raises EpanetException and others
        rep.error(
            fname,
            f"EPANET cannot solve the network (pressure-driven demand): {exc}",
            field="[OPTIONS]",
        )
        return {"solved": False, "error": str(exc)}
    dem = [
        n
        for n in w.junction_name_list
        if any(d.base_value > 0 for d in w.get_node(n).demand_timeseries_list)
    ]
    p = res.node["pressure"][dem] if dem else res.node["pressure"]
    pmin = float(p.min().min()) if p.size else math.nan
    neg = sorted(str(c) for c in p.columns[(p < 0).any()]) if p.size else []
    if neg:
        rep.warn(
            fname,
            f"{len(neg)} demand junction(s) fall below 0 m pressure in the {w.options.time.duration / 3600:g} h "
            f"run, e.g. {', '.join(neg[:5])}: check elevations, tank levels and pump curves",
            field="[JUNCTIONS]",
        )
    return {
        "solved": True,
        "hours": w.options.time.duration / 3600,
        "demand_nodes": len(dem),
        "pressure_m_min": round(pmin, 3),
        "pressure_m_max": round(float(p.max().max()), 3) if p.size else math.nan,
        "junctions_below_0m": len(neg),
    }


def check_power(
    net: Any, path: Path, report: Report | None = None, root: Path | None = None
) -> dict[str, Any]:
    """AC power flow (pandapower ``runpp``) of a copy of ``net``. Figures: bus voltage min/max
    (pu), highest line loading (%)."""
    import pandapower as pp

    rep = report or Report()
    fname = _rel(path, root)
    n = copy.deepcopy(net)
    try:
        pp.runpp(n, init="auto", numba=False)  # JIT compiling costs more than one solve
    except Exception as exc:  # pandapower raises LoadflowNotConverged and others
        rep.error(
            fname, f"the AC power flow (pandapower runpp) does not converge: {exc}", field="runpp"
        )
        return {"solved": False, "error": str(exc)}
    vm = n.res_bus.vm_pu.dropna()
    lo, hi = VOLTAGE_BAND_PU
    bad = vm[(vm < lo) | (vm > hi)]
    if len(bad):
        rep.warn(
            fname,
            f"{len(bad)} bus(es) outside {lo}–{hi} pu, e.g. bus {int(bad.index[0])} at {bad.iloc[0]:.3f} pu",
            field="bus",
        )
    load = n.res_line.loading_percent.dropna() if len(n.line) else None
    if load is not None and len(load) and float(load.max()) > 100:
        rep.warn(
            fname,
            f"line {int(load.idxmax())} is loaded to {float(load.max()):.0f} % in the base case",
            field="line",
        )
    return {
        "solved": True,
        "vm_pu_min": round(float(vm.min()), 4),
        "vm_pu_max": round(float(vm.max()), 4),
        "line_loading_percent_max": round(float(load.max()), 1)
        if load is not None and len(load)
        else 0.0,
    }


def check_gas(
    net: Any, path: Path, report: Report | None = None, root: Path | None = None
) -> dict[str, Any]:
    """Steady hydraulic pipeflow (pandapipes) of a copy of ``net``. Figures: junction pressure
    min/max (bar gauge)."""
    import pandapipes as pps

    rep = report or Report()
    fname = _rel(path, root)
    n = copy.deepcopy(net)
    try:
        pps.pipeflow(n, mode="hydraulics", use_numba=False)
        ok = bool(n.converged)
        err = "" if ok else "not converged"
    except Exception as exc:  # pandapipes raises PipeflowNotConverged and others
        ok, err = False, str(exc)
    if not ok:
        rep.error(fname, f"the pandapipes pipeflow does not converge: {err}", field="pipeflow")
        return {"solved": False, "error": err}
    p = n.res_junction.p_bar.dropna()
    if len(p) and float(p.min()) <= 0:
        rep.warn(
            fname,
            f"junction {int(p.idxmin())} has {float(p.min()):.3f} bar: supply pressure too low for the load",
            field="junction",
        )
    return {
        "solved": True,
        "p_bar_min": round(float(p.min()), 4),
        "p_bar_max": round(float(p.max()), 4),
    }


def check_drainage(
    path: Path, report: Report | None = None, root: Path | None = None, hours: float = 1.0
) -> dict[str, Any]:
    """A SWMM run of ``hours`` with pyswmm when installed, else a structural check of the INP."""
    from lifeline.drainage.elements import read_elements
    from lifeline.errors import LifelineError

    rep = report or Report()
    fname = _rel(path, root)
    try:
        el = read_elements(path)
    except LifelineError as exc:
        rep.error(fname, exc.message, field="INP")
        return {"solved": False, "error": exc.message}
    n_err = len(rep.errors)
    where = _inp_lines(path)
    for name, (kind, a, b) in el.links.items():
        sec = f"[{kind.upper()}S]"
        for end in (a, b):
            if end not in el.nodes:
                rep.error(
                    fname, f"link {name} ends at unknown node {end!r}", where.get((sec, name)), sec
                )
    for name, kind in el.nodes.items():
        if name not in el.coords:
            sec = "[STORAGE]" if kind == "storage" else f"[{kind.upper()}S]"
            rep.error(
                fname, f"node {name} has no coordinates", where.get((sec, name)), "[COORDINATES]"
            )
    if "outfall" not in el.nodes.values():
        rep.error(fname, "no outfall: water cannot leave the system", field="[OUTFALLS]")
    out: dict[str, Any] = {"nodes": len(el.nodes), "links": len(el.links)}
    try:
        import pyswmm  # type: ignore[import-not-found]
    except ImportError:
        rep.warn(fname, "pyswmm is not installed: structural check only (no SWMM run)")
        out.update(solved=len(rep.errors) == n_err, method="structural")
        return out
    try:
        import datetime as dt

        with pyswmm.Simulation(str(path)) as sim:
            sim.end_time = sim.start_time + dt.timedelta(hours=hours)
            for _ in sim:
                pass
        out.update(solved=len(rep.errors) == n_err, method=f"SWMM run of {hours:g} h")
    except Exception as exc:  # SWMM reports errors through pyswmm's exceptions
        rep.error(fname, f"SWMM cannot run the model: {exc}", field="INP")
        out.update(solved=False, error=str(exc))
    return out


def _inp_lines(path: Path) -> dict[tuple[str, str], int]:
    """(``[SECTION]``, first field) -> 1-based line of an INP file's entries."""
    out: dict[tuple[str, str], int] = {}
    section = ""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return out
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";", 1)[0].strip()
        if line.startswith("["):
            section = line.upper()
        elif line:
            out.setdefault((section, line.split()[0]), no)
    return out


def check_models(
    models: dict[str, Any],
    files: dict[str, Path],
    report: Report | None = None,
    root: Path | None = None,
) -> dict[str, dict[str, Any]]:
    """Run the check of every loaded model (``models``: utility -> model; ``files``: utility ->
    model file). Returns utility -> figures."""
    out: dict[str, dict[str, Any]] = {}
    for util in ("water", "power", "gas"):
        if models.get(util) is not None:
            fn = {"water": check_water, "power": check_power, "gas": check_gas}[util]
            out[util] = fn(models[util], files[util], report, root)
    if "drainage" in files:
        out["drainage"] = check_drainage(files["drainage"], report, root)
    return out


def solve_all(city: Any) -> dict[str, dict[str, Any]]:
    """Solve each network of ``city`` once (on copies); utility -> ``{"solved", figures…}``
    (``error`` when it did not solve)."""
    rep = Report()
    models = {u: city.model(u) for u in ("water", "power", "gas") if city.has(u)}
    out = check_models(models, dict(city.networks), rep, city.root)
    for util, r in out.items():
        if not r.get("solved") and "error" not in r:
            r["error"] = "; ".join(p.message for p in rep.errors if util in p.file) or "failed"
    return out
