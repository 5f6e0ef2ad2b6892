"""The emulator's HTTP server: `POST /v1/tasks/list` with the real wire format (body keys,
caps, `include_total`, `next_cursor`, the error body) and `GET /v1/tasks/{task_id}`,
authentication, latency, a per-minute rate limit, faults, and the quirks of a server profile
(profiles.py)."""

from __future__ import annotations

import base64
import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import orjson

from mixpeek_emulator.errors import ApiError
from mixpeek_emulator.faults import DELIVERY_KINDS, Faults
from mixpeek_emulator.profiles import ServerProfile
from mixpeek_emulator.ratelimit import RateLimit
from mixpeek_emulator.store import TaskStore
from mixpeek_emulator.vocabulary import STATUSES, TASK_TYPES, TIMESTAMP_FIELDS

BODY_KEYS = frozenset({"status", "task_type", "filters", "sort", "search"})
MAX_LIMIT = 1000
MAX_OFFSET = 10_000
DEFAULT_LIMIT = 10
LIST_PATH = "/v1/tasks/list"
TASK_PATH = "/v1/tasks/"


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
    invalid = ApiError(400, "invalid cursor", "invalid_cursor")
    try:
        offset = int(orjson.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"])
    except Exception:
        raise invalid from None
    if offset < 0:
        raise invalid
    return offset


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps({"offset": offset})).decode()


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 refuses connections when several workers reconnect at once.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], store: TaskStore, *, churn: int = 0,
                 churn_deletes: int = 0, latency_ms: float = 0.0, api_key: str | None = None,
                 faults: Faults | None = None,
                 profile: ServerProfile | str | Iterable[str] = (),
                 rate_limit: int | None = None, rate_window_seconds: float = 60.0):
        # Parsed before binding, so that a bad name leaves no socket open.
        self.profile = ServerProfile.parse(profile)
        super().__init__(address, _Handler)
        self.store = store
        self.churn = churn
        self.churn_deletes = churn_deletes
        self.faults = faults or Faults()
        self.latency_ms = latency_ms
        self.api_key = api_key
        self.rate_limit = (None if rate_limit is None
                           else RateLimit(rate_limit, window_seconds=rate_window_seconds))
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
        if body.get("status") is not None and body["status"] not in STATUSES:
            raise ApiError(422, f"invalid status {body['status']!r}", "validation_error")
        if body.get("task_type") is not None and body["task_type"] not in TASK_TYPES:
            raise ApiError(422, f"invalid task_type {body['task_type']!r}", "validation_error")
        sort = body.get("sort")
        if sort is not None and (
                not isinstance(sort, dict) or not isinstance(sort.get("field"), str)
                or sort.get("direction", "asc") not in ("asc", "desc")):
            raise ApiError(422, "sort must be {field, direction: asc|desc}", "validation_error")
        if (sort is not None and self.profile.timestamp_sort_only
                and sort["field"] not in TIMESTAMP_FIELDS):
            raise ApiError(422, f"sort field must be one of {', '.join(TIMESTAMP_FIELDS)}",
                           "validation_error")
        limit = _query_int(query, "limit", "page_size")
        limit = DEFAULT_LIMIT if limit is None else limit
        if not 1 <= limit <= MAX_LIMIT:
            raise ApiError(422, f"limit must be between 1 and {MAX_LIMIT}", "validation_error")
        offset = _query_int(query, "offset")
        page = _query_int(query, "page")
        cursor = (query.get("cursor") or query.get("next_cursor") or [None])[0]
        if cursor:
            # Like the API's other cursors ("no limit on pagination depth"), a cursor is not
            # held to the cap on an explicit offset, and it overrides offset and page.
            offset = _decode_cursor(cursor)
        else:
            if offset is None:
                offset = (page - 1) * limit if page and page > 0 else 0
            if not 0 <= offset <= MAX_OFFSET:
                raise ApiError(422, f"offset must be between 0 and {MAX_OFFSET}",
                               "validation_error")
        include_total = ((query.get("include_total") or ["false"])[0].lower() == "true"
                         and not self.profile.no_total)

        with self.store.lock:
            if self.churn or self.churn_deletes:
                self.store.churn(self.churn, self.churn_deletes)
            encoded, total, more = self.store.select(body, limit, offset, self.profile)
            if include_total and total is None:
                total = self.store.count(body, self.profile)
        cursor_ends = self.profile.cursor_capped and offset + limit >= MAX_OFFSET
        pagination = {
            "total": total if include_total else None,
            "page": offset // limit + 1,
            "page_size": limit,
            "total_pages": -(-total // limit) if include_total else None,
            "next_page": f"{LIST_PATH}?offset={offset + limit}&limit={limit}" if more else None,
            "previous_page": (f"{LIST_PATH}?offset={max(offset - limit, 0)}&limit={limit}"
                              if offset else None),
            "next_cursor": _encode_cursor(offset + limit) if more and not cursor_ends else None,
        }
        return b'{"results":[' + b",".join(encoded) + b'],"pagination":' + orjson.dumps(
            pagination) + b"}"

    def handle_get(self, task_id: str) -> bytes:
        """`GET /v1/tasks/{task_id}`: the one task's record, or 404."""
        with self.store.lock:
            if self.churn or self.churn_deletes:
                self.store.churn(self.churn, self.churn_deletes)
            record = self.store.record(task_id, self.profile)
        if record is None:
            raise ApiError(404, f"task {task_id} not found", "not_found")
        return record


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the second waits for the
    # client's delayed ACK, 40 ms on every small answer of a kept-alive connection, which no
    # production server adds.
    disable_nagle_algorithm = True

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
        if self._delivery == "drip":
            self._drip(body)
        elif self._delivery == "cut_off":
            self.wfile.write(body[:len(body) // 2])
            self.close_connection = True
        else:
            self.wfile.write(body)
        self.server.request_log.append((self._arrived, status))

    def _drip(self, body: bytes) -> None:
        faults = self.server.faults
        self.wfile.flush()
        for start in range(0, len(body), faults.drip_bytes):
            time.sleep(faults.drip_seconds)
            self.wfile.write(body[start:start + faults.drip_bytes])
            self.wfile.flush()

    def _send_fault(self, kind: str) -> bool:
        """Answer with fault `kind`; False for the kinds that deliver the real answer their
        way (DELIVERY_KINDS), which the caller then produces."""
        if kind in DELIVERY_KINDS:
            self._delivery = kind
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
        url = urlsplit(self.path)
        self._serve(url.path == LIST_PATH,
                    lambda: self.server.handle_list(parse_qs(url.query), raw))

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._arrived = time.monotonic()
        task_id = unquote(urlsplit(self.path).path.removeprefix(TASK_PATH))
        self._serve(self.path.startswith(TASK_PATH) and bool(task_id) and "/" not in task_id,
                    lambda: self.server.handle_get(task_id))

    def _serve(self, routed: bool, answer: Callable[[], bytes]) -> None:
        """Latency, the rate limit and faults, then the route and the key, then `answer`."""
        self._delivery: str | None = None
        if self.server.latency_ms:
            time.sleep(self.server.latency_ms / 1000)
        retry_after = self.server.rate_limit.admit() if self.server.rate_limit else None
        if retry_after is not None:
            self._send(429, ApiError(429, "Rate limit exceeded", "rate_limited").body(),
                       {"Retry-After": str(retry_after)})
            return
        fault = self.server.faults.pick()
        if fault and self._send_fault(fault):
            return
        try:
            if not routed:
                raise ApiError(404, f"no route {urlsplit(self.path).path}", "not_found")
            auth = self.headers.get("Authorization", "")
            token = auth[7:] if auth.startswith("Bearer ") else ""
            if not token or (self.server.api_key is not None and token != self.server.api_key):
                raise ApiError(401, "Invalid or missing API key", "unauthorized")
            self._send(200, answer())
        except ApiError as error:
            self._send(error.status, error.body())


@contextlib.contextmanager
def running_emulator(tasks: int = 1000, seed: int = 0, *, id_prefix: str | None = None,
                     **options: Any) -> Iterator[EmulatorServer]:
    """Serve a generated account on a free loopback port for the duration of the block;
    `options` go to EmulatorServer (churn, faults, profile...)."""
    server = EmulatorServer(("127.0.0.1", 0),
                            TaskStore.generate(tasks, seed, id_prefix=id_prefix), **options)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
