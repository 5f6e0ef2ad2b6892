"""`next_cursor` paging in the service's default order (newest first).

Needs only what the API documents (a cursor in each answer, passed back as `cursor`), so it is
the fallback when keyset paging's assumptions fail. The service's cursor semantics are not
documented: tasks created while it pages may push earlier ones onto the next page (repeats,
dropped here), and if the cursor is an offset in disguise a deletion can pull a task into a
page already read. The reconciliation of counts before publishing (snapshot/reconcile.py)
refuses a snapshot that deletions during the run leave unprovable.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from typing import Any

from mixpeek_tasks.api.errors import MixpeekProtocolError
from mixpeek_tasks.api.paging.pages import Page, PagingStrategy, task_ids
from mixpeek_tasks.api.transport import MixpeekClient

STREAM = "cursor"


class CursorPaging(PagingStrategy):
    """One stream that follows `pagination.next_cursor` until the service gives none."""

    name = "cursor"

    def __init__(self, client: MixpeekClient):
        self.client = client
        self.repeats_dropped = 0

    def plan(self) -> dict[str, Any]:
        return {STREAM: None}

    def facts(self) -> dict[str, Any]:
        return {"repeats_dropped": self.repeats_dropped}

    def iter_pages(self, positions: Mapping[str, str | None] | None = None,
                   concurrency: int = 1) -> Iterator[Page]:
        return self._pages(threading.Event())

    def _pages(self, stop: threading.Event) -> Iterator[Page]:
        seen: set[str] = set()
        cursor: str | None = None
        number = 0
        while True:
            number += 1
            what = f"page {number} of the cursor listing"
            params = {"cursor": cursor} if cursor else None
            payload, size = self.client.request_page({}, limit=self.client.page_size,
                                                     what=what, stop=stop, params=params)
            tasks = payload["results"]
            ids = task_ids(tasks)
            if ids and seen.issuperset(ids):
                raise MixpeekProtocolError(
                    f"{what}: every task on it was on an earlier page; the cursor did not move "
                    "forward, so cursor paging cannot be trusted")
            fresh = [t for t in tasks
                     if not (isinstance(t, dict) and t.get("task_id") in seen)]
            self.repeats_dropped += len(tasks) - len(fresh)
            seen.update(ids)
            following = (payload.get("pagination") or {}).get("next_cursor")
            if following is not None and not isinstance(following, str):
                raise MixpeekProtocolError(f"{what}: next_cursor is not a string: {following!r}")
            if following is not None and following == cursor:
                raise MixpeekProtocolError(f"{what}: next_cursor points at the same page again")
            yield Page(STREAM, number, fresh, datetime.now(timezone.utc), size, following,
                       following is None)
            if following is None:
                return
            cursor = following
