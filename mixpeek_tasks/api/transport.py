"""HTTP transport for Mixpeek's `POST /v1/tasks/list`: auth, one request with its retries.

It knows HTTP and nothing about paging or Dagster; the paging strategies (`paging/`) build
their requests and call `MixpeekClient.request_page`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from urllib.parse import quote

import httpx
import orjson

from mixpeek_tasks import settings
from mixpeek_tasks.api.budget import RequestBudget
from mixpeek_tasks.api.errors import (
    MixpeekAPIError,
    MixpeekError,
    MixpeekRequestUnsendable,
    MixpeekRetriesExhausted,
    MixpeekUnreachable,
    PagingCancelled,
)
from mixpeek_tasks.api.in_flight import HEARTBEAT_SECONDS, InFlight, Request
from mixpeek_tasks.api.retries import RetryPolicy, retry_after_seconds
from mixpeek_tasks.secrets import clean_api_key, mask
from mixpeek_tasks.settings import BASE_URL

LIST_PATH = "/v1/tasks/list"
TASK_PATH = "/v1/tasks/"
MAX_PAGE_SIZE = 1000
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# The longest one answer, headers and body, may take. The read timeout bounds each silence, not
# the whole: a server or proxy that drips the body a few bytes at a time, each within it, held
# an export for ever. A healthy page of 1,000 tasks (about 1 MB) comes in a second or two and
# in ~10 s even at 100 KB/s; twice the 60 s read timeout never cuts an answer the read timeout
# lets through, and caps a dripping one at two minutes (plus at most one read timeout, as the
# deadline is checked when bytes arrive) before it is retried.
ANSWER_DEADLINE_SECONDS = float(settings.ANSWER_DEADLINE_SECONDS.default)
# Raised before any byte leaves the machine (an illegal header, a URL httpx cannot send to):
# the same request would fail the same way on every retry.
UNSENDABLE = (httpx.LocalProtocolError, httpx.UnsupportedProtocol, httpx.InvalidURL)

log = logging.getLogger(__name__)


def _valid_unicode(value: object) -> object:
    """Replace lone surrogates (legal as JSON escapes, not as UTF-8) with U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_valid_unicode(item) for item in value]
    if isinstance(value, dict):
        return {_valid_unicode(k): _valid_unicode(v) for k, v in value.items()}
    return value


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, kind):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None, *,
                 unreachable: bool = False):
        super().__init__(reason)
        self.retry_after = retry_after
        # No connection could be made at all: the host is wrong or down, not the request.
        self.unreachable = unreachable


class MixpeekClient:
    """Lists every task of an organization, page by page, with bounded memory."""

    def __init__(
        self,
        api_key: str,
        base_url: str = BASE_URL.default,
        *,
        page_size: int = MAX_PAGE_SIZE,
        retry: RetryPolicy = RetryPolicy(),
        timeout: httpx.Timeout = httpx.Timeout(60.0, connect=10.0),
        deadline: float = ANSWER_DEADLINE_SECONDS,
        budget: RequestBudget | None = None,
        http_client: httpx.Client | None = None,
        seed: int | None = None,
    ):
        if not api_key:
            raise MixpeekError("no API key: set MIXPEEK_API_KEY")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        if not deadline > 0:
            raise MixpeekError(f"the answer deadline (MIXPEEK_ANSWER_DEADLINE_SECONDS) must be "
                               f"a positive number of seconds, not {deadline}")
        # As pasted (for masking what others quote back) and as the header carries it.
        self._pasted_key = api_key
        self._api_key = clean_api_key(api_key).value
        self.base_url = base_url.rstrip("/")
        url = httpx.URL(self.base_url)
        if url.scheme != "https" and url.host not in LOOPBACK_HOSTS:
            log.warning("MIXPEEK_BASE_URL %s is not https: the API key would cross the network "
                        "unencrypted", self.base_url)
        self.page_size = page_size
        self.retry = retry
        self.deadline = deadline
        self.in_flight = InFlight()
        self.budget = budget or RequestBudget()
        self._rng = random.Random(seed)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=timeout, limits=httpx.Limits(max_connections=32, max_keepalive_connections=32))
        self._requests = itertools.count(1)
        self.requests_sent = 0

    def __repr__(self) -> str:
        return f"MixpeekClient(base_url={self.base_url!r}, page_size={self.page_size})"

    def __enter__(self) -> "MixpeekClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def _redact(self, text: str) -> str:
        return mask(text, self._pasted_key)

    def reporting_slow_requests(
            self, report: Callable[[str], None], every: float = HEARTBEAT_SECONDS
    ) -> contextlib.AbstractContextManager[None]:
        """While the block runs, `report` every `every` seconds the request waiting longest."""
        return self.in_flight.heartbeat(report, self.deadline, every)

    def request_page(self, body: dict, *, limit: int, what: str,
                     stop: threading.Event | None = None,
                     params: dict | None = None,
                     task_id: str | None = None) -> tuple[dict, int]:
        """POST one list request, retrying transient failures; `what` names it in errors.

        `params` are further query parameters (`cursor`, `offset`, `include_total`). Returns
        the decoded response and its size in bytes. Once `stop` is set no further attempt is
        made and no wait is finished. With `task_id`, `GET /v1/tasks/{task_id}` instead,
        answered as a list of that one task (none if the service has no such task).
        """
        last_reason, unreachable = "", False
        started = time.monotonic()
        for attempt in range(self.retry.max_attempts):
            waited = self.budget.acquire(stop)
            if stop is not None and stop.is_set():
                raise PagingCancelled
            if waited >= 1.0:
                log.info("%s: waited %.1fs for the request budget", what, waited)
            try:
                with self.in_flight.track(what, attempt + 1) as request:
                    return self._send(body, {**(params or {}), "limit": limit}, request, stop,
                                      task_id)
            except _Retryable as failure:
                last_reason = str(failure)
                unreachable = failure.unreachable
                if attempt + 1 == self.retry.max_attempts:
                    break
                delay = self._delay(attempt, failure.retry_after)
                log.warning("%s: %s; retry %d of %d in %.1fs", what, last_reason, attempt + 1,
                            self.retry.max_attempts - 1, delay)
                if failure.retry_after is not None:
                    self.budget.pause(delay)
                else:
                    self.budget.wait(delay, stop)
        spent = time.monotonic() - started
        if unreachable:
            raise MixpeekUnreachable(
                f"cannot connect to {httpx.URL(self.base_url).host}: {self.retry.max_attempts} "
                f"attempts over {spent:.1f}s failed ({last_reason}); is MIXPEEK_BASE_URL right?")
        raise MixpeekRetriesExhausted(
            f"{what}: gave up after {self.retry.max_attempts} attempts; last error: {last_reason}")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is None:
            return self.retry.backoff(attempt, self._rng)
        if retry_after > self.retry.max_retry_after:
            log.warning("Retry-After of %.0fs capped at %.0fs", retry_after,
                        self.retry.max_retry_after)
        return min(max(retry_after, self.retry.min_delay), self.retry.max_retry_after)

    def _send(self, body: dict, params: dict, request: Request,
              stop: threading.Event | None, task_id: str | None = None) -> tuple[dict, int]:
        # itertools.count is atomic under the GIL; `+= 1` from several workers is not.
        self.requests_sent = next(self._requests)
        how = (("POST", self.base_url + LIST_PATH, params, orjson.dumps(body)) if task_id is None
               else ("GET", self.base_url + TASK_PATH + quote(task_id, safe=""), None, None))
        try:
            with self._http.stream(
                how[0], how[1], params=how[2], content=how[3],
                headers={"Authorization": f"Bearer {self._api_key}",
                         "Content-Type": "application/json", "Accept": "application/json"},
            ) as response:
                content = self._read_within_deadline(response, request, stop)
        except UNSENDABLE as error:
            raise MixpeekRequestUnsendable(self._redact(
                f"the request to {self.base_url} could not be sent ({type(error).__name__}: "
                f"{error}); nothing left this machine, so it is not retried")) from None
        except httpx.RequestError as error:
            if _caused_by(error, ssl.SSLCertVerificationError):
                raise MixpeekError(
                    f"the TLS certificate of {self.base_url} could not be verified ({error}); "
                    "refusing to send the API key") from None
            raise _Retryable(self._redact(f"{type(error).__name__}: {error}"),
                             unreachable=isinstance(error, httpx.ConnectError)) from None
        if response.status_code in RETRYABLE_STATUSES:
            raise _Retryable(
                f"HTTP {response.status_code}",
                retry_after_seconds(response.headers.get("Retry-After")))
        if task_id is not None and response.status_code in (200, 404):
            return self._one_task(response.status_code, content), len(content)
        if response.status_code != 200:
            message, error_type = self._error_message(response, content)
            # Mask before shortening: a cut could leave a prefix of the key unmasked.
            raise MixpeekAPIError(response.status_code, self._redact(message)[:500], error_type)
        payload = self._decode(content)
        if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
            raise _Retryable("response has no 'results' list")
        return payload, len(content)

    def _one_task(self, status: int, content: bytes) -> dict:
        """A GET of one task as a list answer: the task, or none for a 404."""
        if status == 404:
            return {"results": []}
        record = self._decode(content)
        if not isinstance(record, dict):
            raise _Retryable("the answer for one task is not an object")
        return {"results": [record]}

    def _read_within_deadline(self, response: httpx.Response, request: Request,
                              stop: threading.Event | None) -> bytes:
        """The whole body, or _Retryable once the answer has taken longer than the deadline
        (checked as each piece arrives; the read timeout bounds any wait between pieces).
        Once `stop` is set (the run was interrupted) the answer is abandoned at the next piece."""
        chunks = []
        # The empty piece first: the headers alone may already come past the deadline.
        for chunk in itertools.chain([b""], response.iter_bytes()):
            chunks.append(chunk)
            request.received += len(chunk)
            if stop is not None and stop.is_set():
                raise PagingCancelled
            if time.monotonic() - request.started > self.deadline:
                raise _Retryable(
                    f"no whole answer within the {self.deadline:g}s deadline (HTTP "
                    f"{response.status_code}, {request.received:,} bytes received)")
        return b"".join(chunks)

    @staticmethod
    def _decode(content: bytes) -> object:
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
        # orjson refuses valid JSON it cannot represent (1e400, integers past 64 bits, lone
        # surrogate escapes); the stdlib takes those, so one odd value does not fail the export.
        try:
            return _valid_unicode(json.loads(content))
        except (ValueError, RecursionError) as error:
            raise _Retryable(f"response is not valid JSON ({error})") from None

    @staticmethod
    def _error_message(response: httpx.Response, content: bytes) -> tuple[str, str | None]:
        try:
            error = orjson.loads(content)["error"]
            return str(error["message"]), error.get("type")
        except (orjson.JSONDecodeError, KeyError, TypeError):
            text = content.decode(response.encoding or "utf-8", "replace")
            return text or response.reason_phrase, None
