"""Keyset paging on `task_id`: sort by id, ask for ids greater than the last one seen.

The API caps `offset` at 10,000, so offset paging cannot reach every task of a busy account,
and offset paging over a list that changes while it is read skips or repeats rows. Instead
every request sorts by `task_id` (unique and immutable) and asks for ids greater than the last
one seen. A task that exists for the whole export is returned exactly once whatever is
created, deleted or changes status meanwhile, and no offset is ever sent. The id space is cut
into disjoint ranges so several workers can page at once without overlap.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

from mixpeek_tasks.api.errors import MixpeekProtocolError, PagingCancelled
from mixpeek_tasks.api.transport import MixpeekClient

HEX_DIGITS = "0123456789abcdef"


@dataclass(frozen=True)
class TaskIdRange:
    """Task ids `start <= id < end`; None leaves that side open."""

    start: str | None = None
    end: str | None = None

    def __contains__(self, task_id: str) -> bool:
        return (self.start is None or task_id >= self.start) and (
            self.end is None or task_id < self.end)

    def __str__(self) -> str:
        return f"[{self.start or ''}, {self.end or ''})"


def split_task_ids(parts: int) -> list[TaskIdRange]:
    """Cut the id space into `parts` disjoint ranges by leading hex digit (UUIDs spread evenly).

    The first and last ranges are open-ended, so ids of any shape still fall in exactly one.
    """
    parts = max(1, min(parts, len(HEX_DIGITS)))
    cuts = [HEX_DIGITS[(i * len(HEX_DIGITS)) // parts] for i in range(1, parts)]
    bounds: list[str | None] = [None, *cuts, None]
    return [TaskIdRange(bounds[i], bounds[i + 1]) for i in range(parts)]


@dataclass(frozen=True)
class Page:
    """One page of tasks as the API returned them, in task_id order within `id_range`.

    `after` is the keyset position once this page is consumed (resume paging from there);
    `is_last` says the range is exhausted.
    """

    id_range: TaskIdRange
    number: int
    tasks: list = field(repr=False)
    fetched_at: datetime
    size_bytes: int
    after: str | None
    is_last: bool


class KeysetPager:
    """Pages every task of the account through `client`, in task_id order per range."""

    def __init__(self, client: MixpeekClient):
        self.client = client

    def iter_range(self, id_range: TaskIdRange = TaskIdRange(), after: str | None = None,
                   stop: threading.Event | None = None) -> Iterator[Page]:
        """Yield the pages of every task whose id lies in `id_range` (and is greater than
        `after`, to resume), in id order, ending with an empty page.

        Only an empty page ends the range: a server that answers fewer than `limit` tasks
        (a lower cap of its own) must not end the export early.
        """
        number = 0
        while True:
            number += 1
            conditions = []
            if after is not None:
                conditions.append({"field": "task_id", "operator": "gt", "value": after})
            elif id_range.start is not None:
                conditions.append({"field": "task_id", "operator": "gte", "value": id_range.start})
            if id_range.end is not None:
                conditions.append({"field": "task_id", "operator": "lt", "value": id_range.end})
            body: dict = {"sort": {"field": "task_id", "direction": "asc"}}
            if conditions:
                body["filters"] = {"AND": conditions, "case_sensitive": True}
            what = f"page {number} of task ids {id_range} after {after!r}"
            payload, size = self.client.request_page(body, limit=self.client.page_size,
                                                     what=what, stop=stop)
            tasks = payload["results"]
            reached = self._check_order(tasks, id_range, after, what)
            if tasks and reached is None:
                raise MixpeekProtocolError(
                    f"{what}: no task on the page has a task_id, so paging cannot move past it")
            after = reached or after
            is_last = not tasks
            yield Page(id_range, number, tasks, datetime.now(timezone.utc), size, after, is_last)
            if is_last:
                return

    @staticmethod
    def _check_order(tasks: list, id_range: TaskIdRange, after: str | None,
                     what: str) -> str | None:
        """Return the page's last task_id (None if it has none), refusing pages that would
        break the keyset.

        If the API ignored the sort or the filter, paging on would silently skip tasks, so
        that is an error. Equal neighbours (a task listed twice) are left for the flattening
        to quarantine, and records without a string id are skipped here for the same reason.
        """
        last = None
        for task in tasks:
            task_id = task.get("task_id") if isinstance(task, dict) else None
            if not isinstance(task_id, str):
                continue
            if (task_id not in id_range or (after is not None and task_id <= after)
                    or (last is not None and task_id < last)):
                raise MixpeekProtocolError(
                    f"{what}: task {task_id!r} is out of task_id order; the API did not honour "
                    "sort by task_id with a task_id filter, so keyset paging cannot be trusted")
            last = task_id
        return last

    def iter_pages(self, ranges: Sequence[TaskIdRange] | Mapping[TaskIdRange, str | None],
                   concurrency: int = 1) -> Iterator[Page]:
        """Yield the pages of every range, fetching up to `concurrency` ranges at once.

        `ranges` may map each range to the position to resume after. Pages arrive in no
        particular order across ranges. Workers stop when the consumer stops iterating; the
        first worker error is raised to the consumer.
        """
        starts = dict(ranges) if isinstance(ranges, Mapping) else dict.fromkeys(ranges)
        if concurrency <= 1 or len(starts) <= 1:
            for id_range, after in starts.items():
                yield from self.iter_range(id_range, after)
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

        def work(id_range: TaskIdRange, after: str | None) -> None:
            try:
                for page in self.iter_range(id_range, after, stop):
                    if not offer(page):
                        return
            except PagingCancelled:
                return
            except BaseException as error:  # handed to the consumer, which re-raises it
                offer(error)
            finally:
                offer(done)

        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="mixpeek-page")
        for id_range, after in starts.items():
            pool.submit(work, id_range, after)
        try:
            remaining = len(starts)
            while remaining:
                item = pages.get()
                if item is done:
                    remaining -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            # Workers give up at their next attempt or wait; ranges not started never start.
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
