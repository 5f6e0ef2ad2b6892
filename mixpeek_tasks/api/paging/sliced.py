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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mixpeek_tasks.api.errors import MixpeekProtocolError
from mixpeek_tasks.api.paging.pages import (
    Ask,
    PageRequest,
    PagingStrategy,
    Reading,
    Stream,
    task_ids,
)
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

    def body(self, *, sort: str = "asc") -> dict:
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


def count_request(piece: Slice) -> PageRequest:
    return PageRequest(piece.body(), 1, f"slicing: count of {piece}", {"include_total": "true"})


def read_count(piece: Slice, payload: dict) -> int:
    value = (payload.get("pagination") or {}).get("total")
    if not isinstance(value, int) or isinstance(value, bool):
        raise MixpeekProtocolError(f"slicing: the count of {piece} came back as {value!r}")
    return value


def edge_request(piece: Slice, direction: str) -> PageRequest:
    return PageRequest(piece.body(sort=direction), 1, f"slicing: {direction} edge of {piece}")


def read_edge(piece: Slice, payload: dict) -> datetime:
    created = next((t.get("created_at") for t in payload["results"] if isinstance(t, dict)),
                   None)
    if not isinstance(created, str):
        raise MixpeekProtocolError(
            f"slicing: {piece} holds more than {SLICE_CAP:,} tasks and its records carry "
            "no created_at to cut it by")
    return datetime.fromisoformat(created.replace("Z", "+00:00"))


def halve(piece: Slice, low: datetime, high: datetime, count: int) -> list[Slice]:
    """`piece` cut in two at the middle of its oldest and newest created_at."""
    if high - low < timedelta(milliseconds=2):
        raise MixpeekProtocolError(
            f"slicing: {count:,} tasks of {piece} share one created_at; no window is "
            f"small enough for offset paging ({MAX_OFFSET:,} at most)")
    middle = api_timestamp(low + (high - low) / 2)
    return [Slice(piece.task_type, piece.created_from, middle),
            Slice(piece.task_type, middle, piece.created_to)]


def cut_slices(ask: Ask, total: int | None) -> dict[Slice, int]:
    """Slices that each hold at most SLICE_CAP tasks and together hold every task, with the
    count of each, from the service's counts (`total`: the listing's, when it gave one)."""
    pieces: dict[Slice, int] = {}
    for piece in [Slice(t) for t in TASK_TYPES] + [Slice(None)]:
        count = read_count(piece, ask(count_request(piece)))
        if count:
            pieces.update(_windows(ask, piece, count))
    counted = sum(pieces.values())
    if total is not None and counted < total - _churn_allowance(total):
        raise MixpeekProtocolError(
            f"slicing: the slices hold {counted:,} tasks, the listing {total:,}: the "
            "task_type filter or the created_at windows leave tasks out")
    return pieces


def _windows(ask: Ask, piece: Slice, count: int) -> dict[Slice, int]:
    if count <= SLICE_CAP:
        return {piece: count}
    low = read_edge(piece, ask(edge_request(piece, "asc")))
    high = read_edge(piece, ask(edge_request(piece, "desc")))
    halves = halve(piece, low, high, count)
    counts = [read_count(half, ask(count_request(half))) for half in halves]
    if abs(sum(counts) - count) > _churn_allowance(count):
        raise MixpeekProtocolError(
            f"slicing: the created_at windows of {piece} hold {counts[0]:,} and "
            f"{counts[1]:,} of its {count:,} tasks: the created_at filters are not honoured")
    return {window: n for half, count_of_half in zip(halves, counts) if count_of_half
            for window, n in _windows(ask, half, count_of_half).items()}


class SliceClaims:
    """Which slice listed each task. Slices are disjoint when the service honours their
    filters; a task in two is proof it does not, and the counts that planned them cannot be
    trusted. Shared by the streams of one listing, which run in several threads."""

    def __init__(self) -> None:
        self._seen_in: dict[str, str] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, ids: list[str]) -> None:
        with self._lock:
            for task_id in ids:
                other = self._seen_in.setdefault(task_id, key)
                if other != key:
                    raise MixpeekProtocolError(
                        f"task {task_id!r} is in two slices ({other} and {key}): the "
                        "service does not honour the filters the slices rely on")


class SliceStream(Stream):
    """One slice paged by offset, each page anchored in the last tasks of the one before."""

    def __init__(self, key: str, piece: Slice, claims: SliceClaims, *, page_size: int):
        self.key = key
        self.piece = piece
        self.claims = claims
        self.page_size = page_size
        # At most a quarter of a page is read twice, so every full page moves the offset on.
        self.overlap = max(1, min(OVERLAP, page_size // 4))
        self.offset = self.number = 0
        self.label = ""
        self.tail: list[str] = []
        self.anchored_pages = 0

    def next_request(self) -> PageRequest:
        self.number += 1
        self.label = f"page {self.number} of slice {self.piece} at offset {self.offset}"
        if self.offset > MAX_OFFSET:
            raise MixpeekProtocolError(
                f"{self.label}: the slice grew past the offset cap while it was paged")
        return PageRequest(self.piece.body(), self.page_size, self.label,
                           {"offset": self.offset})

    def read(self, payload: dict) -> Reading:
        tasks = payload["results"]
        ids = task_ids(tasks)
        start = 0
        if self.tail:
            anchors = [i for i, task_id in enumerate(ids) if task_id in self.tail]
            if not anchors:
                raise MixpeekProtocolError(
                    f"{self.label}: none of the last {len(self.tail)} tasks of the page before "
                    f"is on it; the listing moved by more than {self.overlap} tasks between two "
                    "requests, so offsets cannot be trusted")
            start = _after_anchor(tasks, anchors[-1])
            self.anchored_pages += 1
        fresh = tasks[start:]
        fresh_ids = task_ids(fresh)
        self.claims.claim(self.key, fresh_ids)
        reading = Reading(fresh, str(self.offset), is_last=not fresh)
        self.tail = (self.tail + fresh_ids)[-self.overlap:]
        # Past a short page the next one reads its overlap again and ends the slice.
        self.offset += max(len(tasks) - self.overlap, 0)
        return reading


def _after_anchor(tasks: list, last_anchor_id_index: int) -> int:
    """Index in `tasks` just past the last task already read (ids list and tasks list differ
    only by records without an id, which stay with the new ones)."""
    seen = 0
    for index, task in enumerate(tasks):
        if isinstance(task, dict) and isinstance(task.get("task_id"), str):
            if seen == last_anchor_id_index:
                return index + 1
            seen += 1
    return len(tasks)


class SlicedPaging(PagingStrategy):
    """One stream per slice; the plan is cut from the service's counts in `prepare`."""

    name = "sliced"

    def __init__(self, total: int | None):
        self.total = total
        self.slices: dict[str, Slice] | None = None
        self.totals: dict[str, int] = {}
        self._streams: list[SliceStream] = []

    def facts(self) -> dict[str, Any]:
        return {"slices": len(self.totals), "tasks_counted_in_slices": sum(self.totals.values()),
                "total_when_planned": self.total, "pages_read_after_an_overlap":
                sum(stream.anchored_pages for stream in self._streams)}

    def prepare(self, ask: Ask) -> None:
        if self.slices is None:
            counted = cut_slices(ask, self.total)
            self.slices = {str(piece): piece for piece in counted}
            self.totals = {str(piece): count for piece, count in counted.items()}

    def _prepared(self) -> dict[str, Slice]:
        if self.slices is None:
            raise RuntimeError("sliced paging is planned by prepare() before it pages")
        return self.slices

    def plan(self) -> dict[str, Any]:
        return {key: [s.task_type, s.created_from, s.created_to]
                for key, s in self._prepared().items()}

    def streams(self, positions: Mapping[str, str | None] | None, *,
                page_size: int) -> list[Stream]:
        slices = self._prepared()
        claims = SliceClaims()
        keys = list(positions) if positions is not None else list(slices)
        made = [SliceStream(key, slices[key], claims, page_size=page_size) for key in keys]
        self._streams = made  # the listing's streams, for its facts
        return list(made)
