"""The warehouse's files: the published file readers open, the private writer file loads work
on, the lock every write holds, and the atomic publish of the one as the other.

No writer ever holds the published file: a load works on `<stem>.writer<suffix>` beside it
and publishes a complete, checkpointed copy by atomic rename. A reader connected during a load
keeps the night it opened; a connection opened after the rename gets the new night; none waits
for a load. DuckDB allows one writer per file, so every write runs under an exclusive file
lock: concurrent exports (a Dagster backfill) queue here instead of failing with "Could not
set lock".
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from mixpeek_tasks.atomic_files import replace_atomically
from mixpeek_tasks.filelock import exclusive_lock


class WarehouseFiles:
    def __init__(self, path: Path, lock_timeout: float):
        self.path = Path(path)
        self.lock_timeout = lock_timeout
        self.writer = self._beside("writer")
        # Where DuckDB spills what does not fit its memory limit.
        self.spill_dir = self.path.with_name(self.path.name + ".tmp")

    def _beside(self, role: str) -> Path:
        return self.path.with_name(f"{self.path.stem}.{role}{self.path.suffix}")

    def locked(self) -> contextlib.AbstractContextManager[None]:
        return exclusive_lock(self.path.with_name(self.path.name + ".lock"), self.lock_timeout,
                              f"warehouse {self.path}")

    def fresh_rebuild_file(self) -> Path:
        """An empty place for a rebuild, beside the writer file it is to replace."""
        fresh = self._beside("rebuild")
        for leftover in (fresh, _wal_of(fresh)):
            leftover.unlink(missing_ok=True)
        return fresh

    def replace_writer(self, fresh: Path) -> None:
        """Let a complete, checkpointed rebuild become the writer file."""
        _wal_of(self.writer).unlink(missing_ok=True)
        os.replace(fresh, self.writer)

    def publish(self) -> None:
        """Copy the writer file over the published one, atomically (under the lock)."""
        # Copies a crash left behind (under our lock no other publish is under way).
        for stale in self.path.parent.glob(f".{self.path.name}.*.tmp"):
            stale.unlink(missing_ok=True)
        replace_atomically(self.path, lambda copy: shutil.copyfile(self.writer, copy))


def _wal_of(database: Path) -> Path:
    return database.with_name(database.name + ".wal")
