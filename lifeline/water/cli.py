"""`lifeline water` commands: leak detection, BattLeDIM scoring, isolation and impact."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(
    help="Water networks (EPANET/WNTR): leaks, scoring, isolation and impact.", no_args_is_help=True
)


@app.command("leaks")
def leaks_cmd(
    network: Path = typer.Option(
        ..., "--network", help="EPANET INP file of the network (nominal model)."
    ),
    scada: Path = typer.Option(
        ...,
        "--scada",
        help="Folder in the BattLeDIM layout (<year>_SCADA_Pressures.csv required; Flows, Levels, Demands optional).",
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        help="Results file to write (BattLeDIM format: 'pipe, YYYY-MM-DD HH:MM' per line).",
    ),
    history: Path | None = typer.Option(
        None, "--history", help="Folder of earlier SCADA data (same layout) to calibrate on."
    ),
    history_truth: Path | None = typer.Option(
        None,
        "--history-truth",
        help="Truth folder for --history (leaks.csv, leak_outflow.csv) to tune thresholds.",
    ),
    balance: bool = typer.Option(
        False,
        "--balance/--no-balance",
        help="Kept for compatibility, no effect: the balance-episode channel that locates "
        "rises of leakage from night pressures runs in every run. The rises are always "
        "listed as # comments.",
    ),
    refine_bursts: bool | None = typer.Option(
        None,
        "--refine-bursts/--no-refine-bursts",
        help="Place each burst the hourly channel reports by simulating its 50 best-fitting "
        "pipes with EPANET at the burst's size and hour, instead of the linear leak "
        "signatures. Default: only where the network's response to a leak depends on the "
        "hour of the day (the results header says which; docs/water.md).",
    ),
) -> None:
    """Detect and localise leaks; write one line per detected leak (pipe id, detection time)."""
    from lifeline.water.pipeline import run_leaks, write_results

    report: dict = {}
    dets = run_leaks(
        network,
        scada,
        history,
        history_truth,
        report=report,
        balance=balance,
        refine=refine_bursts,
    )
    header = [f"lifeline water leaks on {scada}", f"params {json.dumps(report.get('params', {}))}"]
    if report.get("dropped_sensors"):
        header.append(
            f"dropped pressure sensors (more than half missing): {' '.join(report['dropped_sensors'])}"
        )
    if report.get("burst_placement"):
        header.append(f"burst placement: {report['burst_placement']}")
    if isinstance(report.get("balance_sigma"), float):
        header.append(
            f"water balance: daily leakage estimate sigma {report['balance_sigma']:.2f} (flow unit)"
        )
    ft = report.get("fast_thresholds")
    if ft:
        header.append(
            f"burst channel: learnt on history: CUSUM threshold {ft['h']}, "
            f"step gate {ft['step_gate']['value']} sigma"
            + (
                f", night gate {ft['step_gate']['night']['value']} sigma"
                if (ft["step_gate"].get("night") or {}).get("value") is not None
                else ""
            )
            + (f"; {report['bursts']}" if str(report.get("bursts", "on")) != "on" else "")
        )
    if report.get("slow"):
        th = report.get("slow_history")
        header.append(
            f"slow channel (balance episodes): {report['slow']}"
            + (
                f"; learnt on history: gain {th['gain']}, flow ratio {th['flow_ratio']}"
                if th
                else ""
            )
        )
    gr = report.get("growth")
    if gr:
        header.append(
            f"growth channel (balance rises located from the growth of hourly residuals): "
            f"confidence threshold learnt on history {gr['confidence']}"
        )
    for r in report.get("balance_rises", []):
        header.append(
            f"water balance: leakage rose by {r['rise']:.1f} from {r['from']} (alarm {r['alarm']})"
        )
    write_results(dets, out, header)
    typer.echo(f"{len(dets)} leak(s) detected; results written to {out}")


@app.command("score")
def score_cmd(
    network: Path = typer.Option(
        ..., "--network", help="EPANET INP file (for pipe-path distances)."
    ),
    truth: Path = typer.Option(
        ..., "--truth", help="Truth folder with leaks.csv and leak_outflow.csv (m³/h)."
    ),
    submission: Path = typer.Option(
        ..., "--submission", help="Results file in the BattLeDIM format."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
) -> None:
    """Official BattLeDIM economic score of a submission: score (EUR), TP, FP, fraction of perfect."""
    from lifeline.water.network import load_network, pipe_graph
    from lifeline.water.scada import read_truth
    from lifeline.water.score import read_submission, score

    graph = pipe_graph(load_network(network))
    leaks, outflow = read_truth(truth)
    subs = read_submission(submission, set(graph.pipes))
    res = score(subs, leaks, outflow, graph)
    if as_json:
        typer.echo(json.dumps(res.as_dict(), indent=2))
        return
    typer.echo(f"score {res.score_eur:.2f} EUR  TP {res.tp}  FP {res.fp}  FN {res.fn}")
    typer.echo(f"perfect {res.perfect_eur:.2f} EUR  fraction of perfect {100 * res.fraction:.1f} %")
    for m in res.matches:
        typer.echo(f"  {m}")


@app.command("isolate")
def isolate_cmd(
    network: Path = typer.Option(..., "--network", help="EPANET INP file."),
    pipe: str = typer.Option(
        ..., "--pipe", help="Id of the pipe to isolate (e.g. a located leak)."
    ),
    valves: Path | None = typer.Option(
        None,
        "--valves",
        help="Valve layer CSV (valve,node,link); generated (strategic N-1) and cached when absent.",
    ),
    customers: Path | None = typer.Option(
        None, "--customers", help="Customers CSV (customer_id,node,category,critical)."
    ),
    as_json: bool = typer.Option(
        False, "--json", help="Print JSON instead of the readable summary."
    ),
    no_simulation: bool = typer.Option(
        False, "--no-simulation", help="Skip the pressure-driven check of the closed network."
    ),
) -> None:
    """Valves to close, segment, customers and critical sites losing water, volume lost per hour."""
    from lifeline.water.isolate import isolate, summary

    res = isolate(network, pipe, valves, customers, simulate=not no_simulation)
    typer.echo(json.dumps(res, indent=2) if as_json else summary(res))
