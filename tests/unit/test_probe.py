"""The probe without a server: what each way the service may page (the emulator's profiles,
played by a fake) makes it write in its report, and what it costs."""

import pytest

from mixpeek_tasks.api.errors import MixpeekAPIError
from mixpeek_tasks.api.paging.probe import (
    ProbeReport,
    ProbeRequests,
    ask_created_at_filter,
    ask_created_at_sort,
    ask_cursor,
    ask_get_by_id,
    ask_range_filters,
    ask_status_filter,
    ask_task_id_in_filter,
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


# Every seventh task still running, so that a status filter has both sides to list.
MIXED = [{**t, "status": "PROCESSING"} if i % 7 == 0 else t for i, t in enumerate(TASKS)]
WITHOUT_TIMESTAMPS = {"no_timestamps": True}


def probed(tasks=MIXED, **switch):
    service = FakeService(list(tasks), **switch)
    report = probe(service.runner())
    return service, report, ProbeRequests(service.runner(), report)


@pytest.mark.parametrize(("switch", "given"), [({}, True), (WITHOUT_TIMESTAMPS, False)])
def test_the_probe_says_whether_records_carry_created_at_from_its_own_pages(switch, given):
    service, report, _ = probed(**switch)
    assert report.created_at_given is given and len(service.sent) == 4
    assert len(report.sample) == 100 and "sample" not in report.as_metadata()
    if not given:
        assert report.reasons["created_at_given"] == (
            "100 of 100 sampled records carry no created_at")


# question -> (assumption, the switch that makes the service ignore its filter)
FILTER_QUESTIONS = {
    ask_created_at_filter: ("created_at_filter", "ignores_created_at_filter"),
    ask_status_filter: ("status_filter", "ignores_status_filter"),
    ask_task_id_in_filter: ("task_id_in_filter", "ignores_in_filter"),
}


@pytest.mark.parametrize("question", FILTER_QUESTIONS, ids=lambda q: q.__name__)
@pytest.mark.parametrize("ignored", [False, True], ids=["honoured", "ignored"])
def test_each_filter_question_is_proven_on_the_listing_s_own_records(question, ignored):
    assumption, switch = FILTER_QUESTIONS[question]
    service, report, ask = probed(**({switch: True} if ignored else {}))
    question(report, ask)
    assert getattr(report, assumption) is (not ignored)
    assert report.requests == 6 and all(r.label.startswith("probe: ") for r in service.sent)
    if ignored:
        assert "did not narrow the listing" in report.reasons[assumption]
    question(report, ask)
    assert report.requests == 6  # answered once


def test_ignoring_every_filter_or_the_in_operator_disproves_the_filters_that_use_it():
    service, report, ask = probed(ignores_filters=True)
    for question in FILTER_QUESTIONS:
        question(report, ask)
    assert not report.created_at_filter and not report.status_filter
    assert not report.task_id_in_filter
    _, report, ask = probed(ignores_in_filter=True)
    ask_status_filter(report, ask)  # the status listing is an `in` filter too
    assert report.status_filter is False


def test_without_created_at_on_records_the_created_at_filter_is_not_vouched_for_unasked():
    service, report, ask = probed(**WITHOUT_TIMESTAMPS)
    ask_created_at_filter(report, ask)
    assert report.created_at_filter is False and len(service.sent) == 4
    assert "records carry no created_at" in report.reasons["created_at_filter"]


def test_a_side_that_lists_nothing_leaves_the_question_open():
    # No task is unfinished: the unfinished side lists nothing, which an ignored filter
    # would not, but a working one would neither.
    _, report, ask = probed(TASKS)
    ask_status_filter(report, ask)
    assert report.status_filter is None and report.holds("status_filter")


def test_a_small_account_is_not_asked_by_id():
    service, report, ask = probed(make_tasks(8, seed=3))
    ask_task_id_in_filter(report, ask)
    assert report.task_id_in_filter is None and len(service.sent) == 4


@pytest.mark.parametrize("question", FILTER_QUESTIONS, ids=lambda q: q.__name__)
def test_a_refused_filter_disproves_it_and_other_errors_stop(question):
    assumption, _ = FILTER_QUESTIONS[question]
    _, report, _ = probed()

    def refuse(status):
        def send(request, stop=None):
            raise MixpeekAPIError(status, "no", "validation_error")
        return PagingRunner(send, page_size=10)

    question(report, ProbeRequests(refuse(422), report))
    assert getattr(report, assumption) is False and "was refused" in report.reasons[assumption]
    _, report, _ = probed()
    with pytest.raises(MixpeekAPIError):
        question(report, ProbeRequests(refuse(503), report))


@pytest.mark.parametrize(("switch", "holds"), [({}, True), ({"no_get": True}, False)])
def test_the_get_by_id_question_reads_two_sampled_tasks(switch, holds):
    service, report, ask = probed(**switch)
    ask_get_by_id(report, ask)
    assert report.get_by_id is holds and report.requests == 6
    assert sorted(r.task_id for r in service.sent[4:]) == sorted(
        {min(t["task_id"] for t in report.sample), max(t["task_id"] for t in report.sample)})
    if not holds:
        assert "did not answer the listed task" in report.reasons["get_by_id"]
