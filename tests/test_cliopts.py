"""Option values that typer cannot check by type: one-line errors naming the option, exit 2."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from lifeline.cliopts import parse_day, parse_period, parse_time
from lifeline.errors import InputError


def test_times_days_and_periods() -> None:
    assert parse_time("2026-07-15T09:30:00Z", "--at") == datetime(2026, 7, 15, 9, 30, tzinfo=UTC)
    assert parse_time("2026-07-15 11:30+02:00", "--at") == datetime(2026, 7, 15, 9, 30, tzinfo=UTC)
    assert parse_time("2026-07-15", "--at") == datetime(2026, 7, 15, tzinfo=UTC)
    for bad in ("yesterday", "09:60", "09:30", "2026-07-15T25:00"):
        with pytest.raises(InputError, match="--at"):
            parse_time(bad, "--at")
    assert parse_day(" 2026-07-15", "--date") == "2026-07-15"
    for bad in ("2026-13-01", "2026-02-30", "garbage"):
        with pytest.raises(InputError, match="--date: .*YYYY-MM-DD"):
            parse_day(bad, "--date")
    assert parse_period("W", "--freq") == "W"
    with pytest.raises(InputError, match="--freq"):
        parse_period("XYZ", "--freq")


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (
            [
                "incidents",
                "advance",
                "INC-X",
                "confirmed",
                "--actor",
                "a",
                "--why",
                "b",
                "--at",
                "yesterday",
            ],
            "--at",
        ),
        (
            [
                "incidents",
                "advance",
                "INC-X",
                "confirmed",
                "--actor",
                "a",
                "--why",
                "b",
                "--at",
                "09:60",
            ],
            "--at",
        ),
        (["incidents", "kpis", "--freq", "XYZ"], "--freq"),
        (["demo", "--headless", "--date", "2026-13-01"], "--date"),
        (["serve", "--date", "garbage", "--replay"], "--date"),
        (["ingest", "--now", "yesterday", "x.csv"], "--now"),
        (["demo", "--speed", "-5"], "--speed"),
        (["serve", "--port", "70000"], "--port"),
        (["sensors", "place", "--n", "0"], "--n"),
        (["risk", "rank", "--year", "99999"], "--year"),
        (
            ["power", "monitor", "--network", "n.json", "--sensors", "s.csv", "--readings", "r.csv"]
            + ["--out", "o.csv", "--history", "h.csv", "--forecast-from", "tomorrow"],
            "--forecast-from",
        ),
    ],
)
def test_bad_values_give_one_line_naming_the_option(
    args: list[str],
    option: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lifeline.cli import main

    monkeypatch.setattr(sys, "argv", ["lifeline", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert option in err and "Traceback" not in err
