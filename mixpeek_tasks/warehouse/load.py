"""An observation's load: the SQL steps of sql/load/, declared here in the order they run
(their numbers), and which observations a warehouse holds.

An observation newer than every one loaded is appended: the derived tables are created
(empty, the first time) in a transaction of their own, then every step runs in one
transaction, so a failed load leaves the warehouse as it was. Anything else (an observation
older than one loaded, a warehouse keyed on dates a caller chose) is rebuilt: every
observation of the tree appended in time order into a fresh file (database.py). Every step
takes the observation's id and listing times as parameters, never the files' export_date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import duckdb

from mixpeek_tasks.snapshot.coverage import Coverage
from mixpeek_tasks.snapshot.tree import ObservationFiles
from mixpeek_tasks.warehouse.connection import atomically, run_sql
from mixpeek_tasks.warehouse.schema import (
    DERIVED_TABLES,
    create_derived_tables,
    write_status_classes,
)

log = logging.getLogger(__name__)
# Limits a load tries again under when DuckDB runs out of the configured one.
HEADROOM_LIMITS = ("256MB", "1GB")
# Rows merged into `tasks` at once (a changed task's record and its old row): the merge's
# aggregate holds a bucket's wide rows, and under the 64 MB limit 25,000 leave room for the rest
# of the load (100,000 failed with Out of Memory on a 100,000-task account's first night).
MERGE_BUCKET_ROWS = 25_000


@dataclass(frozen=True)
class LoadStep:
    """One file of sql/load/ and the tables it writes (a unit test holds the file to them)."""

    file: str
    writes: tuple[str, ...]
    # Run once per bucket of the night's changed task_ids, each bound to $bucket of $buckets.
    per_bucket: bool = False
    # Run only for a night with a coverage record, bound to its fields.
    with_coverage: bool = False

    @property
    def path(self) -> str:
        return f"load/{self.file}"


LOAD_STEPS = (
    LoadStep("01_night.sql", writes=("night",)),
    LoadStep("02_history_append.sql", writes=("task_status_regressions", "task_status_intervals")),
    LoadStep("03_tasks_seen_again.sql", writes=("tasks",)),
    LoadStep("04_tasks_new.sql", writes=("tasks",)),
    LoadStep("05_night_changed.sql", writes=("changed",)),
    LoadStep("06_tasks_merge.sql", writes=("tasks",), per_bucket=True),
    LoadStep("07_task_quarantine.sql", writes=("task_quarantine",)),
    LoadStep("08_export_nights.sql", writes=("export_nights",)),
    LoadStep("09_batch_observations.sql", writes=("batch_observations",)),
    LoadStep("10_export_coverage.sql", writes=("export_coverage",), with_coverage=True),
)
# The steps' temporary tables, dropped once the night is in.
NIGHT_TABLES = ("night", "changed")


def loaded_observations(con: duckdb.DuckDBPyConnection) -> set[str] | None:
    """The ids of the observations the warehouse holds; None when it cannot be appended to:
    it was written before observations (its history keyed on dates a caller chose; rebuilt,
    it heals), or holds some derived tables but not all."""
    tables = {row[0] for row in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    derived = tables & set(DERIVED_TABLES)
    if not derived:
        return set()
    observation_keyed = con.execute(
        "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'export_nights'"
        " AND column_name = 'observation_id'").fetchone()[0]
    if derived != set(DERIVED_TABLES) or not observation_keyed:
        return None
    return {row[0] for row in con.execute("SELECT observation_id FROM export_nights").fetchall()}


def append_with_headroom(con: duckdb.DuckDBPyConnection, files: ObservationFiles, *,
                         memory_limit: str | None, merge_bucket_rows: int) -> None:
    """append_night under `memory_limit` or, should DuckDB run out of it (its spilling does
    not cover every operator), again under each of HEADROOM_LIMITS: a night that fits in none
    fails, but none fails for a limit set to keep the step small."""
    limits = [memory_limit, *HEADROOM_LIMITS] if memory_limit else [None]
    try:
        for number, limit in enumerate(limits):
            if number:
                log.warning("the load of %s ran out of DuckDB's memory limit; again with %s",
                            files.observation, limit)
                con.execute("SET memory_limit = $limit", {"limit": limit})
            try:
                append_night(con, files, merge_bucket_rows=merge_bucket_rows)
                return
            except duckdb.OutOfMemoryException:
                if number == len(limits) - 1:
                    raise
    finally:
        if memory_limit:
            con.execute("SET memory_limit = $limit", {"limit": memory_limit})


def append_night(con: duckdb.DuckDBPyConnection, files: ObservationFiles, *,
                 merge_bucket_rows: int) -> None:
    """Append one observation: LOAD_STEPS in one transaction of its own (the tables first, in
    theirs)."""
    observation = files.observation
    params = {"tasks_path": str(files.tasks), "quarantine_path": str(files.quarantine),
              "observation": observation.id, "observed_on": observation.observed_on,
              "listing_started_at": observation.listing_started_at,
              "listing_finished_at": observation.listing_finished_at,
              "folder": observation.folder}
    create_derived_tables(con, params)
    with atomically(con):
        write_status_classes(con)
        for step in LOAD_STEPS:
            _run_step(con, step, files, params, merge_bucket_rows)
        for table in NIGHT_TABLES:
            con.execute(f"DROP TABLE {table}")


def _run_step(con: duckdb.DuckDBPyConnection, step: LoadStep, files: ObservationFiles,
              params: dict[str, Any], merge_bucket_rows: int) -> None:
    if step.with_coverage:
        if files.coverage is not None:
            coverage = Coverage.from_json(files.coverage).as_metadata()
            run_sql(con, step.path, {**coverage, **params})
    elif step.per_bucket:
        buckets = _merge_buckets(con, merge_bucket_rows)
        for bucket in range(buckets):
            run_sql(con, step.path, {**params, "bucket": bucket, "buckets": buckets})
    else:
        run_sql(con, step.path, params)


def _merge_buckets(con: duckdb.DuckDBPyConnection, merge_bucket_rows: int) -> int:
    """How many buckets of task_ids keep each merge within `merge_bucket_rows` rows."""
    # The merge holds the night's rows it merges and their tasks' old rows.
    rows = con.execute(
        "SELECT (SELECT count(*) FROM changed)"
        " + (SELECT count(*) FROM tasks WHERE task_id IN (SELECT task_id FROM changed))"
    ).fetchone()[0]
    return max(1, -(-rows // merge_bucket_rows))
