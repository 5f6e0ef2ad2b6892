"""The published Parquet tree, as its readers (the warehouse, the checks) see it.

    <root>/tasks/export_date=YYYY-MM-DD/data.parquet            the night's tasks
    <root>/tasks/export_date=YYYY-MM-DD/_coverage.json          how it was listed and reconciled
    <root>/tasks/export_date=YYYY-MM-DD/_manifest.json          the night's files, written last
    <root>/task_quarantine/export_date=YYYY-MM-DD/data.parquet  records that could not be rows

`root` is a local folder or `s3://bucket/prefix` (object_store.py). A night is published once
its manifest is there: the export puts the coverage record, the quarantine file and the tasks
file in place, each whole, and then the manifest (manifest.py). A re-run replaces all four.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from mixpeek_tasks.snapshot.manifest import MANIFEST_NAME, Manifest, ManifestEntry
from mixpeek_tasks.snapshot.object_store import (
    LocalStore,
    ObjectStoreError,
    S3Store,
    describe,
    is_s3_uri,
)
from mixpeek_tasks.snapshot.parquet_files import (
    DATA_FILE,
    QUARANTINE_DATASET,
    TASKS_DATASET,
    coverage_key,
    partition_folder,
    partition_key,
)

_PARTITION_PREFIX = "export_date="
# The manifest's name for each file of a night.
TASKS, QUARANTINE, COVERAGE = "tasks", "quarantine", "coverage"


@dataclass(frozen=True)
class NightFiles:
    """One published night's files, at paths DuckDB and pyarrow can open."""

    export_date: date
    tasks: Path
    quarantine: Path
    coverage: bytes | None


def default_staging_dir(uri: str) -> Path:
    """Where an S3 tree stages on this machine by default: one folder per bucket and prefix
    under the system's temporary directory, so a resumed run of a date finds its parts."""
    return (Path(tempfile.gettempdir()) / "mixpeek-staging"
            / hashlib.sha256(uri.encode()).hexdigest()[:16])


def manifest_key(export_date: date) -> str:
    return f"{partition_folder(TASKS_DATASET, export_date)}/{MANIFEST_NAME}"


def _keys(export_date: date) -> dict[str, str]:
    """Each file of the night by its name in the manifest, relative to the root."""
    return {TASKS: partition_key(TASKS_DATASET, export_date),
            QUARANTINE: partition_key(QUARANTINE_DATASET, export_date),
            COVERAGE: coverage_key(export_date)}


def _night_of(folder: str) -> date | None:
    """The export date of a partition folder (`<dataset>/export_date=D`); None for a folder
    that is not one of ours (a tool's own)."""
    dataset, _, partition = folder.rpartition("/")
    if dataset not in (TASKS_DATASET, QUARANTINE_DATASET) or not partition.startswith(
            _PARTITION_PREFIX):
        return None
    try:
        return date.fromisoformat(partition.removeprefix(_PARTITION_PREFIX))
    except ValueError:
        return None


class SnapshotTree:
    """The Parquet tree under `root`: a local folder, or `s3://bucket/prefix` (credentials and
    endpoint from the standard AWS variables). Staging, always local, is `<root>/_staging`
    for a local tree, else `staging_dir` (default: default_staging_dir)."""

    def __init__(self, root: str | Path, staging_dir: str | Path | None = None):
        if is_s3_uri(root):
            self.root: Path | str = str(root).rstrip("/")
            self._store: LocalStore | S3Store = S3Store(self.root)
            self.staging_dir = Path(staging_dir or default_staging_dir(self.root)).absolute()
        else:
            self.root = Path(root).absolute()
            self._store = LocalStore(self.root)
            self.staging_dir = self.root / "_staging"
        self.is_local = self._store.is_local

    def __str__(self) -> str:
        return str(self.root)

    def published_dates(self) -> list[date]:
        """Every night whose manifest is written, oldest first."""
        return sorted(self._nights_having(TASKS_DATASET, MANIFEST_NAME))

    def _nights_having(self, dataset: str, file_name: str) -> set[date]:
        """The nights whose partition folder of `dataset` holds a file `file_name`."""
        nights = set()
        for relative in self._store.files(dataset):
            folder, _, name = relative.rpartition("/")
            if name == file_name and (night := _night_of(folder)) is not None:
                nights.add(night)
        return nights

    def manifest(self, export_date: date) -> Manifest | None:
        """The night's manifest; None when the night is not published."""
        raw = self._store.read(manifest_key(export_date))
        return None if raw is None else Manifest.from_json(raw, export_date)

    def coverage(self, export_date: date) -> bytes | None:
        """The night's coverage record (JSON); None for a night that is not published or was
        published without one."""
        return self._coverage_of(self.manifest(export_date))

    def _coverage_of(self, manifest: Manifest | None) -> bytes | None:
        if manifest is None or COVERAGE not in manifest.files:
            return None
        return self._store.read(manifest.files[COVERAGE].path)

    @contextlib.contextmanager
    def night(self, export_date: date) -> Iterator[NightFiles]:
        """The published night's files, as local paths for the duration of the block (the
        files themselves on disk, downloaded copies for S3); FileNotFoundError naming the
        night when it is not published, ManifestError when its files are not the manifest's."""
        manifest = self.manifest(export_date)
        if manifest is None:
            raise FileNotFoundError(f"no published snapshot for {export_date} in {self}")
        parquet = {role: manifest.files[role].path for role in (TASKS, QUARANTINE)}
        with self._store.local_copies(parquet) as copies:
            coverage = self._coverage_of(manifest)
            sizes = {role: path.stat().st_size if path.exists() else None
                     for role, path in copies.items()}
            sizes[COVERAGE] = None if coverage is None else len(coverage)
            manifest.check_sizes(sizes)
            yield NightFiles(export_date, copies[TASKS], copies[QUARANTINE], coverage)

    def glob(self, dataset: str) -> str:
        """Every night's file of `dataset`, as a pattern DuckDB's read_parquet takes (an s3://
        one for S3, which DuckDB reads with its httpfs extension)."""
        return str(self._store.location(f"{dataset}/{_PARTITION_PREFIX}*/{DATA_FILE}"))

    def location(self, dataset: str, export_date: date) -> Path | str:
        """Where the night's file of `dataset` is published: a path, or an s3:// URI."""
        return self._store.location(partition_key(dataset, export_date))

    def publish(self, export_date: date, tasks: Path, quarantine: Path,
                coverage: Path | None) -> Manifest:
        """Put the night's complete local files in place and then its manifest, replacing
        the night's previous ones; `coverage` is None only for test fixtures. The files are
        moved (on disk) or uploaded (S3) from the staging folder."""
        placed = [(quarantine, QUARANTINE), (tasks, TASKS)]
        if coverage is not None:
            placed.insert(0, (coverage, COVERAGE))
        try:
            self._store.place([(local, _keys(export_date)[role]) for local, role in placed],
                              area=f"{_PARTITION_PREFIX}{export_date.isoformat()}")
            return self._write_manifest(export_date, [role for _, role in placed])
        except OSError as error:
            raise ObjectStoreError(
                f"publishing {export_date} to {self} failed ({describe(error)}); its manifest "
                "was not written: export the date again") from None

    def _write_manifest(self, export_date: date, roles: list[str]) -> Manifest:
        """The manifest of the files now in place, as the tree measures them."""
        files = {}
        for role in roles:
            relative = _keys(export_date)[role]
            rows = None if role == COVERAGE else self._store.parquet_rows(relative)
            files[role] = ManifestEntry(relative, self._store.size(relative), rows)
        manifest = Manifest(export_date, datetime.now(timezone.utc), files)
        self._store.write_bytes(manifest_key(export_date), manifest.to_json())
        return manifest

    def sweep_uploads(self, older_than: timedelta) -> None:
        """Remove uploads to S3 that killed runs left and no run can still be sending."""
        self._store.sweep_uploads(older_than)

    def check_writable(self) -> None:
        """Put and delete one small object (S3) or file: OSError if the root refuses."""
        self._store.check_writable()


def export_tree(export_dir: str | Path, staging_dir: str | Path | None = None) -> SnapshotTree:
    """The tree of an export directory (a folder or s3://bucket/prefix): its `parquet/`."""
    return SnapshotTree(f"{str(export_dir).rstrip('/')}/parquet", staging_dir)
