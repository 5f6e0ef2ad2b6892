"""Resumable staging of one export date: Parquet parts plus the paging position reached.

Staging is always on local disk, in the tree's staging folder (`<root>/_staging` for a local
tree, MIXPEEK_STAGING_DIR or a folder under the system's temporary directory for S3):

    <staging>/export_date=YYYY-MM-DD.lock   held while an export of the date runs
    <staging>/export_date=YYYY-MM-DD/
        checkpoint.json            the paging strategy, its streams with their positions,
                                   parts, counts
        tasks-00000.parquet ...    flattened tasks, one part per flush
        quarantine-00000.parquet ...

A part is written to a temporary name and renamed, then the checkpoint is replaced the same
way, so after a crash the checkpoint names only complete parts and a position no later than
what they hold: the next run re-fetches at most one part's worth of pages and carries on.
Each part is also streamed into the partition files being written (parquet_files.py), so
publishing only closes them and hands them to the tree; a resumed export first streams in the
parts it found.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from mixpeek_tasks.api.paging.pages import PagingStrategy
from mixpeek_tasks.atomic_files import replace_atomically
from mixpeek_tasks.filelock import LockTimeout, exclusive_lock
from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA
from mixpeek_tasks.snapshot.parquet_files import (
    QUARANTINE_DATASET,
    ROW_GROUP_ROWS,
    TASKS_DATASET,
    SnapshotWriter,
)
from mixpeek_tasks.snapshot.tree import SnapshotTree

# Parts are read back only by a resumed export: fast compression beats small files here, and
# row groups of the partition file's size let it hold one group at a time.
PART_OPTIONS = {"compression": "lz4", "row_group_size": ROW_GROUP_ROWS}
CHECKPOINT = "checkpoint.json"
# Each kind of part, and the dataset and schema it is published as.
OUTPUTS = {"tasks": (TASKS_DATASET, TASK_SCHEMA),
           "quarantine": (QUARANTINE_DATASET, QUARANTINE_SCHEMA)}


def _sweep_stale(staging: Path, older_than: timedelta, keep: str) -> None:
    """Remove staged folders and files untouched for `older_than`, except `keep`'s folder.

    A folder whose date lock another run holds is left alone (that run is using it); lock
    files themselves stay, as a run may be waiting on one.
    """
    cutoff = time.time() - older_than.total_seconds()
    for entry in staging.iterdir():
        if entry.suffix == ".lock" or entry.name == keep or entry.stat().st_mtime > cutoff:
            continue
        if entry.is_dir():
            try:
                with exclusive_lock(entry.with_name(entry.name + ".lock"), 0, str(entry)):
                    shutil.rmtree(entry, ignore_errors=True)
            except LockTimeout:
                continue
        else:
            entry.unlink(missing_ok=True)


def staging_folder(tree: SnapshotTree, export_date: date) -> Path:
    return tree.staging_dir / f"export_date={export_date.isoformat()}"


@dataclass
class StreamProgress:
    after: str | None = None
    done: bool = False


class SnapshotStaging:
    """The staging folder of one export date, resumed when a fresh checkpoint matches."""

    def __init__(self, tree: SnapshotTree, export_date: date, strategy: PagingStrategy,
                 resume_within: timedelta):
        self.schema_fingerprint = hashlib.sha256(
            f"{TASK_SCHEMA}|{QUARANTINE_SCHEMA}".encode()).hexdigest()[:16]
        self.tree = tree
        self.export_date = export_date
        self.folder = staging_folder(tree, export_date)
        self.strategy = strategy
        self.progress = {key: StreamProgress() for key in strategy.plan()}
        self.parts = 0
        self.rows = self.quarantined = self.pages = 0
        self.started_at = datetime.now(timezone.utc)
        self.resumed = self._load(resume_within)
        if not self.resumed:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
        self._outputs: dict[str, SnapshotWriter] = {}

    @classmethod
    @contextlib.contextmanager
    def open(cls, tree: SnapshotTree, export_date: date, strategy: PagingStrategy, *,
             resume_within: timedelta, lock_timeout: float) -> Iterator[SnapshotStaging]:
        """Stage `export_date` exclusively: a second export of the same date waits here.

        Staging that no run can resume any more (older than `resume_within`) is removed first,
        and so are uploads to S3 as old, so dates that failed and were never re-run do not
        keep their parts for ever.
        """
        lock = tree.staging_dir / f"export_date={export_date.isoformat()}.lock"
        with exclusive_lock(lock, lock_timeout, f"the export of {export_date}"):
            _sweep_stale(tree.staging_dir, resume_within, keep=lock.stem)
            tree.sweep_uploads(resume_within)
            staging = cls(tree, export_date, strategy, resume_within)
            try:
                staging._open_outputs()
                yield staging
            finally:
                # Discards the partition files a failure left, and after a publish to S3 the
                # local files it uploaded from (on disk they were moved into the tree).
                for writer in staging._outputs.values():
                    writer.abort()

    def _load(self, resume_within: timedelta) -> bool:
        """Adopt a checkpoint that is recent, of the same resumable strategy and schema, and
        whose parts all exist, with its streams; anything else (an older version's, a damaged
        one, another strategy's) starts over."""
        try:
            saved = orjson.loads((self.folder / CHECKPOINT).read_bytes())
            started_at = datetime.fromisoformat(saved["started_at"])
            saved_streams = {r["key"]: StreamProgress(r["after"], r["done"])
                             for r in saved["streams"]}
            usable = (saved["schema"] == self.schema_fingerprint
                      and self.strategy.resumable
                      and saved["strategy"] == self.strategy.name
                      and saved["plan"].keys() == saved_streams.keys()
                      and datetime.now(timezone.utc) - started_at <= resume_within
                      and all(self._part(dataset, number).exists()
                              for number in range(saved["parts"])
                              for dataset in OUTPUTS))
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return False
        if not usable:
            return False
        # The streams were cut from the ids of the first run; the positions reached hold there.
        self.strategy.adopt(saved["plan"])
        self.progress = saved_streams
        self.parts, self.pages = saved["parts"], saved["pages"]
        self.rows, self.quarantined = saved["rows"], saved["quarantined"]
        self.started_at = started_at
        return True

    def pending(self) -> dict[str, str | None]:
        """Streams still to page, each with the position to resume after."""
        return {r: p.after for r, p in self.progress.items() if not p.done}

    def _part(self, dataset: str, number: int) -> Path:
        return self.folder / f"{dataset}-{number:05d}.parquet"

    def _open_outputs(self) -> None:
        """Start the partition files, with what the parts already staged hold (a resume)."""
        for kind, (dataset, schema) in OUTPUTS.items():
            self._outputs[kind] = SnapshotWriter(self.tree.staging_dir, dataset,
                                                 self.export_date, schema)
            for number in range(self.parts):
                with pq.ParquetFile(self._part(kind, number)) as part:
                    for batch in part.iter_batches(batch_size=ROW_GROUP_ROWS):
                        self._outputs[kind].write(pa.Table.from_batches([batch], schema))
        # The read-back buffers are garbage now; give them back rather than keep the peak.
        pa.default_memory_pool().release_unused()

    def add_part(self, tasks: pa.Table, quarantine: pa.Table, pages: int,
                 progress: dict[str, StreamProgress]) -> None:
        """Persist one part, then advance the checkpoint to the positions it covers."""
        for kind, table in (("tasks", tasks), ("quarantine", quarantine)):
            replace_atomically(self._part(kind, self.parts),
                                lambda path, t=table: pq.write_table(t, path, **PART_OPTIONS))
            self._outputs[kind].write(table)
        self.parts += 1
        self.pages += pages
        self.rows += tasks.num_rows
        self.quarantined += quarantine.num_rows
        self.progress.update(progress)
        checkpoint = orjson.dumps({
            "export_date": self.export_date.isoformat(),
            "started_at": self.started_at.isoformat(),
            "schema": self.schema_fingerprint,
            "parts": self.parts, "pages": self.pages,
            "rows": self.rows, "quarantined": self.quarantined,
            "strategy": self.strategy.name,
            "plan": self.strategy.plan(),
            "streams": [{"key": key, "after": p.after, "done": p.done}
                        for key, p in self.progress.items()],
        }, option=orjson.OPT_INDENT_2)
        replace_atomically(self.folder / CHECKPOINT, lambda path: path.write_bytes(checkpoint))

    def finished_tasks_file(self) -> Path:
        """The complete tasks file, closed but not yet published, for checks before publishing."""
        return self._outputs["tasks"].close()

    def publish(self, coverage: bytes) -> tuple[Path | str, Path | str]:
        """Publish the night through the tree (its files, then its manifest); return where
        its tasks and quarantine files are (paths, or s3:// URIs)."""
        record = self.folder / "_coverage.json"
        replace_atomically(record, lambda path: path.write_bytes(coverage))
        self.tree.publish(self.export_date, self._outputs["tasks"].close(),
                          self._outputs["quarantine"].close(), record)
        return (self.tree.location(TASKS_DATASET, self.export_date),
                self.tree.location(QUARANTINE_DATASET, self.export_date))

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def staged_tasks(tree: SnapshotTree, export_date: date) -> int:
    """How many tasks the checkpoint of `export_date` holds staged: what its next export
    resumes from (0 when there is none, or none that can be read)."""
    try:
        checkpoint = staging_folder(tree, export_date) / CHECKPOINT
        return int(orjson.loads(checkpoint.read_bytes())["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0
