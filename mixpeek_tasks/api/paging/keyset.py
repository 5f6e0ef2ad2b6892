"""Keyset paging on `task_id`: sort by id, ask for ids greater than the last one seen.

The API caps `offset` at 10,000, so offset paging cannot reach every task of a busy account,
and offset paging over a list that changes while it is read skips or repeats rows. Keyset
paging sorts by `task_id` (unique and immutable) and asks for ids greater than the last one
seen: a task that exists for the whole export is returned exactly once whatever is created,
deleted or changes status meanwhile, and no offset is ever sent. The id space is cut into
disjoint ranges so several workers page at once without overlap. Nothing here sends a
request: the runner (runner.py) sends what a range's stream asks for.

It relies on three things the API does not document, which the probe (probe.py) checks first:
the sort by task_id is honoured, range filters on task_id narrow the result, and the sort is
applied before the limit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mixpeek_tasks.api.errors import MixpeekProtocolError
from mixpeek_tasks.api.paging.pages import PageRequest, PagingStrategy, Reading, Stream

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


def _ranges(cuts: Sequence[str]) -> list[TaskIdRange]:
    bounds: list[str | None] = [None, *sorted(set(cuts)), None]
    return [TaskIdRange(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


def split_task_ids(parts: int) -> list[TaskIdRange]:
    """Cut the id space into `parts` disjoint ranges by leading hex digit (UUIDs spread evenly).

    The first and last ranges are open-ended, so ids of any shape still fall in exactly one.
    """
    parts = max(1, min(parts, len(HEX_DIGITS)))
    return _ranges([HEX_DIGITS[(i * len(HEX_DIGITS)) // parts] for i in range(1, parts)])


def ranges_between(sample: Sequence[str], parts: int) -> list[TaskIdRange]:
    """Cut the ids the account really has into `parts` ranges, open at both ends.

    Ids are "UUID v4 or custom", so a split by leading hex digit would put every id with a
    shared prefix (`task_...`) or a leading letter past `f` in one range. Instead the cut
    points lie evenly between the lowest and the highest id of `sample`, past their common
    prefix, counted in the alphabet the sampled ids use there (two characters deep).
    """
    ids = sorted(set(sample))
    if parts <= 1 or len(ids) < 2:
        return [TaskIdRange()]
    low, high = ids[0], ids[-1]
    common = 0
    while common < min(len(low), len(high)) and low[common] == high[common]:
        common += 1
    alphabet = sorted({c for task_id in ids for c in task_id[common:]})
    base = len(alphabet)
    rank = {c: i for i, c in enumerate(alphabet)}

    def number(task_id: str) -> int:
        tail = task_id[common:common + 2].ljust(2, alphabet[0])
        return rank[tail[0]] * base + rank[tail[1]]

    first, last = number(low), number(high)
    cuts = []
    for i in range(1, parts):
        point = first + (last - first) * i // parts
        cut = low[:common] + alphabet[point // base] + alphabet[point % base]
        if low < cut <= high:
            cuts.append(cut)
    return _ranges(cuts)


class KeysetStream(Stream):
    """The tasks whose id lies in one range, in id order, resumed after `after`.

    Only an empty page ends the range: a server that answers fewer than `limit` tasks (a lower
    cap of its own) must not end the export early.
    """

    def __init__(self, id_range: TaskIdRange, after: str | None, *, page_size: int):
        self.key = str(id_range)
        self.id_range = id_range
        self.after = after
        self.page_size = page_size
        self.number = 0
        self.label = ""

    def next_request(self) -> PageRequest:
        self.number += 1
        self.label = f"page {self.number} of task ids {self.id_range} after {self.after!r}"
        return PageRequest(keyset_body(self.id_range, self.after), self.page_size, self.label)

    def read(self, payload: dict) -> Reading:
        tasks = payload["results"]
        reached = check_order(tasks, self.id_range, self.after, label=self.label)
        if tasks and reached is None:
            raise MixpeekProtocolError(
                f"{self.label}: no task on the page has a task_id, so paging cannot move past it")
        self.after = reached or self.after
        return Reading(tasks, self.after, is_last=not tasks)


class KeysetPaging(PagingStrategy):
    """Pages every task in task_id order, one stream per id range."""

    name = "keyset"
    resumable = True
    positional = False
    prefetches_first_pages = True

    def __init__(self, ranges: Sequence[TaskIdRange] = (TaskIdRange(),)):
        self.ranges = {str(r): r for r in ranges}
        self._streams: dict[str, KeysetStream] = {}

    def facts(self) -> dict[str, Any]:
        # A range that holds most of the pages shows a split that did not fit the ids.
        return {"ranges": len(self.ranges),
                "pages_per_range": {key: stream.number for key, stream in self._streams.items()
                                    if stream.number}}

    def plan(self) -> dict[str, Any]:
        return {key: [r.start, r.end] for key, r in self.ranges.items()}

    def adopt(self, plan: dict[str, Any]) -> None:
        self.ranges = {key: TaskIdRange(start, end) for key, (start, end) in plan.items()}

    def streams(self, positions: Mapping[str, str | None] | None, *,
                page_size: int) -> list[Stream]:
        if positions is None:
            positions = dict.fromkeys(self.ranges)
        made = {key: KeysetStream(self.ranges[key], after, page_size=page_size)
                for key, after in positions.items()}
        self._streams = made  # the listing's streams, for its facts
        return list(made.values())


def check_order(tasks: list, id_range: TaskIdRange, after: str | None, *,
                label: str) -> str | None:
    """Return the page's last task_id (None if it has none), refusing pages that would break
    the keyset.

    If the API ignored the sort or the filter, paging on would silently skip tasks, so that is
    an error. Equal neighbours (a task listed twice) are left for the flattening to quarantine,
    and records without a string id are skipped here for the same reason.
    """
    last = None
    for task in tasks:
        task_id = task.get("task_id") if isinstance(task, dict) else None
        if not isinstance(task_id, str):
            continue
        if (task_id not in id_range or (after is not None and task_id <= after)
                or (last is not None and task_id < last)):
            raise MixpeekProtocolError(
                f"{label}: task {task_id!r} is out of task_id order; the API did not honour "
                "sort by task_id with a task_id filter, so keyset paging cannot be trusted")
        last = task_id
    return last


def keyset_body(id_range: TaskIdRange, after: str | None = None, *,
                direction: str = "asc") -> dict:
    """The list body of one keyset page: ids in `id_range` greater than `after`, sorted."""
    conditions = []
    if after is not None:
        conditions.append({"field": "task_id", "operator": "gt", "value": after})
    elif id_range.start is not None:
        conditions.append({"field": "task_id", "operator": "gte", "value": id_range.start})
    if id_range.end is not None:
        conditions.append({"field": "task_id", "operator": "lt", "value": id_range.end})
    body: dict = {"sort": {"field": "task_id", "direction": direction}}
    if conditions:
        body["filters"] = {"AND": conditions, "case_sensitive": True}
    return body
