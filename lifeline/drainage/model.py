"""The SWMM 5 model of a storm sewer: reading the INP, writing run copies, running SWMM.

Runs use the real SWMM 5.2 engine through pyswmm. Rain is set through the engine's API every
5 minutes (``RainGage.total_precip``), so one model file serves every run: the observed
("analysis") run of the day is cut into pieces that chain through SWMM hotstart files, and every
nowcast run starts from the hotstart saved at its issue time.

Rain convention: a rain row at ``ts`` is the mean intensity (mm/h) over the 5 min ending at ts,
so SWMM applies it during [ts - 5 min, ts).

Ponding depth at a node = SWMM node depth - the node's MaxDepth in the INP (rim above invert).
SWMM itself raises a node's full depth to the crown of its highest connected link (the street
channels), so the INP value is read here rather than asked from the engine.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lifeline.errors import NetworkModelError

STEP_S = 300  # rain and observation step, s


def _sections(text: str) -> dict[str, list[list[str]]]:
    """The INP's data lines by upper-case section name, each split on whitespace (comments out)."""
    out: dict[str, list[list[str]]] = {}
    cur: list[list[str]] | None = None
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = out.setdefault(line[1:-1].strip().upper(), [])
            continue
        if cur is not None:
            cur.append(line.split())
    return out


@dataclass
class NetworkModel:
    """What lifeline needs to know of a SWMM INP: nodes, their rim depths, gauges, links, options.

    ``max_depth_m``: MaxDepth (rim above invert, m) of junctions and storage nodes;
    ``invert_m``: invert elevations (m); ``gauges``: rain gauge names; ``subcatch_gauge``:
    subcatchment -> gauge; ``subcatch_area_ha``; ``links``: link -> (from node, to node);
    ``coords``: node -> (x, y) in the model's units (m).
    """

    path: Path
    text: str
    max_depth_m: dict[str, float]
    invert_m: dict[str, float]
    storage: set[str]
    outfalls: set[str]
    gauges: list[str]
    subcatch_gauge: dict[str, str]
    subcatch_outlet: dict[str, str]
    subcatch_area_ha: dict[str, float]
    links: dict[str, tuple[str, str]]
    coords: dict[str, tuple[float, float]]
    options: dict[str, str] = field(default_factory=dict)

    @property
    def nodes(self) -> set[str]:
        """Every node id (junctions, storage, outfalls)."""
        return set(self.max_depth_m) | self.outfalls

    def ponding_m(self, node: str, depth_m: np.ndarray | float) -> np.ndarray:
        """Ponding depth (m) above the rim of ``node`` for node depth(s) ``depth_m`` (>= 0)."""
        return np.maximum(np.asarray(depth_m, dtype=float) - self.max_depth_m.get(node, np.inf), 0)


def load_network(path: str | Path) -> NetworkModel:
    """Read a SWMM 5 INP file; errors name the file and the section that is wrong."""
    path = Path(path)
    if not path.is_file():
        raise NetworkModelError("SWMM model file not found", where=str(path))
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise NetworkModelError(f"cannot read SWMM model: {exc}", where=str(path)) from exc
    sec = _sections(text)
    for need in ("OPTIONS", "JUNCTIONS", "CONDUITS"):
        if need not in sec:
            raise NetworkModelError(f"not a SWMM model: no [{need}] section", where=str(path))
    if "RAINGAGES" not in sec or "SUBCATCHMENTS" not in sec:
        raise NetworkModelError(
            "the model has no rain gauges or subcatchments: rain cannot drive it", where=str(path)
        )

    def num(row: list[str], i: int, sect: str) -> float:
        try:
            return float(row[i])
        except (IndexError, ValueError):
            raise NetworkModelError(
                f"[{sect}] line for {row[0]!r}: column {i + 1} is not a number", where=str(path)
            ) from None

    max_depth: dict[str, float] = {}
    invert: dict[str, float] = {}
    for r in sec.get("JUNCTIONS", []):
        invert[r[0]] = num(r, 1, "JUNCTIONS")
        max_depth[r[0]] = num(r, 2, "JUNCTIONS")
    storage: set[str] = set()
    for r in sec.get("STORAGE", []):
        invert[r[0]] = num(r, 1, "STORAGE")
        max_depth[r[0]] = num(r, 2, "STORAGE")
        storage.add(r[0])
    outfalls = {r[0] for r in sec.get("OUTFALLS", [])}
    for r in sec.get("OUTFALLS", []):
        invert[r[0]] = num(r, 1, "OUTFALLS")
    for s in ("DIVIDERS",):
        for r in sec.get(s, []):
            invert[r[0]] = num(r, 1, s)
            max_depth.setdefault(r[0], np.inf)
    gauges = [r[0] for r in sec["RAINGAGES"]]
    sg: dict[str, str] = {}
    so: dict[str, str] = {}
    sa: dict[str, float] = {}
    for r in sec["SUBCATCHMENTS"]:
        if len(r) < 4:
            raise NetworkModelError(f"[SUBCATCHMENTS] line for {r[0]!r} is short", str(path))
        sg[r[0]], so[r[0]], sa[r[0]] = r[1], r[2], num(r, 3, "SUBCATCHMENTS")
        if r[1] not in gauges:
            raise NetworkModelError(
                f"[SUBCATCHMENTS] {r[0]!r} uses unknown rain gauge {r[1]!r}", where=str(path)
            )
    links: dict[str, tuple[str, str]] = {}
    for s in ("CONDUITS", "PUMPS", "ORIFICES", "WEIRS", "OUTLETS"):
        for r in sec.get(s, []):
            if len(r) < 3:
                raise NetworkModelError(f"[{s}] line for {r[0]!r} is short", where=str(path))
            links[r[0]] = (r[1], r[2])
    coords = {
        r[0]: (float(r[1]), float(r[2]))
        for r in sec.get("COORDINATES", [])
        if len(r) >= 3 and _isnum(r[1]) and _isnum(r[2])
    }
    options = {r[0].upper(): " ".join(r[1:]) for r in sec["OPTIONS"] if r}
    if options.get("FLOW_UNITS", "CMS").upper() != "CMS":
        raise NetworkModelError(
            f"FLOW_UNITS must be CMS (SI: m, m³/s, mm/h), got {options.get('FLOW_UNITS')}",
            where=str(path),
        )
    return NetworkModel(
        path, text, max_depth, invert, storage, outfalls, gauges, sg, so, sa, links, coords, options
    )


def _isnum(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def write_run_copy(
    model: NetworkModel,
    folder: Path,
    options: Mapping[str, str] | None = None,
    name: str = "run.inp",
) -> Path:
    """Write a copy of the INP into ``folder`` for lifeline's runs and return its path.

    ``options`` override [OPTIONS] keys (e.g. ``ROUTING_STEP``). Reporting of every object is
    switched off (lifeline reads values through the API), which keeps the binary output small.
    """
    text = model.text
    opts = dict(options or {})
    lines = text.splitlines()
    out: list[str] = []
    section = ""
    done: set[str] = set()
    for raw in lines:
        s = raw.strip()
        if s.startswith("[") and s.endswith("]"):
            if section == "OPTIONS":
                out.extend(f"{k:<22}{v}" for k, v in opts.items() if k not in done)
            section = s[1:-1].strip().upper()
            out.append(raw)
            continue
        if section == "OPTIONS" and s and not s.startswith(";"):
            key = s.split()[0].upper()
            if key in opts:
                out.append(f"{key:<22}{opts[key]}")
                done.add(key)
                continue
        if section == "REPORT" and s and not s.startswith(";"):
            key = s.split()[0].upper()
            if key in ("SUBCATCHMENTS", "NODES", "LINKS"):
                out.append(f"{key} NONE")
                continue
        if section == "FILES":
            continue  # hotstart files are handled through the API
        out.append(raw)
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / name
    dest.write_text("\n".join(out) + "\n", encoding="utf-8")
    return dest


@dataclass
class RunResult:
    """Values recorded during a run every ``record_s`` seconds from its start (exclusive).

    ``times``: the recording times; ``node_depth``: node -> depths (m); ``link_flow``:
    link -> flows (m³/s); ``node_max``: node -> the largest depth seen at any routing step (m).
    """

    times: pd.DatetimeIndex
    node_depth: dict[str, np.ndarray]
    link_flow: dict[str, np.ndarray]
    node_max: dict[str, float]
    all_max: dict[str, float] = field(default_factory=dict)


def _rain_at(rain: pd.DataFrame, gauges: Sequence[str], t: pd.Timestamp) -> dict[str, float]:
    """Rain (mm/h) for [t, t + 5 min) per gauge: the row at t + 5 min, 0 when absent or NaN."""
    ts = t + pd.Timedelta(seconds=STEP_S)
    out: dict[str, float] = {}
    if ts in rain.index:
        row = rain.loc[ts]
        for g in gauges:
            v = row.get(g, 0.0) if g in rain.columns else 0.0
            out[g] = 0.0 if v is None or not np.isfinite(v) else float(v)
    else:
        out = {g: 0.0 for g in gauges}
    return out


class SwmmRunner:
    """Runs pieces of the day with SWMM (pyswmm), chained through hotstart files.

    ``inp``: the run copy written by :func:`write_run_copy`; ``nodes`` / ``links``: the objects
    whose depth (m) / flow (m³/s) are recorded; ``gauges``: the rain gauges to drive.
    """

    def __init__(
        self,
        inp: Path,
        gauges: Sequence[str],
        nodes: Sequence[str],
        links: Sequence[str] = (),
    ) -> None:
        self.inp = Path(inp)
        self.gauges = list(gauges)
        self.nodes = list(dict.fromkeys(nodes))
        self.links = list(dict.fromkeys(links))

    def run(
        self,
        start: pd.Timestamp,
        end: pd.Timestamp,
        rain: pd.DataFrame,
        hotstart_in: Path | None = None,
        hotstart_out: Path | None = None,
        rain_scale: float = 1.0,
        record_s: int = 60,
        gauge_scale: Mapping[str, float] | None = None,
        all_nodes: Sequence[str] = (),
    ) -> RunResult:
        """Simulate [start, end] driven by ``rain`` (mm/h by gauge, rows at 5-min ends).

        Starts from ``hotstart_in`` (a SWMM hotstart file) when given, else from the INP's
        initial state; saves the final state to ``hotstart_out`` when given. ``rain_scale`` and
        ``gauge_scale`` multiply the rain. Returns the recorded depths and flows, and for
        ``all_nodes`` the largest depth (m) SWMM saw during the run (from its node statistics).
        """
        from pyswmm import Simulation
        from swmm.toolkit import shared_enum as se
        from swmm.toolkit import solver

        n_rec = int(round((end - start).total_seconds() / record_s))
        times = pd.date_range(
            start + pd.Timedelta(seconds=record_s), periods=n_rec, freq=f"{record_s}s"
        )
        depth = {n: np.zeros(n_rec) for n in self.nodes}
        flow = {k: np.zeros(n_rec) for k in self.links}
        node_max = dict.fromkeys(self.nodes, 0.0)
        if n_rec <= 0:
            if hotstart_in is not None and hotstart_out is not None and hotstart_in != hotstart_out:
                shutil.copyfile(hotstart_in, hotstart_out)
            return RunResult(times, depth, flow, node_max)
        gscale = {g: rain_scale * float((gauge_scale or {}).get(g, 1.0)) for g in self.gauges}
        try:
            sim = Simulation(str(self.inp))
        except Exception as exc:  # pyswmm raises its own error types for INP problems
            raise NetworkModelError(
                f"SWMM cannot open the model: {exc}", where=str(self.inp)
            ) from exc
        try:
            sim.start_time = start.to_pydatetime()
            sim.end_time = end.to_pydatetime()
            sim.report_start = start.to_pydatetime()
            if hotstart_in is not None:
                sim.use_hotstart(str(hotstart_in))

            # values go straight through the toolkit by index: pyswmm's Nodes[...] rebuilds the
            # id list on every lookup, which costs O(nodes) per object
            def index(kind: se.ObjectType, name: str) -> int:
                i = solver.project_get_index(kind, name)
                if i < 0:
                    raise NetworkModelError(
                        f"{kind.name.lower()} {name!r} not in the model", str(self.inp)
                    )
                return int(i)

            nd = [(n, index(se.ObjectType.NODE, n)) for n in self.nodes]
            lk = [(k, index(se.ObjectType.LINK, k)) for k in self.links]
            gg = [(g, index(se.ObjectType.GAGE, g)) for g in self.gauges]
            depth_id, flow_id = se.NodeResult.DEPTH, se.LinkResult.FLOW
            sim.step_advance(record_s)
            per_rain = max(1, STEP_S // record_s)
            t = start
            values = _rain_at(rain, self.gauges, t)
            for g, gi in gg:
                solver.raingage_set_precipitation(gi, values[g] * gscale[g])
            for i, _ in enumerate(sim):
                t = pd.Timestamp(sim.current_time).round("s")
                if i < n_rec:
                    for n, ni in nd:
                        d = solver.node_get_result(ni, depth_id)
                        depth[n][i] = d
                        if d > node_max[n]:
                            node_max[n] = d
                    for k, ki in lk:
                        flow[k][i] = solver.link_get_result(ki, flow_id)
                if i + 1 >= n_rec:
                    break
                if (i + 1) % per_rain == 0:
                    values = _rain_at(rain, self.gauges, t)
                    for g, gi in gg:
                        solver.raingage_set_precipitation(gi, values[g] * gscale[g])
            all_max = {
                n: float(solver.node_get_stats(index(se.ObjectType.NODE, n)).maxDepth)
                for n in all_nodes
            }
            if hotstart_out is not None:
                sim.save_hotstart(str(hotstart_out))
        except NetworkModelError:
            raise
        except Exception as exc:
            raise NetworkModelError(f"SWMM run failed: {exc}", where=str(self.inp)) from exc
        finally:
            with contextlib.suppress(Exception):  # closing must not hide the error
                sim.close()
        return RunResult(times, depth, flow, node_max, all_max)


def sanitize_id(text: str) -> str:
    """A file-name-safe version of an id."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text)
