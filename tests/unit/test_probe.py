"""The probe without a server: what each way the service may page (the emulator's profiles,
played by a fake) makes it write in its report, and what it costs."""

import pytest

from mixpeek_tasks.api.errors import MixpeekAPIError
from mixpeek_tasks.api.paging.probe import (
    ProbeReport,
    ProbeRequests,
    ask_created_at_sort,
    ask_cursor,
    ask_range_filters,
    probe,
)
from mixpeek_tasks.api.paging.runner import PagingRunner
from tests.support.fake_service import FakeService, make_tasks

TASKS = make_tasks(300, seed=7)
ASSUMPTIONS = ("sort_by_task_id", "sort_before_limit", "total_given")


def answers(report, *names):
    return tuple(getattr(report, name) for name in names)


@pytest.mark.parametrize(("switch", "expected", "reason"), [
    ({}, (True, True, True), None),
    ({"ignores_sort": True}, (False, False, True), "came back out of order"),
    ({"sorts_page_only": True}, (True, False, True), "the lowest ids depend on the limit"),
    ({"ignores_filters": True}, (True, True, True), None),
    ({"no_total": True}, (True, True, False), "include_total=true answered no total"),
    ({"timestamp_sort_only": True}, (False, False, True), "a sort on task_id was refused"),
])
def test_the_task_id_questions_of_each_profile(switch, expected, reason):
    service = FakeService(list(TASKS), **switch)
    report = probe(service.runner())
    assert answers(report, *ASSUMPTIONS) == expected
    assert report.total == (None if switch.get("no_total") else len(TASKS))
    if reason is not None:
        assert any(reason in why for why in report.reasons.values()), report.reasons


def test_the_probe_asks_four_labelled_questions_at_once_and_counts_them():
    service = FakeService(list(TASKS))
    report = probe(service.runner())
    assert report.requests == 4 == len(service.sent)
    assert sorted(service.labels()) == ["probe: highest id", "probe: highest task ids",
                                        "probe: lowest task ids", "probe: three lowest ids"]
    assert [r.params for r in service.sent if r.label == "probe: lowest task ids"] == [
        {"include_total": "true"}]
    assert report.lowest_ids == sorted(t["task_id"] for t in TASKS)[:50]
    assert "id_sample" not in report.as_metadata() and report.as_metadata()["total"] == 300


def test_a_refused_sort_falls_back_to_one_counted_page():
    service = FakeService(list(TASKS), timestamp_sort_only=True)
    report = probe(service.runner())
    assert service.sent[-1].body == {} and report.total_given
    assert report.task_id_range_filters is False


def test_an_error_other_than_a_refused_sort_stops_the_probe():
    def revoked(request, stop=None):
        raise MixpeekAPIError(401, "revoked", "unauthorized")

    with pytest.raises(MixpeekAPIError, match="revoked"):
        probe(PagingRunner(revoked, page_size=10))


def test_an_account_too_small_to_tell_disproves_nothing():
    service = FakeService(make_tasks(2, seed=8), sorts_page_only=True)
    report = probe(service.runner())
    ask_range_filters(report, ProbeRequests(service.runner(), report))
    assert report.holds("sort_by_task_id", "task_id_range_filters", "sort_before_limit")
    assert report.task_id_range_filters is None and report.sort_before_limit is None


@pytest.mark.parametrize(("switch", "holds"), [({}, True), ({"ignores_filters": True}, False)])
def test_the_range_filter_question(switch, holds):
    service = FakeService(list(TASKS), **switch)
    report = probe(service.runner())
    ask_range_filters(report, ProbeRequests(service.runner(), report))
    assert report.task_id_range_filters is holds and report.requests == 5
    assert service.sent[-1].label == "probe: ids after the middle one"
    if not holds:
        assert "did not narrow the listing" in report.reasons["task_id_range_filters"]


@pytest.mark.parametrize(("tasks", "switch", "holds", "reason"), [
    (TASKS, {}, True, None),
    (TASKS, {"ignores_sort": True}, False, "out of order"),
    ([{k: v for k, v in t.items() if k != "created_at"} for t in TASKS], {}, False,
     "records carry no created_at"),
])
def test_the_created_at_question(tasks, switch, holds, reason):
    service = FakeService(list(tasks), **switch)
    report = ProbeReport()
    ask_created_at_sort(report, ProbeRequests(service.runner(), report))
    assert report.created_at_sort is holds and report.requests == 2
    if reason:
        assert reason in report.reasons["created_at_sort"]


def test_a_refused_created_at_sort_disproves_it_and_other_errors_stop():
    def refuse(status):
        def send(request, stop=None):
            raise MixpeekAPIError(status, "no", "validation_error")
        return PagingRunner(send, page_size=10)

    report = ProbeReport()
    ask_created_at_sort(report, ProbeRequests(refuse(422), report))
    assert report.created_at_sort is False and "was refused" in report.reasons["created_at_sort"]
    with pytest.raises(MixpeekAPIError):
        ask_created_at_sort(ProbeReport(), ProbeRequests(refuse(500), ProbeReport()))


@pytest.mark.parametrize(("switch", "total", "holds", "reason"), [
    ({}, 300, True, None),
    ({"ignores_cursor": True}, 300, False, "held only tasks of the first page"),
    ({"cursor_cap": 50}, 300, False, "a page of 50 of 300 tasks came with no next_cursor"),
    ({"cursor_cap": 50}, None, None, None),  # no total: nothing shows the listing goes on
])
def test_the_cursor_question(switch, total, holds, reason):
    service = FakeService(list(TASKS), **switch)
    report = ProbeReport(total=total)
    ask_cursor(report, ProbeRequests(service.runner(), report))
    assert report.next_cursor_moves_forward is holds
    if reason:
        assert reason in report.reasons["next_cursor_moves_forward"]
