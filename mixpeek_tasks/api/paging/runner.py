"""The one part of paging that sends requests and runs threads.

The strategies (keyset.py, sliced.py, cursor.py) only build requests and read answers; the
runner sends each request through one function, `send` (the client's `request_page` in an
export, a list of tasks in a unit test), asks several questions at once, sends the first pages
of a strategy early, and pages several streams (id ranges, slices) at once.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone

from mixpeek_tasks.api.errors import PagingCancelled
from mixpeek_tasks.api.paging.pages import Page, PageRequest, PagingStrategy, Stream
from mixpeek_tasks.api.transport import MixpeekClient

# Sends one request, giving up once the event is set; returns the decoded answer and its size
# in bytes.
Send = Callable[[PageRequest, threading.Event | None], tuple[dict, int]]


class PagingRunner:
    """Sends what the probe and the strategies ask for, through `send`."""

    def __init__(self, send: Send, *, page_size: int):
        self.send = send
        self.page_size = page_size
        self._prefetched: dict[str, tuple[PageRequest, Future]] = {}

    @classmethod
    def of(cls, client: MixpeekClient) -> PagingRunner:
        """A runner that sends through `client`, `page_size` tasks a page."""
        def send(request: PageRequest, stop: threading.Event | None) -> tuple[dict, int]:
            return client.request_page(request.body, limit=request.limit, what=request.label,
                                       stop=stop, params=request.params, task_id=request.task_id)
        return cls(send, page_size=client.page_size)

    def ask(self, request: PageRequest) -> dict:
        """Send one request; return its answer."""
        return self.send(request, None)[0]

    def ask_together(self, requests: list[PageRequest]) -> list[dict]:
        """Send requests that do not depend on each other at once: one round trip for all."""
        with ThreadPoolExecutor(max_workers=len(requests)) as pool:
            return list(pool.map(self.ask, requests))

    def prefetch(self, strategy: PagingStrategy) -> None:
        """Send the first page of each of `strategy`'s streams now, without waiting for them;
        a stream that asks for the very same page first takes its answer up."""
        streams = strategy.streams(None, page_size=self.page_size)
        pool = ThreadPoolExecutor(max_workers=len(streams), thread_name_prefix="mixpeek-page")
        for stream in streams:
            request = stream.next_request()
            self._prefetched[stream.key] = (request, pool.submit(self.send, request, None))
        pool.shutdown(wait=False)  # its threads end with these requests

    def pages(self, strategy: PagingStrategy, positions: Mapping[str, str | None] | None = None,
              *, concurrency: int = 1) -> Iterator[Page]:
        """Yield the pages of `strategy`'s streams (of `positions`' keys, each resumed after its
        position; all from their start when None), up to `concurrency` streams at once."""
        streams = strategy.streams(positions, page_size=self.page_size)
        return fan_out({stream.key: lambda stop, stream=stream: self.stream_pages(stream, stop)
                        for stream in streams}, concurrency)

    def stream_pages(self, stream: Stream, stop: threading.Event | None = None) -> Iterator[Page]:
        """Yield the pages of one stream until it is exhausted."""
        while True:
            request = stream.next_request()
            payload, size = self._answer(stream.key, request, stop)
            reading = stream.read(payload)
            yield Page(stream=stream.key, number=stream.number, tasks=reading.tasks,
                       fetched_at=datetime.now(timezone.utc), size_bytes=size,
                       after=reading.after, is_last=reading.is_last)
            if reading.is_last:
                return

    def _answer(self, key: str, request: PageRequest,
                stop: threading.Event | None) -> tuple[dict, int]:
        held = self._prefetched.pop(key, None)
        if held is not None and held[0] == request:
            return held[1].result()
        return self.send(request, stop)


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
