"""Local times with their zone for people; UTC stays in data and the API."""

from __future__ import annotations

import pandas as pd
import pytest

from lifeline.errors import ConfigError
from lifeline.timefmt import format_local


def test_summer_and_winter_time_in_the_demo_town_and_chongqing() -> None:
    from lifeline.datasets.town import TIMEZONE

    assert format_local("2026-07-15T03:10:00Z", TIMEZONE) == "2026-07-15 05:10 CEST"
    assert format_local(pd.Timestamp("2026-01-15 03:10"), TIMEZONE) == "2026-01-15 04:10 CET"
    assert format_local("2026-07-15T03:10:00+00:00", "Asia/Shanghai") == "2026-07-15 11:10 CST"


def test_offset_only_zones_missing_values_and_bad_zones() -> None:
    assert format_local("2026-01-15T03:10:00Z", "Asia/Kathmandu") == "2026-01-15 08:55 UTC+05:45"
    assert format_local("2026-07-15T03:10:00Z", "America/Sao_Paulo") == "2026-07-15 00:10 UTC-03"
    assert format_local(None, "UTC") == "-" and format_local(pd.NaT, "UTC", missing="") == ""
    with pytest.raises(ConfigError, match="Mars/Olympus"):
        format_local("2026-01-15T03:10:00Z", "Mars/Olympus")
