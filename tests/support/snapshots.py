"""Snapshot partition files written straight from records, for warehouse tests that need no
export."""

from datetime import date, datetime
from pathlib import Path

import pyarrow as pa

from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA, flatten_tasks
from mixpeek_tasks.snapshot.parquet_files import SnapshotWriter, coverage_path


def publish_night(root: Path, export_date: date, tasks: pa.Table,
                  quarantine: pa.Table | None = None,
                  coverage: bytes | None = None) -> tuple[Path, Path]:
    """Publish tables as `export_date`'s night in the tree `root / "parquet"`, as an export
    does (coverage, quarantine, then tasks); return (tasks path, quarantine path)."""
    if coverage is not None:
        path = coverage_path(root / "parquet", export_date)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(coverage)
    paths = {}
    for dataset, table, schema in (
            ("task_quarantine", quarantine, QUARANTINE_SCHEMA), ("tasks", tasks, TASK_SCHEMA)):
        writer = SnapshotWriter(root / "parquet", dataset, export_date, schema)
        writer.write(schema.empty_table() if table is None else table)
        paths[dataset] = writer.commit()
    return paths["tasks"], paths["task_quarantine"]


def write_snapshot(root: Path, records: list, export_date: date, exported_at: datetime,
                   coverage: bytes | None = None) -> date:
    """Flatten `records` and publish them as `export_date`'s night; return the date."""
    flat = flatten_tasks(records, export_date, exported_at)
    publish_night(root, export_date, flat.tasks, flat.quarantine, coverage)
    return export_date
