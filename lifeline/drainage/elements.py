"""The elements of an EPA SWMM 5 input file (names, node positions, link ends), read from its
text sections without running SWMM — what the city model needs for assets and checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lifeline.errors import NetworkModelError

NODE_SECTIONS = {
    "JUNCTIONS": "junction",
    "OUTFALLS": "outfall",
    "STORAGE": "storage",
    "DIVIDERS": "divider",
}
LINK_SECTIONS = {
    "CONDUITS": "conduit",
    "PUMPS": "pump",
    "ORIFICES": "orifice",
    "WEIRS": "weir",
    "OUTLETS": "outlet",
}


@dataclass
class SwmmElements:
    """Nodes (name -> kind), links (name -> (kind, from, to)), rain gauges, node coordinates
    (metres) and link vertices of a SWMM model."""

    nodes: dict[str, str] = field(default_factory=dict)
    links: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    gauges: set[str] = field(default_factory=set)
    subcatchments: dict[str, str] = field(default_factory=dict)  # name -> outlet node
    coords: dict[str, tuple[float, float]] = field(default_factory=dict)
    vertices: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    max_depth_m: dict[str, float] = field(default_factory=dict)


def read_elements(path: str | Path) -> SwmmElements:
    """Parse the sections of the SWMM INP at ``path``; NetworkModelError names a bad line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise NetworkModelError(f"cannot read SWMM model: {exc}", where=str(p)) from exc
    el = SwmmElements()
    section = ""
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            section = line.strip("[]").upper()
            continue
        f = line.split()
        try:
            if section in NODE_SECTIONS:
                el.nodes[f[0]] = NODE_SECTIONS[section]
                if section == "JUNCTIONS" and len(f) > 2:
                    el.max_depth_m[f[0]] = float(f[2])
            elif section in LINK_SECTIONS:
                el.links[f[0]] = (LINK_SECTIONS[section], f[1], f[2])
            elif section == "RAINGAGES":
                el.gauges.add(f[0])
            elif section == "SUBCATCHMENTS":
                el.subcatchments[f[0]] = f[2]
            elif section == "COORDINATES":
                el.coords[f[0]] = (float(f[1]), float(f[2]))
            elif section == "VERTICES":
                el.vertices.setdefault(f[0], []).append((float(f[1]), float(f[2])))
        except (IndexError, ValueError) as exc:
            raise NetworkModelError(
                f"[{section}] line {no}: {raw.strip()!r} is not a valid entry", where=f"{p}:{no}"
            ) from exc
    if not el.nodes:
        raise NetworkModelError(
            "no nodes ([JUNCTIONS], [OUTFALLS], …): not a SWMM model", where=str(p)
        )
    return el
