"""`lifeline drill`: load a city, parse the scripted events, simulate the day and publish it
(MQTT, HTTP API, or in-process through a fresh engine), with progress on the console."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from lifeline.errors import InputError
from lifeline.scenarios.events import BurstMain, FeederFault, GasLeak


def describe(ev: Any, city: Any) -> str:
    """One line saying what a scripted event does, with its local start and end."""

    def t(x: Any) -> str:
        return city.local_time(x, "%H:%M") if x is not None else "end of day"

    when = f"{t(ev.start)}–{t(ev.end)}"
    if isinstance(ev, BurstMain):
        return f"water main burst at junction {ev.junction}, {ev.flow_m3h:g} m³/h, {when}"
    if isinstance(ev, FeederFault):
        from lifeline.model.zones import power_feeders
        from lifeline.scenarios.day_power import protection

        feeder_of_bus, heads = power_feeders(city.power)
        p = protection(city.power, ev.line, heads, feeder_of_bus)
        brk = f"breaker switch {p.breaker}" if p.breaker is not None else "no switch in the model"
        fpi = f", FPIs at switches {p.fpi}" if p.fpi else ""
        return f"fault on power line {ev.line}; cleared by line {p.tripped} ({brk}{fpi}), {when}"
    if isinstance(ev, GasLeak):
        return f"gas leak at junction {ev.junction} next to manhole {ev.manhole}, {when}"
    return repr(ev)


def _check_day_over(start: pd.Timestamp, day: pd.Timestamp, tz: str) -> None:
    end = start + pd.Timedelta(days=1)
    if end > pd.Timestamp.now(tz="UTC"):
        raise InputError(
            f"the drill day {day:%Y-%m-%d} ({tz}) is not over yet: readings after now would "
            "be rejected as in the future; choose an earlier date",
            where="--date",
        )


def run_drill(
    city_dir: str | Path,
    specs: list[str],
    date: str | None = None,
    seed: int = 0,
    mqtt: str | None = None,
    api: str | None = None,
    user: str = "",
    password: str = "",
    speed: float | None = None,
    step_s: int = 900,
    db: str | None = None,
    as_json: bool = False,
    console: Console | None = None,
    history_days: int = 2,
) -> int:
    """Run one drill (see ``lifeline drill --help``); returns the exit code (0 done).
    Bad input raises :class:`lifeline.errors.LifelineError` (the CLI's exit 2)."""
    from lifeline.config import get_settings
    from lifeline.model.city import load_city
    from lifeline.scenarios.drill import day_start, drill_date, drill_day, parse_events

    con = console or Console(stderr=True)
    if not specs:
        raise InputError("a drill needs at least one --event KIND:ELEMENT@TIME", where="--event")
    with con.status(f"Loading the city package {city_dir} …"):
        city = load_city(city_dir)
    con.print(
        f"[green]✓[/] city {city.name} ({city.crs}, {city.timezone}): "
        f"{', '.join(city.utilities())}; {len(city.sensors)} sensors, "
        f"{len(city.customers)} customers"
    )
    day = drill_date(specs, city.timezone, date)
    events = parse_events(specs, city, day)
    start = day_start(day, city.timezone)
    _check_day_over(start, day, city.timezone)
    for spec, ev in zip(specs, events, strict=True):
        con.print(f"  --event {spec}: {describe(ev, city)}")
    # connect first: a wrong broker or API fails before minutes of simulation
    pub = _publisher(con, mqtt, api, user, password, get_settings()) if (mqtt or api) else None
    with con.status(
        f"Simulating {day:%Y-%m-%d} (WNTR, pandapower, pandapipes; cached after the first run)…"
    ):
        data = drill_day(
            city, events, seed=seed, day=day, history_days=0 if pub is not None else history_days
        )
    kinds = data.meter_events["kind"].value_counts().to_dict() if len(data.meter_events) else {}
    con.print(
        f"[green]✓[/] day simulated: {len(data.readings):,} readings, "
        f"{len(data.meter_events):,} meter events"
        + (f" ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})" if kinds else "")
        + f", {len(data.complaints)} hotline calls"
    )
    if pub is not None:
        return _publish(con, city, data, pub, speed, step_s)
    from lifeline.scenarios.demo import print_summary
    from lifeline.scenarios.inprocess import drop_embedded_store, run_in_process

    url = drop_embedded_store(db, name="drill")
    summary = run_in_process(
        city,
        data,
        db=url,
        source=f"drill:{day:%Y-%m-%d}",
        step_s=step_s,
        quiet=as_json,
        label="Running the drill through the live engine",
    )
    summary = {"date": f"{day:%Y-%m-%d}", "title": f"Drill {city.name} {day:%Y-%m-%d}", **summary}
    if as_json:
        print(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
    else:
        print_summary(summary)
    return 0


def _publisher(
    con: Console, mqtt: str | None, api: str | None, user: str, password: str, settings: Any
) -> Any:
    """The MQTT or API publisher, connected (MQTT) and logged in (API)."""
    from lifeline.scenarios.publish import ApiPublisher, MqttPublisher, topic_prefix

    http = ApiPublisher.login(api, user, password) if api else None
    if not mqtt:
        con.print(f"Publishing to the API {api} as {user}")
        return http
    pub = MqttPublisher(
        mqtt,
        readings_prefix=topic_prefix(settings.mqtt_topic),
        events_prefix=topic_prefix(settings.mqtt_events_topic),
        api=http,
    )
    pub.connect()
    con.print(
        f"Publishing to MQTT {mqtt} ({pub.readings_prefix}…, {pub.events_prefix}…)"
        + (f", hotline calls to {api} as {user}" if http is not None else "")
    )
    return pub


def _publish(con: Console, city: Any, data: Any, pub: Any, speed: float | None, step_s: int) -> int:
    from lifeline.progress import make_progress
    from lifeline.scenarios.publish import publish_day

    if speed:
        con.print(f"  paced at {speed:g}× real time")
    tty = con.is_terminal
    with make_progress(transient=True, disable=not tty) as bar:
        task = bar.add_task("Publishing the drill", total=None)

        def on_step(t: pd.Timestamp, k: int, n: int) -> None:
            bar.update(task, completed=k, total=n)
            if not tty and (k % max(1, 3600 // step_s) == 0 or k == n):
                sent = pub.sent
                con.print(
                    f"  published to {city.local_time(t)}: {sent['readings']:,} readings, "
                    f"{sent['events']:,} events, {sent['complaints']:,} calls ({k}/{n})"
                )

        publish_day(data, pub, step_s=step_s, speed=speed, on_step=on_step)
    sent = pub.sent
    con.print(
        f"[green]✓[/] published {sent['readings']:,} readings, {sent['events']:,} events, "
        f"{sent['complaints']:,} hotline calls"
    )
    if sent.get("complaints_skipped"):
        con.print(
            f"[yellow]![/] {sent['complaints_skipped']} hotline calls not sent: MQTT carries "
            "readings and events only; add --api URL --user U --password-stdin to post them"
        )
    return 0
