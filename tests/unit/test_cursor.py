"""Cursor paging without a server: it follows next_cursor to the end, drops the repeats that
tasks created meanwhile cause, and refuses a cursor that does not move forward."""

from datetime import timedelta

import pytest

from mixpeek_tasks.api.errors import MixpeekProtocolError
from mixpeek_tasks.api.paging.cursor import CursorPaging, CursorStream
from tests.support.fake_service import START, FakeService, make_tasks, new_task

TASKS = make_tasks(45, seed=4)


def ids(tasks):
    return [t["task_id"] for t in tasks]


def test_it_follows_next_cursor_from_the_default_order_to_the_end():
    service = FakeService(list(TASKS))
    strategy = CursorPaging()
    pages = list(service.runner(page_size=10).pages(strategy))
    assert ids(t for p in pages for t in p.tasks) == ids(reversed(TASKS))  # newest first
    assert [p.is_last for p in pages] == [False] * 4 + [True]
    assert [r.params for r in service.sent] == [None, *({"cursor": c} for c in
                                                        ("10", "20", "30", "40"))]
    assert all(r.body == {} and r.limit == 10 for r in service.sent)
    assert pages[0].after == "10" and pages[-1].after is None
    assert strategy.facts() == {"repeats_dropped": 0}


def test_it_pages_from_the_start_whatever_positions_it_is_given():
    (stream,) = CursorPaging().streams({"cursor": "30"}, page_size=10)
    assert stream.next_request().params is None


def test_tasks_created_meanwhile_push_repeats_onto_the_next_page_which_are_dropped():
    newcomers = iter(new_task(f"new-{i}", START + timedelta(days=1, seconds=i))
                     for i in range(100))

    def create_two(service):
        if len(service.sent) > 1:
            service.tasks += [next(newcomers), next(newcomers)]

    service = FakeService(list(TASKS), before_answer=create_two)
    strategy = CursorPaging()
    listed = ids(t for p in service.runner(page_size=10).pages(strategy) for t in p.tasks)
    assert set(ids(TASKS)) <= set(listed) and len(listed) == len(set(listed))
    assert strategy.facts()["repeats_dropped"] > 0


def test_a_capped_cursor_ends_the_listing_early():
    # The strategy cannot see the cap; the reconciliation's counts refuse what it lists.
    service = FakeService(list(TASKS), cursor_cap=30)
    listed = ids(t for p in service.runner(page_size=10).pages(CursorPaging()) for t in p.tasks)
    assert len(listed) == 30 < len(TASKS)


@pytest.mark.parametrize(("payloads", "refusal"), [
    ([{"results": [{"task_id": "a"}], "pagination": {"next_cursor": "x"}},
      {"results": [{"task_id": "a"}], "pagination": {"next_cursor": "y"}}],
     "every task on it was on an earlier page"),
    ([{"results": [{"task_id": "a"}], "pagination": {"next_cursor": 10}}],
     "next_cursor is not a string"),
    ([{"results": [{"task_id": "a"}], "pagination": {"next_cursor": "x"}},
      {"results": [{"task_id": "b"}], "pagination": {"next_cursor": "x"}}],
     "next_cursor points at the same page again"),
])
def test_a_cursor_that_does_not_move_forward_is_refused(payloads, refusal):
    stream = CursorStream(page_size=1)
    with pytest.raises(MixpeekProtocolError, match=refusal):
        for payload in payloads:
            stream.next_request()
            stream.read(payload)


def test_a_service_that_ignores_the_cursor_is_refused_through_the_runner():
    service = FakeService(list(TASKS), ignores_cursor=True)
    with pytest.raises(MixpeekProtocolError,
                       match="page 2 of the cursor listing: every task on it was on an earlier"):
        list(service.runner(page_size=10).pages(CursorPaging()))
