"""Check the text of an EPANET INP file before WNTR reads it, and say which section and line is wrong.

WNTR's reader fails on a truncated or hand-edited file with messages such as ``'NoneType' object
has no attribute 'factor'`` and accepts a file cut inside ``[COORDINATES]`` silently. This module
reads the file as EPANET 2.2 defines it (sections, one element per line, ``;`` comments) and
reports:

* errors (the model cannot be used): an unknown section or data before the first section, a line
  with too few or too many fields for its section, a number that does not parse (or a length or
  diameter that is not positive), an element id defined twice, a reference to an undefined node,
  link, curve or pattern, no ``[OPTIONS]`` section, no reservoir or tank;
* warnings (the model loads, but something is missing): nodes without coordinates, a file that
  does not end with ``[END]`` (it may be truncated).

Each problem names the line (1-based) and section.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

#: section -> (min fields, max fields or None) per data line; free-form sections are absent
_FIELDS: dict[str, tuple[int, int | None]] = {
    "JUNCTIONS": (2, 4),
    "RESERVOIRS": (2, 3),
    "TANKS": (6, 9),
    "PIPES": (6, 8),
    "PUMPS": (5, None),
    "VALVES": (6, 7),
    "TAGS": (3, 3),
    "DEMANDS": (2, 4),
    "STATUS": (2, 2),
    "PATTERNS": (2, None),
    "CURVES": (3, 3),
    "EMITTERS": (2, 2),
    "QUALITY": (2, 2),
    "SOURCES": (3, 4),
    "MIXING": (2, 3),
    "COORDINATES": (3, 3),
    "VERTICES": (3, 3),
}
_FREE = {
    "TITLE",
    "CONTROLS",
    "RULES",
    "ENERGY",
    "REACTIONS",
    "TIMES",
    "REPORT",
    "OPTIONS",
    "LABELS",
    "BACKDROP",
    "LEAKAGE",
    "END",
}
#: what the fields of a line are, for messages
_FORM = {
    "JUNCTIONS": "id, elevation[, demand[, pattern]]",
    "RESERVOIRS": "id, head[, pattern]",
    "TANKS": "id, elevation, initial, minimum and maximum level, diameter[, min volume, volume curve, overflow]",
    "PIPES": "id, node 1, node 2, length, diameter, roughness[, minor loss, status]",
    "PUMPS": "id, node 1, node 2 and keyword/value pairs (HEAD curve, POWER kW, SPEED, PATTERN)",
    "VALVES": "id, node 1, node 2, diameter, type, setting[, minor loss]",
    "TAGS": "NODE|LINK, id, tag",
    "DEMANDS": "junction, demand[, pattern]",
    "STATUS": "link, status or setting",
    "PATTERNS": "id, multipliers…",
    "CURVES": "id, x, y",
    "EMITTERS": "junction, coefficient",
    "QUALITY": "node, initial quality",
    "SOURCES": "node, type, strength[, pattern]",
    "MIXING": "tank, model[, fraction]",
    "COORDINATES": "node, x, y",
    "VERTICES": "link, x, y",
}
#: (section, field index, what) of numbers; positive ones must be > 0
_NUMBERS: dict[str, list[tuple[int, str, bool]]] = {
    "JUNCTIONS": [(1, "elevation", False), (2, "demand", False)],
    "RESERVOIRS": [(1, "head", False)],
    "TANKS": [
        (i, n, False)
        for i, n in enumerate(
            (
                "elevation",
                "initial level",
                "minimum level",
                "maximum level",
                "diameter",
                "minimum volume",
            ),
            start=1,
        )
    ],
    "PIPES": [
        (3, "length", True),
        (4, "diameter", True),
        (5, "roughness", True),
        (6, "minor loss", False),
    ],
    "VALVES": [(3, "diameter", True), (6, "minor loss", False)],
    "DEMANDS": [(1, "demand", False)],
    "CURVES": [(1, "x", False), (2, "y", False)],
    "EMITTERS": [(1, "coefficient", False)],
    "COORDINATES": [(1, "x", False), (2, "y", False)],
    "VERTICES": [(1, "x", False), (2, "y", False)],
}
_NODE_SECTIONS = ("JUNCTIONS", "RESERVOIRS", "TANKS")
_LINK_SECTIONS = ("PIPES", "PUMPS", "VALVES")


@dataclass
class InpProblem:
    """One problem: 1-based ``line`` (0: the file as a whole), its ``section`` and a message.

    ``subject`` is the element the line defines (e.g. a pipe id) when the same problem repeats
    over many elements (an undefined pattern used by every junction): the summary then names the
    problem once with its count.
    """

    line: int
    section: str
    message: str
    subject: str = ""

    def __str__(self) -> str:
        if self.subject:
            return str(InpProblem(self.line, self.section, f"{self.subject}: {self.message}"))
        line = f"line {self.line}" if self.line else ""
        sec = f"[{self.section}]" if self.section else ""
        where = f"{line} {sec}".strip()
        return f"{where}: {self.message}" if where else self.message


@dataclass
class InpCheck:
    """The result of :func:`check_inp_text`: errors (unusable) and warnings (usable)."""

    errors: list[InpProblem] = field(default_factory=list)
    warnings: list[InpProblem] = field(default_factory=list)

    def summary(self, limit: int = 3) -> str:
        """The first ``limit`` distinct errors in one line (a problem repeated over many elements
        once, with its count), then the count of the rest."""
        groups: dict[tuple[str, str], list[InpProblem]] = {}
        for p in self.errors:
            key = (p.section, p.message) if p.subject else (p.section, f"{p.line}:{p.message}")
            groups.setdefault(key, []).append(p)
        parts = []
        for items in list(groups.values())[:limit]:
            p = items[0]
            more = f" ({p.subject} and {len(items) - 1} more)" if len(items) > 1 else ""
            parts.append(
                str(p) + more if not more else str(InpProblem(p.line, p.section, p.message)) + more
            )
        rest = len(groups) - limit
        return "; ".join(parts) + (f" (and {rest} more problem(s))" if rest > 0 else "")


@dataclass
class _Line:
    no: int
    section: str
    fields: list[str]


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _split(text: str) -> tuple[list[_Line], InpCheck, bool, int]:
    """Data lines with their section; problems of structure; whether [END] was seen; last line."""
    check = InpCheck()
    lines: list[_Line] = []
    section = ""
    ended = False
    last = 0
    for no, raw in enumerate(text.splitlines(), start=1):
        body = raw.split(";", 1)[0].strip()
        if not body:
            continue
        last = no
        if body.startswith("["):
            name = body.strip("[] \t").upper()
            if not body.rstrip().endswith("]") or name not in _FIELDS and name not in _FREE:
                check.errors.append(InpProblem(no, section, f"unknown section header {body!r}"))
                section = "?"
                continue
            section = name
            ended = ended or name == "END"
            continue
        if ended:
            break  # EPANET ignores everything after [END]
        if not section:
            check.errors.append(
                InpProblem(no, "", f"data before the first [SECTION]: {body[:40]!r}")
            )
            continue
        if section != "?":
            lines.append(_Line(no, section, body.split()))
    return lines, check, ended, last


def check_inp_text(text: str) -> InpCheck:
    """Check the text of an INP file (see the module doc); never raises."""
    lines, check, ended, last = _split(text)
    err = check.errors
    present = {ln.section for ln in lines} | {
        h.strip("[] \t").upper()
        for h in (r.split(";", 1)[0].strip() for r in text.splitlines())
        if h.startswith("[")
    }
    nodes: dict[str, str] = {}
    links: dict[str, str] = {}
    curves: set[str] = set()
    patterns: set[str] = set()
    for ln in lines:
        f, s = ln.fields, ln.section
        lo, hi = _FIELDS.get(s, (0, None))
        if len(f) < lo or (hi is not None and len(f) > hi):
            want = f"{lo}" if hi == lo else f"{lo} to {hi}" if hi else f"at least {lo}"
            err.append(
                InpProblem(
                    ln.no,
                    s,
                    f"{len(f)} field(s), expected {want} ({_FORM[s]}): {' '.join(f)[:60]!r}",
                )
            )
            ln.fields = []  # do not check it further
            continue
        for i, what, positive in _NUMBERS.get(s, []):
            if i < len(f) and not (s == "VALVES" and i == 5):
                v = _float(f[i])
                if v is None or v != v:
                    err.append(InpProblem(ln.no, s, f"{f[0]}: {what} {f[i]!r} is not a number"))
                elif positive and v <= 0:
                    err.append(InpProblem(ln.no, s, f"{f[0]}: {what} {f[i]} must be > 0"))
        if s in _NODE_SECTIONS or s in _LINK_SECTIONS:
            kind = nodes if s in _NODE_SECTIONS else links  # nodes and links: separate id spaces
            if f[0] in kind:
                err.append(
                    InpProblem(ln.no, s, f"id {f[0]!r} is defined twice (first in [{kind[f[0]]}])")
                )
            kind.setdefault(f[0], s)
        elif s == "CURVES":
            curves.add(f[0])
        elif s == "PATTERNS":
            patterns.add(f[0])
            bad = [x for x in f[1:] if _float(x) is None]
            if bad:
                err.append(
                    InpProblem(ln.no, s, f"pattern {f[0]}: multiplier {bad[0]!r} is not a number")
                )
    if "OPTIONS" not in present:
        err.append(InpProblem(0, "", "no [OPTIONS] section (flow units, headloss formula)"))
    if not any(v in ("RESERVOIRS", "TANKS") for v in nodes.values()):
        err.append(InpProblem(0, "", "no reservoir or tank: the network has no source"))
    _references(lines, nodes, links, curves, patterns, err)
    coords = {ln.fields[0] for ln in lines if ln.section == "COORDINATES" and ln.fields}
    missing = [n for n in nodes if n not in coords]
    if missing and nodes:
        names = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
        check.warnings.append(
            InpProblem(
                0,
                "COORDINATES",
                f"{len(missing)} of {len(nodes)} node(s) have no coordinates ({names}); maps and distances skip them",
            )
        )
    if not ended:
        sec = next((ln.section for ln in reversed(lines)), "")
        note = (
            f"the file ends at line {last}"
            + (f" inside [{sec}]" if sec else "")
            + " without [END]: it may be truncated"
        )
        check.warnings.append(InpProblem(0, "", note))
    err.sort(key=lambda p: (p.line == 0, p.line))
    if not ended and err:  # the likely cause of everything else comes first
        err.insert(0, InpProblem(0, "", note))
    return check


def _references(
    lines: list[_Line],
    nodes: dict[str, str],
    links: dict[str, str],
    curves: set[str],
    patterns: set[str],
    err: list[InpProblem],
) -> None:
    """References from each line to nodes, links, curves and patterns that must be defined."""

    def need(ln: _Line, ref: str, pool: dict[str, str] | set[str], what: str, role: str) -> None:
        if ref and ref != "*" and ref not in pool:
            err.append(
                InpProblem(
                    ln.no, ln.section, f"{role} {ref!r} is not a defined {what}", ln.fields[0]
                )
            )

    for ln in lines:
        f, s = ln.fields, ln.section
        if not f:
            continue
        if s in _LINK_SECTIONS:
            need(ln, f[1], nodes, "node", "start node")
            need(ln, f[2], nodes, "node", "end node")
            if f[1] == f[2]:
                err.append(
                    InpProblem(ln.no, s, f"{f[0]}: starts and ends at the same node {f[1]!r}")
                )
        if s == "PUMPS":
            kv = f[3:]
            if len(kv) % 2:
                err.append(InpProblem(ln.no, s, f"{f[0]}: keyword {kv[-1]!r} has no value"))
            for key, val in zip(kv[::2], kv[1::2], strict=False):
                k = key.upper()
                if k == "HEAD":
                    need(ln, val, curves, "curve", "head curve")
                elif k == "PATTERN":
                    need(ln, val, patterns, "pattern", "speed pattern")
                elif k in ("POWER", "SPEED"):
                    if _float(val) is None:
                        err.append(InpProblem(ln.no, s, f"{f[0]}: {k} {val!r} is not a number"))
                else:
                    err.append(
                        InpProblem(
                            ln.no,
                            s,
                            f"{f[0]}: unknown pump keyword {key!r} (HEAD, POWER, SPEED, PATTERN)",
                        )
                    )
        elif s == "VALVES":
            vtype = f[4].upper()
            if vtype not in ("PRV", "PSV", "PBV", "FCV", "TCV", "GPV", "PCV"):
                err.append(InpProblem(ln.no, s, f"{f[0]}: unknown valve type {f[4]!r}"))
            elif vtype == "GPV":
                need(ln, f[5], curves, "curve", "headloss curve")
            elif _float(f[5]) is None:
                err.append(InpProblem(ln.no, s, f"{f[0]}: setting {f[5]!r} is not a number"))
        elif s == "JUNCTIONS" and len(f) > 3:
            need(ln, f[3], patterns, "pattern", "demand pattern")
        elif s == "RESERVOIRS" and len(f) > 2:
            need(ln, f[2], patterns, "pattern", "head pattern")
        elif s == "TANKS" and len(f) > 7:
            need(ln, f[7], curves, "curve", "volume curve")
        elif s == "DEMANDS":
            need(ln, f[0], nodes, "node", "junction")
            if len(f) > 2:
                need(ln, f[2], patterns, "pattern", "demand pattern")
        elif s in ("EMITTERS", "QUALITY", "COORDINATES", "MIXING"):
            need(ln, f[0], nodes, "node", "node")
        elif s == "SOURCES":
            need(ln, f[0], nodes, "node", "node")
            if len(f) > 3:
                need(ln, f[3], patterns, "pattern", "source pattern")
        elif s in ("STATUS", "VERTICES"):
            need(ln, f[0], links, "link", "link")
        elif s == "CONTROLS":
            _control(ln, nodes, links, err)


def _control(
    ln: _Line, nodes: dict[str, str], links: dict[str, str], err: list[InpProblem]
) -> None:
    """``LINK id status IF NODE id ABOVE|BELOW value`` / ``… AT [CLOCK]TIME t``: ids defined."""
    up = [x.upper() for x in ln.fields]
    if up[:1] == ["LINK"] and len(up) > 1 and ln.fields[1] not in links:
        err.append(
            InpProblem(ln.no, ln.section, f"control on link {ln.fields[1]!r}, which is not defined")
        )
    if "NODE" in up[2:]:
        i = up.index("NODE", 2)
        if i + 1 < len(up) and ln.fields[i + 1] not in nodes:
            err.append(
                InpProblem(
                    ln.no, ln.section, f"control on node {ln.fields[i + 1]!r}, which is not defined"
                )
            )


def check_inp(path: str | Path) -> InpCheck:
    """Read ``path`` (UTF-8 or Latin-1 text) and check it; a binary file is one error."""
    data = Path(path).read_bytes()
    if b"\x00" in data[:4096]:
        return InpCheck(errors=[InpProblem(0, "", "not a text file (binary content)")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    if not text.strip():
        return InpCheck(errors=[InpProblem(0, "", "the file is empty")])
    return check_inp_text(text)
