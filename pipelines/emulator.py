"""A local Mixpeek emulator serving `POST /v1/tasks/list` with the real wire format.

It exists so the exporter can be run and tested with no account: `make demo` and the tests
start it on a free port. It reproduces what matters to an exporter: the body keys (422
extra_forbidden on others), the limit/offset caps, `include_total`, `next_cursor`, filters
(AND/OR/NOT, eq/ne/gt/gte/lt/lte/in/nin and a few string operators), sort, search, the error
body shape, and a seeded, realistic task history. `churn` makes tasks appear and move through
their statuses between requests, as a live account does while an export pages through it.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import contextlib
import random
import re
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from pipelines.tasks import IN_FLIGHT_STATUSES, TASK_TYPES, TaskStatus

BODY_KEYS = frozenset({"status", "task_type", "filters", "sort", "search"})
MAX_LIMIT = 1000
MAX_OFFSET = 10_000
DEFAULT_LIMIT = 10
LIST_PATH = "/v1/tasks/list"

_STATUS_VALUES = frozenset(s.value for s in TaskStatus)
_TASK_TYPE_VALUES = frozenset(TASK_TYPES)
_OPERATORS = frozenset(
    {"eq", "ne", "gt", "lt", "gte", "lte", "in", "nin", "contains", "starts_with", "ends_with",
     "regex", "exists", "is_null"}
)
_LOGICAL_KEYS = ("AND", "OR", "NOT")

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
    TaskStatus.COMPLETED: 78,
    TaskStatus.FAILED: 9,
    TaskStatus.COMPLETED_WITH_ERRORS: 6,
    TaskStatus.CANCELED: 3,
    TaskStatus.SKIPPED: 2,
    TaskStatus.INTERRUPTED: 2,
}
_ERRORS = (
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


class ApiError(Exception):
    """An error the emulator answers with the API's error body."""

    def __init__(self, status: int, message: str, type_: str, details: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.details = details

    def body(self) -> bytes:
        return orjson.dumps(
            {
                "success": False,
                "status": self.status,
                "error": {"message": self.message, "type": self.type, "code": None,
                          "details": self.details},
            }
        )


@dataclass
class TaskStore:
    """The account's tasks, kept sorted by task_id so keyset reads are a bisect, not a scan."""

    seed: int
    now: datetime
    tasks: dict[str, dict] = field(default_factory=dict)
    _ids: list[str] = field(default_factory=list)
    _encoded: dict[str, bytes] = field(default_factory=dict)
    _in_flight: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    @classmethod
    def generate(cls, count: int, seed: int, now: datetime | None = None) -> "TaskStore":
        store = cls(seed=seed, now=now or datetime.now(timezone.utc).replace(microsecond=0))
        for _ in range(count):
            age = timedelta(seconds=store.rng.uniform(0, 30 * 86400))
            store._ids.append(store._put(store._new_task(store.now - age)))
        store._ids.sort()
        return store

    def _new_task_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

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
            status = rng.choice([TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.PROCESSING])
        task: dict[str, Any] = {
            "task_id": self._new_task_id(),
            "task_type": task_type,
            "status": status.value,
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
        if status is TaskStatus.FAILED:
            message = rng.choice(_ERRORS).format(**ids)
            data["error"] = message
            task["error"] = message
        if finished:
            started = created + timedelta(seconds=rng.uniform(0, 5))
            completed = started + timedelta(seconds=duration)
            task["updated_at"] = _iso(completed)
            if task_type.startswith("engine_") and rng.random() < 0.7:
                data.update(started_at=_iso(started), completed_at=_iso(completed),
                            duration_ms=round(duration * 1000, 1))
        elif status is TaskStatus.PENDING and rng.random() < 0.5:
            task["queue_position"] = rng.randint(1, 50)
            task["estimated_wait_minutes"] = round(rng.uniform(0.5, 30), 1)
        if age_hours > 24 and rng.random() < 0.3:
            # Past Redis's 24-hour TTL the API serves a thinner record from MongoDB.
            data = {k: v for k, v in data.items() if k in ("error", "job_id")}
            data["from_mongodb"] = True
        if data:
            task["additional_data"] = data
        task["inputs"] = [data.get("batch_id") or f"input_{rng.randrange(10**5)}"]
        if status is TaskStatus.COMPLETED and rng.random() < 0.5:
            task["outputs"] = [{"documents_written": rng.randint(0, 5000)}]
        return task

    def _put(self, task: dict) -> str:
        """Store a new task (the caller places its id in the sorted index) and return its id."""
        task_id = task["task_id"]
        self.tasks[task_id] = task
        self._encoded[task_id] = orjson.dumps(task)
        if task["status"] in _IN_FLIGHT_VALUES:
            self._in_flight.append(task_id)
        return task_id

    def add_record(self, record: dict) -> None:
        """Serve `record` as it is, malformed or not, at its task_id's place in the keyset."""
        task_id = record["task_id"]
        if task_id not in self.tasks:
            bisect.insort(self._ids, task_id)
        self.tasks[task_id] = record
        self._encoded[task_id] = orjson.dumps(record)

    def churn(self, events: int, deletes: int = 0) -> None:
        """Create `events` tasks, move up to `events` in-flight tasks one status forward, and
        delete up to `deletes` tasks."""
        rng = self.rng
        for _ in range(min(deletes, len(self._ids))):
            task_id = self._ids.pop(rng.randrange(len(self._ids)))
            del self.tasks[task_id], self._encoded[task_id]
            if task_id in self._in_flight:
                self._in_flight.remove(task_id)
        for _ in range(events):
            task = self._new_task(datetime.now(timezone.utc))
            task.update(status=TaskStatus.PENDING.value)
            for stale in ("updated_at", "error", "outputs"):
                task.pop(stale, None)
            bisect.insort(self._ids, self._put(task))
        for _ in range(min(events, len(self._in_flight))):
            index = rng.randrange(len(self._in_flight))
            task_id = self._in_flight[index]
            task = dict(self.tasks[task_id])
            if task["status"] == TaskStatus.PENDING.value:
                task["status"] = TaskStatus.IN_PROGRESS.value
            else:
                final = rng.choices(list(_FINAL_WEIGHTS), weights=list(_FINAL_WEIGHTS.values()))[0]
                task["status"] = final.value
                task["updated_at"] = _iso(datetime.now(timezone.utc))
                self._in_flight[index] = self._in_flight[-1]
                self._in_flight.pop()
            self.tasks[task_id] = task
            self._encoded[task_id] = orjson.dumps(task)

    def select(self, body: dict, limit: int, offset: int) -> tuple[list[bytes], int | None, bool]:
        """Matching tasks for one page: (encoded tasks, total matching or None, more follow)."""
        filters = body.get("filters")
        predicate = _compile_filters(filters) if filters else None
        extra: list = []
        if body.get("status"):
            extra.append(lambda t, s=body["status"]: t.get("status") == s)
        if body.get("task_type"):
            extra.append(lambda t, s=body["task_type"]: t.get("task_type") == s)
        if body.get("search"):
            needle = body["search"].lower()
            extra.append(
                lambda t: any(needle in str(t.get(k, "")).lower()
                              for k in ("task_id", "task_type", "status"))
            )

        def matches(task: dict) -> bool:
            return (predicate is None or predicate(task)) and all(f(task) for f in extra)

        sort = body.get("sort") or {"field": "created_at", "direction": "desc"}
        wanted = offset + limit
        if sort.get("field") == "task_id" and sort.get("direction", "asc") == "asc":
            low, high = _task_id_bounds(filters)
            start = bisect.bisect_left(self._ids, low) if low is not None else 0
            end = bisect.bisect_left(self._ids, high) if high is not None else len(self._ids)
            hits: list[str] = []
            for index in range(start, end):
                task_id = self._ids[index]
                if matches(self.tasks[task_id]):
                    hits.append(task_id)
                    if len(hits) > wanted:
                        break
            page_ids = hits[offset:wanted]
            return [self._encoded[i] for i in page_ids], None, len(hits) > wanted
        ordered = sorted(
            (t for t in self.tasks.values() if matches(t)),
            key=lambda t: _sort_key(_lookup(t, sort["field"])),
            reverse=sort.get("direction") == "desc",
        )
        page = ordered[offset:wanted]
        return ([self._encoded[t["task_id"]] for t in page], len(ordered),
                len(ordered) > wanted)

    def count(self, body: dict) -> int:
        filters = body.get("filters")
        predicate = _compile_filters(filters) if filters else (lambda t: True)
        status, task_type = body.get("status"), body.get("task_type")
        return sum(
            1 for t in self.tasks.values()
            if predicate(t) and (not status or t.get("status") == status)
            and (not task_type or t.get("task_type") == task_type)
        )


_IN_FLIGHT_VALUES = frozenset(s.value for s in IN_FLIGHT_STATUSES)


def _task_id_bounds(filters: dict | None) -> tuple[str | None, str | None]:
    """Tightest [low, high) task_id range implied by top-level AND conditions."""
    low = high = None
    if not filters or not filters.get("case_sensitive"):
        return None, None
    for cond in filters.get("AND") or []:
        if cond.get("field") != "task_id" or not isinstance(cond.get("value"), str):
            continue
        op, value = cond.get("operator"), cond["value"]
        if op in ("gt", "gte") and (low is None or value > low):
            low = value
        elif op == "lt" and (high is None or value < high):
            high = value
    return low, high


def _lookup(task: dict, dotted: str) -> Any:
    value: Any = task
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _sort_key(value: Any) -> tuple:
    # Missing values sort last in ascending order, and mixed types never compare directly.
    if value is None:
        return (2, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, value)
    return (1, str(value))


def _compile_filters(filters: Any, case_sensitive: bool | None = None):
    if not isinstance(filters, dict):
        raise ApiError(422, "filters must be an object", "validation_error")
    if case_sensitive is None:
        case_sensitive = bool(filters.get("case_sensitive", False))
    if "field" in filters and "operator" in filters:
        return _compile_condition(filters, case_sensitive)
    parts = []
    for key, value in filters.items():
        if key == "case_sensitive":
            continue
        if key in _LOGICAL_KEYS:
            if not isinstance(value, list):
                raise ApiError(422, f"{key} must be a list of conditions", "validation_error")
            children = [_compile_filters(c, case_sensitive) for c in value]
            if key == "AND":
                parts.append(lambda t, cs=children: all(c(t) for c in cs))
            elif key == "OR":
                parts.append(lambda t, cs=children: any(c(t) for c in cs))
            else:
                parts.append(lambda t, cs=children: not any(c(t) for c in cs))
        else:
            parts.append(_compile_condition(
                {"field": key, "operator": "eq", "value": value}, case_sensitive))
    return lambda t: all(p(t) for p in parts)


def _compile_condition(cond: dict, case_sensitive: bool):
    field_name, op, expected = cond.get("field"), cond.get("operator", "eq"), cond.get("value")
    if not isinstance(field_name, str) or op not in _OPERATORS:
        raise ApiError(422, f"invalid filter condition: {cond!r}"[:300], "validation_error")

    def fold(value: Any) -> Any:
        return value.lower() if isinstance(value, str) and not case_sensitive else value

    expected_f = [fold(v) for v in expected] if isinstance(expected, list) else fold(expected)

    def compare(value: Any) -> bool:
        if op == "exists":
            return (value is not None) == bool(expected)
        if op == "is_null":
            return (value is None) == bool(expected)
        value = fold(value)
        if op == "eq":
            return value == expected_f
        if op == "ne":
            return value != expected_f
        if op == "in":
            return value in expected_f
        if op == "nin":
            return value not in expected_f
        if value is None or expected_f is None:
            return False
        try:
            if op == "gt":
                return value > expected_f
            if op == "gte":
                return value >= expected_f
            if op == "lt":
                return value < expected_f
            if op == "lte":
                return value <= expected_f
        except TypeError:
            return False
        text = str(value)
        if op == "contains":
            return str(expected_f) in text
        if op == "starts_with":
            return text.startswith(str(expected_f))
        if op == "ends_with":
            return text.endswith(str(expected_f))
        return re.search(str(expected), str(value), 0 if case_sensitive else re.I) is not None

    return lambda task: compare(_lookup(task, field_name))


def _query_int(query: dict[str, list[str]], *names: str) -> int | None:
    for name in names:
        if name in query:
            try:
                return int(query[name][0])
            except ValueError:
                raise ApiError(422, f"query parameter {name} must be an integer",
                               "validation_error") from None
    return None


def _decode_cursor(cursor: str) -> int:
    try:
        return int(orjson.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"])
    except Exception:
        raise ApiError(400, "invalid cursor", "invalid_cursor") from None


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"offset": offset})).decode()


FAULT_KINDS = (
    "429", "429_retry_after_0", "429_retry_after_past_date", "500", "502", "503", "504",
    "reset_mid_body", "truncated_body", "not_json", "no_results", "results_not_list", "drop",
    "slow",
)


@dataclass
class Faults:
    """Make a seeded share of requests fail in one of `kinds` (see FAULT_KINDS)."""

    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    slow_seconds: float = 2.0
    injected: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def pick(self) -> str | None:
        with self._lock:
            if not self.rate or self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.kinds)
            self.injected.append(kind)
            return kind


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 refuses connections when several workers reconnect at once.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], store: TaskStore, *, churn: int = 0,
                 churn_deletes: int = 0, latency_ms: float = 0.0, api_key: str | None = None,
                 faults: Faults | None = None):
        super().__init__(address, _Handler)
        self.store = store
        self.churn = churn
        self.churn_deletes = churn_deletes
        self.faults = faults or Faults()
        self.latency_ms = latency_ms
        self.api_key = api_key
        # (monotonic arrival time, status answered; 0 for a dropped connection)
        self.request_log: list[tuple[float, int]] = []

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or hung up mid-answer is an expected event here, not noise.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def handle_list(self, query: dict[str, list[str]], raw_body: bytes) -> bytes:
        try:
            body = orjson.loads(raw_body) if raw_body.strip() else {}
        except orjson.JSONDecodeError:
            raise ApiError(400, "request body is not valid JSON", "invalid_json") from None
        if not isinstance(body, dict):
            raise ApiError(422, "request body must be an object", "validation_error")
        extra = sorted(set(body) - BODY_KEYS)
        if extra:
            raise ApiError(
                422, f"Extra inputs are not permitted: {', '.join(extra)}", "extra_forbidden",
                {"errors": [{"loc": ["body", k], "type": "extra_forbidden"} for k in extra]},
            )
        if body.get("status") is not None and body["status"] not in _STATUS_VALUES:
            raise ApiError(422, f"invalid status {body['status']!r}", "validation_error")
        if body.get("task_type") is not None and body["task_type"] not in _TASK_TYPE_VALUES:
            raise ApiError(422, f"invalid task_type {body['task_type']!r}", "validation_error")
        sort = body.get("sort")
        if sort is not None and (
                not isinstance(sort, dict) or not isinstance(sort.get("field"), str)
                or sort.get("direction", "asc") not in ("asc", "desc")):
            raise ApiError(422, "sort must be {field, direction: asc|desc}", "validation_error")
        limit = _query_int(query, "limit", "page_size")
        limit = DEFAULT_LIMIT if limit is None else limit
        if not 1 <= limit <= MAX_LIMIT:
            raise ApiError(422, f"limit must be between 1 and {MAX_LIMIT}", "validation_error")
        offset = _query_int(query, "offset")
        page = _query_int(query, "page")
        cursor = (query.get("cursor") or query.get("next_cursor") or [None])[0]
        if cursor:
            offset = _decode_cursor(cursor)
        elif offset is None:
            offset = (page - 1) * limit if page and page > 0 else 0
        if not 0 <= offset <= MAX_OFFSET:
            raise ApiError(422, f"offset must be between 0 and {MAX_OFFSET}", "validation_error")
        include_total = (query.get("include_total") or ["false"])[0].lower() == "true"

        with self.store.lock:
            if self.churn or self.churn_deletes:
                self.store.churn(self.churn, self.churn_deletes)
            encoded, total, more = self.store.select(body, limit, offset)
            if include_total and total is None:
                total = self.store.count(body)
        pagination = {
            "total": total if include_total else None,
            "page": offset // limit + 1,
            "page_size": limit,
            "total_pages": -(-total // limit) if include_total else None,
            "next_page": f"{LIST_PATH}?offset={offset + limit}&limit={limit}" if more else None,
            "previous_page": (f"{LIST_PATH}?offset={max(offset - limit, 0)}&limit={limit}"
                              if offset else None),
            "next_cursor": _encode_cursor(offset + limit) if more else None,
        }
        return b'{"results":[' + b",".join(encoded) + b'],"pagination":' + orjson.dumps(
            pagination) + b"}"


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
              declared_length: int | None = None) -> None:
        self.send_response(status)
        headers = {"Content-Type": "application/json", **(headers or {}),
                   "Content-Length": str(len(body) if declared_length is None
                                         else declared_length)}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.server.request_log.append((self._arrived, status))

    def _send_fault(self, kind: str) -> bool:
        """Answer with fault `kind`; False for "slow", which delays and then answers normally."""
        if kind == "slow":
            time.sleep(self.server.faults.slow_seconds)
            return False
        if kind.startswith("429"):
            headers = {"429_retry_after_0": {"Retry-After": "0"},
                       "429_retry_after_past_date": {
                           "Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}}.get(kind)
            self._send(429, ApiError(429, "Rate limit exceeded", "rate_limited").body(), headers)
        elif kind.isdigit():
            self._send(int(kind), ApiError(int(kind), "Upstream failure", "server_error").body())
        elif kind == "reset_mid_body":
            body = b'{"results":[{"task_id":"' + b"x" * 4096
            self._send(200, body, declared_length=len(body) * 4)
            self.close_connection = True
        elif kind == "truncated_body":
            self._send(200, b'{"results":[{"task_id":"abc","status":')
        elif kind == "not_json":
            self._send(200, b"<html><body>502 Bad Gateway</body></html>",
                       {"Content-Type": "text/html"})
        elif kind == "no_results":
            self._send(200, b'{"pagination":{"total":null}}')
        elif kind == "results_not_list":
            self._send(200, b'{"results":{"task_id":"abc"},"pagination":{}}')
        else:  # drop: close the connection without answering
            self.close_connection = True
            self.server.request_log.append((self._arrived, 0))
        return True

    def do_POST(self) -> None:  # noqa: N802 - stdlib naming
        self._arrived = time.monotonic()
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.latency_ms:
            time.sleep(self.server.latency_ms / 1000)
        fault = self.server.faults.pick()
        if fault and self._send_fault(fault):
            return
        url = urlsplit(self.path)
        try:
            if url.path != LIST_PATH:
                raise ApiError(404, f"no route {url.path}", "not_found")
            auth = self.headers.get("Authorization", "")
            token = auth[7:] if auth.startswith("Bearer ") else ""
            if not token or (self.server.api_key is not None and token != self.server.api_key):
                raise ApiError(401, "Invalid or missing API key", "unauthorized")
            self._send(200, self.server.handle_list(parse_qs(url.query), raw))
        except ApiError as error:
            self._send(error.status, error.body())


@contextlib.contextmanager
def running_emulator(tasks: int = 1000, seed: int = 0, **options: Any) -> Iterator[EmulatorServer]:
    """Serve a generated account on a free loopback port for the duration of the block."""
    server = EmulatorServer(("127.0.0.1", 0), TaskStore.generate(tasks, seed), **options)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mixpeek-emulator", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--tasks", type=int, default=5000, help="tasks in the generated account")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--churn", type=int, default=0,
                        help="tasks created and status changes made before each request")
    parser.add_argument("--churn-deletes", type=int, default=0,
                        help="tasks deleted before each request")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay before each answer")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="share of requests answered with an injected fault")
    parser.add_argument("--fault-kinds", default=",".join(FAULT_KINDS),
                        help="comma-separated kinds to draw from")
    parser.add_argument("--api-key", default=None, help="accept only this key (default: any)")
    args = parser.parse_args(argv)
    server = EmulatorServer(
        (args.host, args.port), TaskStore.generate(args.tasks, args.seed), churn=args.churn,
        churn_deletes=args.churn_deletes, latency_ms=args.latency_ms, api_key=args.api_key,
        faults=Faults(args.fault_rate, tuple(args.fault_kinds.split(",")), args.seed))
    print(f"mixpeek-emulator listening on {server.base_url} with {args.tasks} tasks", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
