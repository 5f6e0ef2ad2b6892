"""The DuckDB warehouse: what is derived from the Parquet tree, and views over both.

The snapshots stay in the Parquet tree, one folder per observation (snapshot/tree.py), read
in place by the view `task_snapshots`; DuckDB keeps only what is derived and small per
observation: `tasks`, the status history, the run log and the per-observation facts the views
need, every time in them a read time of the observation's listing. A load brings in every
observation of the tree the warehouse does not hold: appended when each is newer than every
one loaded; else (an older one, or a warehouse written before observations, keyed on dates a
caller chose) the derived tables are rebuilt from the tree, observation by observation in time
order, into a fresh file that replaces the old one only once complete.

Every write runs under an exclusive file lock. DuckDB allows one writer per file, so
concurrent runs queue here instead of failing with "Could not set lock"; and a failed load
rolls back, leaving the previous warehouse intact.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from mixpeek_tasks.api.vocabulary import IN_FLIGHT_STATUSES, TERMINAL_STATUSES, TaskStatus
from mixpeek_tasks.atomic_files import replace_atomically
from mixpeek_tasks.filelock import exclusive_lock
from mixpeek_tasks.snapshot.observation import Observation
from mixpeek_tasks.snapshot.parquet_files import TASKS_DATASET
from mixpeek_tasks.snapshot.reconcile import Coverage
from mixpeek_tasks.snapshot.tree import ObservationFiles, SnapshotTree
from mixpeek_tasks.sql_files import sql_statements

log = logging.getLogger(__name__)
# A load step holds about 165 MB once dagster, pyarrow, duckdb and pandas are imported: 64 MB
# for DuckDB keeps the step near 250 MB (it spills to `<warehouse>.tmp/` past that).
DEFAULT_MEMORY_LIMIT = "64MB"
HEADROOM_LIMITS = ("256MB", "1GB")
_PARAMETER = re.compile(r"\$([a-z_]+)")
# Mixpeek keeps hot task state for 24 hours: work still running after a day is worth a look.
DEFAULT_STUCK_AFTER_HOURS = 24.0
# Rows merged into `tasks` at once (a changed task's record and its old row): the merge's
# aggregate holds a bucket's wide rows, and under the 64 MB limit 25,000 leave room for the rest
# of the load (100,000 failed with Out of Memory on a 100,000-task account's first night).
MERGE_BUCKET_ROWS = 25_000
# The analysts' objects, one file each in sql/views/ (documented column by column in
# docs/data-dictionary.md), in the order they are created: each reads only those before it,
# the tables of tables.sql and `task_status_classes` (written from api/vocabulary.py, so SQL
# and Python agree on what "terminal" means). `task_snapshots` comes first, made in Python:
# it names the Parquet tree, which a view cannot take as a parameter.
ANALYTICS_VIEWS = (
    "analytics_settings", "normalize_error", "task_success_rate", "task_success_rate_weekly",
    "task_durations", "task_latency", "task_failures", "task_failure_reasons", "export_runs",
    "stuck_tasks", "batch_progress", "daily_summary",
)
DERIVED_TABLES = ("tasks", "task_status_intervals", "task_status_regressions", "task_quarantine",
                  "export_nights", "batch_observations")


def _sql_string(value: str) -> str:
    """`value` as a SQL string literal (for DDL, which takes no bound parameters)."""
    return "'" + value.replace("'", "''") + "'"


def _status_classes() -> list[tuple[str, str]]:
    def status_class(status: TaskStatus) -> str:
        if status in TERMINAL_STATUSES:
            return "terminal"
        return "in_flight" if status in IN_FLIGHT_STATUSES else "other"

    return [(status.value, status_class(status)) for status in TaskStatus]


@dataclass(frozen=True)
class LoadResult:
    # The newest observation the warehouse holds (None: none yet), and its counts.
    observation_id: str | None
    snapshot_rows: int | None
    quarantine_rows: int | None
    tasks_rows: int
    observations_loaded: int
    # "appended", "rebuilt", or "unchanged" (nothing new in the tree).
    history_update: str

    @property
    def appended(self) -> bool:
        return self.history_update == "appended"


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]


class Warehouse:
    """The warehouse at `path`, derived from the Parquet tree `tree` (by default the folder
    `parquet` beside it), which readers (BI tools, reports) open, and which no writer ever
    holds: loads work on a private writer file beside it and publish a complete, checkpointed
    copy of it by atomic rename. A reader connected during a load keeps the night it opened;
    a connection opened after the rename gets the new night; none waits for a load."""

    def __init__(self, path: Path, tree: SnapshotTree | None = None, *,
                 lock_timeout: float = 1800.0,
                 memory_limit: str | None = DEFAULT_MEMORY_LIMIT,
                 merge_bucket_rows: int = MERGE_BUCKET_ROWS):
        self.path = Path(path)
        self.tree = tree if tree is not None else SnapshotTree(self.path.parent / "parquet")
        self.writer_path = self._beside("writer")
        if merge_bucket_rows < 1:
            raise ValueError("merge_bucket_rows must be at least 1")
        self.merge_bucket_rows = merge_bucket_rows
        self.lock_timeout = lock_timeout
        self.memory_limit = memory_limit

    def _beside(self, role: str) -> Path:
        return self.path.with_name(f"{self.path.stem}.{role}{self.path.suffix}")

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
                # merge spill to disk beside the database instead. One thread holds half the
                # buffers of two, and the load needs no insertion order (it orders by keys).
                con.execute("SET memory_limit = $limit", {"limit": self.memory_limit})
                con.execute("SET temp_directory = $dir",
                            {"dir": str(self.path.with_name(self.path.name + ".tmp"))})
                con.execute("SET threads = 1")
                con.execute("SET preserve_insertion_order = false")
            return con

    @staticmethod
    @contextlib.contextmanager
    def _atomically(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An exclusive, all-or-nothing write on the writer file, published for readers once
        committed."""
        with self._locked():
            self._adopt_published_file()
            with self._connect(self.writer_path, read_only=False) as con:
                with self._atomically(con):
                    yield con
                # Everything in the file itself, nothing left in the write-ahead log.
                con.execute("CHECKPOINT")
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

    def load(self) -> LoadResult:
        """Bring the warehouse up to date with the tree: every published observation it does
        not hold, appended when each is newer than every one loaded (the scheduled case),
        else the derived tables rebuilt from every observation of the tree. Run again, it
        changes nothing."""
        with self._locked():
            self._adopt_published_file()
            observations = self.tree.observations()
            with self._connect(self.writer_path, read_only=False) as con:
                loaded = self._loaded(con)
                new = [o for o in observations if o.id not in (loaded or ())]
                appending = loaded is not None and all(o.id > max(loaded, default="")
                                                       for o in new)
                if new and appending:
                    for observation in new:
                        with self.tree.files(observation) as files:
                            self._append_with_headroom(con, files)
                    con.execute("CHECKPOINT")
            if new and not appending:
                self._rebuild_unlocked(observations)
            if new:
                self._publish()
        update = "unchanged" if not new else "appended" if appending else "rebuilt"
        return self._result(len(new), update)

    def _loaded(self, con: duckdb.DuckDBPyConnection) -> set[str] | None:
        """The ids of the observations loaded; None when the file cannot be appended to: it
        was written before observations (its history keyed on dates a caller chose: rebuilt,
        it heals) or before snapshots stayed in Parquet, or holds some tables but not all."""
        tables = {row[0] for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
        if "task_snapshots" in tables:
            return None
        derived = tables & set(DERIVED_TABLES)
        if not derived:
            return set()
        observation_keyed = con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'export_nights'"
            " AND column_name = 'observation_id'").fetchone()[0]
        if derived != set(DERIVED_TABLES) or not observation_keyed:
            return None
        return {row[0] for row in con.execute(
            "SELECT observation_id FROM export_nights").fetchall()}

    def _result(self, loaded: int, update: str) -> LoadResult:
        """The newest observation of the published file, with its counts."""
        if not self.path.exists():
            return LoadResult(None, None, None, 0, loaded, update)
        newest = self.query(
            "SELECT n.observation_id, n.tasks_listed,"
            " (SELECT count(*) FROM task_quarantine AS q"
            "  WHERE q.observation_id = n.observation_id), (SELECT count(*) FROM tasks)"
            " FROM export_nights AS n ORDER BY n.observation_id DESC LIMIT 1").rows
        if not newest:
            return LoadResult(None, None, None, 0, loaded, update)
        return LoadResult(*newest[0], loaded, update)

    def _append_with_headroom(self, con: duckdb.DuckDBPyConnection,
                              files: ObservationFiles) -> None:
        """_append_night under the memory limit or, should DuckDB run out of it (its spilling
        does not cover every operator), again under each of HEADROOM_LIMITS: a night that fits
        in none fails, but none fails for a limit set to keep the step small."""
        limits = [self.memory_limit, *HEADROOM_LIMITS] if self.memory_limit else [None]
        try:
            for number, limit in enumerate(limits):
                if number:
                    log.warning("the load of %s ran out of DuckDB's memory limit; again with %s",
                                files.observation, limit)
                    con.execute("SET memory_limit = $limit", {"limit": limit})
                try:
                    self._append_night(con, files)
                    return
                except duckdb.OutOfMemoryException:
                    if number == len(limits) - 1:
                        raise
        finally:
            if self.memory_limit:
                con.execute("SET memory_limit = $limit", {"limit": self.memory_limit})

    def _append_night(self, con: duckdb.DuckDBPyConnection, files: ObservationFiles) -> None:
        """Append one observation in one transaction of its own (the tables first, in
        theirs)."""
        paths = {"tasks_path": str(files.tasks), "quarantine_path": str(files.quarantine)}
        with self._atomically(con):
            self._run(con, "tables.sql", **paths)
        observation: Observation = files.observation
        facts = {"observation": observation.id, "observed_on": observation.observed_on,
                 "listing_started_at": observation.listing_started_at,
                 "listing_finished_at": observation.listing_finished_at,
                 "folder": observation.folder}
        with self._atomically(con):
            self._write_status_classes(con)
            self._run(con, "night.sql", observation=observation.id, **paths)
            self._run(con, "history_append.sql")
            self._run(con, "tasks_seen_again.sql")
            self._run(con, "tasks_new.sql", **paths)
            self._run(con, "night_changed.sql", **paths)
            self._merge_tasks(con, observation.id)
            self._run(con, "night_facts.sql", **facts, **paths)
            if files.coverage is not None:
                coverage = Coverage.from_json(files.coverage).as_metadata()
                self._run(con, "export_coverage.sql",
                          **{**coverage, "observation": observation.id})
            con.execute("DROP TABLE night")
            con.execute("DROP TABLE changed")

    def rebuild(self) -> LoadResult:
        """Rebuild the derived tables and the views from every observation of the tree, each
        at its own listing times."""
        with self._locked():
            observations = self.tree.observations()
            self._rebuild_unlocked(observations)
            self._publish()
        return self._result(len(observations), "rebuilt")

    def _rebuild_unlocked(self, nights: list[Observation]) -> None:
        """Append `nights` (every observation of the tree, oldest first) to a fresh file,
        build the views there with the stored settings, then let it replace the writer file:
        until then the old warehouse stands whole, whatever fails."""
        fresh = self._beside("rebuild")
        for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
            leftover.unlink(missing_ok=True)
        stuck_after_hours = self._stored_stuck_after_hours()
        with self._connect(fresh, read_only=False) as con:
            for night in nights:
                with self.tree.files(night) as files:
                    self._append_with_headroom(con, files)
            if nights:
                with self._atomically(con):
                    self._build_views(con, stuck_after_hours)
            con.execute("CHECKPOINT")
        self.writer_path.with_name(self.writer_path.name + ".wal").unlink(missing_ok=True)
        os.replace(fresh, self.writer_path)

    def _stored_stuck_after_hours(self) -> float:
        """The stuck threshold the views were last built with (the report may have set it)."""
        if not self.writer_path.exists():
            return DEFAULT_STUCK_AFTER_HOURS
        with self._connect(self.writer_path, read_only=False) as con:
            stored = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'analytics_settings'"
            ).fetchone()[0]
            if not stored:
                return DEFAULT_STUCK_AFTER_HOURS
            return con.execute("SELECT stuck_after_hours FROM analytics_settings").fetchone()[0]

    def _merge_tasks(self, con: duckdb.DuckDBPyConnection, night: str) -> None:
        """Merge the observation's changed tasks into `tasks`, in buckets of task_ids."""
        # The merge holds the night's rows it merges and their tasks' old rows.
        rows = con.execute(
            "SELECT (SELECT count(*) FROM changed)"
            " + (SELECT count(*) FROM tasks WHERE task_id IN (SELECT task_id FROM changed))"
        ).fetchone()[0]
        buckets = max(1, -(-rows // self.merge_bucket_rows))
        for bucket in range(buckets):
            self._run(con, "tasks_merge.sql", observation=night, bucket=bucket, buckets=buckets)

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
            self._build_views(con, stuck_after_hours)

    def _build_views(self, con: duckdb.DuckDBPyConnection, stuck_after_hours: float) -> None:
        self._write_status_classes(con)
        if self.tree.is_local and self.tree.observations():
            # The tree by its absolute path, so the file opened from any folder finds it; each
            # row with its observation, by the folder its file is in (a file's export_date
            # column, in an earlier tree a caller's label, is left out).
            con.execute(
                "CREATE OR REPLACE VIEW task_snapshots AS SELECT n.observation_id,"
                " n.observed_on, s.* EXCLUDE (export_date, filename) FROM read_parquet("
                f"{_sql_string(self.tree.glob(TASKS_DATASET))}, union_by_name = true,"
                " hive_partitioning = false, filename = true) AS s JOIN export_nights AS n"
                " ON n.folder = regexp_extract(s.filename, '([^/\\\\]+)[/\\\\][^/\\\\]+$', 1)")
        elif self.tree.is_local:
            # A view over no files cannot be made; one made before (the tree since moved) stays.
            log.warning("no observation is published in %s: task_snapshots is left as it was",
                        self.tree)
        else:
            # DuckDB binds a view when it is created, and reads s3:// only through its httpfs
            # extension, which an exporter need not have: every other view reads the derived
            # tables, and the snapshots are read from the tree itself (README, Object storage).
            log.info("no task_snapshots view: the snapshots are in %s, read them there",
                     self.tree)
        for view in ANALYTICS_VIEWS:
            self._run(con, f"views/{view}.sql", stuck_after_hours=stuck_after_hours)

    def query(self, sql: str, params: dict | list | None = None) -> QueryResult:
        """Run a read query on the published file (a load never changes it in place)."""
        with self._connect(self.path, read_only=True) as con:
            cursor = con.execute(sql, params)
            return QueryResult([d[0] for d in cursor.description], cursor.fetchall())
