"""Post-incident review: Markdown and HTML report with a timeline plot (PNG) and the evidence.

The report says which detector (or channel) saw the incident first, how long after the onset,
and what was missed: detectors expected for the area that never alarmed, and complaints or
meter events that came before the first alarm (a detection gap worth tuning).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from lifeline.incidents.kpi import incident_kpis
from lifeline.incidents.lifecycle import STATES, Incident
from lifeline.incidents.summary import cascade_line
from lifeline.timefmt import format_local, zone


def findings(
    inc: Incident, expected_detectors: list[str] | None = None, tz: str = "UTC"
) -> dict[str, Any]:
    """First sighting and misses: ``{"first", "first_alarm", "lead_over_alarm_min", "missed"}``.

    Times inside the ``missed`` texts are local to ``tz`` (IANA zone); the ISO times stay UTC.
    """
    ev = sorted(inc.evidence, key=lambda e: e.ts)
    first = ev[0] if ev else None
    alarms = [e for e in ev if e.kind == "alarm"]
    first_alarm = alarms[0] if alarms else None
    missed: list[str] = []
    if first is not None and first.kind != "alarm":
        if first_alarm is None:
            missed.append(
                f"no detector alarmed; the incident was reported first by {first.kind} ({first.source}) at {format_local(first.ts, tz, '%H:%M')}"
            )
        else:
            lag = (first_alarm.ts - first.ts).total_seconds() / 60.0
            missed.append(
                f"{first.kind} ({first.source}) came {lag:.0f} min before the first alarm ({first_alarm.source})"
            )
    fired = {e.source for e in alarms}
    for d in expected_detectors or []:
        if d not in fired:
            missed.append(f"detector {d} covers the area but did not alarm")
    if inc.onset_at and first is not None:
        delay = (first.ts - inc.onset_at).total_seconds() / 60.0
        if delay > 30:
            missed.append(f"first evidence {delay:.0f} min after the onset")
    return {
        "first": {
            "kind": first.kind,
            "source": first.source,
            "evidence_id": first.evidence_id,
            "ts": first.ts.isoformat(),
        }
        if first
        else None,
        "first_alarm": {
            "source": first_alarm.source,
            "evidence_id": first_alarm.evidence_id,
            "ts": first_alarm.ts.isoformat(),
        }
        if first_alarm
        else None,
        "lead_over_alarm_min": ((first_alarm.ts - first.ts).total_seconds() / 60.0)
        if first and first_alarm
        else None,
        "missed": missed,
    }


def timeline_plot(inc: Incident, path: Path, tz: str = "UTC") -> Path:
    """Plot evidence (one row per source) and lifecycle transitions over time, the time axis in
    local time of ``tz`` (IANA zone); writes a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    ev = sorted(inc.evidence, key=lambda e: e.ts)
    rows = sorted({f"{e.kind}:{e.source}" for e in ev})
    fig, ax = plt.subplots(figsize=(10, 2.2 + 0.45 * max(len(rows), 2)))
    colours = {"alarm": "tab:red", "complaint": "tab:blue", "meter_event": "tab:green"}
    for e in ev:
        y = rows.index(f"{e.kind}:{e.source}")
        ax.scatter([mdates.date2num(e.ts)], [y], color=colours.get(e.kind, "grey"), s=36, zorder=3)
    for state in (s for s in STATES if s in inc.timeline):
        t = inc.state_time(state)
        if t is None:
            continue
        ax.axvline(float(mdates.date2num(t)), color="0.5", lw=0.8, ls="--")
        ax.text(
            float(mdates.date2num(t)),
            1.02,
            state,
            transform=ax.get_xaxis_transform(),
            rotation=60,
            fontsize=7,
            color="0.3",
            ha="left",
            va="bottom",
        )
    if inc.onset_at:
        ax.axvline(float(mdates.date2num(inc.onset_at)), color="black", lw=1.2)
        ax.text(
            float(mdates.date2num(inc.onset_at)),
            0.02,
            " onset",
            transform=ax.get_xaxis_transform(),
            fontsize=7,
        )
    ax.set_yticks(range(len(rows)), rows)
    ax.set_ylim(-1, len(rows) + 0.5)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=zone(tz)))
    ax.set_xlabel(f"local time ({tz})")
    ax.set_title(f"{inc.incident_id} — {inc.utility} {inc.kind} grade {inc.grade or '?'}", pad=42)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.1f}"
    return str(v)


def review_markdown(
    inc: Incident, plot_name: str, expected_detectors: list[str] | None = None, tz: str = "UTC"
) -> str:
    """The review report as Markdown (the plot referenced by file name); times local to ``tz``."""

    def loc(ts: Any) -> str:
        return format_local(ts, tz, "%Y-%m-%d %H:%M:%S")

    f = findings(inc, expected_detectors, tz)
    k = incident_kpis(inc)
    lines = [f"# Post-incident review {inc.incident_id}", ""]
    lines += [
        f"- Utility: {inc.utility}; type: {inc.kind or '—'}; grade: {inc.grade or '—'} {inc.grading.get('name_zh', '')}",
        f"- Location: ({_fmt(inc.x_m)}, {_fmt(inc.y_m)}) m, method {inc.location.get('method', '—')}; district {inc.district_id or '—'}",
        f"- State: {inc.state}; routed to {inc.routing.get('level', '—')} {inc.routing.get('unit_id', '')}",
        "",
    ]
    lines += ["## What saw it first", ""]
    if f["first"]:
        lines.append(
            f"First evidence: **{f['first']['kind']} / {f['first']['source']}** ({f['first']['evidence_id']}) at {loc(f['first']['ts'])}."
        )
    if f["first_alarm"]:
        lines.append(
            f"First detector alarm: **{f['first_alarm']['source']}** at {loc(f['first_alarm']['ts'])}."
        )
    lines += ["", "## What was missed", ""]
    lines += [f"- {m}" for m in f["missed"]] or ["- nothing flagged"]
    lines += ["", "## KPIs", "", "| KPI | value |", "|---|---|"]
    lines += [
        f"| {key} | {_fmt(k[key])} |"
        for key in k
        if key.startswith("time_to") or key == "customer_minutes_lost"
    ]
    lines += [
        "",
        "## Timeline",
        "",
        f"![timeline]({plot_name})",
        "",
        f"| time ({tz}) | event | detail |",
        "|---|---|---|",
    ]
    events = [
        (e.ts.isoformat(), f"{e.kind}: {e.source}", f"{e.evidence_id} {e.category}".strip())
        for e in inc.evidence
    ]
    events += [(ts, f"state → {s}", "") for s, ts in inc.timeline.items()]
    lines += [f"| {loc(t)} | {ev} | {d} |" for t, ev, d in sorted(events)]
    lines += [
        "",
        "## Evidence and why it was grouped",
        "",
        "| evidence | kind | rule | values |",
        "|---|---|---|---|",
    ]
    for g in inc.grouping:
        vals = {kk: v for kk, v in g.items() if kk not in ("evidence_id", "kind", "rule")}
        lines.append(f"| {g.get('evidence_id')} | {g.get('kind')} | {g.get('rule')} | {vals} |")
    if inc.cascade:
        lines += ["", "## Cascade", ""]
        lines += [
            f"- {cascade_line(c).replace(' -> ', ' → ')} (customers affected: {_fmt(c.get('customers_affected'))})"
            for c in inc.cascade
        ]
    if inc.actions:
        lines += ["", "## Plan actions", "", "| action | text | cites |", "|---|---|---|"]
        lines += [
            f"| {a['action_id']} | {a['text'].get('en', '')} | {', '.join(a.get('cites', []))} |"
            for a in inc.actions
        ]
    if inc.safety:
        lines += ["", "## Safety review", ""]
        lines += [
            f"- {'PASS' if r['passed'] else 'FAIL'} {r['rule']}: {r['detail']}" for r in inc.safety
        ]
    if inc.approval:
        lines += ["", f"Approved by {inc.approval.get('by')} at {loc(inc.approval.get('at'))}."]
    lines += ["", "## Audit trail", "", "| time | who | action | detail |", "|---|---|---|---|"]
    lines += [
        f"| {loc(a['ts'])} | {a['actor']} | {a['action']} | {a['detail'].get('why', '') if isinstance(a['detail'], dict) else ''} |"
        for a in inc.audit
    ]
    if inc.narrative:
        lines += ["", "## Narrative", "", inc.narrative]
    return "\n".join(lines) + "\n"


def _md_to_html(md: str, title: str) -> str:
    out, in_table = [], False
    for line in md.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(set(c) <= {"-"} for c in cells):
                continue
            if not in_table:
                out.append("<table>")
                in_table = True
            out.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
            continue
        if in_table:
            out.append("</table>")
            in_table = False
        if line.startswith("# "):
            out.append(f"<h1>{html.escape(line[2:])}</h1>")
        elif line.startswith("## "):
            out.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("!["):
            src = line[line.index("(") + 1 : line.rindex(")")]
            out.append(f'<img src="{html.escape(src)}" alt="timeline" style="max-width:100%">')
        elif line.startswith("- "):
            out.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            out.append(f"<p>{html.escape(line).replace('**', '')}</p>")
    if in_table:
        out.append("</table>")
    style = "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}td{border:1px solid #ccc;padding:2px 6px;font-size:12px}"
    return f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{style}</style></head><body>{''.join(out)}</body></html>\n"


def write_review(
    inc: Incident, out_dir: Path, expected_detectors: list[str] | None = None, tz: str = "UTC"
) -> dict[str, Path]:
    """Write ``<id>.md``, ``<id>.html`` and ``<id>-timeline.png`` into ``out_dir``; returns the paths.

    Times are shown in local time of ``tz`` (IANA zone) with its abbreviation.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    png = timeline_plot(inc, out_dir / f"{inc.incident_id}-timeline.png", tz)
    md = review_markdown(inc, png.name, expected_detectors, tz)
    md_path = out_dir / f"{inc.incident_id}.md"
    md_path.write_text(md, encoding="utf-8")
    html_path = out_dir / f"{inc.incident_id}.html"
    html_path.write_text(_md_to_html(md, f"Review {inc.incident_id}"), encoding="utf-8")
    return {"markdown": md_path, "html": html_path, "plot": png}
