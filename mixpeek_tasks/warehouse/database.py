"""The DuckDB warehouse, as its callers use it: observations loaded, a rebuild, the views,
queries.

The snapshots stay in the Parquet tree, one folder per observation (snapshot/tree.py), read
in place by the view `task_snapshots`; DuckDB keeps only what is derived and small per
observation: `tasks`, the status history, the run log and the per-observation facts the views
need, every time in them a read time of the observation's listing. A load brings in every
observation of the tree the warehouse does not hold: appended when each is newer than every
one loaded, else the derived tables are rebuilt from the tree in time order (a warehouse keyed
on dates a caller chose heals so). Every write runs under the lock of files.py on the private
writer file and is published once committed, so a failed load leaves the previous warehouse
intact; load.py runs an observation's SQL steps; views.py the views.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from mixpeek_tasks.snapshot.observation import Observation
from mixpeek_tasks.snapshot.tree import ObservationFiles, SnapshotTree
from mixpeek_tasks.warehouse import views
from mixpeek_tasks.warehouse.connection import (
    DEFAULT_MEMORY_LIMIT,
    QueryResult,
    atomically,
    connect,
)
from mixpeek_tasks.warehouse.connection import query as run_query
from mixpeek_tasks.warehouse.files import WarehouseFiles
from mixpeek_tasks.warehouse.load import (
    MERGE_BUCKET_ROWS,
    append_with_headroom,
    loaded_observations,
)
from mixpeek_tasks.warehouse.views import DEFAULT_STUCK_AFTER_HOURS


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
        self.memory_limit = memory_limit

    def _connect_writer(self, path: Path) -> duckdb.DuckDBPyConnection:
        return connect(path, read_only=False, wait_seconds=self.files.lock_timeout,
                       memory_limit=self.memory_limit, spill_dir=self.files.spill_dir)

    def load(self) -> LoadResult:
        """Bring the warehouse up to date with the tree: every published observation it does
        not hold, appended when each is newer than every one loaded (the scheduled case),
        else the derived tables rebuilt from every observation of the tree. Run again, it
        changes nothing."""
        with self.files.locked():
            observations = self.tree.observations()
            with self._connect_writer(self.files.writer) as con:
                loaded = loaded_observations(con)
                new = [o for o in observations if o.id not in (loaded or ())]
                newest = max(loaded or (), default="")
                appending = loaded is not None and all(o.id > newest for o in new)
                if new and appending:
                    for observation in new:
                        with self.tree.files(observation) as files:
                            self._append(con, files)
                    con.execute("CHECKPOINT")
            if new and not appending:
                self._rebuild_unlocked(observations)
            if new:
                self.files.publish()
        update = "unchanged" if not new else "appended" if appending else "rebuilt"
        return self._result(len(new), update)

    def _result(self, loaded: int, update: str) -> LoadResult:
        """The newest observation of the published file, with its counts."""
        newest = self.newest_observation() if self.path.exists() else None
        if newest is None:
            return LoadResult(None, None, None, 0, loaded, update)
        quarantined, tasks = self.query(
            "SELECT (SELECT count(*) FROM task_quarantine WHERE observation_id = $observation),"
            " (SELECT count(*) FROM tasks)", {"observation": newest[0]}).rows[0]
        return LoadResult(*newest, quarantined, tasks, loaded, update)

    def newest_observation(self) -> tuple[str, int] | None:
        """The newest observation the published file holds (ids sort as their times), with
        its tasks listed; None when it holds none."""
        rows = self.query("SELECT observation_id, tasks_listed FROM export_nights"
                          " ORDER BY observation_id DESC LIMIT 1").rows
        return rows[0] if rows else None

    def _append(self, con: duckdb.DuckDBPyConnection, files: ObservationFiles) -> None:
        append_with_headroom(con, files, memory_limit=self.memory_limit,
                             merge_bucket_rows=self.merge_bucket_rows)

    def rebuild(self) -> LoadResult:
        """Rebuild the derived tables and the views from every observation of the tree, each
        at its own listing times."""
        with self.files.locked():
            observations = self.tree.observations()
            self._rebuild_unlocked(observations)
            self.files.publish()
        return self._result(len(observations), "rebuilt")

    def _rebuild_unlocked(self, observations: list[Observation]) -> None:
        """Append `observations` (every one of the tree, oldest first) to a fresh file, build
        the views there with the stored settings, then let it replace the writer file: until
        then the old warehouse stands whole, whatever fails."""
        fresh = self.files.fresh_rebuild_file()
        stuck_after_hours = self._stored_stuck_after_hours()
        with self._connect_writer(fresh) as con:
            for observation in observations:
                with self.tree.files(observation) as files:
                    self._append(con, files)
            if observations:
                with atomically(con):
                    views.build_views(con, self.tree, stuck_after_hours, published=True)
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
                    views.build_views(con, self.tree, stuck_after_hours,
                                      published=bool(self.tree.observations()))
                # Everything in the file itself, nothing left in the write-ahead log.
                con.execute("CHECKPOINT")
            self.files.publish()

    def query(self, sql: str, params: dict | list | None = None) -> QueryResult:
        """Run a read query on the published file (a load never changes it in place)."""
        with connect(self.path, read_only=True, wait_seconds=self.files.lock_timeout) as con:
            return run_query(con, sql, params)
