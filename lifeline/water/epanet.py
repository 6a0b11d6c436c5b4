"""The one EPANET 2.2 toolkit wrapper of lifeline: a thin ctypes binding to the EPANET library
shipped with WNTR (no ``wntr`` import, no ``WaterNetworkModel``).

Used by the in-process PDD check of a closed segment (:mod:`lifeline.water.pdd`), the batched
criticality runs (:mod:`lifeline.risk.pdd`), the leak sensitivities and the burst placement
(:mod:`lifeline.water.network`, :mod:`lifeline.water.refine`) and the city package validation
(:func:`inp_problems`: EPANET's own INP parser, its errors mapped to file lines).

Values are in the INP's units; :data:`UNITS` converts flows to m³/h and pressures to m.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

# ENgetcount codes, node types, node/link properties, time parameters (EPANET 2.2 toolkit)
EN_NODECOUNT, EN_LINKCOUNT, EN_CONTROLCOUNT = 0, 2, 5
EN_JUNCTION, EN_RESERVOIR, EN_TANK = 0, 1, 2
EN_EMITTER, EN_DEMAND, EN_PRESSURE = 3, 9, 11  # node values: emitter, (delivered) demand, pressure
EN_DIAMETER, EN_INITSTATUS, EN_STATUS = 0, 4, 11  # link values
EN_DURATION, EN_PATTERNSTART = 0, 4  # time parameters
EN_DDA, EN_PDA = 0, 1  # demand models
EN_DEMANDMULT = 4  # analysis option: global demand multiplier
#: EPANET flow-unit code -> (m³/h per flow unit, metres per pressure unit)
UNITS: dict[int, tuple[float, float]] = {
    0: (101.9406, 0.70307),  # CFS
    1: (0.2271247, 0.70307),  # GPM
    2: (157.7255, 0.70307),  # MGD
    3: (189.4204, 0.70307),  # IMGD
    4: (51.39, 0.70307),  # AFD
    5: (3.6, 1.0),  # LPS
    6: (0.06, 1.0),  # LPM
    7: (41.66667, 1.0),  # MLD
    8: (1.0, 1.0),  # CMH
    9: (1 / 24, 1.0),  # CMD
}
#: INP flow-unit name -> EPANET flow-unit code (the keys of :data:`UNITS`)
FLOW_UNIT_CODES: dict[str, int] = {
    "CFS": 0,
    "GPM": 1,
    "MGD": 2,
    "IMGD": 3,
    "AFD": 4,
    "LPS": 5,
    "LPM": 6,
    "MLD": 7,
    "CMH": 8,
    "CMD": 9,
}
#: warning 1: the hydraulic solution did not converge
UNBALANCED = 1
_MESSAGES = {
    1: "warning 1: system hydraulically unbalanced (no convergence)",
    2: "warning 2: system may be hydraulically unstable",
    3: "warning 3: system disconnected (some nodes have no supply)",
    4: "warning 4: pumps cannot deliver enough flow or head",
    5: "warning 5: valves cannot deliver enough flow",
    6: "warning 6: system has negative pressures",
    110: "error 110: cannot solve network hydraulic equations",
    200: "error 200: one or more errors in the input file",
    204: "error 204: undefined link",
    207: "error 207: attempt to control a check valve pipe or general purpose valve",
    302: "error 302: cannot open input file",
}


def describe(code: int) -> str:
    """EPANET error / warning text for ``code``."""
    return _MESSAGES.get(code, f"EPANET code {code}")


class ToolkitError(RuntimeError):
    """An EPANET toolkit error (code ≥ 100)."""

    def __init__(self, code: int, where: str) -> None:
        super().__init__(f"EPANET error {code} in {where}")
        self.code = code


def libepanet_path() -> Path:
    """Path of the EPANET 2.2 shared library bundled with WNTR, found without importing wntr."""
    import importlib.util
    import sys

    spec = importlib.util.find_spec("wntr")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("wntr is not installed")
    root = Path(next(iter(spec.submodule_search_locations))) / "epanet" / "libepanet"
    if os.name == "nt":
        return root / "windows-x64" / "epanet22.dll"
    if sys.platform == "darwin":
        import platform

        arm = "arm" in platform.platform().lower()
        return root / ("darwin-arm/libepanet2.dylib" if arm else "darwin-x64/libepanet22.dylib")
    return root / "linux-x64" / "libepanet22.so"


_LIB: Any = None


def _lib() -> Any:
    import ctypes

    global _LIB
    if _LIB is None:
        _LIB = ctypes.CDLL(str(libepanet_path()))
    return _LIB


class Toolkit:
    """One EPANET 2.2 project (thread-safe ``EN_*`` API) on one INP; use as a context manager.

    Errors (code ≥ 100) raise :class:`ToolkitError`; warnings (code < 100) are kept in
    :attr:`warnings`. Values are in the INP's units. ``report`` keeps EPANET's report file there
    (else it goes to a temporary folder).
    """

    def __init__(self, inp: str | Path, report: str | Path | None = None) -> None:
        import ctypes

        self._c = ctypes
        self._lib = _lib()
        self._ph = ctypes.c_void_p()
        self.warnings: list[int] = []
        self._tmp = tempfile.TemporaryDirectory()
        self._call("EN_createproject", ctypes.byref(self._ph))
        rpt = str(report) if report else os.path.join(self._tmp.name, "r.rpt")
        out = os.path.join(self._tmp.name, "r.out")
        try:
            self._call("EN_open", self._ph, str(inp).encode(), rpt.encode(), out.encode())
        except ToolkitError:
            self.close()
            raise

    def _call(self, fn: str, *args: Any) -> None:
        code = int(getattr(self._lib, fn)(*args))
        if code >= 100:
            raise ToolkitError(code, fn)
        if code:
            self.warnings.append(code)

    def _int(self, fn: str, *args: Any) -> int:
        v = self._c.c_int()
        self._call(fn, self._ph, *args, self._c.byref(v))
        return int(v.value)

    def count(self, what: int) -> int:
        """EN_getcount (0 nodes, 2 links, 5 simple controls)."""
        return self._int("EN_getcount", what)

    def node_type(self, i: int) -> int:
        """EN_getnodetype of node ``i`` (1-based): 0 junction, 1 reservoir, 2 tank."""
        return self._int("EN_getnodetype", i)

    def node_id(self, i: int) -> str:
        """EN_getnodeid of node ``i`` (1-based)."""
        buf = self._c.create_string_buffer(64)
        self._call("EN_getnodeid", self._ph, i, buf)
        return buf.value.decode()

    def flow_units(self) -> int:
        """EN_getflowunits code (0 CFS … 5 LPS … 8 CMH, 9 CMD)."""
        return self._int("EN_getflowunits")

    def link_index(self, name: str, missing_ok: bool = False) -> int:
        """EN_getlinkindex of link ``name`` (0 if absent and ``missing_ok``)."""
        try:
            return self._int("EN_getlinkindex", name.encode())
        except ToolkitError:
            if missing_ok:
                return 0
            raise

    def node_index(self, name: str) -> int:
        """EN_getnodeindex of node ``name``."""
        return self._int("EN_getnodeindex", name.encode())

    def delete_node(self, i: int) -> None:
        """EN_deletenode ``i`` unconditionally (its links and controls go with it)."""
        self._call("EN_deletenode", self._ph, i, 0)

    def demand_model(self) -> tuple[int, float, float, float]:
        """EN_getdemandmodel: (type 0 DDA | 1 PDA, minimum, required pressure, exponent)."""
        c = self._c
        t, pmin, preq, pexp = c.c_int(), c.c_double(), c.c_double(), c.c_double()
        ref = c.byref
        self._call("EN_getdemandmodel", self._ph, ref(t), ref(pmin), ref(preq), ref(pexp))
        return int(t.value), float(pmin.value), float(preq.value), float(pexp.value)

    def required_pressure(self) -> float:
        """Required pressure of the PDA demand model (INP units)."""
        return self.demand_model()[2]

    def set_demand_model(
        self, kind: int, pmin: float = 0.0, preq: float = 0.1, pexp: float = 0.5
    ) -> None:
        """EN_setdemandmodel (kind 0 DDA, 1 PDA; pressures in INP units)."""
        c = self._c
        self._call(
            "EN_setdemandmodel",
            self._ph,
            kind,
            c.c_double(pmin),
            c.c_double(preq),
            c.c_double(pexp),
        )

    def set_option(self, option: int, value: float) -> None:
        """EN_setoption (4: global demand multiplier)."""
        self._call("EN_setoption", self._ph, option, self._c.c_double(value))

    def set_demand_driven(self) -> None:
        """Switch to demand-driven analysis (EN_setdemandmodel EN_DDA)."""
        self.set_demand_model(EN_DDA)

    def set_node_value(self, i: int, prop: int, value: float) -> None:
        """EN_setnodevalue (3 emitter coefficient) of node ``i`` (1-based)."""
        self._call("EN_setnodevalue", self._ph, i, prop, self._c.c_double(value))

    def link_value(self, i: int, prop: int) -> float:
        """EN_getlinkvalue (0 diameter, 4 initial status, 11 status)."""
        v = self._c.c_double()
        self._call("EN_getlinkvalue", self._ph, i, prop, self._c.byref(v))
        return float(v.value)

    def set_link_value(self, i: int, prop: int, value: float) -> None:
        """EN_setlinkvalue (0 diameter, 4 initial status: 0 closed)."""
        self._call("EN_setlinkvalue", self._ph, i, prop, self._c.c_double(value))

    def control_link(self, k: int) -> int:
        """Link index of simple control ``k`` (1-based)."""
        c, d = self._c, self._c.c_double()
        t, li, ni = c.c_int(), c.c_int(), c.c_int()
        lv = c.c_double()
        self._call(
            "EN_getcontrol",
            self._ph,
            k,
            c.byref(t),
            c.byref(li),
            c.byref(d),
            c.byref(ni),
            c.byref(lv),
        )
        return int(li.value)

    def delete_control(self, k: int) -> None:
        """EN_deletecontrol ``k`` (1-based)."""
        self._call("EN_deletecontrol", self._ph, k)

    def set_time(self, param: int, seconds: int) -> None:
        """EN_settimeparam (0 duration, 4 pattern start), seconds."""
        self._call("EN_settimeparam", self._ph, param, self._c.c_long(int(seconds)))

    def set_duration(self, seconds: int) -> None:
        """EN_settimeparam EN_DURATION."""
        self.set_time(EN_DURATION, seconds)

    def open_hydraulics(self) -> None:
        """EN_openH."""
        self._call("EN_openH", self._ph)

    def init_hydraulics(self, flag: int = 0) -> None:
        """EN_initH (10: re-initialise flows, do not save)."""
        self._call("EN_initH", self._ph, flag)

    def run_hydraulics(self) -> int:
        """EN_runH: solve the current period; returns the model time (s)."""
        t = self._c.c_long()
        self._call("EN_runH", self._ph, self._c.byref(t))
        return int(t.value)

    def next_hydraulics(self) -> int:
        """EN_nextH: advance to the next period; returns the time step taken (s, 0 at the end)."""
        t = self._c.c_long()
        self._call("EN_nextH", self._ph, self._c.byref(t))
        return int(t.value)

    def close_hydraulics(self) -> None:
        """EN_closeH."""
        self._call("EN_closeH", self._ph)

    def solve_period(self) -> None:
        """EN_openH, EN_initH(0), EN_runH: hydraulics of the first period."""
        self.open_hydraulics()
        self.init_hydraulics(0)
        self.run_hydraulics()

    def node_values(self, idx: list[int], prop: int) -> np.ndarray:
        """EN_getnodevalue ``prop`` (9 demand, 11 pressure) for the 1-based nodes ``idx``."""
        v, get, ph, ref = self._c.c_double(), self._lib.EN_getnodevalue, self._ph, self._c.byref
        out = np.empty(len(idx))
        for k, i in enumerate(idx):
            code = get(ph, i, prop, ref(v))
            if code >= 100:
                raise ToolkitError(code, "EN_getnodevalue")
            out[k] = v.value
        return out

    def close(self) -> None:
        """Free the project (EN_close, EN_deleteproject) and its temporary files."""
        if self._ph.value:
            self._lib.EN_close(self._ph)
            self._lib.EN_deleteproject(self._ph)
            self._ph = self._c.c_void_p()
        self._tmp.cleanup()

    def __enter__(self) -> Toolkit:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_REPORT_ERROR = re.compile(r"^\s*Error (\d+): (.*?)(?: in \[(\w+)\] section)?:?\s*$")


def inp_problems(inp: str | Path) -> list[tuple[int | None, str, str]]:
    """EPANET's own check of an INP file: ``(line, section, message)`` per error it reports
    (``line`` is the 1-based line in ``inp`` when the offending text is found, else None).
    An empty list means EPANET reads the file."""
    path = Path(inp)
    with tempfile.TemporaryDirectory() as tmp:
        rpt = Path(tmp) / "check.rpt"
        try:
            with Toolkit(path, report=rpt):
                return []
        except ToolkitError as exc:
            text = rpt.read_text(errors="replace") if rpt.is_file() else ""
            code = exc.code
    lines = path.read_text(errors="replace").splitlines()
    out: list[tuple[int | None, str, str]] = []
    rows = text.splitlines()
    for k, row in enumerate(rows):
        m = _REPORT_ERROR.match(row)
        if not m or m.group(1) == "200":
            continue
        section = m.group(3) or ""
        offending = rows[k + 1].strip() if k + 1 < len(rows) else ""
        out.append(
            (
                _find_line(lines, section, offending),
                f"[{section}]" if section else "",
                f"error {m.group(1)}: {m.group(2).strip()}",
            )
        )
    if not out:
        out.append((None, "", describe(code)))
    return out


def _find_line(lines: list[str], section: str, offending: str) -> int | None:
    """1-based number of the line whose text is ``offending`` (inside ``[section]`` if given)."""
    if not offending:
        return None
    want = offending.split()
    current = ""
    for no, raw in enumerate(lines, start=1):
        s = raw.strip()
        if s.startswith("["):
            current = s.strip("[]").upper()
            continue
        if section and current != section.upper():
            continue
        if s.split() == want or s.split(";")[0].split() == offending.split(";")[0].split():
            return no
    return None
