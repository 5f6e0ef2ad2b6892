"""Summaries of the warehouse for people: markdown for Dagster metadata, text for `make demo`."""

from __future__ import annotations

from datetime import date

from pipelines.warehouse import QueryResult, Warehouse

SUCCESS_BY_TYPE = """
SELECT task_type,
       sum(tasks) AS tasks,
       sum(terminal) AS terminal,
       sum(completed) / nullif(sum(terminal), 0) AS success_rate,
       sum(completed_with_errors) / nullif(sum(terminal), 0) AS partial_success_rate,
       sum(failed) / nullif(sum(terminal), 0) AS failure_rate
FROM task_success_rate
GROUP BY task_type
ORDER BY tasks DESC, task_type
"""
LATENCY = """
SELECT task_type, duration_source, tasks, p50_seconds, p90_seconds, p99_seconds,
       error_bar_seconds
FROM task_latency
ORDER BY tasks DESC, task_type, duration_source
"""
SUCCESS_OVER_TIME = """
SELECT task_type, week, terminal, success_rate
FROM task_success_rate_weekly
WHERE terminal > 0
ORDER BY task_type, week
"""
FAILURE_REASONS = """
SELECT task_type, rank, reason, failures, share_of_type_failures, example_error
FROM task_failure_reasons
ORDER BY failures DESC, task_type, rank
"""
STUCK = """
SELECT task_id, task_type, status, age_hours, status_since, tier_progress, object_count
FROM stuck_tasks
ORDER BY age_hours DESC, task_id
"""
DAILY_SUMMARY = """
SELECT export_date, tasks_listed, new_tasks, finished, completed, completed_with_errors, failed,
       canceled, success_rate, in_flight, stuck, fallback_records, status_regressions,
       quarantined
FROM daily_summary
ORDER BY export_date DESC
"""
REGRESSIONS = """
SELECT task_id, reported_status, kept_status, terminal_since, from_mongodb
FROM task_status_regressions
WHERE export_date = $d
ORDER BY task_id
"""
SNAPSHOT_COUNTS = """
SELECT
    (SELECT count(*) FROM task_snapshots WHERE export_date = $d) AS snapshot_rows,
    (SELECT count(*) FROM task_quarantine WHERE export_date = $d) AS quarantined,
    (SELECT count(*) FROM tasks) AS tasks_known
"""


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value).replace("|", "\\|")


def markdown_table(result: QueryResult, limit: int = 20) -> str:
    lines = ["| " + " | ".join(result.columns) + " |",
             "|" + "---|" * len(result.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in result.rows[:limit]]
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
    lines = [f"{text.ljust(pad)}  {'█' * round(width * v / top):<{width}}  {_cell(v)}"
             for text, v in zip(labels, values)]
    return "```\n" + "\n".join(lines) + "\n```"


def text_table(result: QueryResult, limit: int = 20) -> str:
    cells = [result.columns] + [[_cell(v) for v in row] for row in result.rows[:limit]]
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
