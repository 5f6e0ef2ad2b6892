"""The questions an incremental observation depends on, asked of the emulator over HTTP under
each profile that takes away what they ask about: the probe vouches for a filter only where
the service applies it, on a live account (tasks created and finishing between requests)."""

from datetime import datetime, timezone

import pytest

from mixpeek_emulator import running_emulator
from mixpeek_tasks.api.paging import incremental
from mixpeek_tasks.api.paging.changes import FINISHED
from mixpeek_tasks.api.paging.incremental import IncrementalPaging
from mixpeek_tasks.api.paging.probe import (
    ProbeRequests,
    ask_created_at_filter,
    ask_get_by_id,
    ask_status_filter,
    ask_task_id_in_filter,
    probe,
)
from mixpeek_tasks.api.paging.runner import PagingRunner
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.api.vocabulary import api_timestamp
from mixpeek_tasks.snapshot.reconcile import CLOCK_MARGIN

QUESTIONS = ("created_at_given", "created_at_filter", "status_filter", "task_id_in_filter",
             "get_by_id")
# profile -> the answers to QUESTIONS
ANSWERS = {
    "": (True, True, True, True, True),
    "no_timestamps": (False, False, True, True, True),
    "ignores_created_at_filter": (True, False, True, True, True),
    "ignores_status_filter": (True, True, False, True, True),
    "ignores_in_filter": (True, True, False, False, True),
    "ignores_filters": (True, False, False, False, True),
    "timestamp_sort_only": (True, True, True, True, True),
}


@pytest.mark.parametrize("profile", ANSWERS)
def test_each_profile_answers_the_incremental_questions_as_it_behaves(profile):
    with running_emulator(tasks=3000, seed=4, churn=2, profile=profile) as server, \
            MixpeekClient("k", server.base_url, page_size=1000) as client:
        runner = PagingRunner.of(client)
        report = probe(runner)
        ask = ProbeRequests(runner, report)
        for question in (ask_created_at_filter, ask_status_filter, ask_task_id_in_filter,
                         ask_get_by_id):
            question(report, ask)
    assert tuple(getattr(report, name) for name in QUESTIONS) == ANSWERS[profile], report.reasons
    # 4 questions on task_id order (a refused sort: and one more page), 2 a filter or the
    # reads by id; without created_at on records its filter is not asked.
    assert report.requests == {"no_timestamps": 10, "timestamp_sort_only": 13}.get(profile, 12)
    for name, holds in zip(QUESTIONS, ANSWERS[profile]):
        assert holds or report.reasons[name]


@pytest.mark.parametrize("one_by_one", [False, True], ids=["in batches", "one by one"])
def test_the_incremental_reads_after_a_day_of_change_hold_every_changed_task_s_record(
        one_by_one, monkeypatch):
    monkeypatch.setattr(incremental, "IDS_PER_REQUEST", 40)
    with running_emulator(tasks=3000, seed=9) as server:
        store = server.store
        with store.lock:
            began = datetime.now(timezone.utc)
            unfinished = [i for i, t in store.tasks.items() if t["status"] not in FINISHED]
            store.create(60)
            store.finish(40)
            gone = unfinished[0]
            store.delete(gone)
        since = api_timestamp(began - CLOCK_MARGIN)
        with MixpeekClient("k", server.base_url, page_size=25) as client:
            strategy = IncrementalPaging(since, unfinished, one_by_one=one_by_one)
            got = [t for page in PagingRunner.of(client).pages(strategy, concurrency=4)
                   for t in page.tasks]
        truth = store.tasks
    ids = [t["task_id"] for t in got]
    created_since = {i for i, t in truth.items() if t["created_at"] >= since}
    assert len(ids) == len(set(ids))
    assert set(ids) == (set(unfinished) - {gone}) | created_since
    assert all(t == truth[t["task_id"]] for t in got)
    assert strategy.missing() == [gone]
    reads = len(unfinished) if one_by_one else -(-len(unfinished) // 40)
    # The new tasks in pages of 25, ended by an empty page (a short one does not end a keyset
    # listing: a service may cap pages lower than asked).
    pages = len(created_since) // 25 + (2 if len(created_since) % 25 else 1)
    assert client.requests_sent == reads + pages
