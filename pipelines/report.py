"""Summaries of the warehouse for people: markdown for Dagster metadata, text for `make demo`."""

from __future__ import annotations

from datetime import date
from importlib import resources

from pipelines.warehouse import QueryResult, Warehouse


def _query(name: str) -> str:
    return resources.files("pipelines").joinpath("sql", "report", f"{name}.sql").read_text()


SUCCESS_BY_TYPE = _query("success_by_type")
LATENCY = _query("latency")
SUCCESS_OVER_TIME = _query("success_over_time")
FAILURE_REASONS = _query("failure_reasons")
STUCK = _query("stuck")
DAILY_SUMMARY = _query("daily_summary")
REGRESSIONS = _query("regressions")
SNAPSHOT_COUNTS = _query("snapshot_counts")
TERMINAL_MISMATCHES = _query("terminal_mismatches")
STUCK_THRESHOLD = _query("stuck_threshold")


def format_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    # A table cell is one line: a multi-line error message would end the table.
    return " ".join(str(value).split()).replace("|", "\\|")


def markdown_table(result: QueryResult, limit: int = 20) -> str:
    lines = ["| " + " | ".join(result.columns) + " |",
             "|" + "---|" * len(result.columns)]
    lines += ["| " + " | ".join(format_cell(v) for v in row) + " |" for row in result.rows[:limit]]
    if len(result.rows) > limit:
        lines.append(f"\n_{len(result.rows) - limit} more rows in the warehouse_")
    return "\n".join(lines)


def bar_chart(result: QueryResult, label: str, value: str, *, limit: int = 15,
              width: int = 30) -> str:
    """A horizontal bar chart as text, which any markdown renderer (Dagster's too) shows
    faithfully: one bar per row of `result`, scaled to the largest value."""
    labels = [str(row[result.columns.index(label)]) for row in result.rows[:limit]]
    values = [row[result.columns.index(value)] or 0 for row in result.rows[:limit]]
    if not values:
        return "_no rows_"
    top = max(values) or 1
    pad = max(len(text) for text in labels)
    lines = [f"{text.ljust(pad)}  {'█' * round(width * v / top):<{width}}  {format_cell(v)}"
             for text, v in zip(labels, values)]
    return "```\n" + "\n".join(lines) + "\n```"


def text_table(result: QueryResult, limit: int = 20) -> str:
    cells = [result.columns] + [[format_cell(v) for v in row] for row in result.rows[:limit]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(result.columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if len(result.rows) > limit:
        lines.append(f"... {len(result.rows) - limit} more rows")
    return "\n".join(lines)


def demo_report(warehouse: Warehouse, export_date: date, parquet_root: str) -> str:
    counts = warehouse.query(SNAPSHOT_COUNTS, {"d": export_date}).rows[0]
    return "\n".join([
        f"Export of {export_date}: {counts[0]:,} tasks in the snapshot, {counts[1]:,} quarantined, "
        f"{counts[2]:,} tasks known in all.",
        "",
        "Success rate by task type"
        " (terminal = COMPLETED, COMPLETED_WITH_ERRORS, FAILED, CANCELED):",
        text_table(warehouse.query(SUCCESS_BY_TYPE)),
        "",
        "Latency of finished tasks, seconds:",
        text_table(warehouse.query(LATENCY)),
        "",
        f"Parquet:  {parquet_root}",
        f"DuckDB:   {warehouse.path}",
    ])
