"""An incremental listing: after a complete observation, only what may have changed since.

Terminal statuses never change again, so the tasks an observation has to read afresh are the
tasks created since the last one began (less a margin for clocks), and the tasks that were
not terminal then. This strategy reads exactly those: the new tasks in task_id order within
a created_at filter (keyset paging's guarantees, one range), and the unfinished ones by
task_id `in` batches of up to IDS_PER_REQUEST ids, one page each (or, where the service does
not apply that filter, one `GET /v1/tasks/{id}` each). Every filter it sends is
one the probe proved narrows (probe.py); what it does not list, it does not claim: the tasks
it carries unchanged and those it asked for and did not get are in its facts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mixpeek_tasks.api.errors import MixpeekProtocolError
from mixpeek_tasks.api.paging.changes import IDS_PER_REQUEST, created_since, with_ids
from mixpeek_tasks.api.paging.keyset import KeysetStream, TaskIdRange, keyset_body
from mixpeek_tasks.api.paging.pages import PageRequest, PagingStrategy, Reading, Stream, task_ids

NEW = "created since"
# Where a batch of ids stands once its one request is answered.
READ = "read"


class NewTasksStream(KeysetStream):
    """The tasks created at `since` or later, in task_id order; those the id batches read
    are left to them, so that no task is listed twice."""

    def __init__(self, since: str, after: str | None, *, page_size: int, batched: set[str]):
        super().__init__(TaskIdRange(), after, page_size=page_size)
        self.key = NEW
        self.since = since
        self.batched = batched
        self.listed = 0

    def next_request(self) -> PageRequest:
        self.number += 1
        self.label = f"page {self.number} of the tasks created since {self.since}"
        body = keyset_body(self.id_range, self.after)
        filters = body.setdefault("filters", {"AND": [], "case_sensitive": True})
        filters["AND"] = [*filters["AND"], *created_since(self.since)["filters"]["AND"]]
        return PageRequest(body, self.page_size, self.label)

    def read(self, payload: dict) -> Reading:
        reading = super().read(payload)
        fresh = [t for t in reading.tasks
                 if not (isinstance(t, dict) and t.get("task_id") in self.batched)]
        self.listed += len(fresh)
        return Reading(fresh, reading.after, reading.is_last)


class IdBatchStream(Stream):
    """The current records of one batch of task ids, in one request: a task_id `in` listing,
    or with `one_by_one`, `GET /v1/tasks/{id}` of its one id."""

    def __init__(self, key: str, ids: Sequence[str], *, one_by_one: bool = False):
        self.key = key
        self.ids = list(ids)
        self.one_by_one = one_by_one
        self.number = 0
        self.label = ""
        self.missing: list[str] = []

    def next_request(self) -> PageRequest:
        self.number += 1
        if self.one_by_one:
            self.label = f"unfinished task {self.ids[0]}"
            return PageRequest({}, 1, self.label, task_id=self.ids[0])
        self.label = f"{self.key} of the unfinished tasks ({len(self.ids):,} ids)"
        return PageRequest(with_ids(self.ids), len(self.ids), self.label)

    def read(self, payload: dict) -> Reading:
        tasks = payload["results"]
        asked = set(self.ids)
        got = task_ids(tasks)
        strays = [task_id for task_id in got if task_id not in asked]
        if strays or len(got) != len(set(got)):
            raise MixpeekProtocolError(
                f"{self.label}: the answer lists tasks not asked for ({strays[:3]}) or one "
                "twice, so it proves nothing about the tasks asked for")
        self.missing = sorted(asked - set(got))
        return Reading(tasks, READ, is_last=True)


class IncrementalPaging(PagingStrategy):
    """The tasks created since `since` (API text) and the current records of `unfinished`,
    by task_id `in` batches, or with `one_by_one` by `GET /v1/tasks/{id}` each."""

    name = "incremental"
    positional = False

    def __init__(self, since: str, unfinished: Sequence[str], *, one_by_one: bool = False):
        self.since = since
        self.unfinished = sorted(set(unfinished))
        self.one_by_one = one_by_one
        self._new: NewTasksStream | None = None
        self._batches: dict[str, IdBatchStream] = {}

    def _batch_ids(self) -> dict[str, list[str]]:
        size = 1 if self.one_by_one else IDS_PER_REQUEST
        batches = [self.unfinished[i:i + size] for i in range(0, len(self.unfinished), size)]
        return {f"ids {n} of {len(batches)}": ids for n, ids in enumerate(batches, 1)}

    def plan(self) -> dict[str, Any]:
        return {NEW: self.since, **{key: len(ids) for key, ids in self._batch_ids().items()}}

    def streams(self, positions: Mapping[str, str | None] | None, *,
                page_size: int) -> list[Stream]:
        batches = self._batch_ids()
        if positions is None:
            positions = dict.fromkeys([NEW, *batches])
        made: list[Stream] = []
        for key, after in positions.items():
            if key == NEW:
                self._new = NewTasksStream(self.since, after, page_size=page_size,
                                           batched=set(self.unfinished))
                made.append(self._new)
            elif after != READ:
                self._batches[key] = IdBatchStream(key, batches[key],
                                                   one_by_one=self.one_by_one)
                made.append(self._batches[key])
        return made

    def missing(self) -> list[str]:
        """The unfinished tasks asked for by id that the service did not list: gone, or
        doubt."""
        return sorted(task_id for stream in self._batches.values() for task_id in stream.missing)

    def facts(self) -> dict[str, Any]:
        return {"created_since": self.since, "unfinished_asked": len(self.unfinished),
                "new_listed": self._new.listed if self._new else 0,
                "unfinished_missing": len(self.missing()),
                "unfinished_read": "one by one" if self.one_by_one else "in batches",
                "id_batches": len(self._batch_ids())}
