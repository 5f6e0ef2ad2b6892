"""The DuckDB warehouse: loads Parquet snapshots and keeps `tasks` and the analytics views.

Every write runs in one transaction under an exclusive file lock. DuckDB allows one writer
per file, so concurrent exports (a Dagster backfill) queue here instead of failing with
"Could not set lock"; and a failed load rolls back, leaving the previous warehouse intact.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from mixpeek_tasks.api.vocabulary import IN_FLIGHT_STATUSES, TERMINAL_STATUSES, TaskStatus
from mixpeek_tasks.atomic_files import replace_atomically
from mixpeek_tasks.filelock import exclusive_lock
from mixpeek_tasks.sql_files import sql_statements

DEFAULT_MEMORY_LIMIT = "256MB"
_PARAMETER = re.compile(r"\$([a-z_]+)")
# Mixpeek keeps hot task state for 24 hours: work still running after a day is worth a look.
DEFAULT_STUCK_AFTER_HOURS = 24.0
# Rows merged into `tasks` at once. Under the default memory limit, 200,000 failed on the 6th
# nightly append of a 100,000-task account (the transaction also holds the night's rows), and
# one merge of 11 such nights failed outright. It must stay below DuckDB's row group (122,880
# rows): a rebuild inserts into a `tasks` created empty in its own transaction, where a bigger
# insert would be invisible to the transaction (see snapshot_tables.sql).
MERGE_BUCKET_ROWS = 100_000
DUCKDB_ROW_GROUP_ROWS = 122_880
# The analysts' objects, one file each in sql/views/ (documented column by column in
# docs/data-dictionary.md), in the order they are created: each reads only those before it,
# `tasks`, `task_status_history`, `task_snapshots` and `task_status_classes` (written from
# api/vocabulary.py, so SQL and Python agree on what "terminal" means).
ANALYTICS_VIEWS = (
    "analytics_settings", "normalize_error", "task_success_rate", "task_success_rate_weekly",
    "task_durations", "task_latency", "task_failures", "task_failure_reasons", "export_runs",
    "stuck_tasks", "batch_progress", "daily_summary",
)


def _status_classes() -> list[tuple[str, str]]:
    def status_class(status: TaskStatus) -> str:
        if status in TERMINAL_STATUSES:
            return "terminal"
        return "in_flight" if status in IN_FLIGHT_STATUSES else "other"

    return [(status.value, status_class(status)) for status in TaskStatus]


@dataclass(frozen=True)
class LoadResult:
    snapshot_rows: int
    quarantine_rows: int
    tasks_rows: int
    # True: the night was appended to the history and `tasks`; False: they were rebuilt.
    appended: bool


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]


class Warehouse:
    """The warehouse at `path`, which readers (BI tools, reports) open, and which no writer ever
    holds: loads work on a private writer file beside it and publish a complete, checkpointed
    copy of it by atomic rename. A reader connected during a load keeps the night it opened;
    a connection opened after the rename gets the new night; none waits for a load."""

    def __init__(self, path: Path, *, lock_timeout: float = 1800.0,
                 memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
                 merge_bucket_rows: int = MERGE_BUCKET_ROWS):
        self.path = Path(path)
        self.writer_path = self.path.with_name(f"{self.path.stem}.writer{self.path.suffix}")
        if not 0 < merge_bucket_rows < DUCKDB_ROW_GROUP_ROWS:
            raise ValueError(f"merge_bucket_rows must be 1..{DUCKDB_ROW_GROUP_ROWS - 1}")
        self.merge_bucket_rows = merge_bucket_rows
        self.lock_timeout = lock_timeout
        self.memory_limit = memory_limit

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return exclusive_lock(self.path.with_name(self.path.name + ".lock"), self.lock_timeout,
                              f"warehouse {self.path}")

    def _connect(self, path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
        """Open a database file, waiting while a process outside our lock holds it."""
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                con = duckdb.connect(str(path), read_only=read_only)
            except duckdb.IOException as error:
                if "lock" not in str(error).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
                continue
            con.execute("SET TimeZone = 'UTC'")
            if self.memory_limit and not read_only:
                # DuckDB's default (80% of RAM) keeps a nightly load's buffers; a cap makes the
                # rebuild of `tasks` spill to disk beside the database instead.
                con.execute("SET memory_limit = $limit", {"limit": self.memory_limit})
                con.execute("SET temp_directory = $dir",
                            {"dir": str(self.path.with_name(self.path.name + ".tmp"))})
            return con

    @contextlib.contextmanager
    def transaction(self, *, publish: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
        """An exclusive, all-or-nothing write on the writer file; once committed, published
        for readers unless `publish` is False (a step of a bigger write)."""
        with self._locked():
            self._adopt_published_file()
            with self._connect(self.writer_path, read_only=False) as con:
                con.execute("BEGIN TRANSACTION")
                try:
                    yield con
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                con.execute("COMMIT")
                if publish:
                    # Everything in the file itself, nothing left in the write-ahead log.
                    con.execute("CHECKPOINT")
            if publish:
                self._publish()

    def _adopt_published_file(self) -> None:
        """A warehouse written before loads had their own file: start the writer file from it."""
        if self.path.exists() and not self.writer_path.exists():
            for suffix in ("", ".wal"):
                source = self.path.with_name(self.path.name + suffix)
                if source.exists():
                    shutil.copyfile(source, self.writer_path.with_name(
                        self.writer_path.name + suffix))

    def _publish(self) -> None:
        # Copies a crash left behind (under our lock no other publish is under way).
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        replace_atomically(self.path,
                           lambda copy: shutil.copyfile(self.writer_path, copy))

    @staticmethod
    def _run(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> None:
        for statement in sql_statements("mixpeek_tasks.warehouse", name):
            used = {key: params[key] for key in _PARAMETER.findall(statement)}
            con.execute(statement, used or None)

    def load_snapshot(self, export_date: date, tasks_path: Path, quarantine_path: Path,
                      coverage: dict[str, Any] | None = None) -> LoadResult:
        """Replace `export_date`'s snapshot and quarantine, then bring the history and `tasks`
        up to date: by appending the night when it is newer than every night loaded so far
        (the nightly case), else by rebuilding them from every snapshot.

        `coverage` (Coverage.as_metadata()) replaces the date's `export_coverage` row in the
        same transaction; it needs a key per column, and its other keys are ignored."""
        paths = {"tasks_path": str(tasks_path), "quarantine_path": str(quarantine_path)}
        with self.transaction(publish=False) as con:
            self._run(con, "snapshot_tables.sql", **paths)
        with self.transaction() as con:
            appending = self._is_newest_night(con, export_date)
            self._run(con, "load_snapshot.sql", export_date=export_date, **paths)
            if coverage is not None:
                self._run(con, "export_coverage.sql", **{**coverage, "export_date": export_date})
            self._write_status_classes(con)
            if appending:
                self._append(con, export_date)
            else:
                self._rebuild(con)
            counts = con.execute(
                "SELECT (SELECT count(*) FROM task_snapshots WHERE export_date = $d),"
                " (SELECT count(*) FROM task_quarantine WHERE export_date = $d),"
                " (SELECT count(*) FROM tasks)", {"d": export_date}).fetchone()
        return LoadResult(*counts, appended=appending)

    @staticmethod
    def _is_newest_night(con: duckdb.DuckDBPyConnection, export_date: date) -> bool:
        derived = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE NOT temporary AND table_name IN"
            " ('task_snapshots', 'tasks', 'task_status_history', 'task_status_regressions')"
        ).fetchone()[0]
        if derived < 4:
            return False
        newest = con.execute("SELECT max(export_date) FROM task_snapshots").fetchone()[0]
        return newest is None or newest < export_date

    def rebuild(self) -> None:
        """Rebuild the history and `tasks` from every snapshot loaded."""
        with self.transaction() as con:
            self._write_status_classes(con)
            self._rebuild(con)

    def _append(self, con: duckdb.DuckDBPyConnection, export_date: date) -> None:
        self._run(con, "history_append.sql", export_date=export_date)
        self._merge_tasks(con, export_date)

    def _rebuild(self, con: duckdb.DuckDBPyConnection) -> None:
        self._run(con, "history.sql")
        self._run(con, "tasks_rebuild.sql")
        self._merge_tasks(con, None)

    def _merge_tasks(self, con: duckdb.DuckDBPyConnection, night: date | None) -> None:
        """Merge the night's tasks into `tasks`, or every snapshot's when `night` is None."""
        # The merge holds the snapshot rows it merges and, on an append, their tasks' old rows.
        rows = con.execute(
            "SELECT (SELECT count(*) FROM task_snapshots"
            " WHERE $night IS NULL OR export_date = $night)"
            " + (SELECT count(*) FROM tasks"
            " WHERE task_id IN (SELECT task_id FROM task_snapshots WHERE export_date = $night))",
            {"night": night}).fetchone()[0]
        buckets = max(1, -(-rows // self.merge_bucket_rows))
        for bucket in range(buckets):
            self._run(con, "tasks_merge.sql", export_date=night, bucket=bucket, buckets=buckets)

    @staticmethod
    def _write_status_classes(con: duckdb.DuckDBPyConnection) -> None:
        # The history needs them at load time, before any view exists.
        con.execute("CREATE OR REPLACE TABLE task_status_classes (status VARCHAR PRIMARY KEY,"
                    " status_class VARCHAR NOT NULL)")
        con.executemany("INSERT INTO task_status_classes VALUES (?, ?)", _status_classes())

    def build_views(self, *, stuck_after_hours: float = DEFAULT_STUCK_AFTER_HOURS) -> None:
        """(Re)create the analysts' views; in-flight tasks older than `stuck_after_hours` are
        reported as stuck."""
        with self.transaction() as con:
            self._write_status_classes(con)
            for view in ANALYTICS_VIEWS:
                self._run(con, f"views/{view}.sql", stuck_after_hours=stuck_after_hours)

    def query(self, sql: str, params: dict | list | None = None) -> QueryResult:
        """Run a read query on the published file (a load never changes it in place)."""
        with self._connect(self.path, read_only=True) as con:
            cursor = con.execute(sql, params)
            return QueryResult([d[0] for d in cursor.description], cursor.fetchall())
