"""`lifeline power` commands: outage location + FLISR, grid monitoring, load forecast."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(
    help="Power distribution: outage inference from meters/calls/protection, FLISR, monitoring.",
    no_args_is_help=True,
)


@app.command("locate")
def locate_cmd(
    network: Path = typer.Option(
        ..., "--network", help="pandapower network saved with pandapower.to_json."
    ),
    events: Path = typer.Option(
        ...,
        "--events",
        help="EVENTS.csv with ts,kind,ref; kind: breaker_trip|fpi (ref switch), last_gasp|restore|call (ref load).",
    ),
    fpi_installed: Path | None = typer.Option(
        None,
        "--fpi-installed",
        help="FPI.csv with one column 'switch': switches fitted with a fault passage indicator.",
    ),
    out: Path = typer.Option(..., "--out", help="Where to write the result JSON."),
) -> None:
    """Name the operated device, the fault section and a power-flow-verified restoration plan."""
    from lifeline.power.locate import locate_files

    result = locate_files(network, events, fpi_installed, out)
    dev = result["outage_device"]
    typer.echo(
        f"device={dev} fault_section_lines={len(result['fault_section']['lines'])} "
        f"unsupplied={len(result['unsupplied_loads'])} restored={len(result['restored_loads'])} -> {out}"
    )


def _read_table(path: Path, what: str, need: set[str]):  # type: ignore[no-untyped-def]
    import pandas as pd

    from lifeline.errors import InputError

    if not path.is_file():
        raise InputError(f"{what} file not found", str(path))
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # pandas raises many kinds on malformed files
        raise InputError(f"cannot read {what}: {exc}", str(path)) from exc
    missing = need - set(df.columns)
    if missing:
        raise InputError(f"missing column(s) {sorted(missing)}", f"{path}:1")
    return df


@app.command("monitor")
def monitor_cmd(
    network: Path = typer.Option(
        ..., "--network", help="pandapower network JSON (pandapower.to_json)."
    ),
    sensors: Path = typer.Option(
        ..., "--sensors", help="Sensor table CSV/Parquet: sensor_id, asset_id, quantity."
    ),
    readings: Path = typer.Option(
        ..., "--readings", help="Readings CSV/Parquet in long layout: sensor_id, ts, value."
    ),
    history: Path | None = typer.Option(
        None, "--history", help="Feeder-head history (long layout) to learn the day-ahead forecast."
    ),
    forecast_from: str | None = typer.Option(
        None, "--forecast-from", help="UTC start of the 24 h overload forecast (needs --history)."
    ),
    v_band: float = typer.Option(
        0.07,
        "--v-band",
        min=0.001,
        max=0.5,
        help="Allowed voltage deviation from 1 pu (0.07 = ±7 %).",
    ),
    out: Path = typer.Option(..., "--out", help="Alarm rows CSV (schema alarm)."),
) -> None:
    """Estimate the grid state every 15 min from measurements and write alarms (overload,
    voltage outside the band, customers without supply, forecast overloads)."""
    import pandas as pd

    from lifeline.cliopts import parse_time
    from lifeline.errors import InputError
    from lifeline.power.locate import load_network
    from lifeline.power.monitor import GridMonitor, MonitorConfig
    from lifeline.progress import track

    if forecast_from and history is None:
        raise InputError("the forecast needs --history to learn from", where="--forecast-from")
    start = pd.Timestamp(parse_time(forecast_from, "--forecast-from")) if forecast_from else None
    net = load_network(network)
    sens = _read_table(sensors, "sensors", {"sensor_id", "asset_id", "quantity"})
    rd = _read_table(readings, "readings", {"sensor_id", "ts", "value"})
    mon = GridMonitor(net, sens, MonitorConfig(v_band_pu=v_band))
    rd["ts"] = pd.to_datetime(rd["ts"], utc=True)
    days = [g for _, g in rd.groupby(rd["ts"].dt.floor("1D"))]
    parts = [mon.alarms(g) for g in track(days, "monitoring (days)")]
    if history is not None:
        mon.learn(_read_table(history, "history", {"sensor_id", "ts", "value"}))
        if start is not None:
            parts.append(mon.forecast_alarms(start))
    parts = [p for p in parts if not p.empty]
    alarms = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    out.parent.mkdir(parents=True, exist_ok=True)
    alarms.to_csv(out, index=False)
    counts = alarms.detector.value_counts().to_dict() if len(alarms) else {}
    typer.echo(f"{len(alarms)} alarms {counts} -> {out}")
