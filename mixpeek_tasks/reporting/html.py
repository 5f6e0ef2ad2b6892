"""`make report`: one self-contained HTML page of charts and tables for operators.

Charts are drawn by plotly.js, inlined once in the page, so the file opens anywhere (a laptop,
an air-gapped server, a mail attachment) with no network. It reads only the analysts' views.
"""

from __future__ import annotations

import argparse
import html
import math
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mixpeek_tasks.atomic_files import replace_atomically
from mixpeek_tasks.preflight import PreflightError, warehouse_from_environment
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
# Every series names its colour: plotly's default palette repeats after ten series, and a colour
# that depends on which series a night happens to have means something else in the next report.
# Task types are told apart by panel titles, not colours: there are too many to colour apart.
_ACCENT = "#1f5fa8"
_CONTEXT = "#b5b5b5"
_FAILURE = "#c0392b"
_PERCENTILES = {"p50": "#1f5fa8", "p90": "#e08a00", "p99": "#c0392b"}
# stuck_tasks lists in-flight tasks only.
_STATUSES = {"PENDING": "#9e9e9e", "QUEUED": "#6a3d9a", "IN_PROGRESS": "#1f78b4",
             "PROCESSING": "#33a02c"}
SUCCESS_COLUMNS = 4
FAILURE_COLUMNS = 3


def _rows(result: QueryResult) -> list[dict]:
    return [dict(zip(result.columns, row)) for row in result.rows]


def _panels(titles: list[str], columns: int, panel_height: int, **layout) -> go.Figure:
    """Small multiples: one panel per title, filled row by row, every panel on the same scales
    so that panels compare by position alone."""
    rows = max(math.ceil(len(titles) / columns), 1)
    figure = make_subplots(rows=rows, cols=columns, subplot_titles=titles, shared_yaxes=True,
                           horizontal_spacing=0.02, vertical_spacing=min(0.4 / rows, 0.12))
    figure.update_annotations(font_size=12)
    figure.update_xaxes(matches="x")
    figure.update_layout(**{**_LAYOUT, "height": 110 + panel_height * rows, **layout})
    return figure


def _cell(index: int, columns: int) -> dict:
    return dict(row=index // columns + 1, col=index % columns + 1)


def success_rate_chart(result: QueryResult) -> go.Figure:
    by_type: dict[str, list[dict]] = defaultdict(list)
    completed: dict = defaultdict(float)
    terminal: dict = defaultdict(int)
    for row in _rows(result):
        by_type[row["task_type"]].append(row)
        completed[row["week"]] += row["success_rate"] * row["terminal"]
        terminal[row["week"]] += row["terminal"]
    weeks = sorted(terminal)
    overall = [completed[week] / terminal[week] for week in weeks]
    task_types = sorted(by_type)
    figure = _panels(
        [f"{t} ({sum(r['terminal'] for r in by_type[t]):,} finished)" for t in task_types],
        SUCCESS_COLUMNS, 150, showlegend=False,
        title="Success rate (COMPLETED / terminal) by week created, one panel per task type;"
              " grey: all task types")
    for index, task_type in enumerate(task_types):
        rows = by_type[task_type]
        # All task types behind each panel's own line, to tell a type's trend from everyone's.
        figure.add_trace(go.Scatter(
            x=weeks, y=overall, mode="lines", name="all task types",
            line=dict(color=_CONTEXT, width=1.5),
            hovertemplate="week of %{x}: %{y:.1%}<extra>all task types</extra>"),
            **_cell(index, SUCCESS_COLUMNS))
        figure.add_trace(go.Scatter(
            x=[r["week"] for r in rows], y=[r["success_rate"] for r in rows],
            customdata=[r["terminal"] for r in rows], mode="lines+markers", name=task_type,
            line=dict(color=_ACCENT, width=2), marker=dict(size=5),
            hovertemplate="week of %{x}: %{y:.1%} of %{customdata} finished<extra>"
                          + task_type + "</extra>"), **_cell(index, SUCCESS_COLUMNS))
    figure.update_yaxes(tickformat=".0%", range=[0, 1.05], dtick=0.5)
    figure.update_xaxes(tickformat="%b %-d", nticks=4, ticklabelstandoff=4)
    return figure


def latency_chart(result: QueryResult) -> go.Figure:
    rows = _rows(result)
    labels = [f"{r['task_type']} · {r['duration_source']} (n={r['tasks']})" for r in rows]
    figure = go.Figure()
    for column, symbol in (("p50_seconds", "circle"), ("p90_seconds", "diamond"),
                           ("p99_seconds", "x")):
        figure.add_trace(go.Scatter(
            x=[r[column] for r in rows], y=labels, mode="markers", name=column.split("_")[0],
            marker=dict(symbol=symbol, size=9, color=_PERCENTILES[column.split("_")[0]]),
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
    task_types = sorted(per_type)
    # Every panel lists every reason, most frequent at the top, so a row reads across panels.
    labels = [f"{reason} ({totals[reason]:,})" for reason in top[::-1]]
    figure = _panels(task_types, FAILURE_COLUMNS, 40 + 17 * len(top),
                     title=f"Top {TOP_REASONS} failure reasons (ids and numbers removed; total in"
                           " brackets), one panel per task type", showlegend=False)
    for index, task_type in enumerate(task_types):
        counts = [per_type[task_type].get(reason, 0) for reason in top[::-1]]
        figure.add_trace(go.Bar(
            y=labels, x=counts, orientation="h", name=task_type, marker_color=_FAILURE,
            text=[f"{n:,}" if n else "" for n in counts], textposition="outside",
            cliponaxis=False, hovertemplate="%{y}: %{x}<extra>" + task_type + "</extra>"),
            **_cell(index, FAILURE_COLUMNS))
    most = max((n for counts in per_type.values() for n in counts.values()), default=1)
    figure.update_xaxes(range=[0, most * 1.2], nticks=4)
    # Set, not autoranged: plotly.js cuts the autorange of category axes matched across a row.
    figure.update_yaxes(automargin=True, tickfont_size=10, range=[-0.5, len(top) - 0.5])
    return figure


def stuck_chart(result: QueryResult) -> go.Figure:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in _rows(result):
        counts[row["status"]][row["task_type"]] += 1
    task_types = sorted({row["task_type"] for row in _rows(result)})
    figure = go.Figure([
        go.Bar(x=task_types, y=[per_type.get(t, 0) for t in task_types], name=status,
               marker_color=_STATUSES[status])
        for status, per_type in sorted(counts.items())
    ])
    figure.update_layout(title="Stuck tasks by task type and status", barmode="stack", **_LAYOUT)
    return figure


def html_table(result: QueryResult, limit: int = TABLE_ROWS) -> str:
    rows = result.rows[:limit]
    numeric = [all(isinstance(row[i], (int, float)) or row[i] is None for row in rows)
               for i in range(len(result.columns))]
    # Column names are the warehouse's; a break after each underscore lets a long name wrap
    # over two lines instead of widening the table past the page.
    head = "".join(f"<th{' class=num' * n}>{html.escape(c).replace('_', '_<wbr>')}</th>"
                   for c, n in zip(result.columns, numeric))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=num' * n}>{html.escape(format_cell(v))}</td>"
                         for v, n in zip(row, numeric)) + "</tr>"
        for row in rows)
    more = (f"<p class=more>{len(result.rows) - limit:,} more rows in the warehouse</p>"
            if len(result.rows) > limit else "")
    return (f"<div class=scroll><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            f"</table></div>{more}")


_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem} .meta{color:#666;margin-top:0}
section{margin:2rem 0} table{border-collapse:collapse;font-size:.8rem;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
td{white-space:nowrap}
th{background:#f4f4f4;vertical-align:bottom} .more{color:#666;font-size:.8rem}
.num{text-align:right;font-variant-numeric:tabular-nums} .scroll{overflow-x:auto}
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


def stored_threshold(warehouse: Warehouse) -> float:
    """The stuck threshold the views were last built with (the default before any)."""
    try:
        return warehouse.query(STUCK_THRESHOLD).rows[0][0]
    except duckdb.CatalogException:
        return DEFAULT_STUCK_AFTER_HOURS


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mixpeek_tasks.reporting.html",
                                     description=__doc__.split("\n")[0])
    parser.add_argument(
        "--stuck-after-hours", type=float, default=None,
        help="store a new stuck threshold in the warehouse (analytics_settings): the views, BI "
             "tools and later reports use it until the next task_analytics run sets its own; "
             "without it the report keeps the threshold stored")
    args = parser.parse_args(argv)
    try:
        warehouse = warehouse_from_environment()
    except PreflightError as error:
        raise SystemExit(str(error)) from None
    if not warehouse.path.exists():
        raise SystemExit(f"no warehouse at {warehouse.path}: run `make demo` or an export first")
    warehouse.build_views(stuck_after_hours=args.stuck_after_hours or stored_threshold(warehouse))
    print(write_report(warehouse, warehouse.path.parent / "report"))


if __name__ == "__main__":
    main()
