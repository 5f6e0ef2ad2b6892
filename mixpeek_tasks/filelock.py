"""An exclusive advisory lock on a file, waited for with a deadline and a clear error."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
from collections.abc import Iterator
from pathlib import Path

WAIT_REPORT_SECONDS = 30.0
log = logging.getLogger(__name__)


class LockTimeout(RuntimeError):
    """Another process held the lock longer than we were willing to wait."""


@contextlib.contextmanager
def exclusive_lock(path: Path, timeout: float, what: str) -> Iterator[None]:
    """Hold `path` exclusively for the block; `what` names the locked thing in the error.

    The kernel drops the lock when the holder dies, so a killed run never leaves it stuck.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock_file:
        started = time.monotonic()
        said = started
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = time.monotonic()
                if now - started > timeout:
                    raise LockTimeout(
                        f"{what} stayed locked by another process for {timeout:.0f}s") from None
                if now - said >= WAIT_REPORT_SECONDS:
                    said = now
                    # A wait with no word looks like a hang.
                    log.info("waiting for %s, locked by another process (%s), for %.0fs so far",
                             what, path, now - started)
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
