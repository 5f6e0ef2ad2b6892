"""The service's rate limit: so many requests per organization per minute (the API's
`BaseRateLimits`, 10 by default), and a 429 with `Retry-After` for the next one."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimit:
    """At most `per_minute` requests admitted in any `window_seconds` (60; shorter in tests).
    A refused request is not counted: it used none of the budget."""

    def __init__(self, per_minute: int, *, window_seconds: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        if per_minute < 1:
            raise ValueError("a rate limit admits at least one request a window")
        self.per_minute = per_minute
        self.window_seconds = window_seconds
        self._clock = clock
        self._admitted: deque[float] = deque()
        self._lock = threading.Lock()
        self.refused = 0

    def admit(self) -> int | None:
        """None when a request may go ahead now (and it is counted); else the whole seconds
        after which one may, for `Retry-After`."""
        with self._lock:
            now = self._clock()
            while self._admitted and self._admitted[0] <= now - self.window_seconds:
                self._admitted.popleft()
            if len(self._admitted) < self.per_minute:
                self._admitted.append(now)
                return None
            self.refused += 1
            return max(1, math.ceil(self._admitted[0] + self.window_seconds - now))
