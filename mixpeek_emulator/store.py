"""The emulated account: a seeded, realistic task history kept sorted by task_id, the churn of
a live account, and the selection of one page of it."""

from __future__ import annotations

import bisect
import itertools
import random
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson

from mixpeek_emulator.profiles import DOCUMENTED, ServerProfile
from mixpeek_emulator.query import (
    compile_filters,
    created_at_range,
    lookup,
    sort_key,
    task_ids_named,
    text_bounds,
)
from mixpeek_emulator.vocabulary import IN_FLIGHT, TIMESTAMP_FIELDS

DEFAULT_SORT = {"field": "created_at", "direction": "desc"}
# What Redis holds before its TTL expires: all a list that reads only Redis can see.
RECENT_WINDOW = timedelta(hours=24)

# Weighted mix of what a busy account runs: batch processing and engine work dominate.
_TYPE_WEIGHTS = {
    "api_buckets_batches_process": 22,
    "engine_feature_extractor_run": 16,
    "api_buckets_objects_create": 12,
    "engine_object_processing": 9,
    "api_buckets_uploads_confirm": 6,
    "engine_cluster_build": 5,
    "api_taxonomies_execute": 5,
    "engine_inference_run": 5,
    "api_collections_documents_create": 4,
    "thumbnail": 4,
    "video_segment": 3,
    "api_namespaces_create": 2,
    "api_taxonomies_materialize": 2,
    "api_collections_reembed": 2,
    "api_evaluations_run": 1,
    "materialize": 1,
    "plugin_custom": 1,
}
_FINAL_WEIGHTS = {
    "COMPLETED": 78,
    "FAILED": 9,
    "COMPLETED_WITH_ERRORS": 6,
    "CANCELED": 3,
    "SKIPPED": 2,
    "INTERRUPTED": 2,
}
ERROR_TEMPLATES = (
    "Object {obj} not found in bucket {bkt}",
    "Ray job {job} exceeded memory limit of 16 GiB",
    "Feature extractor timed out after 600 seconds on object {obj}",
    "Rate limited by upstream embedding provider (retry 3 of 3)",
    "Invalid media type for object {obj}: application/octet-stream",
)
# Median seconds a task of each family takes; durations are log-normal around it.
_MEDIAN_SECONDS = {"api_buckets_batches_process": 420.0, "engine_": 180.0, "api_": 8.0}


def _median_seconds(task_type: str) -> float:
    for prefix, seconds in _MEDIAN_SECONDS.items():
        if task_type.startswith(prefix):
            return seconds
    return 30.0


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class TaskStore:
    """The account's tasks, kept sorted by task_id so keyset reads are a bisect, not a scan."""

    seed: int
    now: datetime
    # None: UUID v4 ids. A prefix such as "task_": custom ids, the prefix and 24 hex digits.
    id_prefix: str | None = None
    tasks: dict[str, dict] = field(default_factory=dict)
    _ids: list[str] = field(default_factory=list)
    _encoded: dict[str, bytes] = field(default_factory=dict)
    _in_flight: list[str] = field(default_factory=list)
    # Indexes on created_at, as a service keeps them, so that the questions an export asks at
    # both ends (the newest task created before a moment, and how many) are a bisect instead
    # of a sort of every task under the lock that every page waits on:
    # - every text created_at, sorted the two ways filters compare it: as it is
    #   (case_sensitive) and lowercased (the default), for counts;
    # - (sort key, rank, task_id) of every task, for listings sorted by created_at: the rank
    #   is the task's place in `tasks`, so ties come in the order a stable sort gives them.
    _created: dict[bool, list[str]] = field(default_factory=lambda: {True: [], False: []})
    _by_created: list[tuple] = field(default_factory=list)
    _rank: dict[str, int] = field(default_factory=dict)
    _ranks: Iterator[int] = field(default_factory=itertools.count)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @classmethod
    def generate(cls, count: int, seed: int, now: datetime | None = None, *,
                 id_prefix: str | None = None) -> "TaskStore":
        store = cls(seed=seed, now=now or datetime.now(timezone.utc).replace(microsecond=0),
                    id_prefix=id_prefix)
        for _ in range(count):
            age = timedelta(seconds=store.rng.uniform(0, 30 * 86400))
            store._ids.append(store._put(store._new_task(store.now - age)))
        store._ids.sort()
        created = [task["created_at"] for task in store.tasks.values()]
        store._created = {True: sorted(created), False: sorted(c.lower() for c in created)}
        store._by_created = sorted((sort_key(task["created_at"]), store._rank[task["task_id"]],
                                    task["task_id"]) for task in store.tasks.values())
        return store

    def _new_task_id(self) -> str:
        if self.id_prefix is None:
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        return f"{self.id_prefix}{self.rng.getrandbits(96):024x}"

    def _new_task(self, created: datetime) -> dict:
        rng = self.rng
        task_type = rng.choices(list(_TYPE_WEIGHTS), weights=list(_TYPE_WEIGHTS.values()))[0]
        age_hours = (self.now - created).total_seconds() / 3600
        duration = min(rng.lognormvariate(0, 0.8) * _median_seconds(task_type), 20 * 3600)
        # A few tasks stay in flight (stuck or long-running), as on a live account.
        finished = age_hours * 3600 > duration and rng.random() >= 0.03
        if finished:
            status = rng.choices(list(_FINAL_WEIGHTS), weights=list(_FINAL_WEIGHTS.values()))[0]
        else:
            status = rng.choice(["PENDING", "IN_PROGRESS", "PROCESSING"])
        task: dict[str, Any] = {
            "task_id": self._new_task_id(),
            "task_type": task_type,
            "status": status,
            "created_at": _iso(created),
        }
        data: dict[str, Any] = {}
        ids = {"obj": f"obj_{rng.randrange(10**6):06d}", "bkt": f"bkt_{rng.randrange(500)}",
               "job": f"raysubmit_{rng.randrange(10**8):08d}"}
        if task_type == "api_buckets_batches_process":
            total_tiers = rng.randint(1, 4)
            data.update(
                batch_id=f"btch_{rng.randrange(10**7):07d}",
                bucket_id=ids["bkt"],
                namespace_id=f"ns_{rng.randrange(40)}",
                current_tier=(total_tiers - 1) if finished else rng.choice([None, 0]),
                total_tiers=total_tiers,
                collection_ids=[f"col_{rng.randrange(1000)}" for _ in range(total_tiers)],
                object_count=rng.randint(1, 20_000),
                sample_object_ids=[f"obj_{rng.randrange(10**6):06d}" for _ in range(5)],
            )
        if task_type.startswith("engine_"):
            data["job_id"] = ids["job"]
        if status == "FAILED":
            message = rng.choice(ERROR_TEMPLATES).format(**ids)
            data["error"] = message
            task["error"] = message
        if finished:
            started = created + timedelta(seconds=rng.uniform(0, 5))
            completed = started + timedelta(seconds=duration)
            task["updated_at"] = _iso(completed)
            if task_type.startswith("engine_") and rng.random() < 0.7:
                data.update(started_at=_iso(started), completed_at=_iso(completed),
                            duration_ms=round(duration * 1000, 1))
        elif status == "PENDING" and rng.random() < 0.5:
            task["queue_position"] = rng.randint(1, 50)
            task["estimated_wait_minutes"] = round(rng.uniform(0.5, 30), 1)
        if age_hours > 24 and rng.random() < 0.3:
            # Past Redis's 24-hour TTL the API serves a thinner record from MongoDB.
            data = {k: v for k, v in data.items() if k in ("error", "job_id")}
            data["from_mongodb"] = True
        if data:
            task["additional_data"] = data
        task["inputs"] = [data.get("batch_id") or f"input_{rng.randrange(10**5)}"]
        if status == "COMPLETED" and rng.random() < 0.5:
            task["outputs"] = [{"documents_written": rng.randint(0, 5000)}]
        return task

    def _put(self, task: dict) -> str:
        """Store a new task (the caller places it in the sorted indexes) and return its id."""
        task_id = task["task_id"]
        self.tasks[task_id] = task
        self._rank[task_id] = next(self._ranks)
        self._encoded[task_id] = orjson.dumps(task)
        if task["status"] in IN_FLIGHT:
            self._in_flight.append(task_id)
        return task_id

    def _index_created(self, task: dict, *, remove: bool = False) -> None:
        created = task.get("created_at")
        keys = [(self._by_created, (sort_key(created), self._rank[task["task_id"]],
                                    task["task_id"]))]
        if isinstance(created, str):
            keys += [(self._created[True], created), (self._created[False], created.lower())]
        for values, key in keys:
            if remove:
                del values[bisect.bisect_left(values, key)]
            else:
                bisect.insort(values, key)

    def add_record(self, record: dict) -> None:
        """Serve `record` as it is, malformed or not, at its task_id's place in the keyset."""
        task_id = record["task_id"]
        if task_id in self.tasks:
            self._index_created(self.tasks[task_id], remove=True)
        else:
            bisect.insort(self._ids, task_id)
            self._rank[task_id] = next(self._ranks)
        self._index_created(record)
        self.tasks[task_id] = record
        self._encoded[task_id] = orjson.dumps(record)

    def churn(self, events: int, deletes: int = 0) -> None:
        """Create `events` tasks, move up to `events` in-flight tasks one status forward, and
        delete up to `deletes` tasks."""
        rng = self.rng
        for _ in range(min(deletes, len(self._ids))):
            self.delete(self._ids[rng.randrange(len(self._ids))])
        self.create(events)
        for _ in range(min(events, len(self._in_flight))):
            self._move_on(rng.randrange(len(self._in_flight)))

    def delete(self, task_id: str) -> None:
        """Forget the task `task_id`, as the service does (TTL, or DELETE /v1/tasks/{id})."""
        del self._ids[bisect.bisect_left(self._ids, task_id)]
        self._index_created(self.tasks.pop(task_id), remove=True)
        del self._encoded[task_id], self._rank[task_id]
        if task_id in self._in_flight:
            self._in_flight.remove(task_id)

    def create(self, count: int) -> None:
        """Create `count` tasks now, PENDING."""
        for _ in range(count):
            task = self._new_task(datetime.now(timezone.utc))
            task.update(status="PENDING")
            for stale in ("updated_at", "error", "outputs"):
                task.pop(stale, None)
            bisect.insort(self._ids, self._put(task))
            self._index_created(task)

    def finish(self, count: int) -> None:
        """Move up to `count` in-flight tasks to a final status now."""
        for _ in range(min(count, len(self._in_flight))):
            index = self.rng.randrange(len(self._in_flight))
            self._move_on(index, to_final=True)

    def _move_on(self, index: int, *, to_final: bool = False) -> None:
        """Move the in-flight task at `index` one status forward (PENDING starts; the others
        finish), or straight to a final status."""
        task_id = self._in_flight[index]
        task = dict(self.tasks[task_id])
        if task["status"] == "PENDING" and not to_final:
            task["status"] = "IN_PROGRESS"
        else:
            final = self.rng.choices(list(_FINAL_WEIGHTS), weights=list(_FINAL_WEIGHTS.values()))[0]
            task["status"] = final
            task["updated_at"] = _iso(datetime.now(timezone.utc))
            self._in_flight[index] = self._in_flight[-1]
            self._in_flight.pop()
        self.tasks[task_id] = task
        self._encoded[task_id] = orjson.dumps(task)

    def _matcher(self, body: dict, profile: ServerProfile) -> Callable[[dict], bool]:
        """The predicate a task must meet to be listed for `body` under `profile`."""
        body = profile.read(body)
        filters = body.get("filters")
        conditions: list = [compile_filters(filters)] if filters else []
        if body.get("status"):
            conditions.append(lambda t, s=body["status"]: t.get("status") == s)
        if body.get("task_type"):
            conditions.append(lambda t, s=body["task_type"]: t.get("task_type") == s)
        if body.get("search"):
            needle = body["search"].lower()
            conditions.append(
                lambda t: any(needle in str(t.get(k, "")).lower()
                              for k in ("task_id", "task_type", "status"))
            )
        if profile.recent_window:
            # Fixed-width ISO text sorts as time does, so the cutoff compares as text.
            cutoff = _iso(self.now - RECENT_WINDOW)
            conditions.append(
                lambda t: isinstance(t.get("created_at"), str) and t["created_at"] >= cutoff)
        return lambda task: all(c(task) for c in conditions)

    def scan(self, body: dict, profile: ServerProfile = DOCUMENTED) -> list[dict]:
        """Every task `body` lists, in the order of `tasks`, by testing each one: what answers
        any question the indexes cannot, and what they must agree with."""
        return self._scan(body, profile, self._candidates(body, profile))

    def _scan(self, body: dict, profile: ServerProfile, candidates: list[str] | None) -> list[dict]:
        matches = self._matcher(body, profile)
        if candidates is None:
            return [task for task in self.tasks.values() if matches(task)]
        # Tested in the order of `tasks`, as the scan of every task would.
        return [task for task in sorted((self.tasks[i] for i in candidates),
                                        key=lambda task: self._rank[task["task_id"]])
                if matches(task)]

    def _candidates(self, body: dict, profile: ServerProfile) -> list[str] | None:
        """The tasks an index narrows `body` to, a superset of what it lists (those of a
        task_id `in`, or of a created_at range compared as text); None if no index does."""
        filters = profile.read(body).get("filters")
        named = task_ids_named(filters)
        if named is not None:
            return [task_id for task_id in named if task_id in self.tasks]
        low, high = text_bounds(filters, "created_at")
        if low is None and high is None:
            return None
        return list(self._ids_by_created_at(low, high, False))

    def _ids_by_task_id(self, low: str | None, high: str | None,
                        descending: bool) -> Iterable[str]:
        start = bisect.bisect_left(self._ids, low) if low is not None else 0
        end = bisect.bisect_left(self._ids, high) if high is not None else len(self._ids)
        positions = range(end - 1, start - 1, -1) if descending else range(start, end)
        return map(self._ids.__getitem__, positions)

    def _ids_by_created_at(self, low: str | None, high: str | None,
                           descending: bool) -> Iterator[str]:
        index = self._by_created
        start = bisect.bisect_left(index, (sort_key(low),)) if low is not None else 0
        end = bisect.bisect_left(index, (sort_key(high),)) if high is not None else len(index)
        if not descending:
            for position in range(start, end):
                yield index[position][2]
            return
        # A stable sort in reverse keeps equal created_at in rank order: walk down the
        # distinct values, and up within each.
        while end > start:
            first = bisect.bisect_left(index, (index[end - 1][0],), start, end)
            for position in range(first, end):
                yield index[position][2]
            end = first

    def select(self, body: dict, limit: int, offset: int,
               profile: ServerProfile = DOCUMENTED) -> tuple[list[bytes], int | None, bool]:
        """Matching tasks for one page: (encoded tasks, total matching or None, more follow)."""
        sort = (None if profile.ignores_sort else body.get("sort")) or DEFAULT_SORT
        wanted = offset + limit
        walks = {"task_id": self._ids_by_task_id, "created_at": self._ids_by_created_at}
        candidates = self._candidates(body, profile)
        # An index that narrows the listing to a small share beats a walk in the sort order.
        narrowed = candidates is not None and len(candidates) * 4 <= len(self.tasks)
        if profile.honours_query and sort.get("field") in walks and not narrowed:
            # Read off the index in order, up to the page's end, instead of sorting every task;
            # when the indexes count the matches, also no further than the last of them (a
            # case-folded filter cannot narrow the walk, and may match nothing).
            matches = self._matcher(body, profile)
            total = self._count_indexed(body, profile)
            low, high = text_bounds(profile.read(body).get("filters"), sort["field"])
            hits: list[str] = []
            walk = walks[sort["field"]](low, high, sort.get("direction") == "desc")
            for task_id in walk if total != 0 else ():
                if matches(self.tasks[task_id]):
                    hits.append(task_id)
                    if len(hits) > wanted or len(hits) == total:
                        break
            return [self._shown(i, profile) for i in hits[offset:wanted]], total, len(hits) > wanted
        ordered = _ordered(self._scan(body, profile, candidates),
                           DEFAULT_SORT if profile.sorts_page_only else sort)
        page = ordered[offset:wanted]
        if profile.sorts_page_only:
            page = _ordered(page, sort)
        return ([self._shown(t["task_id"], profile) for t in page], len(ordered),
                len(ordered) > wanted)

    def _shown(self, task_id: str, profile: ServerProfile) -> bytes:
        """The task's record as the service answers it under `profile`."""
        if not profile.no_timestamps:
            return self._encoded[task_id]
        return orjson.dumps({k: v for k, v in self.tasks[task_id].items()
                             if k not in TIMESTAMP_FIELDS})

    def record(self, task_id: str, profile: ServerProfile = DOCUMENTED) -> bytes | None:
        """One task's record, as `GET /v1/tasks/{task_id}` answers it; None if there is none
        (or, for a service that reads only Redis, none it still holds)."""
        task = self.tasks.get(task_id)
        if task is None or (profile.recent_window and not self._matcher({}, profile)(task)):
            return None
        return self._shown(task_id, profile)

    def count(self, body: dict, profile: ServerProfile = DOCUMENTED) -> int:
        """How many tasks `body` lists: from the indexes when they can tell, else by a scan."""
        indexed = self._count_indexed(body, profile)
        return len(self.scan(body, profile)) if indexed is None else indexed

    def _count_indexed(self, body: dict, profile: ServerProfile) -> int | None:
        """The count of every task, or of a created_at range; None for any other question."""
        body = profile.read(body)
        if profile.recent_window or any(body.get(key) for key in ("status", "task_type", "search")):
            return None
        filters = body.get("filters")
        if not filters:
            return len(self.tasks)
        ranged = created_at_range(filters)
        if ranged is None:
            return None
        case_sensitive, bounds = ranged
        values = self._created[case_sensitive]
        low, high = 0, len(values)
        for operator, value in bounds:
            key = value if case_sensitive else value.lower()
            if operator == "gt":
                low = max(low, bisect.bisect_right(values, key))
            elif operator == "gte":
                low = max(low, bisect.bisect_left(values, key))
            elif operator == "lt":
                high = min(high, bisect.bisect_left(values, key))
            else:
                high = min(high, bisect.bisect_right(values, key))
        return max(0, high - low)


def _ordered(tasks: Iterable[dict], sort: dict) -> list[dict]:
    return sorted(tasks, key=lambda t: sort_key(lookup(t, sort["field"])),
                  reverse=sort.get("direction") == "desc")
