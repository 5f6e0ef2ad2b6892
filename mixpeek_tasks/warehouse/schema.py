"""The warehouse's tables, all created from sql/schema/: `tables.sql` before each night is
appended (in a transaction of its own, the file says why), `export_coverage.sql` with them,
`task_status_classes.sql` with each night and with the views."""

from __future__ import annotations

from typing import Any

import duckdb

from mixpeek_tasks.api.vocabulary import IN_FLIGHT_STATUSES, TERMINAL_STATUSES, TaskStatus
from mixpeek_tasks.warehouse.connection import atomically, run_sql

DERIVED_TABLES_SQL = "schema/tables.sql"
# The tables DERIVED_TABLES_SQL creates: a warehouse holds all of them or is rebuilt.
DERIVED_TABLES = ("tasks", "task_status_intervals", "task_status_regressions", "task_quarantine",
                  "export_nights", "batch_observations")
STATUS_CLASSES_SQL = "schema/task_status_classes.sql"
EXPORT_COVERAGE_SQL = "schema/export_coverage.sql"


def create_derived_tables(con: duckdb.DuckDBPyConnection, paths: dict[str, Any]) -> None:
    """The derived tables, empty, typed after the night's Parquet files (`paths`), unless they
    exist; committed before the night's rows are written."""
    with atomically(con):
        run_sql(con, DERIVED_TABLES_SQL, paths)
        run_sql(con, EXPORT_COVERAGE_SQL, {})


def write_status_classes(con: duckdb.DuckDBPyConnection) -> None:
    """`task_status_classes` from api/vocabulary.py: the history needs it at load time,
    before any view exists."""
    run_sql(con, STATUS_CLASSES_SQL, {})
    con.executemany("INSERT INTO task_status_classes VALUES (?, ?)", _status_classes())


def _status_classes() -> list[tuple[str, str]]:
    def status_class(status: TaskStatus) -> str:
        if status in TERMINAL_STATUSES:
            return "terminal"
        return "in_flight" if status in IN_FLIGHT_STATUSES else "other"

    return [(status.value, status_class(status)) for status in TaskStatus]
