"""Parquet snapshots, one folder per observation, written so no reader ever sees half a file.

Layout: `<root>/<dataset>/observation=<id>/data.parquet` (observation.py; trees written
before ids existed hold `export_date=YYYY-MM-DD/` folders, still read). A snapshot is written
to a file in the tree's local staging folder and closed there; the tree then puts it in place
whole (tree.py: a rename on disk, an upload and copy on S3), so a crash leaves the previous
file (or none), never a torn one.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# zstd level 1 writes about twice as fast as level 3 and, on task pages, no larger. Most text
# columns are unique (ids, JSON): dictionary encoding them cost 22% more write time and, given
# up part-way, made the file 8% larger (benchmarks/RESULTS.md).
PARQUET_OPTIONS = {"compression": "zstd", "compression_level": 1, "use_dictionary": False}
# Rows per row group: tables may arrive a page (1,000 rows) at a time, and groups that small
# read slowly; 64,000 held 25 MB more while writing and DuckDB loaded them no faster.
ROW_GROUP_ROWS = 16_000


TASKS_DATASET = "tasks"
QUARANTINE_DATASET = "task_quarantine"
DATA_FILE = "data.parquet"


def data_key(dataset: str, folder: str) -> str:
    """The data file of the observation in `folder`, relative to the tree's root."""
    return f"{dataset}/{folder}/{DATA_FILE}"


# An observation's own metadata (its manifest and coverage record) lives in a folder of its
# own beside the datasets, never inside one: a dataset's folder holds Parquet data only, so
# readers that take every file of it (polars) open it as they open any hive tree, and the
# leading underscore keeps the metadata out of Spark's and Trino's reads of the tree's root.
METADATA_FOLDER = "_observations"


def coverage_key(folder: str) -> str:
    """How the observation in `folder` was listed and reconciled (JSON)."""
    return f"{METADATA_FOLDER}/{folder}/_coverage.json"


class SnapshotWriter:
    """Stream tables into one observation's file of `dataset` in `staging` (named after
    `label`); `close()` finishes it for the tree to publish, `abort()` discards it."""

    def __init__(self, staging: Path, dataset: str, label: str, schema: pa.Schema):
        staging.mkdir(parents=True, exist_ok=True)
        self.staging_path = staging / f"{dataset}-{label}-{uuid.uuid4().hex}.parquet"
        self.schema = schema
        self.rows = 0
        self._buffer: list[pa.Table] = []
        self._buffered = 0
        self._writer = pq.ParquetWriter(self.staging_path, schema, **PARQUET_OPTIONS)
        self._closed = False

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self._buffer.append(table)
        self._buffered += table.num_rows
        self.rows += table.num_rows
        if self._buffered >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._writer.write_table(pa.concat_tables(self._buffer), row_group_size=ROW_GROUP_ROWS)
            self._buffer, self._buffered = [], 0

    def close(self) -> Path:
        """Finish the file (it can be read and checked before it is published)."""
        if not self._closed:
            self._flush()
            self._writer.close()
            self._closed = True
        return self.staging_path

    def abort(self) -> None:
        """Remove the file, unless it was published (moved away) already."""
        if not self._closed:
            self._writer.close()
        self.staging_path.unlink(missing_ok=True)
