"""An exclusive advisory lock on a file, waited for with a deadline and a clear error."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Iterator
from pathlib import Path


class LockTimeout(RuntimeError):
    """Another process held the lock longer than we were willing to wait."""


@contextlib.contextmanager
def exclusive_lock(path: Path, timeout: float, what: str) -> Iterator[None]:
    """Hold `path` exclusively for the block; `what` names the locked thing in the error.

    The kernel drops the lock when the holder dies, so a killed run never leaves it stuck.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock_file:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise LockTimeout(
                        f"{what} stayed locked by another process for {timeout:.0f}s") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
