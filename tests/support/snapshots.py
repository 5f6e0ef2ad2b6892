"""Snapshot partition files written straight from records, for warehouse tests that need no
export."""

from datetime import date, datetime
from pathlib import Path

from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA, flatten_tasks
from mixpeek_tasks.snapshot.parquet_files import SnapshotWriter


def write_snapshot(root: Path, records: list, export_date: date,
                   exported_at: datetime) -> tuple[date, Path, Path]:
    """Flatten `records` and publish them as `export_date`'s tasks and quarantine files;
    return (export date, tasks path, quarantine path), the arguments of a load."""
    flat = flatten_tasks(records, export_date, exported_at)
    paths = []
    for dataset, table, schema in (("tasks", flat.tasks, TASK_SCHEMA),
                                   ("task_quarantine", flat.quarantine, QUARANTINE_SCHEMA)):
        writer = SnapshotWriter(root / "parquet", dataset, export_date, schema)
        writer.write(table)
        paths.append(writer.commit())
    return export_date, *paths
