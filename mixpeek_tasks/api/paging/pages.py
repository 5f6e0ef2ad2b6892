"""What every paging strategy shares: the page it yields, its interface, and the fan-out that
pages several streams (id ranges, slices) at once."""

from __future__ import annotations

import queue
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from mixpeek_tasks.api.errors import PagingCancelled


@dataclass(frozen=True)
class Page:
    """One page of tasks as a strategy read them.

    `stream` names the part of the listing it belongs to (an id range, a slice, the cursor);
    `after` is the position to resume that stream from once this page is consumed, and
    `is_last` says the stream is exhausted.
    """

    stream: str
    number: int
    tasks: list = field(repr=False)
    fetched_at: datetime
    size_bytes: int
    after: str | None
    is_last: bool


class PagingStrategy(ABC):
    """One way of listing every task. A strategy checks its own invariants while it pages and
    raises MixpeekProtocolError when the service breaks one, rather than skip tasks."""

    name: ClassVar[str]
    # Whether an interrupted export may resume from the staged positions of its streams.
    resumable: ClassVar[bool] = False
    # Whether it pages by position (offsets, a cursor), where a task deleted meanwhile can
    # make it skip another unseen: the reconciliation then refuses a run with deletions.
    positional: ClassVar[bool] = True

    @abstractmethod
    def plan(self) -> dict[str, Any]:
        """The streams to page, each key with what rebuilds it (JSON), for the checkpoint."""

    def start(self) -> None:
        """Send what needs no answer the probe has still to give (nothing, unless a strategy
        says otherwise); what comes back is read only if the strategy is chosen."""

    def adopt(self, plan: dict[str, Any]) -> None:
        """Page the streams of a checkpoint's `plan` instead (only for resumable strategies)."""
        raise NotImplementedError(f"{self.name} paging does not resume")

    @abstractmethod
    def iter_pages(self, positions: Mapping[str, str | None],
                   concurrency: int = 1) -> Iterator[Page]:
        """Yield the pages of the streams in `positions`, each resumed after its position."""

    def facts(self) -> dict[str, Any]:
        """What the strategy observed while paging (repeats dropped, slices...), for metadata."""
        return {}


def fan_out(streams: Mapping[str, Callable[[threading.Event | None], Iterator[Page]]],
            concurrency: int) -> Iterator[Page]:
    """Yield the pages of every stream, running up to `concurrency` of them at once.

    Pages arrive in no particular order across streams. Workers stop when the consumer stops
    iterating; the first worker error is raised to the consumer.
    """
    if concurrency <= 1 or len(streams) <= 1:
        for run in streams.values():
            yield from run(None)
        return
    pages: queue.Queue = queue.Queue(maxsize=2 * concurrency)
    stop = threading.Event()
    done = object()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                pages.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work(run: Callable[[threading.Event | None], Iterator[Page]]) -> None:
        try:
            for page in run(stop):
                if not offer(page):
                    return
        except PagingCancelled:
            return
        except BaseException as error:  # handed to the consumer, which re-raises it
            offer(error)
        finally:
            offer(done)

    pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="mixpeek-page")
    for run in streams.values():
        pool.submit(work, run)
    try:
        remaining = len(streams)
        while remaining:
            item = pages.get()
            if item is done:
                remaining -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        # Workers give up at their next attempt or wait; streams not started never start.
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)


def task_ids(tasks: list) -> list[str]:
    """The string task_ids of a page, skipping records without one (left for quarantine)."""
    return [t["task_id"] for t in tasks
            if isinstance(t, dict) and isinstance(t.get("task_id"), str)]
