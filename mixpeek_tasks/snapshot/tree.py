"""The published Parquet tree, as its readers (the warehouse, the checks) see it.

    <root>/tasks/observation=<id>/data.parquet            the observation's tasks
    <root>/task_quarantine/observation=<id>/data.parquet  records that could not be rows
    <root>/_observations/observation=<id>/_coverage.json   how it was listed and reconciled
    <root>/_observations/observation=<id>/_manifest.json   its files and listing times, last

A dataset's folder holds its Parquet files only, so every reader opens it as a hive tree.

`root` is a local folder or `s3://bucket/prefix` (object_store.py). An observation is
published once its manifest is there: the export puts the coverage record, the quarantine
file and the tasks file in place, each whole, and then the manifest (manifest.py).

Trees written before observations had ids hold `export_date=YYYY-MM-DD/` folders instead.
They are read as observations too, but their folder's date was a label a caller chose (a
re-run of a past date filed today's listing under it): such an observation's time is what
its files say, the first and last `exported_at` they hold (a page's read time), never the
label. Their manifests and coverage records stay where that layout wrote them, in the
tasks folder beside the data.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from mixpeek_tasks.snapshot.manifest import MANIFEST_NAME, Manifest, ManifestEntry
from mixpeek_tasks.snapshot.object_store import (
    LocalStore,
    ObjectStoreError,
    S3Store,
    describe,
    is_s3_uri,
)
from mixpeek_tasks.snapshot.observation import (
    LEGACY_KEY,
    OBSERVATION_KEY,
    Observation,
    folder_kind,
    id_time,
    mint_id,
)
from mixpeek_tasks.snapshot.parquet_files import (
    DATA_FILE,
    METADATA_FOLDER,
    QUARANTINE_DATASET,
    TASKS_DATASET,
    coverage_key,
    data_key,
)

# The manifest's name for each file of an observation.
TASKS, QUARANTINE, COVERAGE = "tasks", "quarantine", "coverage"


@dataclass(frozen=True)
class ObservationFiles:
    """One published observation's files, at paths DuckDB and pyarrow can open."""

    observation: Observation
    tasks: Path
    quarantine: Path
    coverage: bytes | None


def default_staging_dir(uri: str) -> Path:
    """Where an S3 tree stages on this machine by default: one folder per bucket and prefix
    under the system's temporary directory, so a resumed listing finds its parts."""
    return (Path(tempfile.gettempdir()) / "mixpeek-staging"
            / hashlib.sha256(uri.encode()).hexdigest()[:16])


def manifest_key(folder: str) -> str:
    """The observation's manifest, in the metadata folder; a legacy night's beside its tasks
    file, where trees of that layout wrote it."""
    return f"{_metadata_parent(folder)}/{folder}/{MANIFEST_NAME}"


def _metadata_parent(folder: str) -> str:
    kind = folder_kind(folder)
    return TASKS_DATASET if kind is not None and kind[0] == LEGACY_KEY else METADATA_FOLDER


def _keys(folder: str) -> dict[str, str]:
    """Each file of the observation by its name in the manifest, relative to the root."""
    return {TASKS: data_key(TASKS_DATASET, folder),
            QUARANTINE: data_key(QUARANTINE_DATASET, folder),
            COVERAGE: coverage_key(folder)}


def _folder_of(relative_dir: str) -> str | None:
    """The observation folder of `<dataset>/<folder>`; None for a folder that is not one of
    ours (a tool's own)."""
    dataset, _, folder = relative_dir.rpartition("/")
    if dataset not in (TASKS_DATASET, QUARANTINE_DATASET, METADATA_FOLDER) \
            or folder_kind(folder) is None:
        return None
    return folder


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

    def observations(self) -> list[Observation]:
        """Every published observation (its manifest is written), oldest first; one of a
        legacy folder with its listing times read from its files."""
        found = []
        for folder in self._manifest_folders():
            key, value = folder_kind(folder)
            if key == OBSERVATION_KEY:
                found.append(Observation(value, folder))
            else:
                found.append(self._legacy(folder))
        return sorted(found, key=_when)

    def _legacy(self, folder: str) -> Observation:
        """A night of an earlier tree as the observation its files show: its first and last
        page read times (`exported_at`), whatever date its folder was labelled with; a night
        that listed nothing has only its manifest's publish time."""
        span = [moment for dataset in (TASKS_DATASET, QUARANTINE_DATASET)
                for moment in self._store.column_range(data_key(dataset, folder),
                                                       "exported_at")]
        if not span:
            published = self.manifest_of(folder).published_at
            span = [published]
        first, last = min(span), max(span)
        return Observation(mint_id(first), folder, first, last)

    def _manifest_folders(self) -> set[str]:
        """The folders of every published observation: those with a manifest where
        manifest_key puts it."""
        return {folder for parent in (METADATA_FOLDER, TASKS_DATASET)
                for folder in self._folders_having(parent, MANIFEST_NAME)
                if _metadata_parent(folder) == parent}

    def _folders_having(self, dataset: str, file_name: str) -> set[str]:
        """The observation folders of `dataset` that hold a file `file_name`."""
        folders = set()
        for relative in self._store.files(dataset):
            directory, _, name = relative.rpartition("/")
            if name == file_name and (folder := _folder_of(directory)) is not None:
                folders.add(folder)
        return folders

    def newest(self) -> Observation | None:
        """The latest published observation; None for a tree that has none."""
        observations = self.observations()
        return observations[-1] if observations else None

    def observation(self, observation_id: str) -> Observation | None:
        """The published observation `observation_id`; None when it is not published."""
        return next((o for o in self.observations() if o.id == observation_id), None)

    def observed_on(self, day) -> list[Observation]:
        """The published observations of the UTC date `day`."""
        return [o for o in self.observations() if o.observed_on == day]

    def is_published(self, observation_id: str) -> bool:
        return self._store.size(manifest_key(f"{OBSERVATION_KEY}={observation_id}")) is not None

    def manifest_of(self, folder: str) -> Manifest | None:
        raw = self._store.read(manifest_key(folder))
        return None if raw is None else Manifest.from_json(raw, folder)

    def manifest(self, observation: Observation) -> Manifest | None:
        """The observation's manifest; None when it is not published."""
        return self.manifest_of(observation.folder)

    def coverage(self, observation: Observation) -> bytes | None:
        """The observation's coverage record (JSON); None for one that is not published or
        was published without one."""
        return self._coverage_of(self.manifest(observation))

    def _coverage_of(self, manifest: Manifest | None) -> bytes | None:
        if manifest is None or COVERAGE not in manifest.files:
            return None
        return self._store.read(manifest.files[COVERAGE].path)

    @contextlib.contextmanager
    def files(self, observation: Observation) -> Iterator[ObservationFiles]:
        """The published observation's files, as local paths for the duration of the block
        (the files themselves on disk, downloaded copies for S3), with its listing times;
        FileNotFoundError naming it when it is not published, ManifestError when its files
        are not the manifest's."""
        manifest = self.manifest(observation)
        if manifest is None:
            raise FileNotFoundError(f"{observation} is not published in {self}")
        if not observation.legacy:
            observation = replace(observation, listing_started_at=manifest.listing_started_at,
                                  listing_finished_at=manifest.listing_finished_at)
        parquet = {role: manifest.files[role].path for role in (TASKS, QUARANTINE)}
        with self._store.local_copies(parquet) as copies:
            coverage = self._coverage_of(manifest)
            sizes = {role: path.stat().st_size if path.exists() else None
                     for role, path in copies.items()}
            sizes[COVERAGE] = None if coverage is None else len(coverage)
            manifest.check_sizes(sizes)
            yield ObservationFiles(observation, copies[TASKS], copies[QUARANTINE], coverage)

    def glob(self, dataset: str) -> str:
        """Every observation's file of `dataset` (both layouts), as a pattern DuckDB's
        read_parquet takes (an s3:// one for S3, which DuckDB reads with its httpfs
        extension)."""
        return str(self._store.location(f"{dataset}/*=*/{DATA_FILE}"))

    def location(self, dataset: str, observation: Observation) -> Path | str:
        """Where the observation's file of `dataset` is published: a path, or an s3:// URI."""
        return self._store.location(data_key(dataset, observation.folder))

    def publish(self, observation: Observation, tasks: Path, quarantine: Path,
                coverage: Path | None) -> Manifest:
        """Put the observation's complete local files in place and then its manifest, with
        its listing times; `coverage` is None only for test fixtures. The files are moved (on
        disk) or uploaded (S3) from the staging folder."""
        placed = [(quarantine, QUARANTINE), (tasks, TASKS)]
        if coverage is not None:
            placed.insert(0, (coverage, COVERAGE))
        folder = observation.folder
        try:
            self._store.place([(local, _keys(folder)[role]) for local, role in placed],
                              area=folder)
            return self._write_manifest(folder, [role for _, role in placed], observation)
        except OSError as error:
            raise ObjectStoreError(
                f"publishing {observation} to {self} failed ({describe(error)}); its manifest "
                "was not written: run the export again") from None

    def _write_manifest(self, folder: str, roles: list[str],
                        observation: Observation | None = None) -> Manifest:
        """The manifest of the files now in place, as the tree measures them."""
        files = {}
        for role in roles:
            relative = _keys(folder)[role]
            rows = None if role == COVERAGE else self._store.parquet_rows(relative)
            files[role] = ManifestEntry(relative, self._store.size(relative), rows)
        manifest = Manifest(folder, datetime.now(timezone.utc), files,
                            observation and observation.listing_started_at,
                            observation and observation.listing_finished_at)
        self._store.write_bytes(manifest_key(folder), manifest.to_json())
        return manifest

    def sweep_uploads(self, older_than: timedelta) -> None:
        """Remove uploads to S3 that killed runs left and no run can still be sending."""
        self._store.sweep_uploads(older_than)

    def check_writable(self) -> None:
        """Put and delete one small object (S3) or file: OSError if the root refuses."""
        self._store.check_writable()


def _when(observation: Observation) -> tuple[datetime, str]:
    return id_time(observation.id), observation.folder


def export_tree(export_dir: str | Path, staging_dir: str | Path | None = None) -> SnapshotTree:
    """The tree of an export directory (a folder or s3://bucket/prefix): its `parquet/`."""
    return SnapshotTree(f"{str(export_dir).rstrip('/')}/parquet", staging_dir)
