"""Replace a file so that a reader, or the next run after a crash, sees the old file or the new
one, never half of one: write beside it, flush to disk, then rename over it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path


def publish(written: Path, path: Path) -> Path:
    """Move the complete file `written` to `path` in one step (same filesystem), after flushing
    it to disk, so a crash right after cannot leave `path` naming an empty file."""
    with open(written, "rb") as staged:
        os.fsync(staged.fileno())
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(written, path)
    return path


def replace_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """Call `write(temporary)` on a hidden file beside `path`, then publish it as `path`.

    The temporary name is unique, so two processes replacing one file never write into each
    other's; a failed write leaves `path` as it was and removes its temporary file.
    """
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write(temporary)
        return publish(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
