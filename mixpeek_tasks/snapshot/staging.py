"""Resumable staging of the listing under way: Parquet parts plus the paging position reached.

Staging is always on local disk, in the tree's staging folder (`<root>/_staging` for a local
tree, MIXPEEK_STAGING_DIR or a folder under the system's temporary directory for S3):

    <staging>/listing.lock         held while a listing runs: a second run waits here
    <staging>/listing/
        checkpoint.json            the observation's id, when its first and last page were
                                   read, the paging strategy, its streams with their
                                   positions, parts, counts
        tasks-00000.parquet ...    flattened tasks, one part per flush
        quarantine-00000.parquet ...

A part is written to a temporary name and renamed, then the checkpoint is replaced the same
way, so after a crash the checkpoint names only complete parts and a position no later than
what they hold: the next run re-fetches at most one part's worth of pages and carries on.
Each part is also streamed into the observation's files being written (parquet_files.py),
so publishing only closes them and hands them to the tree; a resumed listing first streams in
the parts it found.

A listing interrupted less than `resume_within` ago is resumed by the next run, as the same
observation: its id is the one its first attempt minted, and its listing started with the
first attempt's first page, so a resumed observation spans both attempts (a task read in the
first attempt is in it as it was then). An older one is started over, as a new observation.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from mixpeek_tasks.api.paging.pages import PagingStrategy
from mixpeek_tasks.atomic_files import replace_atomically
from mixpeek_tasks.filelock import LockTimeout, exclusive_lock
from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA
from mixpeek_tasks.snapshot.observation import Observation, id_time, mint_id
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
LISTING = "listing"
OUTPUTS = {"tasks": (TASKS_DATASET, TASK_SCHEMA),
           "quarantine": (QUARANTINE_DATASET, QUARANTINE_SCHEMA)}


def _sweep_stale(staging: Path, older_than: timedelta, keep: str) -> None:
    """Remove staged folders and files untouched for `older_than`, except `keep`'s folder.

    A folder whose lock another run holds is left alone (that run is using it); lock
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


@dataclass
class StreamProgress:
    after: str | None = None
    done: bool = False


class SnapshotStaging:
    """The staging folder of the listing under way, resumed when a fresh checkpoint matches."""

    def __init__(self, tree: SnapshotTree, strategy: PagingStrategy, resume_within: timedelta):
        self.schema_fingerprint = hashlib.sha256(
            f"{TASK_SCHEMA}|{QUARANTINE_SCHEMA}".encode()).hexdigest()[:16]
        self.tree = tree
        self.folder = tree.staging_dir / LISTING
        self.strategy = strategy
        self.progress = {key: StreamProgress() for key in strategy.plan()}
        self.parts = 0
        self.rows = self.quarantined = self.pages = 0
        self.first_page_at: datetime | None = None
        self.last_page_at: datetime | None = None
        self.resumed = self._load(resume_within)
        if not self.resumed:
            self.started_at = _unpublished_second(tree)
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
        self.observation_id = mint_id(self.started_at)
        self._outputs: dict[str, SnapshotWriter] = {}

    @classmethod
    @contextlib.contextmanager
    def open(cls, tree: SnapshotTree, strategy: PagingStrategy, *,
             resume_within: timedelta, lock_timeout: float) -> Iterator[SnapshotStaging]:
        """Stage a listing exclusively: a second run waits here, then lists anew (a second
        observation) once the first is published.

        Staging that no run can resume any more (older than `resume_within`) is removed first,
        and so are uploads to S3 as old, so listings that failed and were never resumed do not
        keep their parts for ever.
        """
        lock = tree.staging_dir / f"{LISTING}.lock"
        with exclusive_lock(lock, lock_timeout, "the listing under way"):
            _sweep_stale(tree.staging_dir, resume_within, keep=LISTING)
            tree.sweep_uploads(resume_within)
            staging = cls(tree, strategy, resume_within)
            try:
                staging._open_outputs()
                yield staging
            finally:
                # Discards the files a failure left, and after a publish to S3 the local files
                # it uploaded from (on disk they were moved into the tree).
                for writer in staging._outputs.values():
                    writer.abort()

    def _load(self, resume_within: timedelta) -> bool:
        """Adopt a checkpoint that is recent, of the same resumable strategy and schema, and
        whose parts all exist, with its streams; anything else (an older version's, a damaged
        one, another strategy's, one already published) starts over."""
        try:
            saved = orjson.loads((self.folder / CHECKPOINT).read_bytes())
            started_at = id_time(saved["observation"])
            saved_streams = {r["key"]: StreamProgress(r["after"], r["done"])
                             for r in saved["streams"]}
            usable = (saved["schema"] == self.schema_fingerprint
                      and self.strategy.resumable
                      and saved["strategy"] == self.strategy.name
                      and saved["plan"].keys() == saved_streams.keys()
                      and datetime.now(timezone.utc) - started_at <= resume_within
                      and not self.tree.is_published(saved["observation"])
                      and all(self._part(dataset, number).exists()
                              for number in range(saved["parts"])
                              for dataset in OUTPUTS))
            first_page_at = datetime.fromisoformat(saved["first_page_at"])
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
        self.first_page_at = first_page_at
        return True

    def note_page(self, fetched_at: datetime) -> None:
        """A page was read at `fetched_at`: the listing's span reaches it."""
        if self.first_page_at is None:
            self.first_page_at = fetched_at
        self.last_page_at = fetched_at

    def pending(self) -> dict[str, str | None]:
        """Streams still to page, each with the position to resume after."""
        return {r: p.after for r, p in self.progress.items() if not p.done}

    def _part(self, dataset: str, number: int) -> Path:
        return self.folder / f"{dataset}-{number:05d}.parquet"

    def _open_outputs(self) -> None:
        """Start the observation's files, with what the parts already staged hold (a resume)."""
        for kind, (dataset, schema) in OUTPUTS.items():
            self._outputs[kind] = SnapshotWriter(self.tree.staging_dir, dataset,
                                                 self.observation_id, schema)
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
            "observation": self.observation_id,
            "first_page_at": (self.first_page_at or self.started_at).isoformat(),
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

    def observation(self) -> Observation:
        """The observation staged: its id, and when its listing read its first and last
        page (the run's start when it read none)."""
        return Observation.new(self.observation_id, self.first_page_at or self.started_at,
                               self.last_page_at or self.first_page_at or self.started_at)

    def publish(self, coverage: bytes) -> tuple[Observation, Path | str, Path | str]:
        """Publish the observation through the tree (its files, then its manifest); return it
        and where its tasks and quarantine files are (paths, or s3:// URIs)."""
        record = self.folder / "_coverage.json"
        replace_atomically(record, lambda path: path.write_bytes(coverage))
        observation = self.observation()
        self.tree.publish(observation, self._outputs["tasks"].close(),
                          self._outputs["quarantine"].close(), record)
        return (observation, self.tree.location(TASKS_DATASET, observation),
                self.tree.location(QUARANTINE_DATASET, observation))

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def staged_tasks(tree: SnapshotTree) -> int:
    """How many tasks the interrupted listing holds staged: what the next run resumes from (0
    when there is none, or none that can be read)."""
    try:
        checkpoint = tree.staging_dir / LISTING / CHECKPOINT
        return int(orjson.loads(checkpoint.read_bytes())["rows"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def _unpublished_second(tree: SnapshotTree) -> datetime:
    """Now, to the second: the start, and id, of a new observation. Should an observation of
    this very second be published already (a listing of a small account that took under a
    second), the clock is waited out until the next one, so no observation replaces
    another."""
    while True:
        now = datetime.now(timezone.utc).replace(microsecond=0)
        if not tree.is_published(mint_id(now)):
            return now
        time.sleep(1.0 - datetime.now(timezone.utc).microsecond / 1e6)
