"""Snapshot partition files written straight from records or tables, for warehouse tests that
need no export."""

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa

from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA, flatten_tasks
from mixpeek_tasks.snapshot.parquet_files import SnapshotWriter
from mixpeek_tasks.snapshot.tree import SnapshotTree


def publish_tables(tree: SnapshotTree, export_date: date, tasks, quarantine=None,
                   coverage: bytes | None = None) -> None:
    """Publish Arrow tables, or open SnapshotWriters, as `export_date`'s night of `tree`, with
    `coverage` as its coverage record (None: like a night published before exports kept
    one); a missing quarantine is an empty one."""
    files = []
    for dataset, table, schema in (("tasks", tasks, TASK_SCHEMA),
                                   ("task_quarantine", quarantine, QUARANTINE_SCHEMA)):
        writer = table
        if not isinstance(writer, SnapshotWriter):
            writer = SnapshotWriter(tree.staging_dir, dataset, export_date, schema)
            writer.write(schema.empty_table() if table is None else table)
        files.append(writer.close())
    coverage_file = None
    if coverage is not None:
        coverage_file = Path(tree.staging_dir) / f"coverage-{export_date}.json"
        coverage_file.write_bytes(coverage)
    tree.publish(export_date, *files, coverage=coverage_file)


def publish_night(root: Path, export_date: date, tasks: pa.Table) -> None:
    """Publish a table of task rows as `export_date`'s night in the tree `root / "parquet"`."""
    publish_tables(SnapshotTree(root / "parquet"), export_date, tasks)


def write_snapshot(root: Path, records: list, export_date: date, exported_at: datetime,
                   coverage: bytes | None = None) -> date:
    """Flatten `records` and publish them as `export_date`'s night in the tree
    `root / "parquet"`; return the date, the argument of a load."""
    flat = flatten_tasks(records, export_date, exported_at)
    publish_tables(SnapshotTree(root / "parquet"), export_date, flat.tasks, flat.quarantine,
                   coverage)
    return export_date
