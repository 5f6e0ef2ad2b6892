"""Sliced offset paging: cut the listing into slices of at most `cap` tasks on keys that never
change, and page each slice by offset, oldest first.

For a service that honours neither a sort on task_id nor a cursor, offsets are what is left,
and they stop at 10,000. So the listing is cut by `task_type` (a documented body filter),
then, for a type still too big, into `created_at` windows (filters); never by `status`, which
changes while the export runs and would move a task between slices. Each slice is sorted by
`created_at` ascending, so tasks created meanwhile land after the pages already read, and the
last window of a type is open-ended so they land in a slice at all.

Offsets still shift when a task before the position is deleted. Each page therefore starts
`overlap` tasks before the end of the previous one and must contain one of its last tasks (an
anchor): what comes after the anchor is new. A page without an anchor means the listing moved
by more than the overlap, and the export stops rather than guess. Ties in created_at that the
service orders differently from one request to the next can still skip a task unseen, and a
task deleted after it was listed would hide that in the counts: the reconciliation refuses a
sliced listing during which any task was deleted (snapshot/reconcile.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from mixpeek_tasks.api.errors import MixpeekProtocolError
from mixpeek_tasks.api.paging.pages import Page, PagingStrategy, fan_out, task_ids
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.api.vocabulary import TASK_TYPES, api_timestamp

MAX_OFFSET = 10_000
# Tasks per slice: under the offset cap with room for the tasks created while it is paged.
SLICE_CAP = 8_000
OVERLAP = 25


def _churn_allowance(count: int) -> int:
    """How far two counts of the same tasks, a few requests apart, may differ on a live
    account; beyond it the filters are not doing what the slices rely on. The reconciliation
    before publishing is the exact check; this one only stops a plan that cannot work."""
    return max(50, count // 100)


@dataclass(frozen=True)
class Slice:
    """Tasks of one type (None: of every type the vocabulary does not know) created in
    [created_from, created_to); None leaves a side open."""

    task_type: str | None
    created_from: str | None = None
    created_to: str | None = None

    def __str__(self) -> str:
        return f"{self.task_type or 'other types'} [{self.created_from or ''}, " \
               f"{self.created_to or ''})"

    def body(self, sort: str = "asc") -> dict:
        body: dict = {"sort": {"field": "created_at", "direction": sort}}
        conditions = []
        if self.task_type is None:
            conditions.append({"field": "task_type", "operator": "nin", "value": list(TASK_TYPES)})
        else:
            body["task_type"] = self.task_type
        if self.created_from is not None:
            conditions.append({"field": "created_at", "operator": "gte",
                               "value": self.created_from})
        if self.created_to is not None:
            conditions.append({"field": "created_at", "operator": "lt", "value": self.created_to})
        if conditions:
            # A type that differs from a known one only by case must not fall between slices.
            body["filters"] = {"AND": conditions, "case_sensitive": True}
        return body


class SlicedPaging(PagingStrategy):
    """One stream per slice; the plan is made from the service's counts when first asked."""

    name = "sliced"

    def __init__(self, client: MixpeekClient, total: int | None):
        self.client = client
        self.total = total
        self._slices: dict[str, Slice] | None = None
        self.totals: dict[str, int] = {}
        self.anchored_pages = 0

    def facts(self) -> dict[str, Any]:
        return {"slices": len(self.totals), "tasks_counted_in_slices": sum(self.totals.values()),
                "total_when_planned": self.total, "pages_read_after_an_overlap":
                self.anchored_pages}

    def plan(self) -> dict[str, Any]:
        if self._slices is None:
            self._slices = self._cut()
        return {key: [s.task_type, s.created_from, s.created_to]
                for key, s in self._slices.items()}

    def _count(self, piece: Slice) -> int:
        payload, _ = self.client.request_page(
            piece.body(), limit=1, what=f"slicing: count of {piece}",
            params={"include_total": "true"})
        value = (payload.get("pagination") or {}).get("total")
        if not isinstance(value, int) or isinstance(value, bool):
            raise MixpeekProtocolError(f"slicing: the count of {piece} came back as {value!r}")
        return value

    def _edge(self, piece: Slice, direction: str) -> datetime:
        payload, _ = self.client.request_page(piece.body(direction), limit=1,
                                              what=f"slicing: {direction} edge of {piece}")
        created = next((t.get("created_at") for t in payload["results"] if isinstance(t, dict)),
                       None)
        if not isinstance(created, str):
            raise MixpeekProtocolError(
                f"slicing: {piece} holds more than {SLICE_CAP:,} tasks and its records carry "
                "no created_at to cut it by")
        return datetime.fromisoformat(created.replace("Z", "+00:00"))

    def _cut(self) -> dict[str, Slice]:
        """Slices that each hold at most SLICE_CAP tasks and together hold every task."""
        pieces: list[tuple[Slice, int]] = []
        for piece in [Slice(t) for t in TASK_TYPES] + [Slice(None)]:
            count = self._count(piece)
            if count:
                pieces.extend(self._windows(piece, count))
        counted = sum(count for _, count in pieces)
        if self.total is not None and counted < self.total - _churn_allowance(self.total):
            raise MixpeekProtocolError(
                f"slicing: the slices hold {counted:,} tasks, the listing {self.total:,}: the "
                "task_type filter or the created_at windows leave tasks out")
        slices = {}
        for piece, count in pieces:
            slices[str(piece)] = piece
            self.totals[str(piece)] = count
        return slices

    def _windows(self, piece: Slice, count: int) -> list[tuple[Slice, int]]:
        if count <= SLICE_CAP:
            return [(piece, count)]
        low, high = self._edge(piece, "asc"), self._edge(piece, "desc")
        if high - low < timedelta(milliseconds=2):
            raise MixpeekProtocolError(
                f"slicing: {count:,} tasks of {piece} share one created_at; no window is "
                f"small enough for offset paging ({MAX_OFFSET:,} at most)")
        middle = api_timestamp(low + (high - low) / 2)
        halves = [Slice(piece.task_type, piece.created_from, middle),
                  Slice(piece.task_type, middle, piece.created_to)]
        counts = [self._count(half) for half in halves]
        if abs(sum(counts) - count) > _churn_allowance(count):
            raise MixpeekProtocolError(
                f"slicing: the created_at windows of {piece} hold {counts[0]:,} and "
                f"{counts[1]:,} of its {count:,} tasks: the created_at filters are not honoured")
        return [window for half, n in zip(halves, counts) if n
                for window in self._windows(half, n)]

    def iter_pages(self, positions: Mapping[str, str | None] | None = None,
                   concurrency: int = 1) -> Iterator[Page]:
        self.plan()
        assert self._slices is not None
        keys: Sequence[str] = list(positions) if positions is not None else list(self._slices)
        seen_in: dict[str, str] = {}
        lock = threading.Lock()

        def claim(key: str, ids: list[str]) -> None:
            # Slices are disjoint when the service honours their filters; a task in two is
            # proof it does not, and the counts that planned them cannot be trusted.
            with lock:
                for task_id in ids:
                    other = seen_in.setdefault(task_id, key)
                    if other != key:
                        raise MixpeekProtocolError(
                            f"task {task_id!r} is in two slices ({other} and {key}): the "
                            "service does not honour the filters the slices rely on")

        return fan_out({key: lambda stop, key=key: self._slice_pages(key, claim, stop)
                        for key in keys}, concurrency)

    def _slice_pages(self, key: str, claim, stop: threading.Event | None) -> Iterator[Page]:
        piece = self._slices[key]
        limit = self.client.page_size
        # At most a quarter of a page is read twice, so every full page moves the offset on.
        overlap = max(1, min(OVERLAP, limit // 4))
        offset = number = 0
        tail: list[str] = []
        while True:
            number += 1
            what = f"page {number} of slice {piece} at offset {offset}"
            if offset > MAX_OFFSET:
                raise MixpeekProtocolError(
                    f"{what}: the slice grew past the offset cap while it was paged")
            payload, size = self.client.request_page(piece.body(), limit=limit, what=what,
                                                     stop=stop, params={"offset": offset})
            tasks = payload["results"]
            ids = task_ids(tasks)
            start = 0
            if tail:
                anchors = [i for i, task_id in enumerate(ids) if task_id in tail]
                if not anchors:
                    raise MixpeekProtocolError(
                        f"{what}: none of the last {len(tail)} tasks of the page before is on "
                        f"it; the listing moved by more than {overlap} tasks between two "
                        "requests, so offsets cannot be trusted")
                start = self._after_anchor(tasks, set(tail), anchors[-1])
                self.anchored_pages += 1
            fresh = tasks[start:]
            claim(key, task_ids(fresh))
            is_last = not fresh
            yield Page(key, number, fresh, datetime.now(timezone.utc), size, str(offset),
                       is_last)
            if is_last:
                return
            tail = (tail + task_ids(fresh))[-overlap:]
            # Past a short page the next one reads its overlap again and ends the slice.
            offset += max(len(tasks) - overlap, 0)

    @staticmethod
    def _after_anchor(tasks: list, tail: set[str], last_anchor_id_index: int) -> int:
        """Index in `tasks` just past the last task already read (ids list and tasks list
        differ only by records without an id, which stay with the new ones)."""
        seen = 0
        for index, task in enumerate(tasks):
            if isinstance(task, dict) and isinstance(task.get("task_id"), str):
                if seen == last_anchor_id_index:
                    return index + 1
                seen += 1
        return len(tasks)
