"""A small city package with a storm sewer, built for the drainage loop tests.

Power: the YKT test city's CIGRE MV grid (tests/data/cities/ykt/power.json, EPSG:32648). Drainage
(SWMM 5, written here): three street manholes J1 -> J2 -> J3 -> outfall OF1 on gauge G1, and an
underpass UP next to the hospital's 20/0.4 kV substation (transformer 2) drained to the sump UPW
by its pump P1 (starts at 0.8 m, 0.12 m³/s) into J3. A heavy storm overwhelms the pump and floods
the underpass — and the substation depends on it staying dry (``flooding``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

YKT = Path(__file__).resolve().parent.parent / "data" / "cities" / "ykt"
X0, Y0 = 649775.0, 3273553.0  # 25 m east of the hospital substation (trafo 2, bus 16)

INP = f"""[TITLE]
;;lifeline drainage test city (synthetic)

[OPTIONS]
FLOW_UNITS            CMS
INFILTRATION          HORTON
FLOW_ROUTING          DYNWAVE
LINK_OFFSETS          DEPTH
ALLOW_PONDING         YES
START_DATE            01/01/2026
START_TIME            00:00:00
END_DATE              01/02/2026
END_TIME              00:00:00
REPORT_STEP           0:05:00
WET_STEP              00:01:00
DRY_STEP              00:05:00
ROUTING_STEP          10
VARIABLE_STEP         0.75
MINIMUM_STEP          0.5
THREADS               1

[RAINGAGES]
G1      INTENSITY 0:05  1.0  TIMESERIES RAIN_G1

[SUBCATCHMENTS]
S1      G1      J1      6.0    70   300   2.0   0
S2      G1      J2      5.0    70   250   2.0   0
SUP     G1      UP      2.5    95   200   3.0   0

[SUBAREAS]
S1      0.013  0.15  1.5  4.0  25  OUTLET
S2      0.013  0.15  1.5  4.0  25  OUTLET
SUP     0.013  0.15  1.5  4.0  25  OUTLET

[INFILTRATION]
S1      75.0    8.0    4.0  7   0
S2      75.0    8.0    4.0  7   0
SUP     75.0    8.0    4.0  7   0

[JUNCTIONS]
J1      212.0  2.5   0  0  3000
J2      210.5  2.5   0  0  3000
J3      209.0  2.5   0  0  3000
UP      207.0  1.0   0  0  500

[OUTFALLS]
OF1     207.5  FREE  NO

[STORAGE]
UPW     203.0  6.0   0  FUNCTIONAL  0  0  40  0  0

[CONDUITS]
C1      J1    J2    150   0.013  0  0  0  0
C2      J2    J3    150   0.013  0  0  0  0
C3      J3    OF1   100   0.013  0  0  0  0
CUP     UP    UPW   30    0.013  0  1.0  0  0

[PUMPS]
P1      UPW   J3    PC1   ON  0.8  0.3

[XSECTIONS]
C1      CIRCULAR   0.8   0  0  0  1
C2      CIRCULAR   1.0   0  0  0  1
C3      CIRCULAR   1.0   0  0  0  1
CUP     CIRCULAR   0.6   0  0  0  1

[CURVES]
PC1     Pump2  10.0  0.12

[TIMESERIES]
RAIN_G1  01/01/2026 00:00  0.0

[REPORT]
NODES ALL
LINKS ALL

[COORDINATES]
J1      {X0 - 300:.1f}  {Y0 + 60:.1f}
J2      {X0 - 150:.1f}  {Y0 + 60:.1f}
J3      {X0:.1f}  {Y0 + 60:.1f}
OF1     {X0 + 100:.1f}  {Y0 + 60:.1f}
UP      {X0:.1f}  {Y0:.1f}
UPW     {X0 + 20:.1f}  {Y0 + 10:.1f}
"""


def build(folder: Path) -> Path:
    """Write the package into ``folder`` and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(YKT / "power.json", folder / "power.json")
    (folder / "drainage.inp").write_text(INP, encoding="utf-8")
    (folder / "city.yaml").write_text(
        "name: Drainage test city\nname_zh: 排水测试城\ncrs: EPSG:32648\n"
        "timezone: Asia/Shanghai\nnetworks:\n  power: power.json\n  drainage: drainage.inp\n",
        encoding="utf-8",
    )
    cust = pd.read_csv(YKT / "customers.csv", dtype=str)
    cust["water_node"] = ""
    cust["gas_junction"] = ""
    cust.to_csv(folder / "customers.csv", index=False)
    (folder / "sensors.csv").write_text(
        "sensor_id,utility,quantity,unit,element,x,y,interval_s,valid_min,valid_max,host\n"
        f"RG1,drainage,rain_mm_h,mm/h,gauge:G1,{X0 - 150},{Y0 + 200},300,0,300,\n"
        "LV-J2,drainage,level_m,m,node:J2,,,300,0,10,\n"
        "LV-J3,drainage,level_m,m,node:J3,,,300,0,10,\n"
        "LV-UPW,drainage,level_m,m,node:UPW,,,300,0,10,\n"
        "DP-UP,drainage,depth_m,m,node:UP,,,300,0,5,\n"
        "PS-P1,drainage,pump_on,1,link:P1,,,300,0,1,\n"
        "PV-B16,power,voltage_pu,pu,bus:16,,,300,0.5,1.5,\n",
        encoding="utf-8",
    )
    (folder / "waterlogging_points.csv").write_text(
        "point_id,node,threshold_m,name,name_zh\n"
        "WP-UP,UP,0.27,Hospital underpass,医院下穿通道\n"
        "WP-J2,J2,0.15,Low street at J2,J2低洼路段\n",
        encoding="utf-8",
    )
    (folder / "dependencies.csv").write_text(
        "asset,depends_on,kind,distance_m\npower:trafo:2,drainage:node:UP,flooding,25\n",
        encoding="utf-8",
    )
    return folder
