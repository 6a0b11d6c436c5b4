"""Read SCADA and truth folders in the BattLeDIM layout and check them against a network.

Layout: ``<year>_SCADA_Pressures.csv`` (required), ``<year>_SCADA_Flows.csv``,
``<year>_SCADA_Levels.csv``, ``<year>_SCADA_Demands.csv`` (optional); ``;`` separator, decimal
comma, first column ``Timestamp`` (local time of the utility, treated as naive wall-clock time),
one column per sensor id. Pressures in m, flows in the network's flow unit (m³/h for L-Town),
levels in m, AMR demands in L/h.

Handling of imperfect data (documented in docs/water.md):
- rows must be on a regular time step; the step is inferred (median spacing) and rows are
  re-indexed onto that grid; a file with an irregular or differing step raises InputError;
- gaps (NaN or missing rows) of up to ``max_gap_steps`` are linearly interpolated; longer gaps
  stay NaN (the leak detector fills one pressure sensor's gap from the others, see
  :func:`lifeline.water.leaks.fill_missing`);
- a sensor column whose id is not a node (pressures, levels) or link (flows) of the network raises
  InputError naming the file and the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lifeline.errors import InputError

KINDS = ("Pressures", "Flows", "Levels", "Demands")


@dataclass
class Scada:
    """SCADA data on one regular time grid (index: naive timestamps)."""

    pressures: pd.DataFrame
    flows: pd.DataFrame = field(default_factory=pd.DataFrame)
    levels: pd.DataFrame = field(default_factory=pd.DataFrame)
    demands: pd.DataFrame = field(default_factory=pd.DataFrame)
    step_s: int = 300

    @property
    def index(self) -> pd.DatetimeIndex:
        """The common time grid."""
        return pd.DatetimeIndex(self.pressures.index)


def _find(folder: Path, kind: str) -> Path | None:
    hits = sorted(folder.glob(f"*_SCADA_{kind}.csv")) + sorted(folder.glob(f"*SCADA_{kind}.csv"))
    return hits[0] if hits else None


def read_csv(path: Path) -> pd.DataFrame:
    """Read one BattLeDIM SCADA CSV (``;`` separator, decimal comma) into a float frame."""
    try:
        df = pd.read_csv(path, sep=";", decimal=",", index_col=0)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError(f"cannot read SCADA CSV: {exc}", str(path)) from exc
    if df.shape[1] == 0:
        raise InputError(
            "no sensor columns (expected ';' separator and a Timestamp column)", str(path)
        )
    try:
        df.index = pd.to_datetime(df.index)
    except (ValueError, TypeError) as exc:
        raise InputError(f"first column must be timestamps: {exc}", f"{path}:Timestamp") from exc
    df.index.name = "Timestamp"
    df.columns = [str(c).strip() for c in df.columns]
    for col in df.columns:
        if df[col].dtype == object:
            conv = pd.to_numeric(df[col].astype(str).str.replace(",", "."), errors="coerce")
            bad = conv.isna() & df[col].notna() & (df[col].astype(str).str.strip() != "")
            if bad.any():
                line = int(np.argmax(bad.to_numpy())) + 2
                raise InputError(
                    f"non-numeric value {df[col][bad].iloc[0]!r}", f"{path}:{line}:{col}"
                )
            df[col] = conv
    if df.index.has_duplicates:
        raise InputError("duplicate timestamps", str(path))
    return df.sort_index().astype(float)


def _step(df: pd.DataFrame, path: Path) -> int:
    if len(df) < 3:
        raise InputError("fewer than 3 rows", str(path))
    d = np.diff(df.index.asi8) / 1e9
    step = float(np.median(d))
    if step <= 0 or np.mean(np.abs(d - step) > 1e-6) > 0.05 or np.any(np.mod(d, step) > 1e-6):
        raise InputError(f"irregular time step (median {step:.0f} s)", str(path))
    return int(step)


def _fill_short_gaps(df: pd.DataFrame, max_steps: int) -> pd.DataFrame:
    """Linearly interpolate interior NaN runs of at most ``max_steps`` rows; longer runs stay NaN."""
    filled = df.interpolate(limit_area="inside")
    for col in df.columns:
        na = df[col].isna().to_numpy()
        if not na.any():
            continue
        run_id = np.cumsum(~na)
        lengths = pd.Series(na).groupby(run_id).transform("sum").to_numpy()
        long = na & (lengths > max_steps)
        filled.loc[long, col] = np.nan
    return filled


def read_scada(folder: str | Path, max_gap_steps: int = 12) -> Scada:
    """Read a BattLeDIM-layout SCADA folder; only the pressures file is required."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("SCADA folder not found", str(folder))
    ppath = _find(folder, "Pressures")
    if ppath is None:
        raise InputError("no *_SCADA_Pressures.csv in folder", str(folder))
    frames: dict[str, pd.DataFrame] = {}
    step = 0
    for kind in KINDS:
        path = _find(folder, kind)
        if path is None:
            continue
        df = read_csv(path)
        s = _step(df, path)
        if step and s != step:
            raise InputError(f"time step {s} s differs from the pressures' {step} s", str(path))
        step = step or s
        frames[kind] = df
    grid = pd.date_range(
        frames["Pressures"].index[0], frames["Pressures"].index[-1], freq=f"{step}s"
    )
    out: dict[str, pd.DataFrame] = {}
    for kind, df in frames.items():
        df = df.reindex(grid)
        out[kind] = _fill_short_gaps(df, max_gap_steps)
    return Scada(
        pressures=out["Pressures"],
        flows=out.get("Flows", pd.DataFrame(index=grid)),
        levels=out.get("Levels", pd.DataFrame(index=grid)),
        demands=out.get("Demands", pd.DataFrame(index=grid)),
        step_s=step,
    )


def check_against_network(
    scada: Scada, node_names: set[str], link_names: set[str], folder: str | Path = ""
) -> None:
    """Raise InputError if a sensor id is not a node (pressure, level, demand) or link (flow)."""
    for kind, df, names in (
        ("Pressures", scada.pressures, node_names),
        ("Levels", scada.levels, node_names),
        ("Demands", scada.demands, node_names),
        ("Flows", scada.flows, link_names),
    ):
        missing = [c for c in df.columns if c not in names]
        if missing:
            what = "link" if kind == "Flows" else "node"
            raise InputError(
                f"sensor id(s) {missing[:5]} are not a {what} of the network",
                f"{folder}/*_SCADA_{kind}.csv",
            )


def slice_scada(scada: Scada, start: pd.Timestamp | None, end: pd.Timestamp | None) -> Scada:
    """Return the rows in [start, end)."""

    def cut(df: pd.DataFrame) -> pd.DataFrame:
        idx = df.index
        m = np.ones(len(df), dtype=bool)
        if start is not None:
            m &= idx >= start
        if end is not None:
            m &= idx < end
        return df.loc[m]

    return Scada(
        cut(scada.pressures), cut(scada.flows), cut(scada.levels), cut(scada.demands), scada.step_s
    )


def write_scada(scada: Scada, folder: str | Path, year: str = "2018") -> None:
    """Write a Scada in the BattLeDIM layout (``;`` separator, decimal comma)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for kind, df in (
        ("Pressures", scada.pressures),
        ("Flows", scada.flows),
        ("Levels", scada.levels),
        ("Demands", scada.demands),
    ):
        if df.shape[1] == 0:
            continue
        d = df.copy()
        d.index = d.index.strftime("%Y-%m-%d %H:%M:%S")
        d.index.name = "Timestamp"
        d.to_csv(folder / f"{year}_SCADA_{kind}.csv", sep=";", decimal=",", float_format="%.2f")


@dataclass
class Leak:
    """One labelled leak: pipe id, start/end (naive timestamps), hole diameter (m), type."""

    pipe: str
    start: pd.Timestamp
    end: pd.Timestamp
    diameter_m: float = float("nan")
    kind: str = ""
    peak: pd.Timestamp | None = None


def read_truth(folder: str | Path) -> tuple[list[Leak], pd.DataFrame]:
    """Read a truth folder: ``leaks.csv`` and ``leak_outflow.csv`` (m³/h per leak pipe).

    ``leak_outflow.csv`` is optional for calibration (an empty frame is returned) but required
    for scoring.
    """
    folder = Path(folder)
    lpath = folder / "leaks.csv"
    if not lpath.is_file():
        raise InputError("leaks.csv not found in truth folder", str(folder))
    try:
        df = pd.read_csv(lpath, skipinitialspace=True, comment=None)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read: {exc}", str(lpath)) from exc
    df.columns = [c.strip().lstrip("#").strip() for c in df.columns]
    for col in ("linkID", "startTime", "endTime"):
        if col not in df.columns:
            raise InputError(f"missing column {col!r}", str(lpath))
    leaks = []
    for i, r in df.iterrows():
        try:
            leaks.append(
                Leak(
                    pipe=str(r["linkID"]).strip(),
                    start=pd.Timestamp(str(r["startTime"]).strip()),
                    end=pd.Timestamp(str(r["endTime"]).strip()),
                    diameter_m=float(r.get("leakDiameter", float("nan"))),
                    kind=str(r.get("leakType", "")).strip(),
                    peak=pd.Timestamp(str(r["peakTime"]).strip())
                    if "peakTime" in df.columns
                    else None,
                )
            )
        except (ValueError, TypeError) as exc:
            raise InputError(f"bad leak row: {exc}", f"{lpath}:{int(str(i)) + 2}") from exc
    opath = folder / "leak_outflow.csv"
    outflow = pd.DataFrame()
    if opath.is_file():
        outflow = pd.read_csv(opath, index_col=0)
        outflow.index = pd.to_datetime(outflow.index)
        outflow.columns = [str(c).strip() for c in outflow.columns]
    return leaks, outflow
