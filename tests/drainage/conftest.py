"""A small storm sewer built for the tests (SWMM 5 INP) and a day of rain, levels and nowcasts.

Network: three subcatchments on gauge G1 drain to J1 -> J2 -> SAG -> J4 -> OF1. SAG is a road sag
whose outgoing pipe is small, so a heavy storm surcharges it and the street ponds (ponded area
set). Sensors: a level sensor on J2 and a road depth gauge on SAG.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DAY = pd.Timestamp("2025-07-01")

INP = """[TITLE]
;;lifeline test sewer (synthetic)

[OPTIONS]
FLOW_UNITS            CMS
INFILTRATION          HORTON
FLOW_ROUTING          DYNWAVE
LINK_OFFSETS          DEPTH
ALLOW_PONDING         YES
START_DATE            07/01/2025
START_TIME            00:00:00
REPORT_START_DATE     07/01/2025
REPORT_START_TIME     00:00:00
END_DATE              07/02/2025
END_TIME              00:00:00
REPORT_STEP           0:05:00
WET_STEP              00:01:00
DRY_STEP              00:05:00
ROUTING_STEP          10
VARIABLE_STEP         0.75
MINIMUM_STEP          0.5
THREADS               1

[RAINGAGES]
;;Name  Format  Interval  SCF  Source
G1      INTENSITY 0:05  1.0  TIMESERIES RAIN_G1

[SUBCATCHMENTS]
;;Name  RainGage  Outlet  Area(ha)  %Imperv  Width(m)  %Slope  CurbLen
S1      G1      J1      6.0    80   300   2.0   0
S2      G1      J2      4.0    80   250   2.0   0
S3      G1      SAG     2.0    90   200   2.0   0

[SUBAREAS]
;;Subcatchment  N-Imperv  N-Perv  S-Imperv  S-Perv  PctZero  RouteTo
S1      0.013  0.15  1.5  4.0  25  OUTLET
S2      0.013  0.15  1.5  4.0  25  OUTLET
S3      0.013  0.15  1.5  4.0  25  OUTLET

[INFILTRATION]
;;Subcatchment  MaxRate  MinRate  Decay  DryTime  MaxInfil
S1      75.0    8.0    4.0  7   0
S2      75.0    8.0    4.0  7   0
S3      75.0    8.0    4.0  7   0

[JUNCTIONS]
;;Name  InvertElev  MaxDepth  InitDepth  SurDepth  PondedArea(m2)
J1      12.0   2.0   0  0  0
J2      10.5   2.0   0  0  0
SAG     9.0    1.5   0  0  800
J4      8.0    2.0   0  0  0

[OUTFALLS]
;;Name  InvertElev  Type  StageData  Gated
OF1     7.0    FREE  NO

[CONDUITS]
;;Name  From  To  Length  Roughness  InOffset  OutOffset  InitFlow  MaxFlow
C1      J1    J2    150   0.013  0  0  0  0
C2      J2    SAG   150   0.013  0  0  0  0
C3      SAG   J4    100   0.013  0  0  0  0
C4      J4    OF1   100   0.013  0  0  0  0

[XSECTIONS]
;;Link  Shape  Geom1  Geom2  Geom3  Geom4  Barrels
C1      CIRCULAR   0.8   0  0  0  1
C2      CIRCULAR   0.8   0  0  0  1
C3      CIRCULAR   0.6   0  0  0  1
C4      CIRCULAR   0.8   0  0  0  1

[TIMESERIES]
;;Name  Date  Time  Value
RAIN_G1  07/01/2025 00:00  0.0

[REPORT]
NODES ALL
LINKS ALL

[COORDINATES]
;;Node  X  Y
J1      0     0
J2      150   0
SAG     300   0
J4      400   0
OF1     500   0
"""

POINTS = "point_id,node,threshold_m,name\nP1,SAG,0.15,road sag (test)\nP2,J2,0.15,street at J2\n"
SENSORS = "sensor_id,node,quantity\nLV1,J2,level_m\nDP1,SAG,depth_m\n"


def storm_rain(peak_mm_h: float, start_h: float = 14.0, duration_min: int = 60) -> pd.Series:
    """A triangular storm on the 5-min grid of DAY (mm/h, value at ts = mean over the 5 min
    ending at ts)."""
    idx = pd.date_range(DAY, DAY + pd.Timedelta(hours=23, minutes=55), freq="5min")
    t = (idx - (DAY + pd.Timedelta(hours=start_h))).total_seconds() / 60.0
    half = duration_min / 2
    shape = np.clip(1 - np.abs(t - half) / half, 0, None)
    return pd.Series(peak_mm_h * shape, index=idx)


def write_day(
    folder: Path,
    rain: pd.Series,
    forecast_error: Callable[[pd.Series], pd.Series] | None = None,
    with_forecasts: bool = True,
) -> dict[str, Path]:
    """Write network.inp, points.csv, observed/ and forecasts/ for one day into ``folder``.

    Observed levels come from a SWMM run of the same network driven by ``rain`` (J2 depth, SAG
    ponding), i.e. the model is the truth here. Nowcasts are issued every 15 min from 2 h before the rain to its end
    and are the true rain (optionally passed through ``forecast_error``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "network.inp").write_text(INP)
    (folder / "points.csv").write_text(POINTS)
    obs = folder / "observed"
    obs.mkdir(exist_ok=True)
    (obs / "sensors.csv").write_text(SENSORS)
    fmt = "%Y-%m-%d %H:%M:%S"
    rows = [f"{ts.strftime(fmt)},G1,{v:.1f}" for ts, v in rain.items()]
    (obs / "rain.csv").write_text("ts,gauge_id,rain_mm_h\n" + "\n".join(rows) + "\n")
    lv_j2, dp_sag = _truth_levels(folder, rain)
    lv = [
        f"{ts.strftime(fmt)},LV1,{a:.3f}\n{ts.strftime(fmt)},DP1,{b:.2f}"
        for ts, a, b in zip(rain.index, lv_j2, dp_sag, strict=True)
    ]
    (obs / "levels.csv").write_text("ts,sensor_id,value\n" + "\n".join(lv) + "\n")
    fdir = folder / "forecasts"
    fdir.mkdir(exist_ok=True)
    wet = rain[rain > 0]
    if with_forecasts and len(wet):
        t = wet.index[0].floor("15min") - pd.Timedelta(hours=2)
        while t <= wet.index[-1]:
            fut = rain[(rain.index > t) & (rain.index <= t + pd.Timedelta(hours=2))]
            if forecast_error is not None:
                fut = forecast_error(fut)
            body = "\n".join(f"{ts.strftime(fmt)},G1,{v:.1f}" for ts, v in fut.items())
            (fdir / f"forecast_{t.strftime('%Y%m%dT%H%M')}.csv").write_text(
                "ts,gauge_id,rain_mm_h\n" + body + "\n"
            )
            t += pd.Timedelta(minutes=15)
    return {
        "network": folder / "network.inp",
        "observed": obs,
        "forecasts": fdir,
        "points": folder / "points.csv",
    }


def _truth_levels(folder: Path, rain: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """J2 depth (m) and SAG ponding (m) at every rain time from a continuous SWMM run."""
    from lifeline.drainage.model import SwmmRunner, load_network, write_run_copy

    model = load_network(folder / "network.inp")
    inp = write_run_copy(model, folder / "truth_run", name="truth.inp")
    res = SwmmRunner(inp, ["G1"], ["J2", "SAG"]).run(
        DAY, rain.index[-1], pd.DataFrame({"G1": rain}), record_s=300
    )
    j2 = pd.Series(res.node_depth["J2"], res.times).reindex(rain.index).fillna(0.0)
    sag = pd.Series(model.ponding_m("SAG", res.node_depth["SAG"]), res.times)
    return j2.to_numpy(), sag.reindex(rain.index).fillna(0.0).to_numpy()


def true_flood_start(paths: dict[str, Path], rain: pd.Series, node: str = "SAG") -> pd.Timestamp:
    """First minute the ponding at ``node`` reaches 0.15 m in a continuous 1-min SWMM run."""
    from lifeline.drainage.model import SwmmRunner, load_network, write_run_copy

    model = load_network(paths["network"])
    inp = write_run_copy(model, paths["network"].parent / "truth_run", name="start.inp")
    res = SwmmRunner(inp, ["G1"], [node]).run(
        DAY, rain.index[-1], pd.DataFrame({"G1": rain}), record_s=60
    )
    pond = model.ponding_m(node, res.node_depth[node])
    return res.times[int(np.flatnonzero(pond >= 0.15)[0])]


@pytest.fixture
def make_day(tmp_path: Path) -> Callable[..., dict[str, Path]]:
    """Factory: ``make_day(rain, name=...)`` writes a test day in its own temp folder."""

    def _make(rain: pd.Series, name: str = "day", **kw: object) -> dict[str, Path]:
        return write_day(tmp_path / name, rain, **kw)  # type: ignore[arg-type]

    return _make
