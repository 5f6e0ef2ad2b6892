import logging
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import orjson
import pytest

from mixpeek_tasks.api.budget import RequestBudget
from mixpeek_tasks.api.errors import (
    MixpeekAPIError,
    MixpeekProtocolError,
    MixpeekRequestUnsendable,
    MixpeekRetriesExhausted,
)
from mixpeek_tasks.api.paging.keyset import KeysetPaging, TaskIdRange, split_task_ids
from mixpeek_tasks.api.paging.runner import PagingRunner
from mixpeek_tasks.api.retries import RetryPolicy
from mixpeek_tasks.api.transport import MixpeekClient

KEY = "sk_test_client_sentinel_4f2a"


def task(task_id: str) -> dict:
    return {"task_id": task_id, "task_type": "thumbnail", "status": "COMPLETED"}


def ok(tasks: list) -> httpx.Response:
    return httpx.Response(200, json={"results": tasks, "pagination": {"next_cursor": None}})


def error(status: int, message: str = "nope", headers: dict | None = None) -> httpx.Response:
    body = {"success": False, "status": status,
            "error": {"message": message, "type": "some_error", "code": None, "details": None}}
    return httpx.Response(status, json=body, headers=headers)


class Script:
    """A transport that answers from a list, then with empty pages, and records each request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else ok([])
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeTime:
    """A clock that only moves when someone sleeps; the sleeps are recorded."""

    def __init__(self, sleeps: list):
        self.now = 1000.0
        self.sleeps = sleeps

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(script: Script, sleeps: list, **kwargs) -> MixpeekClient:
    http = httpx.Client(transport=httpx.MockTransport(script))
    fake = FakeTime(sleeps)
    budget = RequestBudget(clock=fake.clock, sleep=fake.sleep)
    return MixpeekClient(KEY, "https://api.test", http_client=http, budget=budget, seed=1,
                         **kwargs)


def test_pages_by_task_id_keyset_with_bearer_auth_and_no_offset():
    script = Script(ok([task("a"), task("b")]), ok([task("c")]))
    sleeps: list = []
    pages = list(PagingRunner.of(make_client(script, sleeps, page_size=2)).pages(KeysetPaging()))
    assert [[t["task_id"] for t in p.tasks] for p in pages] == [["a", "b"], ["c"], []]
    assert [p.is_last for p in pages] == [False, False, True]
    first, second, third = (orjson.loads(r.content) for r in script.requests)
    assert first == {"sort": {"field": "task_id", "direction": "asc"}}
    assert second["filters"] == {
        "AND": [{"field": "task_id", "operator": "gt", "value": "b"}], "case_sensitive": True}
    assert third["filters"]["AND"][0]["value"] == "c"
    for request in script.requests:
        assert request.headers["Authorization"] == f"Bearer {KEY}"
        assert request.url.params["limit"] == "2" and "offset" not in request.url.params
    assert sleeps == []


def test_a_range_sends_its_bounds():
    script = Script(ok([task("4a")]))
    client = make_client(script, [], page_size=5)
    list(PagingRunner.of(client).pages(KeysetPaging([TaskIdRange("4", "8")])))
    body = orjson.loads(script.requests[0].content)
    assert body["filters"]["AND"] == [
        {"field": "task_id", "operator": "gte", "value": "4"},
        {"field": "task_id", "operator": "lt", "value": "8"}]


@pytest.mark.parametrize(
    "failure",
    [
        error(408),
        error(429),
        error(500),
        error(502),
        error(503),
        error(504),
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.Response(200, content=b'{"results": [{"task_id": "a"'),
        httpx.Response(200, content=b"<html>gateway</html>"),
        httpx.Response(200, json={"pagination": {}}),
        httpx.Response(200, json={"results": "nope"}),
    ],
)
def test_transient_failures_are_retried_with_backoff(failure):
    script = Script(failure, failure, ok([task("a")]))
    sleeps: list = []
    pages = list(PagingRunner.of(make_client(script, sleeps, page_size=5)).pages(KeysetPaging()))
    assert pages[0].tasks == [task("a")]
    assert len(script.requests) == 4  # two failures, the page, the closing empty page
    policy = RetryPolicy()
    assert len(sleeps) == 2
    assert all(policy.min_delay <= s <= policy.base_delay * 2 ** i for i, s in enumerate(sleeps))


@pytest.mark.parametrize(
    "retry_after, expected",
    [("3", 3.0), ("0", RetryPolicy().min_delay), ("-5", RetryPolicy().min_delay),
     ("100000", RetryPolicy().max_retry_after), ("soon", None), ("NaN", None), ("inf", None)],
)
def test_retry_after_is_honoured_with_a_floor_and_a_cap(retry_after, expected):
    script = Script(error(429, headers={"Retry-After": retry_after}), ok([]))
    sleeps: list = []
    list(PagingRunner.of(make_client(script, sleeps)).pages(KeysetPaging()))
    if expected is None:  # unparseable: plain backoff
        assert RetryPolicy().min_delay <= sleeps[0] <= RetryPolicy().base_delay
    else:
        assert sleeps == [pytest.approx(expected, abs=0.01)]


def test_retry_after_as_an_http_date():
    when = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    script = Script(error(503, headers={"Retry-After": when}), ok([]))
    sleeps: list = []
    list(PagingRunner.of(make_client(script, sleeps)).pages(KeysetPaging()))
    assert 27 <= sleeps[0] <= 30


def test_a_huge_retry_after_is_capped_and_reported(caplog):
    script = Script(error(429, headers={"Retry-After": "86400"}), ok([]))
    with caplog.at_level(logging.WARNING):
        list(PagingRunner.of(make_client(script, [])).pages(KeysetPaging()))
    assert "Retry-After of 86400s capped at 120s" in caplog.text


def test_exhausted_retries_name_the_page_and_the_last_error():
    script = Script(ok([task("a"), task("b")]), *[error(503)] * 3)
    client = make_client(script, [], page_size=2, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(MixpeekRetriesExhausted) as raised:
        list(PagingRunner.of(client).pages(KeysetPaging()))
    message = str(raised.value)
    assert "page 2 of task ids [, ) after 'b'" in message
    assert "gave up after 3 attempts" in message and "HTTP 503" in message


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_fail_at_once_with_the_api_message_and_no_key(status):
    script = Script(error(status, f"bad key {KEY} given"))
    sleeps: list = []
    with pytest.raises(MixpeekAPIError) as raised:
        list(PagingRunner.of(make_client(script, sleeps)).pages(KeysetPaging()))
    assert raised.value.status == status
    assert "bad key *** given" in str(raised.value)
    assert KEY not in str(raised.value) and KEY not in repr(raised.value)
    assert len(script.requests) == 1 and sleeps == []


def test_transport_errors_never_carry_the_key(caplog):
    script = Script(httpx.ConnectError(f"refused for {KEY}"), ok([]))
    with caplog.at_level(logging.DEBUG):
        list(PagingRunner.of(make_client(script, [])).pages(KeysetPaging()))
    assert "refused for ***" in caplog.text and KEY not in caplog.text


def test_a_page_out_of_order_stops_the_export_instead_of_skipping_tasks():
    script = Script(ok([task("a"), task("c")]), ok([task("b")]))
    with pytest.raises(MixpeekProtocolError, match="did not honour sort by task_id"):
        list(PagingRunner.of(make_client(script, [], page_size=2)).pages(KeysetPaging()))


def test_a_task_outside_the_requested_range_is_refused():
    script = Script(ok([task("9x")]))
    client = make_client(script, [], page_size=2)
    with pytest.raises(MixpeekProtocolError):
        list(PagingRunner.of(client).pages(KeysetPaging([TaskIdRange("4", "8")])))


@pytest.mark.parametrize(
    "value, decoded",
    [(b"1e400", float("inf")),
     (b'"a\\ud800b"', "a\ufffdb"), (b'"\\ud83d\\ude00"', "\U0001f600")],
)
def test_values_orjson_refuses_still_decode(value, decoded):
    body = b'{"results": [{"task_id": "a", "n": %s}]}' % value
    script = Script(httpx.Response(200, content=body))
    page, _ = PagingRunner.of(make_client(script, [])).pages(KeysetPaging())
    assert page.tasks[0]["n"] == decoded


def test_repr_and_errors_hide_the_key():
    client = MixpeekClient(KEY, "https://api.test")
    assert KEY not in repr(client)


def test_plain_http_to_a_remote_host_warns(caplog):
    with caplog.at_level(logging.WARNING):
        MixpeekClient(KEY, "http://api.example.com").close()
        MixpeekClient(KEY, "http://127.0.0.1:9").close()
    assert caplog.text.count("is not https") == 1


@pytest.mark.parametrize("parts", [1, 2, 3, 4, 7, 16])
@pytest.mark.parametrize("task_id", ["", "0", "00-", "3fff", "4", "7zz", "8", "f", "ff", "g",
                                     "task_x", "Z", "~", "\u00e9t\u00e9"])
def test_id_ranges_cover_every_id_exactly_once(parts, task_id):
    ranges = split_task_ids(parts)
    assert len(ranges) == parts
    assert sum(task_id in r for r in ranges) == 1


def test_concurrent_ranges_deliver_every_page_and_raise_worker_errors(emulator):
    with MixpeekClient("k", emulator.base_url, page_size=100) as client:
        pages = PagingRunner.of(client).pages(KeysetPaging(split_task_ids(4)), concurrency=4)
        ids = [t["task_id"] for p in pages for t in p.tasks]
    assert sorted(ids) == sorted(emulator.store.tasks)

    def broken(request):
        return error(401, "revoked")

    http = httpx.Client(transport=httpx.MockTransport(broken))
    with pytest.raises(MixpeekAPIError, match="revoked"):
        runner = PagingRunner.of(MixpeekClient("k", "https://x", http_client=http))
        list(runner.pages(KeysetPaging(split_task_ids(4)), concurrency=4))


def test_a_server_answering_fewer_than_the_limit_is_paged_to_the_end():
    script = Script(ok([task("a"), task("b")]), ok([task("c"), task("d")]), ok([task("e")]))
    pages = list(PagingRunner.of(make_client(script, [], page_size=1000)).pages(KeysetPaging()))
    assert [t["task_id"] for p in pages for t in p.tasks] == ["a", "b", "c", "d", "e"]


def test_a_page_without_any_task_id_stops_instead_of_looping():
    script = Script(*[ok([{"status": "FAILED"}, {"task_id": None}])] * 5)
    with pytest.raises(MixpeekProtocolError, match="no task on the page has a task_id"):
        list(PagingRunner.of(make_client(script, [], page_size=2)).pages(KeysetPaging()))
    assert len(script.requests) == 1


def test_the_key_is_masked_before_a_long_error_body_is_shortened():
    body = "x" * 490 + f" key={KEY} rejected"
    script = Script(httpx.Response(401, text=body))
    with pytest.raises(MixpeekAPIError) as raised:
        list(PagingRunner.of(make_client(script, [])).pages(KeysetPaging()))
    assert KEY[:6] not in str(raised.value) and len(str(raised.value)) < 600


def test_one_failing_range_stops_the_others_promptly():
    requests = []

    def transport(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        conditions = orjson.loads(request.content).get("filters", {}).get("AND", [])
        if not any(c["operator"] == "gte" for c in conditions):
            return error(400, "bad filter")
        time.sleep(0.1)
        return error(503)

    http = httpx.Client(transport=httpx.MockTransport(transport))
    client = MixpeekClient(KEY, "https://api.test", http_client=http,
                           retry=RetryPolicy(max_attempts=6, base_delay=2.0, min_delay=1.0))
    started = time.monotonic()
    with pytest.raises(MixpeekAPIError, match="bad filter"):
        list(PagingRunner.of(client).pages(KeysetPaging(split_task_ids(4)), concurrency=4))
    assert time.monotonic() - started < 1.0
    assert len(requests) <= 4


@pytest.mark.parametrize("pasted", [KEY + "\n", KEY + "\r\n", KEY + "\t", " " + KEY])
def test_a_pasted_key_is_sent_trimmed(pasted):
    script = Script(ok([]))
    http = httpx.Client(transport=httpx.MockTransport(script))
    client = MixpeekClient(pasted, "https://api.test", http_client=http)
    list(PagingRunner.of(client).pages(KeysetPaging()))
    assert script.requests[0].headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("failure", [
    httpx.LocalProtocolError(f"Illegal header value b'Bearer {KEY}\\n'"),
    httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'htp://'."),
    httpx.InvalidURL("Invalid non-printable ASCII character in URL"),
], ids=["illegal header", "unsupported protocol", "invalid URL"])
def test_errors_before_any_byte_leaves_are_not_retried_and_hold_no_key(failure):
    script = Script(failure)
    sleeps: list = []
    with pytest.raises(MixpeekRequestUnsendable) as raised:
        list(PagingRunner.of(make_client(script, sleeps)).pages(KeysetPaging()))
    assert len(script.requests) == 1 and sleeps == []
    assert type(failure).__name__ in str(raised.value) and KEY not in str(raised.value)


class Drip(httpx.SyncByteStream):
    """A body that comes a few bytes at a time, `pause` seconds apart."""

    def __init__(self, body: bytes, pause: float):
        self.body, self.pause = body, pause

    def __iter__(self):
        for start in range(0, len(self.body), 4):
            time.sleep(self.pause)
            yield self.body[start:start + 4]


def test_an_answer_past_the_deadline_is_retried_then_named_with_the_page():
    body = orjson.dumps({"results": [task("a")], "pagination": {}})
    dripping = [httpx.Response(200, stream=Drip(body, 0.01)) for _ in range(2)]
    sleeps: list = []
    client = make_client(Script(*dripping), sleeps, deadline=0.05,
                         retry=RetryPolicy(max_attempts=2))
    with pytest.raises(MixpeekRetriesExhausted) as raised:
        list(PagingRunner.of(client).pages(KeysetPaging()))
    assert len(sleeps) == 1  # one retry, with the usual backoff
    message = str(raised.value)
    assert message.startswith("page 1 of task ids [, )")
    assert ("gave up after 2 attempts; last error: no whole answer within the 0.05s deadline "
            "(HTTP 200, ") in message


def test_an_answer_within_the_deadline_is_taken_whole():
    body = orjson.dumps({"results": [task("a")], "pagination": {}})
    script = Script(httpx.Response(200, stream=Drip(body, 0.001)))
    pages = list(PagingRunner.of(make_client(script, [], deadline=5.0)).pages(KeysetPaging()))
    assert pages[0].tasks == [task("a")]


def test_the_heartbeat_names_the_request_that_waits():
    lines: list = []
    body = orjson.dumps({"results": [task("a")], "pagination": {}})
    client = make_client(Script(httpx.Response(200, stream=Drip(body, 0.02))), [], deadline=9.0)
    with client.reporting_slow_requests(lines.append, every=0.05):
        list(PagingRunner.of(client).pages(KeysetPaging()))
    assert lines and lines[0].startswith("still waiting for page 1 of task ids [, )")
    assert "(attempt 1): " in lines[0]
    assert lines[0].endswith("bytes received (deadline 9s)")


def test_a_task_read_by_id_is_a_get_answered_as_a_list_of_it_or_of_nothing():
    sleeps: list = []
    script = Script(httpx.Response(200, json=task("a/b")), error(404, "no such task"),
                    error(503), httpx.Response(200, json=task("c")), error(401, "revoked"))
    with make_client(script, sleeps) as client:
        found, _ = client.request_page({}, limit=1, what="a", task_id="a/b")
        gone, _ = client.request_page({}, limit=1, what="b", task_id="b")
        retried, _ = client.request_page({}, limit=1, what="c", task_id="c")
        with pytest.raises(MixpeekAPIError, match="revoked"):
            client.request_page({}, limit=1, what="d", task_id="d")
    assert found == {"results": [task("a/b")]} and gone == {"results": []}
    assert retried == {"results": [task("c")]} and len(sleeps) == 1
    first = script.requests[0]
    assert first.method == "GET" and first.url.raw_path == b"/v1/tasks/a%2Fb"
    assert first.headers["Authorization"] == f"Bearer {KEY}" and not first.content
