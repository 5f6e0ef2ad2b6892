"""The choice without a server: which strategy `auto` takes for each way the service may page
(the emulator's profiles, played by a fake), what a forced strategy does where it cannot work,
and that the listing it starts lists every task or is refused by the counts."""

from datetime import datetime, timezone

import pytest

from mixpeek_tasks.api.errors import MixpeekProtocolError
from mixpeek_tasks.api.paging import sliced
from mixpeek_tasks.api.paging.choice import CHOICES, choose
from mixpeek_tasks.api.paging.modes import PagingMode
from mixpeek_tasks.api.paging.probe import probe
from mixpeek_tasks.snapshot.coverage import ServiceCounts, SnapshotContent
from mixpeek_tasks.snapshot.reconcile import SnapshotIncomplete, verdict_for
from tests.support.fake_service import FakeService, make_tasks

TASKS = make_tasks(300, types=("thumbnail", "video_segment"), seed=9)
MOMENT = datetime(2026, 11, 23, tzinfo=timezone.utc)


def chosen(service, mode="auto", concurrency=4):
    runner = service.runner(page_size=20)
    report = probe(runner)
    strategy, reason = choose(runner, report, mode, concurrency=concurrency)
    return runner, report, strategy, reason


def listed_and_verdict(service, runner, report, strategy):
    """List every page, and reconcile as the export would on counts that did not move."""
    listed = [t["task_id"] for p in runner.pages(strategy, concurrency=2) for t in p.tasks]
    content = SnapshotContent(len(listed), len(listed), MOMENT, MOMENT, 0.0)
    created_before = None if service.no_total else len(service.tasks)
    counts = ServiceCounts(report.total, created_before)
    return listed, verdict_for(counts, counts, content, positional=strategy.positional)


# switches -> the strategy `auto` chooses (the emulator's OUTCOMES, in test_paging_profiles.py)
OUTCOMES = [
    ({}, "keyset"),
    ({"ignores_sort": True}, "cursor"),
    ({"ignores_filters": True}, "cursor"),
    ({"sorts_page_only": True}, "cursor"),
    ({"timestamp_sort_only": True}, "sliced"),
    ({"cursor_cap": 100}, "keyset"),
    ({"no_total": True}, "keyset"),
]


@pytest.mark.parametrize(("switch", "expected"), OUTCOMES, ids=lambda v: str(v))
def test_auto_takes_the_first_strategy_the_service_can_serve_and_it_lists_every_task(
        monkeypatch, switch, expected):
    # Types bigger than a slice, as on the emulator's 15,500 tasks: sliced paging must cut
    # created_at windows, which a service that ignores filters cannot serve.
    monkeypatch.setattr(sliced, "SLICE_CAP", 100)
    service = FakeService(list(TASKS), **switch)
    runner, report, strategy, reason = chosen(service)
    assert strategy.name == expected, reason
    listed, verdict = listed_and_verdict(service, runner, report, strategy)
    assert sorted(listed) == sorted(t["task_id"] for t in TASKS)
    assert verdict.startswith("exact" if report.total_given else "unreconciled")


@pytest.mark.parametrize(("switch", "refusal"), [
    ({"ignores_sort": True, "cursor_cap": 100}, "at least 200 missing"),
    ({"ignores_sort": True, "no_total": True}, "gives no total"),
])
def test_a_cursor_listing_the_counts_cannot_vouch_for_is_refused(switch, refusal):
    service = FakeService(list(TASKS), **switch)
    runner, report, strategy, _ = chosen(service)
    assert strategy.name == "cursor"
    with pytest.raises(SnapshotIncomplete, match=refusal):
        listed_and_verdict(service, runner, report, strategy)


def test_the_reason_says_what_the_strategies_before_it_needed():
    _, _, strategy, reason = chosen(FakeService(list(TASKS), ignores_sort=True))
    assert reason.startswith("next_cursor moves forward (keyset paging needs sort_by_task_id")
    assert "sliced paging needs created_at_sort" in reason


def test_a_forced_strategy_the_service_cannot_serve_is_refused_with_the_reason():
    with pytest.raises(MixpeekProtocolError, match="keyset paging needs sort_before_limit"):
        chosen(FakeService(list(TASKS), sorts_page_only=True), mode="keyset")


def test_a_forced_strategy_asks_only_its_own_questions():
    service = FakeService(list(TASKS))
    _, report, strategy, reason = chosen(service, mode=PagingMode.CURSOR)
    assert strategy.name == "cursor" and reason == "next_cursor moves forward"
    assert report.task_id_range_filters is None and report.created_at_sort is None
    assert report.requests == 4 + 2  # the probe, and the cursor's two pages


def test_when_no_strategy_can_list_every_task_the_run_stops_naming_each_need():
    service = FakeService(list(TASKS), ignores_sort=True, ignores_cursor=True)
    with pytest.raises(MixpeekProtocolError) as refused:
        chosen(service)
    message = str(refused.value)
    assert message.startswith("no paging strategy can list every task here")
    assert all(f"{choice.mode.value} paging needs" in message for choice in CHOICES)


def test_sliced_paging_whose_plan_the_counts_refuse_gives_way_to_the_cursor(monkeypatch):
    monkeypatch.setattr(sliced, "SLICE_CAP", 100)
    service = FakeService(list(TASKS), timestamp_sort_only=True, ignores_filters=True)
    _, _, strategy, reason = chosen(service)
    assert strategy.name == "cursor"
    assert "sliced paging: slicing: the created_at windows" in reason


def test_keyset_first_pages_go_out_with_the_last_question_and_are_read_once():
    service = FakeService(make_tasks(300, id_prefix="task_", seed=10))
    runner, report, strategy, _ = chosen(service, concurrency=4)
    assert report.requests == 5
    pages = list(runner.pages(strategy, concurrency=4))
    assert len(service.sent) == 5 + len(pages)  # every page asked for once
    first_pages = [r.label for r in service.sent if r.label.startswith("page 1 of")]
    assert sorted(first_pages) == sorted(f"page 1 of task ids {key} after None"
                                         for key in strategy.plan())
    assert min(strategy.facts()["pages_per_range"].values()) >= 2  # each range carries work


@pytest.mark.parametrize("switch", [{"ignores_sort": True}, {"timestamp_sort_only": True}])
def test_only_keyset_sends_pages_before_it_is_chosen(switch):
    service = FakeService(list(TASKS), **switch)
    chosen(service)
    assert all(r.label.startswith(("probe: ", "slicing: ")) for r in service.sent)
