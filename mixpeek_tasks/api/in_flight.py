"""The client's requests in flight, and a heartbeat naming those that wait long.

The export's progress line comes when a page arrives, so a request that hangs silences it: a
person cannot tell a slow answer from a stuck run. The heartbeat runs beside the paging
workers and, while some request waits past its period, says which one, for how long and how
many bytes came so far.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

HEARTBEAT_SECONDS = 5.0


@dataclass
class Request:
    what: str
    attempt: int
    started: float
    received: int = 0


class InFlight:
    """Requests sent and not yet answered whole; safe to use from several paging workers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[int, Request] = {}
        self._ids = itertools.count()

    @contextlib.contextmanager
    def track(self, what: str, attempt: int) -> Iterator[Request]:
        request, key = Request(what, attempt, time.monotonic()), next(self._ids)
        with self._lock:
            self._requests[key] = request
        try:
            yield request
        finally:
            with self._lock:
                del self._requests[key]

    def waiting_longer_than(self, seconds: float) -> list[Request]:
        """Requests older than `seconds`, the longest-waiting first."""
        now = time.monotonic()
        with self._lock:
            requests = list(self._requests.values())
        return sorted((r for r in requests if now - r.started > seconds),
                      key=lambda r: r.started)

    @contextlib.contextmanager
    def heartbeat(self, report: Callable[[str], None], deadline: float,
                  every: float = HEARTBEAT_SECONDS) -> Iterator[None]:
        """Every `every` seconds while the block runs, `report` the request waiting longest,
        if any waits longer than `every`, and how many others do."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(every):
                slow = self.waiting_longer_than(every)
                if not slow:
                    continue
                first = slow[0]
                line = (f"still waiting for {first.what} (attempt {first.attempt}): "
                        f"{time.monotonic() - first.started:.1f}s so far, {first.received:,} "
                        f"bytes received (deadline {deadline:g}s)")
                if len(slow) > 1:
                    line += f"; {len(slow) - 1} other request(s) waiting over {every:g}s"
                report(line)

        thread = threading.Thread(target=beat, name="mixpeek-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
