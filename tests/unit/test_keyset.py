"""Keyset paging without a server: the bodies it builds, what it refuses to read, and whole
listings through the runner against a fake service."""

import pytest

from mixpeek_tasks.api.errors import MixpeekProtocolError
from mixpeek_tasks.api.paging.keyset import (
    KeysetPaging,
    KeysetStream,
    TaskIdRange,
    ranges_between,
    split_task_ids,
)
from tests.support.fake_service import FakeService, make_tasks

TASKS = make_tasks(95, seed=1)


def ids(tasks):
    return [t["task_id"] for t in tasks]


def answer(*task_ids):
    return {"results": [{"task_id": i} for i in task_ids]}


def test_the_first_body_sorts_by_task_id_and_later_ones_ask_for_ids_after_the_last_read():
    stream = KeysetStream(TaskIdRange(), None, page_size=3)
    first = stream.next_request()
    assert first.body == {"sort": {"field": "task_id", "direction": "asc"}}
    assert (first.limit, first.params) == (3, None)
    assert first.label == "page 1 of task ids [, ) after None"
    reading = stream.read(answer("a", "b", "c"))
    assert (reading.after, reading.is_last) == ("c", False)
    second = stream.next_request()
    assert second.body["filters"] == {
        "AND": [{"field": "task_id", "operator": "gt", "value": "c"}], "case_sensitive": True}
    assert second.label == "page 2 of task ids [, ) after 'c'"


def test_a_range_sends_its_bounds_and_a_resumed_one_starts_after_its_position():
    bounded = KeysetStream(TaskIdRange("4", "8"), None, page_size=5).next_request()
    assert bounded.body["filters"]["AND"] == [
        {"field": "task_id", "operator": "gte", "value": "4"},
        {"field": "task_id", "operator": "lt", "value": "8"}]
    resumed = KeysetStream(TaskIdRange("4", "8"), "5a", page_size=5).next_request()
    assert resumed.body["filters"]["AND"] == [
        {"field": "task_id", "operator": "gt", "value": "5a"},
        {"field": "task_id", "operator": "lt", "value": "8"}]


@pytest.mark.parametrize(("page", "id_range", "after"), [
    (("a", "c", "b"), TaskIdRange(), None),  # out of order on the page
    (("b",), TaskIdRange(), "c"),  # not after the position
    (("9x",), TaskIdRange("4", "8"), None),  # outside the range
])
def test_a_page_that_breaks_the_keyset_is_refused(page, id_range, after):
    stream = KeysetStream(id_range, after, page_size=5)
    stream.next_request()
    with pytest.raises(MixpeekProtocolError, match="did not honour sort by task_id"):
        stream.read(answer(*page))


def test_a_page_without_any_task_id_is_refused_and_records_without_one_are_kept():
    stream = KeysetStream(TaskIdRange(), None, page_size=5)
    stream.next_request()
    with pytest.raises(MixpeekProtocolError, match="no task on the page has a task_id"):
        stream.read({"results": [{"status": "FAILED"}, {"task_id": None}]})
    kept = KeysetStream(TaskIdRange(), None, page_size=5)
    kept.next_request()
    reading = kept.read({"results": [{"task_id": "a"}, {"task_id": 7}, {"task_id": "b"}]})
    assert len(reading.tasks) == 3 and reading.after == "b"


def test_only_an_empty_page_ends_a_range():
    stream = KeysetStream(TaskIdRange(), None, page_size=1000)
    stream.next_request()
    assert not stream.read(answer("a", "b")).is_last  # fewer than the limit: not the end
    stream.next_request()
    last = stream.read(answer())
    assert last.is_last and last.after == "b" and last.tasks == []


@pytest.mark.parametrize("concurrency", [1, 4])
def test_every_task_is_listed_once_across_ranges_cut_from_the_ids(concurrency):
    service = FakeService(list(TASKS))
    strategy = KeysetPaging(ranges_between(ids(TASKS), 4))
    pages = list(service.runner(page_size=10).pages(strategy, concurrency=concurrency))
    listed = ids(t for p in pages for t in p.tasks)
    assert sorted(listed) == sorted(ids(TASKS)) and len(listed) == len(set(listed))
    facts = strategy.facts()
    assert facts["ranges"] == 4 and len(facts["pages_per_range"]) == 4
    assert sum(facts["pages_per_range"].values()) == len(pages)
    assert all(p.stream in strategy.plan() for p in pages)


def test_tasks_created_and_deleted_meanwhile_never_make_it_skip_one_that_stays():
    tasks = list(TASKS)
    victims = iter(sorted(ids(TASKS))[::7])
    stays = set(ids(TASKS)) - set(sorted(ids(TASKS))[::7])
    created = iter(make_tasks(30, seed=2))

    def churn(service):
        gone = next(victims, None)
        service.tasks = [t for t in service.tasks if t["task_id"] != gone]
        service.tasks.append(next(created))

    service = FakeService(tasks, before_answer=churn)
    pages = service.runner(page_size=10).pages(KeysetPaging(split_task_ids(3)), concurrency=3)
    listed = ids(t for p in pages for t in p.tasks)
    assert stays <= set(listed) and len(listed) == len(set(listed))


def test_a_service_that_ignores_the_filter_is_caught_on_the_second_page():
    service = FakeService(list(TASKS), ignores_filters=True)
    with pytest.raises(MixpeekProtocolError, match="page 2 of task ids"):
        list(service.runner(page_size=10).pages(KeysetPaging()))


def test_a_service_that_ignores_the_sort_is_caught_on_the_first_page():
    service = FakeService(list(TASKS), ignores_sort=True)
    with pytest.raises(MixpeekProtocolError, match="page 1 of task ids"):
        list(service.runner(page_size=10).pages(KeysetPaging()))


def test_a_resumed_listing_pages_only_the_pending_ranges_of_the_adopted_plan():
    first = KeysetPaging(split_task_ids(2))
    plan = first.plan()
    done, pending = sorted(plan)
    resumed = KeysetPaging([TaskIdRange()])
    resumed.adopt(plan)
    assert resumed.plan() == plan
    lowest = min(i for i in ids(TASKS) if i in resumed.ranges[pending])
    service = FakeService(list(TASKS))
    pages = list(service.runner().pages(resumed, {pending: lowest}))
    listed = ids(t for p in pages for t in p.tasks)
    assert set(listed) == {i for i in ids(TASKS) if i in resumed.ranges[pending] and i > lowest}
    assert {p.stream for p in pages} == {pending}

