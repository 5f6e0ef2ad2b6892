"""The report queries over the analysts' views, one file each in `reporting/sql/`."""

from __future__ import annotations

from mixpeek_tasks.sql_files import read_sql


def _query(name: str) -> str:
    return read_sql("mixpeek_tasks.reporting", f"{name}.sql")


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
