"""The questions an incremental observation depends on, asked of the emulator over HTTP under
each profile that takes away what they ask about: the probe vouches for a filter only where
the service applies it, on a live account (tasks created and finishing between requests)."""

import pytest

from mixpeek_emulator import running_emulator
from mixpeek_tasks.api.paging.probe import (
    ProbeRequests,
    ask_created_at_filter,
    ask_status_filter,
    ask_task_id_in_filter,
    probe,
)
from mixpeek_tasks.api.paging.runner import PagingRunner
from mixpeek_tasks.api.transport import MixpeekClient

QUESTIONS = ("created_at_given", "created_at_filter", "status_filter", "task_id_in_filter")
# profile -> the answers to QUESTIONS
ANSWERS = {
    "": (True, True, True, True),
    "no_timestamps": (False, False, True, True),
    "ignores_created_at_filter": (True, False, True, True),
    "ignores_status_filter": (True, True, False, True),
    "ignores_in_filter": (True, True, False, False),
    "ignores_filters": (True, False, False, False),
    "timestamp_sort_only": (True, True, True, True),
}


@pytest.mark.parametrize("profile", ANSWERS)
def test_each_profile_answers_the_incremental_questions_as_it_behaves(profile):
    with running_emulator(tasks=3000, seed=4, churn=2, profile=profile) as server, \
            MixpeekClient("k", server.base_url, page_size=1000) as client:
        runner = PagingRunner.of(client)
        report = probe(runner)
        ask = ProbeRequests(runner, report)
        for question in (ask_created_at_filter, ask_status_filter, ask_task_id_in_filter):
            question(report, ask)
    assert tuple(getattr(report, name) for name in QUESTIONS) == ANSWERS[profile], report.reasons
    # 4 questions on task_id order (a refused sort: and one more page), 2 a filter; without
    # created_at on records its filter is not asked.
    assert report.requests == {"no_timestamps": 8, "timestamp_sort_only": 11}.get(profile, 10)
    for name, holds in zip(QUESTIONS, ANSWERS[profile]):
        assert holds or report.reasons[name]
