"""HTTP client for Mixpeek's `POST /v1/tasks/list`: auth, retries, and keyset paging.

It knows HTTP and paging and nothing about Dagster, so it can be used and tested on its own.

Paging strategy: the API caps `offset` at 10,000, so offset paging cannot reach every task of a
busy account, and offset paging over a list that changes while it is read skips or repeats
rows. Instead every request sorts by `task_id` (unique and immutable) and asks for ids greater
than the last one seen: a keyset. A task that exists for the whole export is returned exactly
once whatever is created, deleted or changes status meanwhile, and no offset is ever sent. The
id space is cut into disjoint ranges so several workers can page at once without overlap.
"""

from __future__ import annotations

import email.utils
import itertools
import json
import logging
import math
import queue
import random
import ssl
import threading
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone

import httpx
import orjson

from pipelines.throttle import RequestBudget

DEFAULT_BASE_URL = "https://api.mixpeek.com"
LIST_PATH = "/v1/tasks/list"
MAX_PAGE_SIZE = 1000
RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
HEX_DIGITS = "0123456789abcdef"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})

log = logging.getLogger(__name__)


class MixpeekError(Exception):
    """Base class of everything this client raises."""


class MixpeekAPIError(MixpeekError):
    """The API refused the request in a way retrying cannot fix (400, 401, 403, 404, 422)."""

    def __init__(self, status: int, message: str, error_type: str | None):
        super().__init__(f"Mixpeek API answered {status} ({error_type or 'error'}): {message}")
        self.status = status
        self.error_type = error_type


class MixpeekRetriesExhausted(MixpeekError):
    """A page kept failing with retryable errors until the retry budget was spent."""


class MixpeekProtocolError(MixpeekError):
    """The API answered, but not in a way keyset paging can trust (e.g. it ignored the sort)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded in attempts and in any single wait."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    # A floor so that `Retry-After: 0` or a date in the past cannot burn every attempt at once.
    min_delay: float = 0.2
    max_retry_after: float = 120.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2 ** attempt)
        return max(self.min_delay, rng.uniform(0, ceiling))


@dataclass(frozen=True)
class TaskIdRange:
    """Task ids `start <= id < end`; None leaves that side open."""

    start: str | None = None
    end: str | None = None

    def __contains__(self, task_id: str) -> bool:
        return (self.start is None or task_id >= self.start) and (
            self.end is None or task_id < self.end)

    def __str__(self) -> str:
        return f"[{self.start or ''}, {self.end or ''})"


def split_task_ids(parts: int) -> list[TaskIdRange]:
    """Cut the id space into `parts` disjoint ranges by leading hex digit (UUIDs spread evenly).

    The first and last ranges are open-ended, so ids of any shape still fall in exactly one.
    """
    parts = max(1, min(parts, len(HEX_DIGITS)))
    cuts = [HEX_DIGITS[(i * len(HEX_DIGITS)) // parts] for i in range(1, parts)]
    bounds: list[str | None] = [None, *cuts, None]
    return [TaskIdRange(bounds[i], bounds[i + 1]) for i in range(parts)]


@dataclass(frozen=True)
class Page:
    """One page of tasks as the API returned them, in task_id order within `id_range`.

    `after` is the keyset position once this page is consumed (resume paging from there);
    `is_last` says the range is exhausted.
    """

    id_range: TaskIdRange
    number: int
    tasks: list = field(repr=False)
    fetched_at: datetime
    size_bytes: int
    after: str | None
    is_last: bool


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return (when - datetime.now(timezone.utc)).total_seconds()


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


class _Cancelled(Exception):
    """The consumer stopped iterating: a paging worker ends quietly."""


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None):
        super().__init__(reason)
        self.retry_after = retry_after


class MixpeekClient:
    """Lists every task of an organization, page by page, with bounded memory."""

    def __init__(
        self,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        *,
        page_size: int = MAX_PAGE_SIZE,
        retry: RetryPolicy = RetryPolicy(),
        timeout: httpx.Timeout = httpx.Timeout(60.0, connect=10.0),
        budget: RequestBudget | None = None,
        http_client: httpx.Client | None = None,
        seed: int | None = None,
    ):
        if not api_key:
            raise MixpeekError("no API key: set MIXPEEK_API_KEY")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}")
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        url = httpx.URL(self.base_url)
        if url.scheme != "https" and url.host not in LOOPBACK_HOSTS:
            log.warning("MIXPEEK_BASE_URL %s is not https: the API key would cross the network "
                        "unencrypted", self.base_url)
        self.page_size = page_size
        self.retry = retry
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
        # Real keys are long; masking a one-letter test key would garble every message.
        if len(self._api_key) < 8:
            return text
        return text.replace(self._api_key, "***")

    def list_tasks(self, body: dict, *, limit: int, what: str,
                   stop: threading.Event | None = None) -> tuple[dict, int]:
        """POST one list request, retrying transient failures; `what` names it in errors.

        Returns the decoded response and its size in bytes. Once `stop` is set no further
        attempt is made and no wait is finished.
        """
        last_reason = ""
        for attempt in range(self.retry.max_attempts):
            waited = self.budget.acquire(stop)
            if stop is not None and stop.is_set():
                raise _Cancelled
            if waited >= 1.0:
                log.info("%s: waited %.1fs for the request budget", what, waited)
            try:
                return self._send(body, limit)
            except _Retryable as failure:
                last_reason = str(failure)
                if attempt + 1 == self.retry.max_attempts:
                    break
                delay = self._delay(attempt, failure.retry_after)
                log.warning("%s: %s; retry %d of %d in %.1fs", what, last_reason, attempt + 1,
                            self.retry.max_attempts - 1, delay)
                if failure.retry_after is not None:
                    self.budget.pause(delay)
                else:
                    self.budget.wait(delay, stop)
        raise MixpeekRetriesExhausted(
            f"{what}: gave up after {self.retry.max_attempts} attempts; last error: {last_reason}")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is None:
            return self.retry.backoff(attempt, self._rng)
        if retry_after > self.retry.max_retry_after:
            log.warning("Retry-After of %.0fs capped at %.0fs", retry_after,
                        self.retry.max_retry_after)
        return min(max(retry_after, self.retry.min_delay), self.retry.max_retry_after)

    def _send(self, body: dict, limit: int) -> tuple[dict, int]:
        # itertools.count is atomic under the GIL; `+= 1` from several workers is not.
        self.requests_sent = next(self._requests)
        try:
            response = self._http.post(
                self.base_url + LIST_PATH,
                params={"limit": limit},
                content=orjson.dumps(body),
                headers={"Authorization": f"Bearer {self._api_key}",
                         "Content-Type": "application/json", "Accept": "application/json"},
            )
        except httpx.RequestError as error:
            if _caused_by(error, ssl.SSLCertVerificationError):
                raise MixpeekError(
                    f"the TLS certificate of {self.base_url} could not be verified ({error}); "
                    "refusing to send the API key") from None
            raise _Retryable(self._redact(f"{type(error).__name__}: {error}")) from None
        if response.status_code in RETRYABLE_STATUSES:
            raise _Retryable(
                f"HTTP {response.status_code}",
                _retry_after_seconds(response.headers.get("Retry-After")))
        if response.status_code != 200:
            message, error_type = self._error_message(response)
            # Mask before shortening: a cut could leave a prefix of the key unmasked.
            raise MixpeekAPIError(response.status_code, self._redact(message)[:500], error_type)
        try:
            payload = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            payload = self._decode_leniently(response.content)
        if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
            raise _Retryable("response has no 'results' list")
        return payload, len(response.content)

    @staticmethod
    def _decode_leniently(content: bytes) -> object:
        # orjson refuses valid JSON it cannot represent (1e400, integers past 64 bits, lone
        # surrogate escapes); the stdlib takes those, so one odd value does not fail the export.
        try:
            return _valid_unicode(json.loads(content))
        except (ValueError, RecursionError) as error:
            raise _Retryable(f"response is not valid JSON ({error})") from None

    @staticmethod
    def _error_message(response: httpx.Response) -> tuple[str, str | None]:
        try:
            error = orjson.loads(response.content)["error"]
            return str(error["message"]), error.get("type")
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return response.text or response.reason_phrase, None

    def iter_range(self, id_range: TaskIdRange = TaskIdRange(), after: str | None = None,
                   stop: threading.Event | None = None) -> Iterator[Page]:
        """Yield the pages of every task whose id lies in `id_range` (and is greater than
        `after`, to resume), in id order, ending with an empty page.

        Only an empty page ends the range: a server that answers fewer than `limit` tasks
        (a lower cap of its own) must not end the export early.
        """
        number = 0
        while True:
            number += 1
            conditions = []
            if after is not None:
                conditions.append({"field": "task_id", "operator": "gt", "value": after})
            elif id_range.start is not None:
                conditions.append({"field": "task_id", "operator": "gte", "value": id_range.start})
            if id_range.end is not None:
                conditions.append({"field": "task_id", "operator": "lt", "value": id_range.end})
            body: dict = {"sort": {"field": "task_id", "direction": "asc"}}
            if conditions:
                body["filters"] = {"AND": conditions, "case_sensitive": True}
            what = f"page {number} of task ids {id_range} after {after!r}"
            payload, size = self.list_tasks(body, limit=self.page_size, what=what, stop=stop)
            tasks = payload["results"]
            reached = self._check_order(tasks, id_range, after, what)
            if tasks and reached is None:
                raise MixpeekProtocolError(
                    f"{what}: no task on the page has a task_id, so paging cannot move past it")
            after = reached or after
            is_last = not tasks
            yield Page(id_range, number, tasks, datetime.now(timezone.utc), size, after, is_last)
            if is_last:
                return

    @staticmethod
    def _check_order(tasks: list, id_range: TaskIdRange, after: str | None,
                     what: str) -> str | None:
        """Return the page's last task_id (None if it has none), refusing pages that would
        break the keyset.

        If the API ignored the sort or the filter, paging on would silently skip tasks, so
        that is an error. Equal neighbours (a task listed twice) are left for the flattening
        to quarantine, and records without a string id are skipped here for the same reason.
        """
        last = None
        for task in tasks:
            task_id = task.get("task_id") if isinstance(task, dict) else None
            if not isinstance(task_id, str):
                continue
            if (task_id not in id_range or (after is not None and task_id <= after)
                    or (last is not None and task_id < last)):
                raise MixpeekProtocolError(
                    f"{what}: task {task_id!r} is out of task_id order; the API did not honour "
                    "sort by task_id with a task_id filter, so keyset paging cannot be trusted")
            last = task_id
        return last

    def iter_pages(self, ranges: Sequence[TaskIdRange] | Mapping[TaskIdRange, str | None],
                   concurrency: int = 1) -> Iterator[Page]:
        """Yield the pages of every range, fetching up to `concurrency` ranges at once.

        `ranges` may map each range to the position to resume after. Pages arrive in no
        particular order across ranges. Workers stop when the consumer stops iterating; the
        first worker error is raised to the consumer.
        """
        starts = dict(ranges) if isinstance(ranges, Mapping) else dict.fromkeys(ranges)
        if concurrency <= 1 or len(starts) <= 1:
            for id_range, after in starts.items():
                yield from self.iter_range(id_range, after)
            return
        pages: queue.Queue = queue.Queue(maxsize=2 * concurrency)
        stop = threading.Event()
        done = object()

        def offer(item: object) -> bool:
            while not stop.is_set():
                try:
                    pages.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def work(id_range: TaskIdRange, after: str | None) -> None:
            try:
                for page in self.iter_range(id_range, after, stop):
                    if not offer(page):
                        return
            except _Cancelled:
                return
            except BaseException as error:  # handed to the consumer, which re-raises it
                offer(error)
            finally:
                offer(done)

        pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="mixpeek-page")
        for id_range, after in starts.items():
            pool.submit(work, id_range, after)
        try:
            remaining = len(starts)
            while remaining:
                item = pages.get()
                if item is done:
                    remaining -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    yield item
        finally:
            # Workers give up at their next attempt or wait; ranges not started never start.
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
