"""Query results as plain text for a terminal: the summary `make demo` prints."""

from __future__ import annotations

from mixpeek_tasks.reporting.markdown import format_cell
from mixpeek_tasks.reporting.queries import LATENCY, SNAPSHOT_COUNTS, SUCCESS_BY_TYPE
from mixpeek_tasks.warehouse.database import QueryResult, Warehouse


def text_table(result: QueryResult, limit: int = 20) -> str:
    cells = [result.columns] + [[format_cell(v) for v in row] for row in result.rows[:limit]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(result.columns))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if len(result.rows) > limit:
        lines.append(f"... {len(result.rows) - limit} more rows")
    return "\n".join(lines)


def demo_report(warehouse: Warehouse, parquet_root: str) -> str:
    """The newest observation's counts and the warehouse's headline views."""
    observation, _listed = warehouse.newest_observation()
    counts = warehouse.query(SNAPSHOT_COUNTS, {"observation": observation}).rows[0]
    return "\n".join([
        f"Observation {observation}: {counts[0]:,} tasks in the snapshot, {counts[1]:,}"
        f" quarantined, {counts[2]:,} tasks known in all.",
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
