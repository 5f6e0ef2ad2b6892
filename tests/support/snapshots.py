"""Snapshot partition files written straight from records, for warehouse tests that need no
export."""

from datetime import date, datetime
from pathlib import Path

from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA, flatten_tasks
from mixpeek_tasks.snapshot.parquet_files import SnapshotWriter
from mixpeek_tasks.snapshot.tree import SnapshotTree


def publish_tables(tree: SnapshotTree, export_date: date, tasks, quarantine) -> None:
    """Publish Arrow tables, or open SnapshotWriters, as `export_date`'s night of `tree`
    (without a coverage record, like a night published before exports kept one)."""
    files = []
    for dataset, table, schema in (("tasks", tasks, TASK_SCHEMA),
                                   ("task_quarantine", quarantine, QUARANTINE_SCHEMA)):
        writer = table
        if not isinstance(writer, SnapshotWriter):
            writer = SnapshotWriter(tree.staging_dir, dataset, export_date, schema)
            writer.write(table)
        files.append(writer.close())
    tree.publish(export_date, *files, coverage=None)


def write_snapshot(root: Path, records: list, export_date: date,
                   exported_at: datetime) -> tuple[date, Path, Path]:
    """Flatten `records` and publish them as `export_date`'s tasks and quarantine files;
    return (export date, tasks path, quarantine path), the arguments of a load."""
    flat = flatten_tasks(records, export_date, exported_at)
    tree = SnapshotTree(root / "parquet")
    publish_tables(tree, export_date, flat.tasks, flat.quarantine)
    return (export_date, tree.location("tasks", export_date),
            tree.location("task_quarantine", export_date))
