"""`next_cursor` paging in the service's default order (newest first).

Needs only what the API documents (a cursor in each answer, passed back as `cursor`), so it is
the fallback when keyset paging's assumptions fail. The service's cursor semantics are not
documented: tasks created while it pages may push earlier ones onto the next page (repeats,
dropped here), and if the cursor is an offset in disguise a deletion can pull a task into a
page already read. The reconciliation of counts before publishing (snapshot/reconcile.py)
refuses a snapshot that deletions during the run leave unprovable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mixpeek_tasks.api.errors import MixpeekProtocolError
from mixpeek_tasks.api.paging.pages import PageRequest, PagingStrategy, Reading, Stream, task_ids

STREAM = "cursor"


class CursorStream(Stream):
    """The whole listing, following `pagination.next_cursor` until the service gives none."""

    key = STREAM

    def __init__(self, *, page_size: int):
        self.page_size = page_size
        self.number = 0
        self.label = ""
        self.cursor: str | None = None
        self.seen: set[str] = set()
        self.repeats_dropped = 0

    def next_request(self) -> PageRequest:
        self.number += 1
        self.label = f"page {self.number} of the cursor listing"
        params = {"cursor": self.cursor} if self.cursor else None
        return PageRequest({}, self.page_size, self.label, params)

    def read(self, payload: dict) -> Reading:
        tasks = payload["results"]
        ids = task_ids(tasks)
        if ids and self.seen.issuperset(ids):
            raise MixpeekProtocolError(
                f"{self.label}: every task on it was on an earlier page; the cursor did not move "
                "forward, so cursor paging cannot be trusted")
        fresh = [t for t in tasks
                 if not (isinstance(t, dict) and t.get("task_id") in self.seen)]
        self.repeats_dropped += len(tasks) - len(fresh)
        self.seen.update(ids)
        following = (payload.get("pagination") or {}).get("next_cursor")
        if following is not None and not isinstance(following, str):
            raise MixpeekProtocolError(
                f"{self.label}: next_cursor is not a string: {following!r}")
        if following is not None and following == self.cursor:
            raise MixpeekProtocolError(f"{self.label}: next_cursor points at the same page again")
        self.cursor = following
        return Reading(fresh, following, is_last=following is None)


class CursorPaging(PagingStrategy):
    """One stream that follows `pagination.next_cursor` from the first page."""

    name = "cursor"

    def __init__(self) -> None:
        self._stream: CursorStream | None = None

    def plan(self) -> dict[str, Any]:
        return {STREAM: None}

    def facts(self) -> dict[str, Any]:
        return {"repeats_dropped": self._stream.repeats_dropped if self._stream else 0}

    def streams(self, positions: Mapping[str, str | None] | None, *,
                page_size: int) -> list[Stream]:
        # Not resumable: the one stream always starts from the first page.
        self._stream = CursorStream(page_size=page_size)
        return [self._stream]
