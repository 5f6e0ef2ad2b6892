"""What can be checked before an export starts paging, each failure said in one line a person
can act on: the key is set, the base URL is a URL, the export directory takes files."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import httpx

from mixpeek_tasks.api.errors import MixpeekError

# An export of 1,000,000 tasks writes about 150 MB of Parquet and stages as much again.
MIN_FREE_BYTES = 512 * 1024 * 1024


class PreflightError(MixpeekError):
    """The export cannot start; the message says what to change."""


def check_api_key(api_key: str | None) -> None:
    if not api_key:
        raise PreflightError(
            "MIXPEEK_API_KEY is not set: export it with your key, or run `make demo` to export "
            "the built-in emulator instead")


def check_base_url(base_url: str) -> None:
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as error:
        raise PreflightError(f"MIXPEEK_BASE_URL {base_url!r} is not a URL ({error})") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise PreflightError(
            f"MIXPEEK_BASE_URL {base_url!r} is not an http(s) URL with a host, such as "
            "https://api.mixpeek.com")


def check_export_dir(export_dir: Path, min_free_bytes: int = MIN_FREE_BYTES) -> None:
    """The directory exists (it is created if missing), takes a file, and has room."""
    try:
        export_dir.mkdir(parents=True, exist_ok=True)
        probe = export_dir / f".write-check-{uuid.uuid4().hex}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise PreflightError(
            f"the export directory {export_dir} is not writable ({error.strerror or error}): "
            "set MIXPEEK_EXPORT_DIR to a folder you can write to") from None
    free = shutil.disk_usage(export_dir).free
    if free < min_free_bytes:
        raise PreflightError(
            f"the export directory {export_dir} has {free / 2**20:,.0f} MB free; an export "
            f"needs at least {min_free_bytes / 2**20:,.0f} MB")
