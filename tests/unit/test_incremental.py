"""The incremental listing on a fake service: the tasks created since a moment and the current
records of the unfinished ones, each once, in as few requests as the batches allow; and a
refusal, not a listing, where a filter it relies on is not applied."""

import pytest

from mixpeek_tasks.api.errors import MixpeekProtocolError
from mixpeek_tasks.api.paging import changes, incremental
from mixpeek_tasks.api.paging.incremental import IncrementalPaging
from tests.support.fake_service import FakeService, make_tasks

TASKS = make_tasks(300, seed=11)
SINCE = TASKS[250]["created_at"]
# Listed unfinished last time: every tenth of the older tasks; half of them finished since.
UNFINISHED = [t["task_id"] for t in TASKS[:250:10]]


def account() -> list[dict]:
    finished = set(UNFINISHED[::2])
    return [{**t, "status": "COMPLETED" if t["task_id"] in finished else "PROCESSING"}
            if t["task_id"] in UNFINISHED else dict(t) for t in TASKS]


def listed(service, strategy, page_size=20):
    return [t for page in service.runner(page_size=page_size).pages(strategy, concurrency=3)
            for t in page.tasks]


def test_it_lists_the_new_tasks_and_the_current_record_of_each_unfinished_one_once():
    tasks = account()
    service = FakeService(tasks)
    strategy = IncrementalPaging(SINCE, UNFINISHED)
    got = listed(service, strategy)
    ids = [t["task_id"] for t in got]
    assert len(ids) == len(set(ids)) == 50 + len(UNFINISHED)
    assert set(ids) == {t["task_id"] for t in TASKS[250:]} | set(UNFINISHED)
    current = {t["task_id"]: t["status"] for t in tasks}
    assert all(t["status"] == current[t["task_id"]] for t in got)
    # 50 new tasks in pages of 20 and an empty last page; 25 ids in one batch
    assert len(service.sent) == 4 + 1
    assert strategy.facts() == {"created_since": SINCE, "unfinished_asked": 25,
                                "new_listed": 50, "unfinished_missing": 0,
                                "unfinished_read": "in batches", "id_batches": 1}


def test_an_unfinished_task_also_created_since_is_read_once_by_its_id():
    tasks = account()
    both = TASKS[260]["task_id"]
    strategy = IncrementalPaging(SINCE, [*UNFINISHED, both])
    ids = [t["task_id"] for t in listed(FakeService(tasks), strategy)]
    assert ids.count(both) == 1 and len(ids) == len(set(ids)) == 50 + len(UNFINISHED)
    assert strategy.facts()["new_listed"] == 49


def test_ids_are_asked_in_batches_and_those_not_listed_are_named(monkeypatch):
    monkeypatch.setattr(incremental, "IDS_PER_REQUEST", 7)
    gone = UNFINISHED[3]
    service = FakeService([t for t in account() if t["task_id"] != gone])
    strategy = IncrementalPaging(SINCE, UNFINISHED)
    ids = {t["task_id"] for t in listed(service, strategy, page_size=100)}
    batches = [r for r in service.sent if "unfinished" in r.label]
    assert len(batches) == 4 and max(len(r.body["filters"]["AND"][0]["value"])
                                     for r in batches) == 7
    assert gone not in ids and strategy.missing() == [gone]
    assert strategy.facts()["unfinished_missing"] == 1


def test_a_batch_answered_with_tasks_not_asked_for_is_refused():
    service = FakeService(account(), ignores_in_filter=True)
    with pytest.raises(MixpeekProtocolError, match="lists tasks not asked for"):
        listed(service, IncrementalPaging(SINCE, UNFINISHED))


def test_the_new_tasks_are_a_keyset_listing_within_the_created_at_filter():
    service = FakeService(account())
    listed(service, IncrementalPaging(SINCE, []))
    body = service.sent[1].body
    assert body["sort"] == {"field": "task_id", "direction": "asc"}
    first_page = sorted(t["task_id"] for t in TASKS[250:])[:20]
    assert service.sent[0].body["filters"]["AND"] == changes.created_since(SINCE)["filters"]["AND"]
    assert body["filters"]["AND"] == [
        {"field": "task_id", "operator": "gt", "value": first_page[-1]},
        *changes.created_since(SINCE)["filters"]["AND"]]
    assert body["filters"]["case_sensitive"] is True


def test_without_an_in_filter_the_unfinished_tasks_are_read_one_by_one():
    gone = UNFINISHED[5]
    service = FakeService([t for t in account() if t["task_id"] != gone], ignores_in_filter=True)
    strategy = IncrementalPaging(SINCE, UNFINISHED, one_by_one=True)
    ids = [t["task_id"] for t in listed(service, strategy)]
    reads = [r for r in service.sent if r.task_id is not None]
    assert sorted(r.task_id for r in reads) == sorted(UNFINISHED)
    assert len(ids) == len(set(ids)) == 50 + len(UNFINISHED) - 1
    assert strategy.missing() == [gone]
    assert strategy.facts()["unfinished_read"] == "one by one"
