"""One request budget shared by every paging worker of an export.

Mixpeek limits requests per organization per minute, shared with the customer's other
clients, so the exporter keeps its own ceiling instead of learning it from a stream of 429s.
A 429 or 503 pauses every worker, not only the one that received it.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


class RequestBudget:
    """A sliding-window limit of `max_per_minute` requests plus a shared pause.

    A request may start only once the request `max_per_minute` places before it started at
    least `window_seconds * (1 + margin)` ago. The server counts arrivals, not our starts, and
    arrivals jitter with the network and the scheduler; the margin keeps that jitter from
    pushing a window over the limit. (Mixpeek counts per minute; a shorter window lets tests
    check the limit in seconds.)
    """

    def __init__(self, max_per_minute: int | None = None, *, window_seconds: float = 60.0,
                 margin: float = 0.05, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if max_per_minute is not None and max_per_minute < 1:
            raise ValueError("max_per_minute must be at least 1, or None for no limit")
        self.max_per_minute = max_per_minute
        self.spacing = window_seconds * (1 + margin)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()
        self._paused_until = 0.0
        self.waited_seconds = 0.0

    def seconds_for(self, requests: int) -> float:
        """How long the budget holds back `requests` requests started together: each
        `max_per_minute` after the first must wait for a window to pass (0 without a budget;
        the answers' own time is not counted)."""
        if self.max_per_minute is None or requests <= 0:
            return 0.0
        return (math.ceil(requests / self.max_per_minute) - 1) * self.spacing

    def _nap(self, seconds: float, stop: threading.Event | None) -> None:
        # A worker told to stop must not finish a backoff of tens of seconds first.
        if stop is None:
            self._sleep(seconds)
        else:
            stop.wait(seconds)

    def wait(self, seconds: float, stop: threading.Event | None = None) -> None:
        """Sleep this worker only (a backoff that is not shared), counted as throttled time;
        cut short when `stop` is set."""
        self._nap(seconds, stop)
        with self._lock:
            self.waited_seconds += seconds

    def pause(self, seconds: float) -> None:
        """Hold back every worker for `seconds` from now (a shared backoff)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)

    def acquire(self, stop: threading.Event | None = None) -> float:
        """Block until a request may start, or `stop` is set; return how long this waited."""
        waited = 0.0
        while stop is None or not stop.is_set():
            with self._lock:
                now = self._clock()
                ready_at = self._paused_until
                if self.max_per_minute is not None and len(self._starts) >= self.max_per_minute:
                    ready_at = max(ready_at, self._starts[0] + self.spacing)
                if ready_at <= now:
                    if self.max_per_minute is not None:
                        self._starts.append(now)
                        while len(self._starts) > self.max_per_minute:
                            self._starts.popleft()
                    self.waited_seconds += waited
                    return waited
                delay = ready_at - now
            self._nap(delay, stop)
            waited += delay
        return waited


def duration(seconds: float) -> str:
    """A duration as a person reads it: "1 h 40 min", "9 min 27 s", "12 s"."""
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


@dataclass(frozen=True)
class RequestPlan:
    """The requests a run plans, said before it starts and in its progress, with how long
    they take at the budget: a listing that does not fit the night shows it at once."""

    requests: int
    budget: RequestBudget

    def announce(self, what: str) -> str:
        line = f"{what}: about {self.requests:,} requests"
        if self.budget.max_per_minute is not None:
            line += (f", {duration(self.budget.seconds_for(self.requests))} at the budget of "
                     f"{self.budget.max_per_minute:,} a minute")
        return line

    def progress(self, sent: int) -> str:
        line = f"request {sent:,} of about {self.requests:,}"
        if self.budget.max_per_minute is not None:
            left = self.budget.seconds_for(self.requests - sent)
            line += f", {duration(left)} left at the budget"
        return line
