"""What can be checked before an export starts paging, each failure said in one line a person
can act on: the key is set and fits a header, the base URL is a URL, the export directory (or
S3 prefix) takes files, the warehouse has a local place."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import httpx

from mixpeek_tasks import settings
from mixpeek_tasks.api.errors import MixpeekError
from mixpeek_tasks.secrets import PastedKey, clean_api_key
from mixpeek_tasks.snapshot.object_store import describe, is_s3_uri
from mixpeek_tasks.snapshot.tree import SnapshotTree, export_tree
from mixpeek_tasks.warehouse.database import Warehouse

# An export of 1,000,000 tasks writes about 150 MB of Parquet and stages as much again (on
# S3 exports all of it is staged locally, then uploaded).
MIN_FREE_BYTES = 512 * 1024 * 1024


class PreflightError(MixpeekError):
    """The export cannot start; the message says what to change."""


class WarehouseNotSet(PreflightError):
    """The export directory is on S3 and MIXPEEK_WAREHOUSE does not say where DuckDB lives."""


def check_api_key(api_key: str | None) -> PastedKey:
    """The key as the requests will carry it (UnusableKey if no header can)."""
    if not api_key:
        raise PreflightError(
            "MIXPEEK_API_KEY is not set: export it with your key, or run `make demo` to export "
            "the built-in emulator instead")
    return clean_api_key(api_key)


def check_base_url(base_url: str) -> None:
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as error:
        raise PreflightError(f"MIXPEEK_BASE_URL {base_url!r} is not a URL ({error})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise PreflightError(
            f"MIXPEEK_BASE_URL {base_url!r} is not an http(s) URL with a host, such as "
            f"{settings.BASE_URL.default}")


def check_export_dir(export_dir: Path, min_free_bytes: int = MIN_FREE_BYTES, *,
                     what: str = "export directory", variable: str = "MIXPEEK_EXPORT_DIR"
                     ) -> None:
    """The directory exists (it is created if missing), takes a file, and has room; `what`
    and `variable` name it in the message (an S3 export stages in MIXPEEK_STAGING_DIR)."""
    try:
        export_dir.mkdir(parents=True, exist_ok=True)
        probe = export_dir / f".write-check-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise PreflightError(
            f"the {what} {export_dir} is not writable ({error.strerror or error}): "
            f"set {variable} to a folder you can write to") from None
    free = shutil.disk_usage(export_dir).free
    if free < min_free_bytes:
        raise PreflightError(
            f"the {what} {export_dir} has {free / 2**20:,.0f} MB free; an export "
            f"needs at least {min_free_bytes / 2**20:,.0f} MB")


def warehouse_file(export_dir: str, warehouse: str | None) -> Path:
    """The DuckDB file: `warehouse` when set, else `<export_dir>/warehouse.duckdb` for a local
    export directory. DuckDB writes only local files, so an S3 export directory needs one."""
    if warehouse:
        return Path(warehouse)
    if is_s3_uri(export_dir):
        raise WarehouseNotSet(
            f"MIXPEEK_EXPORT_DIR is {export_dir}, so DuckDB cannot live beside it: set "
            "MIXPEEK_WAREHOUSE to a local path such as /var/lib/mixpeek/warehouse.duckdb")
    return Path(export_dir) / "warehouse.duckdb"


def warehouse_from_environment() -> Warehouse:
    """The warehouse of the command-line tools that run outside Dagster: at
    warehouse_file(MIXPEEK_EXPORT_DIR, MIXPEEK_WAREHOUSE), over the tree of MIXPEEK_EXPORT_DIR
    (staged in MIXPEEK_STAGING_DIR), as ExportStorage configures it for the assets."""
    export_dir = settings.EXPORT_DIR.read()
    return Warehouse(warehouse_file(export_dir, settings.WAREHOUSE.read()),
                     tree_from_environment())


def tree_from_environment() -> SnapshotTree:
    """The tree of MIXPEEK_EXPORT_DIR, staged in MIXPEEK_STAGING_DIR, as ExportStorage has it."""
    return export_tree(settings.EXPORT_DIR.read(), settings.STAGING_DIR.read())


def check_object_store(tree: SnapshotTree) -> None:
    """The bucket answers and takes an object (one small put and delete)."""
    try:
        tree.check_writable()
    except OSError as error:
        raise PreflightError(
            f"the export location {tree} is not writable ({describe(error)}): check the "
            "bucket, AWS_ENDPOINT_URL and the AWS credentials") from None
