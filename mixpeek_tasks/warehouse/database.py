"""The DuckDB warehouse, as its callers use it: a night loaded, a rebuild, the views, queries.

The snapshots stay in their Parquet partitions (snapshot/tree.py), read in place by the view
`task_snapshots`; DuckDB keeps only what is derived and small per night: `tasks`, the status
history, the run log and the per-night facts the views need. Every write runs under the lock
of files.py on the private writer file and is published once committed, so a failed load
leaves the previous warehouse intact; load.py runs a night's SQL steps; views.py the views.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from mixpeek_tasks.snapshot.tree import NightFiles, SnapshotTree
from mixpeek_tasks.warehouse import views
from mixpeek_tasks.warehouse.connection import (
    DEFAULT_MEMORY_LIMIT,
    QueryResult,
    atomically,
    connect,
)
from mixpeek_tasks.warehouse.connection import query as run_query
from mixpeek_tasks.warehouse.files import WarehouseFiles
from mixpeek_tasks.warehouse.load import MERGE_BUCKET_ROWS, append_with_headroom, appends
from mixpeek_tasks.warehouse.views import DEFAULT_STUCK_AFTER_HOURS


@dataclass(frozen=True)
class LoadResult:
    snapshot_rows: int
    quarantine_rows: int
    tasks_rows: int
    # True: the night was appended to the history and `tasks`; False: they were rebuilt.
    appended: bool


class Warehouse:
    """The warehouse at `path`, derived from the Parquet tree `tree` (by default the folder
    `parquet` beside it), which readers (BI tools, reports) open and no writer ever holds."""

    def __init__(self, path: Path, tree: SnapshotTree | None = None, *,
                 lock_timeout: float = 1800.0,
                 memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
                 merge_bucket_rows: int = MERGE_BUCKET_ROWS):
        self.files = WarehouseFiles(path, lock_timeout)
        self.path = self.files.path
        self.tree = tree if tree is not None else SnapshotTree(self.path.parent / "parquet")
        if merge_bucket_rows < 1:
            raise ValueError("merge_bucket_rows must be at least 1")
        self.merge_bucket_rows = merge_bucket_rows
        self.lock_timeout = lock_timeout
        self.memory_limit = memory_limit

    def _connect_writer(self, path: Path) -> duckdb.DuckDBPyConnection:
        return connect(path, read_only=False, wait_seconds=self.lock_timeout,
                       memory_limit=self.memory_limit, spill_dir=self.files.spill_dir)

    def load_night(self, export_date: date) -> LoadResult:
        """Bring the warehouse up to date with `export_date`'s published snapshot: append it
        when it is newer than every night loaded so far (the nightly case), else rebuild the
        derived tables from every night of the tree (a backfill, a re-run of a date)."""
        with self.files.locked():
            with self._connect_writer(self.files.writer) as con:
                appending = appends(con, self.tree, export_date)
                if appending:
                    with self.tree.night(export_date) as night_files:
                        self._append(con, night_files)
                    con.execute("CHECKPOINT")
            if not appending:
                nights = self.tree.published_dates()
                if export_date not in nights:
                    raise FileNotFoundError(
                        f"no published snapshot for {export_date} in {self.tree}")
                self._rebuild_unlocked(nights)
            self.files.publish()
            counts = self.query(
                "SELECT (SELECT tasks_listed FROM export_nights WHERE export_date = $d),"
                " (SELECT count(*) FROM task_quarantine WHERE export_date = $d),"
                " (SELECT count(*) FROM tasks)", {"d": export_date}).rows[0]
        return LoadResult(*counts, appended=appending)

    def _append(self, con: duckdb.DuckDBPyConnection, files: NightFiles) -> None:
        append_with_headroom(con, files, memory_limit=self.memory_limit,
                             merge_bucket_rows=self.merge_bucket_rows)

    def rebuild(self) -> None:
        """Rebuild the derived tables and the views from every night of the tree."""
        with self.files.locked():
            self._rebuild_unlocked(self.tree.published_dates())
            self.files.publish()

    def _rebuild_unlocked(self, nights: list[date]) -> None:
        """Append `nights` (every night of the tree, oldest first) to a fresh file, build the
        views there with the stored settings, then let it replace the writer file: until then
        the old warehouse stands whole, whatever fails."""
        fresh = self.files.fresh_rebuild_file()
        stuck_after_hours = self._stored_stuck_after_hours()
        with self._connect_writer(fresh) as con:
            for night in nights:
                with self.tree.night(night) as night_files:
                    self._append(con, night_files)
            if nights:
                with atomically(con):
                    views.build_views(con, self.tree, stuck_after_hours)
            con.execute("CHECKPOINT")
        self.files.replace_writer(fresh)

    def _stored_stuck_after_hours(self) -> float:
        if not self.files.writer.exists():
            return DEFAULT_STUCK_AFTER_HOURS
        with self._connect_writer(self.files.writer) as con:
            return views.stored_stuck_after_hours(con)

    def build_views(self, *, stuck_after_hours: float = DEFAULT_STUCK_AFTER_HOURS) -> None:
        """(Re)create the analysts' views, all or nothing, and publish them; in-flight tasks
        older than `stuck_after_hours` are reported as stuck."""
        with self.files.locked():
            with self._connect_writer(self.files.writer) as con:
                with atomically(con):
                    views.build_views(con, self.tree, stuck_after_hours)
                # Everything in the file itself, nothing left in the write-ahead log.
                con.execute("CHECKPOINT")
            self.files.publish()

    def query(self, sql: str, params: dict | list | None = None) -> QueryResult:
        """Run a read query on the published file (a load never changes it in place)."""
        with connect(self.path, read_only=True, wait_seconds=self.lock_timeout) as con:
            return run_query(con, sql, params)
