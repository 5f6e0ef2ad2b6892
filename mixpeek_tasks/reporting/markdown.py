"""Query results as markdown, which Dagster's metadata shows: tables and text bar charts."""

from __future__ import annotations

from mixpeek_tasks.warehouse.database import QueryResult


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
