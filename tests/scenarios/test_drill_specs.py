"""Drill event specs (``KIND:ELEMENT@TIME``) on the second test city: what they become, and
errors that name the ``--event`` (or ``--date``) at fault."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pandas as pd
import pytest

from lifeline.errors import InputError, LifelineError, NotFoundError
from lifeline.scenarios.drill import (
    burst_flow_m3h,
    day_start,
    drill_date,
    parse_event,
    parse_events,
)
from lifeline.scenarios.events import BurstMain, FeederFault, GasLeak
from tests.scenarios.conftest import YKT

DAY = pd.Timestamp("2026-07-15")


def test_local_times_on_the_drill_date(ykt: Any) -> None:
    ev = parse_event("burst:101@03:10", ykt, DAY)
    # Asia/Shanghai is UTC+8: 03:10 local on 07-15 is 19:10 UTC on 07-14
    assert ev.start == pd.Timestamp("2026-07-14T19:10:00Z")
    assert ev.end == ev.start + pd.Timedelta(hours=4)
    iso = parse_event("burst:101@2026-07-15T03:10:00+08:00", ykt, DAY)
    assert iso.start == ev.start
    naive = parse_event("burst:101@2026-07-15T03:10", ykt, DAY)  # local when no offset
    assert naive.start == ev.start
    assert day_start(DAY, ykt.timezone) == pd.Timestamp("2026-07-14T16:00:00Z")


def test_each_kind_becomes_its_event_on_the_city_models(ykt: Any) -> None:
    burst = parse_event("burst:101@03:10", ykt, DAY)
    pipe = ykt.water.get_link("101")
    assert isinstance(burst, BurstMain)
    assert burst.junction in (pipe.start_node_name, pipe.end_node_name)
    assert burst.junction in ykt.water.junction_name_list
    assert burst.flow_m3h == burst_flow_m3h(pipe.diameter) > 40.0  # an 18-inch main
    fault = parse_event("feeder_fault:20@15:40", ykt, DAY)
    assert isinstance(fault, FeederFault)
    assert fault.line == int(ykt.power.switch.at[20, "element"])
    assert parse_event("feeder_fault:6@15:40", ykt, DAY).line == 6  # a line index works too
    # switch 16 is on line 4; line:16 is the pumping station's cable
    assert parse_event("feeder_fault:switch:16@15:40", ykt, DAY).line == 4
    assert parse_event("feeder_fault:16@15:40", ykt, DAY).line == 4
    assert parse_event("feeder_fault:line:16@15:40", ykt, DAY).line == 16
    leak = parse_event("gas_leak:21@09:20", ykt, DAY)
    assert isinstance(leak, GasLeak) and leak.junction == 21
    manholes = ykt.assets[ykt.assets.kind == "manhole"].set_index("asset_id")
    assert leak.manhole in manholes.index
    jx, jy = ykt.gas.junction_geodata.loc[21, ["x", "y"]]
    d = ((manholes.x_m - jx) ** 2 + (manholes.y_m - jy) ** 2) ** 0.5
    assert d.idxmin() == leak.manhole


def test_burst_flow_grows_with_the_main() -> None:
    assert burst_flow_m3h(0.1) == burst_flow_m3h(0.15) == 40.0
    assert burst_flow_m3h(0.3) == pytest.approx(160.0)


@pytest.mark.parametrize(
    ("spec", "error", "words"),
    [
        ("burst:P404@03:10", NotFoundError, "no water pipe 'P404'"),
        ("feeder_fault:999@15:40", NotFoundError, "no line switch or line 999"),
        ("feeder_fault:S1@15:40", InputError, "not a switch or line index"),
        ("feeder_fault:bus:3@15:40", InputError, "not a switch or line index"),
        ("feeder_fault:line:99@15:40", NotFoundError, "no line 99"),
        ("feeder_fault:switch:6@15:40", NotFoundError, "no line switch 6"),
        ("gas_leak:9999@09:20", NotFoundError, "no gas junction '9999'"),
        ("flood:1@03:00", InputError, "KIND one of burst, feeder_fault, gas_leak"),
        ("burst:101", InputError, "expected KIND:ELEMENT@TIME"),
        ("burst@03:10", InputError, "expected KIND:ELEMENT@TIME"),
        ("burst:101@24:10", InputError, "not HH:MM or ISO 8601"),
        ("burst:101@noon", InputError, "not HH:MM or ISO 8601"),
    ],
)
def test_bad_specs_name_the_option(
    ykt: Any, spec: str, error: type[LifelineError], words: str
) -> None:
    with pytest.raises(error) as exc:
        parse_event(spec, ykt, DAY)
    assert exc.value.where == f"--event {spec}"
    assert words in exc.value.message


def test_events_must_fall_on_the_drill_day(ykt: Any) -> None:
    with pytest.raises(InputError) as exc:
        parse_events(["burst:101@03:10", "gas_leak:21@2026-07-16T09:00+08:00"], ykt, DAY)
    assert exc.value.where == "--event gas_leak:21@2026-07-16T09:00+08:00"
    assert "not on the drill date 2026-07-15" in exc.value.message
    with pytest.raises(InputError) as none:
        parse_events([], ykt, DAY)
    assert none.value.where == "--event"


def test_drill_date() -> None:
    tz = "Asia/Shanghai"
    assert drill_date(["burst:1@03:10"], tz, "2026-07-15") == DAY
    assert drill_date(["burst:1@03:10", "burst:1@2026-05-02T08:00+08:00"], tz) == pd.Timestamp(
        "2026-05-02"
    )
    yesterday = (pd.Timestamp.now(tz=tz) - pd.Timedelta(days=1)).date()
    assert drill_date(["burst:1@03:10"], tz).date() == yesterday
    for bad in ("15.07.2026", "2026-07-15T03:00"):
        with pytest.raises(InputError) as exc:
            drill_date([], tz, bad)
        assert exc.value.where == "--date"


def test_cli_reports_a_bad_spec_in_one_line_with_exit_2() -> None:
    env = {**os.environ}
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "lifeline.cli",
            "drill",
            "--city",
            str(YKT),
            "--event",
            "burst:P404@03:10",
            "--date",
            "2026-07-15",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    assert "error: --event burst:P404@03:10: no water pipe 'P404'" in out.stderr
    future = subprocess.run(
        [
            sys.executable,
            "-m",
            "lifeline.cli",
            "drill",
            "--city",
            str(YKT),
            "--event",
            "burst:101@03:10",
            "--date",
            "2099-01-01",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert future.returncode == 2 and "error: --date: the drill day 2099-01-01" in future.stderr
