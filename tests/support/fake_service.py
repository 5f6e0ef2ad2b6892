"""A fake `send` for the paging runner: answers list requests from an in-memory list of tasks,
in the same process, with switches for the ways the live service may page (the emulator's
server profiles). Filters and sort keys follow the emulator's own rules (mixpeek_emulator.query);
a cursor is the offset of the next page, written as text."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import orjson

from mixpeek_emulator.profiles import ServerProfile
from mixpeek_emulator.query import compile_filters, lookup, sort_key
from mixpeek_tasks.api.errors import MixpeekAPIError
from mixpeek_tasks.api.paging.pages import PageRequest
from mixpeek_tasks.api.paging.runner import PagingRunner

NEWEST_FIRST = {"field": "created_at", "direction": "desc"}
TIMESTAMP_FIELDS = ("created_at", "updated_at")
START = datetime(2026, 11, 1, tzinfo=timezone.utc)


def make_tasks(count: int, *, id_prefix: str = "", types: tuple[str, ...] = ("thumbnail",),
               seed: int = 0) -> list[dict]:
    """`count` tasks one second apart, ids random (UUID v4, or `id_prefix` and hex)."""
    rng = random.Random(seed)
    tasks = []
    for i in range(count):
        bits = rng.getrandbits(128)
        task_id = (f"{id_prefix}{bits:032x}"[:len(id_prefix) + 24] if id_prefix
                   else str(uuid.UUID(int=bits, version=4)))
        tasks.append(new_task(task_id, START + timedelta(seconds=i), types[i % len(types)]))
    return tasks


def new_task(task_id: str, created: datetime, task_type: str = "thumbnail") -> dict:
    stamp = created.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {"task_id": task_id, "task_type": task_type, "status": "COMPLETED",
            "created_at": stamp}


def _ordered(tasks: list[dict], sort: dict) -> list[dict]:
    return sorted(tasks, key=lambda t: sort_key(lookup(t, sort["field"])),
                  reverse=sort.get("direction") == "desc")


@dataclass
class FakeService:
    """Answers `PageRequest`s as the service would, and records each one in `sent`.

    Switches: `ignores_sort` (newest first whatever is asked), `ignores_filters` (the
    `filters` key is ignored), `sorts_page_only` (takes the newest page, then sorts it),
    `timestamp_sort_only` (a sort on another field is refused with 422), `cursor_cap` (no
    next_cursor once the next page would start there), `no_total` (include_total answers
    null), `ignores_cursor` (a cursor sent back reads the first page again), `no_timestamps`
    (records come without created_at and updated_at), `ignores_status_filter`,
    `ignores_in_filter`, `ignores_created_at_filter` (those filters are ignored, silently, as
    the emulator's profiles of the same names do), `no_get` (`GET /v1/tasks/{id}` answers 404
    for every id). `before_answer` runs before each answer
    (tasks created or deleted meanwhile).
    """

    tasks: list[dict]
    ignores_sort: bool = False
    ignores_filters: bool = False
    sorts_page_only: bool = False
    timestamp_sort_only: bool = False
    cursor_cap: int | None = None
    no_total: bool = False
    ignores_cursor: bool = False
    no_timestamps: bool = False
    ignores_status_filter: bool = False
    ignores_in_filter: bool = False
    ignores_created_at_filter: bool = False
    no_get: bool = False
    before_answer: Callable[[FakeService], None] | None = None
    sent: list[PageRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def runner(self, *, page_size: int = 10) -> PagingRunner:
        return PagingRunner(self, page_size=page_size)

    def labels(self) -> list[str]:
        return [request.label for request in self.sent]

    def __call__(self, request: PageRequest,
                 stop: threading.Event | None = None) -> tuple[dict, int]:
        with self._lock:
            self.sent.append(request)
            if self.before_answer is not None:
                self.before_answer(self)
            payload = (self._answer(request.body, request.limit, request.params or {})
                       if request.task_id is None else self._one(request.task_id))
        return payload, len(orjson.dumps(payload))

    def _matching(self, body: dict) -> list[dict]:
        body = ServerProfile(
            ignores_filters=self.ignores_filters, ignores_status_filter=self.ignores_status_filter,
            ignores_in_filter=self.ignores_in_filter,
            ignores_created_at_filter=self.ignores_created_at_filter).read(body)
        conditions = []
        if body.get("filters"):
            conditions.append(compile_filters(body["filters"]))
        for key in ("status", "task_type"):
            if body.get(key):
                conditions.append(lambda t, key=key: t.get(key) == body[key])
        return [t for t in self.tasks if all(c(t) for c in conditions)]

    def _one(self, task_id: str) -> dict:
        """GET /v1/tasks/{task_id}, answered as the client does: a list of it, or nothing."""
        if self.no_get:
            return {"results": []}
        return {"results": [self._shown(t) for t in self.tasks if t["task_id"] == task_id][:1]}

    def _shown(self, task: dict) -> dict:
        if self.no_timestamps:
            return {k: v for k, v in task.items() if k not in TIMESTAMP_FIELDS}
        return dict(task)

    def _answer(self, body: dict, limit: int, params: dict) -> dict:
        sort = body.get("sort")
        if sort and self.timestamp_sort_only and sort["field"] not in TIMESTAMP_FIELDS:
            raise MixpeekAPIError(422, "sort field must be one of created_at, updated_at",
                                  "validation_error")
        sort = (None if self.ignores_sort else sort) or NEWEST_FIRST
        matching = self._matching(body)
        cursor = None if self.ignores_cursor else params.get("cursor")
        offset = int(cursor or params.get("offset") or 0)
        end = offset + limit
        if self.sorts_page_only:
            page = _ordered(_ordered(matching, NEWEST_FIRST)[offset:end], sort)
        else:
            page = _ordered(matching, sort)[offset:end]
        following = None
        if len(matching) > end and (self.cursor_cap is None or end < self.cursor_cap):
            following = str(end)
        counted = params.get("include_total") == "true" and not self.no_total
        return {"results": [self._shown(t) for t in page],
                "pagination": {"total": len(matching) if counted else None,
                               "next_cursor": following}}
