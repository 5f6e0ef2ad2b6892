"""The requests an incremental observation is made of, beside the probe's questions about them:
the tasks created since a moment, the tasks of some statuses, and tasks by id.

Terminal statuses never change again (the API's documentation), so after a complete
observation only the tasks created since and the tasks not terminal then can differ. Each of
these filters is undocumented in what it really does on the live service; the probe
(probe.py) asks whether it narrows before an observation relies on it.
"""

from __future__ import annotations

from mixpeek_tasks.api.vocabulary import TERMINAL_STATUSES, TaskStatus

FINISHED = tuple(sorted(status.value for status in TERMINAL_STATUSES))
# Every other status of the vocabulary: a task in one of them may still change.
UNFINISHED = tuple(sorted(status.value for status in TaskStatus if status not in TERMINAL_STATUSES))
# Ids asked for in one `in` filter: one page of answers holds them all.
IDS_PER_REQUEST = 1000


def created_since(moment: str) -> dict:
    """The list body of the tasks created at `moment` (API text) or later, compared as the
    text is (the API writes created_at in one fixed-width form, whose order is time's)."""
    return {"filters": {"AND": [{"field": "created_at", "operator": "gte", "value": moment}],
                        "case_sensitive": True}}


def created_before(moment: str) -> dict:
    """The list body of the tasks created before `moment` (API text)."""
    return {"filters": {"AND": [{"field": "created_at", "operator": "lt", "value": moment}],
                        "case_sensitive": True}}


def with_status(statuses: tuple[str, ...]) -> dict:
    """The list body of the tasks whose status is one of `statuses`."""
    return {"filters": {"AND": [{"field": "status", "operator": "in", "value": list(statuses)}]}}


def with_ids(task_ids: list[str]) -> dict:
    """The list body of the tasks of `task_ids` (compared exactly: ids may be custom text)."""
    return {"filters": {"AND": [{"field": "task_id", "operator": "in", "value": task_ids}],
                        "case_sensitive": True}}
