"""Sliced offset paging without a server: slices cut from the service's counts, every task
listed once by anchored offsets, and the refusals when the service's filters or offsets
cannot be trusted. SLICE_CAP and MAX_OFFSET are lowered so that small lists show big cases."""

from datetime import timedelta

import pytest

from mixpeek_tasks.api.errors import MixpeekProtocolError
from mixpeek_tasks.api.paging import sliced
from mixpeek_tasks.api.paging.sliced import Slice, SlicedPaging, cut_slices
from mixpeek_tasks.api.vocabulary import TASK_TYPES
from tests.support.fake_service import START, FakeService, make_tasks, new_task

TYPES = ("thumbnail", "thumbnail", "video_segment")  # two thirds thumbnails
TASKS = make_tasks(90, types=TYPES, seed=5)


def ids(tasks):
    return [t["task_id"] for t in tasks]


@pytest.fixture(autouse=True)
def small_slices(monkeypatch):
    monkeypatch.setattr(sliced, "SLICE_CAP", 25)


def listing(service, *, page_size=10, concurrency=1, total=None):
    strategy = SlicedPaging(len(service.tasks) if total is None else total)
    runner = service.runner(page_size=page_size)
    strategy.prepare(runner.ask)
    return strategy, list(runner.pages(strategy, concurrency=concurrency))


def test_a_slice_body_filters_by_type_and_window_sorted_oldest_first():
    assert Slice("thumbnail").body() == {"sort": {"field": "created_at", "direction": "asc"},
                                         "task_type": "thumbnail"}
    window = Slice("thumbnail", "2026-11-01T00:00:00.000Z", "2026-11-02T00:00:00.000Z")
    assert window.body(sort="desc")["filters"] == {"AND": [
        {"field": "created_at", "operator": "gte", "value": "2026-11-01T00:00:00.000Z"},
        {"field": "created_at", "operator": "lt", "value": "2026-11-02T00:00:00.000Z"}],
        "case_sensitive": True}
    others = Slice(None).body()
    assert "task_type" not in others
    assert others["filters"]["AND"] == [
        {"field": "task_type", "operator": "nin", "value": list(TASK_TYPES)}]


def test_a_type_bigger_than_a_slice_is_cut_into_created_at_windows_that_count_every_task():
    service = FakeService(list(TASKS))
    counted = cut_slices(service.runner().ask, len(TASKS))
    assert sum(counted.values()) == len(TASKS) and max(counted.values()) <= sliced.SLICE_CAP
    windows = [piece for piece in counted if piece.task_type == "thumbnail"]
    assert len(windows) > 2
    assert sum(1 for w in windows if w.created_from is None) == 1
    assert sum(1 for w in windows if w.created_to is None) == 1  # tasks created later land


@pytest.mark.parametrize("page_size", [4, 20])
def test_every_task_is_listed_once_even_of_a_type_known_only_by_case(page_size):
    odd = new_task("zz-odd-task", START, "THUMBNAIL")
    service = FakeService([*TASKS, odd])
    strategy, pages = listing(service, page_size=page_size, concurrency=3)
    listed = ids(t for p in pages for t in p.tasks)
    assert sorted(listed) == sorted(ids(service.tasks))
    assert {p.stream for p in pages} == set(strategy.plan())
    facts = strategy.facts()
    assert facts["slices"] == len(strategy.plan()) and facts["tasks_counted_in_slices"] == 91


def test_tasks_created_and_deleted_meanwhile_are_read_across_anchored_pages():
    newcomers = iter(new_task(f"new-{i}", START + timedelta(days=1, seconds=i), "thumbnail")
                     for i in range(60))
    deleted = []

    def churn(service):
        newcomer = next(newcomers, None) if len(service.sent) > 40 else None  # once planned
        if newcomer is not None:
            service.tasks.append(newcomer)
            if len(service.sent) % 5 == 0:  # now and then one of the oldest goes
                deleted.append(service.tasks.pop(1)["task_id"])

    service = FakeService(list(TASKS), before_answer=churn)
    strategy, pages = listing(service, page_size=8)
    listed = ids(t for p in pages for t in p.tasks)
    assert len(listed) == len(set(listed)) and deleted
    assert set(ids(TASKS)) - set(deleted) <= set(listed)
    assert strategy.facts()["pages_read_after_an_overlap"] > 0


def test_a_listing_that_moves_by_more_than_the_overlap_is_refused():
    def delete_many(service):
        if len(service.sent) > 45:
            del service.tasks[:5]

    service = FakeService(list(TASKS), before_answer=delete_many)
    with pytest.raises(MixpeekProtocolError, match="moved by more than 2 tasks"):
        listing(service, page_size=8)


def test_a_task_in_two_slices_is_refused():
    # The filters are ignored: the slice of "other types" lists every task.
    service = FakeService(make_tasks(24, types=TYPES, seed=6), ignores_filters=True)
    with pytest.raises(MixpeekProtocolError, match="is in two slices"):
        listing(service, concurrency=2)


def test_windows_a_service_does_not_filter_are_refused_when_planned():
    service = FakeService(list(TASKS), ignores_filters=True)
    with pytest.raises(MixpeekProtocolError, match="the created_at filters are not honoured"):
        listing(service)


def test_a_type_whose_tasks_share_one_created_at_cannot_be_cut():
    tasks = [dict(t, created_at="2026-11-01T00:00:00.000Z") for t in TASKS]
    with pytest.raises(MixpeekProtocolError, match="share one created_at"):
        listing(FakeService(tasks))


def test_counts_that_leave_tasks_out_or_are_not_numbers_are_refused():
    def none_counted(request):
        return {"results": [], "pagination": {"total": 0}}

    with pytest.raises(MixpeekProtocolError, match="the slices hold 0 tasks, the listing 1,000"):
        SlicedPaging(1000).prepare(none_counted)
    with pytest.raises(MixpeekProtocolError, match="came back as None"):
        listing(FakeService(list(TASKS), no_total=True))


def test_a_slice_that_grows_past_the_offset_cap_is_refused(monkeypatch):
    monkeypatch.setattr(sliced, "MAX_OFFSET", 5)
    with pytest.raises(MixpeekProtocolError, match="grew past the offset cap"):
        listing(FakeService(list(TASKS)))
