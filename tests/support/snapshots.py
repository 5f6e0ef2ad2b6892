"""Observations published straight from records or tables, for warehouse tests that need no
export, and nights of an earlier tree (`export_date=` folders) for the tests that read one."""

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa

from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA, flatten_tasks
from mixpeek_tasks.snapshot.observation import LEGACY_KEY, Observation, mint_id
from mixpeek_tasks.snapshot.parquet_files import SnapshotWriter
from mixpeek_tasks.snapshot.tree import SnapshotTree


def observation_at(moment: datetime) -> Observation:
    """An observation whose listing read its pages at `moment`."""
    return Observation.new(mint_id(moment), moment, moment)


def legacy_night(export_date: date) -> Observation:
    """A night of a tree written before observations had ids: its folder is its label."""
    return Observation(export_date.isoformat(), f"{LEGACY_KEY}={export_date.isoformat()}")


def publish_tables(tree: SnapshotTree, observation: Observation, tasks, quarantine=None,
                   coverage: bytes | None = None) -> Observation:
    """Publish Arrow tables, or open SnapshotWriters, as `observation` in `tree`, with
    `coverage` as its coverage record (None: like a night published before exports kept
    one); a missing quarantine is an empty one."""
    files = []
    for dataset, table, schema in (("tasks", tasks, TASK_SCHEMA),
                                   ("task_quarantine", quarantine, QUARANTINE_SCHEMA)):
        writer = table
        if not isinstance(writer, SnapshotWriter):
            writer = SnapshotWriter(tree.staging_dir, dataset, observation.id, schema)
            writer.write(schema.empty_table() if table is None else table)
        files.append(writer.close())
    coverage_file = None
    if coverage is not None:
        coverage_file = Path(tree.staging_dir) / f"coverage-{observation.id}.json"
        coverage_file.write_bytes(coverage)
    tree.publish(observation, *files, coverage=coverage_file)
    return observation


def publish_night(root: Path, observed_at: datetime, tasks: pa.Table) -> Observation:
    """Publish a table of task rows as the observation at `observed_at` in the tree
    `root / "parquet"`."""
    return publish_tables(SnapshotTree(root / "parquet"), observation_at(observed_at), tasks)


def write_snapshot(root: Path, records: list, exported_at: datetime,
                   coverage: bytes | None = None) -> Observation:
    """Flatten `records`, read at `exported_at`, and publish them as the observation of that
    moment in the tree `root / "parquet"`."""
    observation = observation_at(exported_at)
    flat = flatten_tasks(records, observation.observed_on, exported_at)
    return publish_tables(SnapshotTree(root / "parquet"), observation, flat.tasks,
                          flat.quarantine, coverage)
