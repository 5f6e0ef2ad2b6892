"""Where a snapshot tree's files live: a local folder, or a prefix of an S3 bucket.

Both are reached through pyarrow's filesystems, so reading and listing are one code path; they
differ in how a file is put in place whole. On disk: written beside it, then renamed
(atomic_files.py). On S3, where there is no rename but every PUT (and every server-side copy)
replaces an object whole: uploaded first under the hidden `_uploads/` prefix, then copied onto
its name once every file of the night is up, so the visible files change within a moment
instead of for the length of an upload.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from mixpeek_tasks import settings
from mixpeek_tasks.api.errors import MixpeekError
from mixpeek_tasks.atomic_files import publish, replace_atomically
from mixpeek_tasks.secrets import mask

S3_SCHEME = "s3://"
# Below the tree's root, hidden from Spark, Trino and Hive by its leading underscore.
UPLOADS = "_uploads"
CHUNK = 8 * 1024 * 1024
# Variables whose values must never reach a message, even quoted back by the AWS SDK.
SECRET_VARIABLES = (settings.AWS_SECRET_ACCESS_KEY, settings.AWS_SESSION_TOKEN)


class ObjectStoreError(MixpeekError):
    """The tree's storage refused a write; the message is one line, without secrets."""


def describe(error: OSError) -> str:
    """The first line of a filesystem error (the AWS SDK's run to several), secrets masked."""
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return mask(line, *(variable.read() for variable in SECRET_VARIABLES))


def _copy_stream(source, target) -> None:
    while chunk := source.read(CHUNK):
        target.write(chunk)


def is_s3_uri(root: str | Path) -> bool:
    return isinstance(root, str) and root.startswith(S3_SCHEME)


def s3_filesystem() -> pafs.S3FileSystem:
    """S3 as the standard AWS variables describe it. pyarrow (26) reads the credentials and
    the region itself but not AWS_ENDPOINT_URL, so the endpoint is passed on from it."""
    endpoint = settings.AWS_ENDPOINT_URL_S3.read() or settings.AWS_ENDPOINT_URL.read()
    options: dict[str, str] = {}
    if endpoint:
        url = urlsplit(endpoint)
        options = {"endpoint_override": url.netloc + url.path.rstrip("/"),
                   "scheme": url.scheme or "https"}
    region = settings.AWS_REGION.read() or settings.AWS_DEFAULT_REGION.read()
    return pafs.S3FileSystem(region=region, **options)


class _Store:
    """Reading and listing, the same on every filesystem; `base` is the root on `fs`."""

    is_local: bool

    def __init__(self, fs: pafs.FileSystem, base: str):
        self.fs = fs
        self.base = base.rstrip("/")

    def _key(self, relative: str) -> str:
        return f"{self.base}/{relative}"

    def read(self, relative: str) -> bytes | None:
        try:
            with self.fs.open_input_stream(self._key(relative)) as stream:
                return stream.read()
        except FileNotFoundError:
            return None

    def size(self, relative: str) -> int | None:
        info = self.fs.get_file_info(self._key(relative))
        return info.size if info.type == pafs.FileType.File else None

    def parquet_rows(self, relative: str) -> int:
        return pq.read_metadata(self._key(relative), filesystem=self.fs).num_rows

    def column_range(self, relative: str, column: str) -> list:
        """The least and the greatest value of `column` in a Parquet file, from its row
        groups' statistics (read whole where a writer left none); [] for a file of no rows."""
        with self.fs.open_input_file(self._key(relative)) as source:
            parquet = pq.ParquetFile(source)
            if parquet.metadata.num_rows == 0:
                return []
            index = parquet.schema_arrow.get_field_index(column)
            groups = [parquet.metadata.row_group(n).column(index).statistics
                      for n in range(parquet.metadata.num_row_groups)]
            if all(stats is not None and stats.has_min_max for stats in groups):
                return [min(s.min for s in groups), max(s.max for s in groups)]
            values = parquet.read(columns=[column]).column(column)
            return [pc.min(values).as_py(), pc.max(values).as_py()]

    def files(self, relative_dir: str) -> list[str]:
        """Every file below `relative_dir`, relative to the root."""
        selector = pafs.FileSelector(self._key(relative_dir), recursive=True,
                                     allow_not_found=True)
        return [info.path.removeprefix(self.base + "/")
                for info in self.fs.get_file_info(selector)
                if info.type == pafs.FileType.File]

    def sweep_uploads(self, older_than: timedelta) -> None:
        """Remove what killed runs left under `_uploads/` once no run can still be sending it
        (a run of the same date also clears its own area before uploading)."""
        cutoff = time.time_ns() - int(older_than.total_seconds() * 1e9)
        selector = pafs.FileSelector(self._key(UPLOADS), recursive=True, allow_not_found=True)
        for info in self.fs.get_file_info(selector):
            if info.type == pafs.FileType.File and info.mtime_ns < cutoff:
                self.fs.delete_file(info.path)

    def check_writable(self) -> None:
        """Write and remove one empty file under the root: OSError if refused."""
        probe = f".write-check-{uuid.uuid4().hex}"
        self.write_bytes(probe, b"")
        self.fs.delete_file(self._key(probe))


class LocalStore(_Store):
    is_local = True

    def __init__(self, root: Path):
        super().__init__(pafs.LocalFileSystem(), str(root))
        self.root = root

    def location(self, relative: str) -> Path:
        return self.root / relative

    def place(self, files: list[tuple[Path, str]], area: str) -> None:
        """Rename each complete local file onto its name, in order (staging is on this
        filesystem, so `area`, the upload area object storage needs, has no use here)."""
        for written, relative in files:
            publish(written, self.root / relative)

    def write_bytes(self, relative: str, data: bytes) -> None:
        replace_atomically(self.root / relative, lambda path: path.write_bytes(data))

    @contextlib.contextmanager
    def local_copies(self, relatives: dict[str, str]) -> Iterator[dict[str, Path]]:
        """The files themselves: DuckDB reads them where they are."""
        yield {role: self.root / relative for role, relative in relatives.items()}


class S3Store(_Store):
    is_local = False

    def __init__(self, uri: str):
        super().__init__(s3_filesystem(), uri.removeprefix(S3_SCHEME))
        self.uri = uri.rstrip("/")

    def location(self, relative: str) -> str:
        return f"{self.uri}/{relative}"

    def _upload(self, local: Path, key: str) -> None:
        # One multipart upload: S3 shows the object only once it completes, so a process
        # killed part-way leaves nothing under `key`.
        with open(local, "rb") as source, self.fs.open_output_stream(key) as target:
            _copy_stream(source, target)

    def place(self, files: list[tuple[Path, str]], area: str) -> None:
        """Upload every file under `_uploads/<area>/`, then copy each onto its name
        (server-side, in order) and remove the uploads. What a killed run of the same area
        left there is removed first: runs of one area (an export date) are serialized by its
        lock in the staging folder."""
        uploads = self._key(f"{UPLOADS}/{area}")
        self.fs.delete_dir_contents(uploads, missing_dir_ok=True)
        try:
            staged = []
            for number, (local, relative) in enumerate(files):
                key = f"{uploads}/{number}-{Path(relative).name}"
                self._upload(local, key)
                staged.append((key, self._key(relative)))
            for key, final in staged:
                # CopyObject: whole, server-side, up to 5 GB (a night of a million tasks is
                # about 150 MB).
                self.fs.copy_file(key, final)
        finally:
            self.fs.delete_dir_contents(uploads, missing_dir_ok=True)

    def write_bytes(self, relative: str, data: bytes) -> None:
        with self.fs.open_output_stream(self._key(relative)) as target:
            target.write(data)

    @contextlib.contextmanager
    def local_copies(self, relatives: dict[str, str]) -> Iterator[dict[str, Path]]:
        """Downloaded copies in a temporary folder, removed after the block; a missing object
        leaves its copy missing."""
        with tempfile.TemporaryDirectory(prefix="mixpeek-night-") as folder:
            copies = {}
            for role, relative in relatives.items():
                copy = Path(folder) / f"{role}-{Path(relative).name}"
                try:
                    with self.fs.open_input_stream(self._key(relative)) as source, \
                            open(copy, "wb") as target:
                        _copy_stream(source, target)
                except FileNotFoundError:
                    pass
                copies[role] = copy
            yield copies
