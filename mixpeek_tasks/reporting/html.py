"""`make report`: one self-contained HTML page of charts and tables for operators.

Charts are drawn by plotly.js, inlined once in the page, so the file opens anywhere (a laptop,
an air-gapped server, a mail attachment) with no network. It reads only the analysts' views.
"""

from __future__ import annotations

import argparse
import html
import os
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import plotly.graph_objects as go

from mixpeek_tasks.atomic_files import replace_atomically
from mixpeek_tasks.reporting.markdown import format_cell
from mixpeek_tasks.reporting.queries import (
    DAILY_SUMMARY,
    FAILURE_REASONS,
    LATENCY,
    STUCK,
    STUCK_THRESHOLD,
    SUCCESS_OVER_TIME,
)
from mixpeek_tasks.warehouse.database import DEFAULT_STUCK_AFTER_HOURS, QueryResult, Warehouse

REPORT_FILE = "index.html"
TOP_REASONS = 10
TABLE_ROWS = 25
_LAYOUT = dict(template="plotly_white", height=460, margin=dict(l=10, r=10, t=50, b=10),
               legend=dict(font=dict(size=10)))


def _rows(result: QueryResult) -> list[dict]:
    return [dict(zip(result.columns, row)) for row in result.rows]


def success_rate_chart(result: QueryResult) -> go.Figure:
    by_type: dict[str, list[dict]] = defaultdict(list)
    for row in _rows(result):
        by_type[row["task_type"]].append(row)
    figure = go.Figure([
        go.Scatter(x=[r["week"] for r in rows], y=[r["success_rate"] for r in rows],
                   customdata=[r["terminal"] for r in rows], mode="lines+markers", name=task_type,
                   hovertemplate="week of %{x}: %{y:.1%} of %{customdata} finished<extra>"
                                 + task_type + "</extra>")
        for task_type, rows in sorted(by_type.items())
    ])
    figure.update_layout(title="Success rate (COMPLETED / terminal) by week created",
                         yaxis=dict(tickformat=".0%", range=[0, 1.02]), **_LAYOUT)
    return figure


def latency_chart(result: QueryResult) -> go.Figure:
    rows = _rows(result)
    labels = [f"{r['task_type']} · {r['duration_source']} (n={r['tasks']})" for r in rows]
    figure = go.Figure()
    for column, symbol in (("p50_seconds", "circle"), ("p90_seconds", "diamond"),
                           ("p99_seconds", "x")):
        figure.add_trace(go.Scatter(
            x=[r[column] for r in rows], y=labels, mode="markers", name=column.split("_")[0],
            marker=dict(symbol=symbol, size=9),
            error_x=dict(type="data", array=[r["error_bar_seconds"] or 0 for r in rows],
                         visible=column == "p50_seconds"),
            hovertemplate="%{y}<br>" + column.split("_")[0] + " %{x:.1f}s<extra></extra>"))
    figure.update_layout(
        title="Latency per task type and source (seconds, log scale; error bar = export interval"
              " for observed durations)",
        xaxis=dict(type="log"), **{**_LAYOUT, "height": 120 + 24 * max(len(rows), 1)})
    return figure


def failure_chart(result: QueryResult) -> go.Figure:
    totals: dict[str, int] = defaultdict(int)
    for row in _rows(result):
        totals[row["reason"]] += row["failures"]
    top = sorted(totals, key=lambda reason: (-totals[reason], reason))[:TOP_REASONS]
    per_type: dict[str, dict[str, int]] = defaultdict(dict)
    for row in _rows(result):
        if row["reason"] in top:
            per_type[row["task_type"]][row["reason"]] = row["failures"]
    figure = go.Figure([
        go.Bar(y=top[::-1], x=[counts.get(reason, 0) for reason in top[::-1]],
               orientation="h", name=task_type)
        for task_type, counts in sorted(per_type.items())
    ])
    figure.update_layout(title=f"Top {TOP_REASONS} failure reasons (ids and numbers removed)",
                         barmode="stack", yaxis=dict(automargin=True), **_LAYOUT)
    return figure


def stuck_chart(result: QueryResult) -> go.Figure:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in _rows(result):
        counts[row["status"]][row["task_type"]] += 1
    task_types = sorted({row["task_type"] for row in _rows(result)})
    figure = go.Figure([
        go.Bar(x=task_types, y=[per_type.get(t, 0) for t in task_types], name=status)
        for status, per_type in sorted(counts.items())
    ])
    figure.update_layout(title="Stuck tasks by task type and status", barmode="stack", **_LAYOUT)
    return figure


def html_table(result: QueryResult, limit: int = TABLE_ROWS) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in result.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(format_cell(v))}</td>" for v in row) + "</tr>"
        for row in result.rows[:limit])
    more = (f"<p class=more>{len(result.rows) - limit:,} more rows in the warehouse</p>"
            if len(result.rows) > limit else "")
    return (f"<div class=scroll><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            f"</table></div>{more}")


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#222}
h1{margin-bottom:.2rem} .meta{color:#666;margin-top:0}
section{margin:2rem 0} table{border-collapse:collapse;font-size:.8rem;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4} .more{color:#666;font-size:.8rem} .scroll{overflow-x:auto}
"""


def render_report(warehouse: Warehouse) -> str:
    """The report page as one HTML string."""
    stuck = warehouse.query(STUCK)
    (threshold,) = warehouse.query(STUCK_THRESHOLD).rows[0]
    sections = [
        ("success", "Success rate over time", success_rate_chart(warehouse.query(
            SUCCESS_OVER_TIME)), None),
        ("latency", "Latency distribution", latency_chart(warehouse.query(LATENCY)), None),
        ("failures", "Top failure reasons", failure_chart(warehouse.query(FAILURE_REASONS)),
         None),
        ("stuck", f"Stuck tasks (in flight for more than {threshold:g} hours)",
         stuck_chart(stuck), html_table(stuck)),
    ]
    parts = []
    for index, (key, heading, figure, table) in enumerate(sections):
        chart = figure.to_html(full_html=False, include_plotlyjs=index == 0,
                               div_id=f"chart-{key}", config={"displaylogo": False})
        parts.append(f"<section id={key}><h2>{html.escape(heading)}</h2>{chart}"
                     f"{table or ''}</section>")
    parts.append("<section id=daily><h2>Daily summary</h2>"
                 f"{html_table(warehouse.query(DAILY_SUMMARY))}</section>")
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>Mixpeek task history</title><style>{_STYLE}</style></head><body>"
        "<h1>Mixpeek task history</h1>"
        f"<p class=meta>Generated {generated} from {html.escape(str(warehouse.path))}</p>"
        + "".join(parts) + "</body></html>"
    )


def write_report(warehouse: Warehouse, report_dir: Path) -> Path:
    """Write the report to `report_dir/index.html`, replacing the previous one atomically."""
    report_dir.mkdir(parents=True, exist_ok=True)
    page = render_report(warehouse)
    return replace_atomically(report_dir / REPORT_FILE,
                              lambda path: path.write_text(page, encoding="utf-8"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mixpeek_tasks.reporting.html",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--stuck-after-hours", type=float, default=DEFAULT_STUCK_AFTER_HOURS)
    args = parser.parse_args(argv)
    export_dir = Path(os.environ.get("MIXPEEK_EXPORT_DIR", "./data"))
    warehouse = Warehouse(export_dir / "warehouse.duckdb")
    if not warehouse.path.exists():
        raise SystemExit(f"no warehouse at {warehouse.path}: run `make demo` or an export first")
    warehouse.build_views(stuck_after_hours=args.stuck_after_hours)
    print(write_report(warehouse, export_dir / "report"))


if __name__ == "__main__":
    main()
