"""Ask the service, in a handful of small requests, what each paging strategy relies on, and
write the answers in a report (choice.py picks the strategy from it).

None of it is documented: whether a sort on task_id is honoured, whether range filters on
task_id narrow the result, whether the sort is applied before the limit, whether
`next_cursor` moves forward, whether `include_total` gives a number; and for an incremental
observation (changes.py), whether records carry created_at at all, whether filters on
created_at, on status and by task_id `in` narrow the listing. So the export asks instead of
assuming, and says what it found.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from mixpeek_tasks.api.errors import MixpeekAPIError
from mixpeek_tasks.api.paging.changes import (
    FINISHED,
    UNFINISHED,
    created_before,
    created_since,
    with_ids,
    with_status,
)
from mixpeek_tasks.api.paging.keyset import TaskIdRange, keyset_body
from mixpeek_tasks.api.paging.pages import PageRequest, task_ids
from mixpeek_tasks.api.paging.runner import PagingRunner

SAMPLE = 50
# Ids asked for by each side of the task_id `in` question.
IN_SAMPLE = 5
# What keyset paging relies on; a service that refuses a sort on task_id disproves them all.
TASK_ID_ORDER = ("sort_by_task_id", "task_id_range_filters", "sort_before_limit")


@dataclass
class ProbeReport:
    """The probe's answers: True/False per assumption, None where the account is too small to
    tell (then nothing can be missed by it), and why each False is False."""

    sort_by_task_id: bool | None = None
    task_id_range_filters: bool | None = None
    sort_before_limit: bool | None = None
    next_cursor_moves_forward: bool | None = None
    created_at_sort: bool | None = None
    total_given: bool | None = None
    total: int | None = None
    created_at_given: bool | None = None
    created_at_filter: bool | None = None
    status_filter: bool | None = None
    task_id_in_filter: bool | None = None
    get_by_id: bool | None = None
    id_sample: list[str] = field(default_factory=list, repr=False)
    lowest_ids: list[str] = field(default_factory=list, repr=False)
    # The records the first questions listed: what the filters' questions are checked on.
    sample: list[dict] = field(default_factory=list, repr=False)
    reasons: dict[str, str] = field(default_factory=dict)
    requests: int = 0

    def holds(self, *assumptions: str) -> bool:
        return all(getattr(self, name) is not False for name in assumptions)

    def refute(self, assumption: str, reason: str) -> None:
        setattr(self, assumption, False)
        self.reasons[assumption] = reason

    def settle(self, assumption: str, *, refuted_by: str | None, told: bool = True) -> None:
        """Refute `assumption` for the reason given; without one, it holds if the answers
        were `told` enough to tell (else it stays unknown)."""
        if refuted_by is not None:
            self.refute(assumption, refuted_by)
        elif told:
            setattr(self, assumption, True)

    def as_metadata(self) -> dict[str, Any]:
        facts = asdict(self)
        facts.pop("id_sample"), facts.pop("lowest_ids"), facts.pop("sample")
        return facts


class ProbeRequests:
    """The probe's small requests, sent by the runner and counted in the report, several at
    once where they do not depend on each other: at 150 ms a request, the probe costs one round
    trip before paging starts, and its last question travels with the first pages."""

    def __init__(self, runner: PagingRunner, report: ProbeReport):
        self.runner = runner
        self.report = report
        self._lock = threading.Lock()

    def _labelled(self, requests: tuple[PageRequest, ...]) -> list[PageRequest]:
        with self._lock:
            self.report.requests += len(requests)
        return [dataclasses.replace(r, label=f"probe: {r.label}") for r in requests]

    def __call__(self, request: PageRequest) -> dict:
        return self.runner.ask(*self._labelled((request,)))

    def together(self, *requests: PageRequest) -> list[dict]:
        return self.runner.ask_together(self._labelled(requests))


# A question the choice asks before it tries a strategy: it reads the report, may send a few
# requests, and writes its answer into the report.
Question = Callable[[ProbeReport, ProbeRequests], None]


def probe(runner: PagingRunner) -> ProbeReport:
    """Ask how the service sorts by task_id, and for the total (1 round trip, 4 requests);
    keyset paging's range filter question, and the other strategies' questions, are asked by
    the choice when it gets to them."""
    report = ProbeReport()
    ask = ProbeRequests(runner, report)
    everything = TaskIdRange()
    try:
        pages = ask.together(
            PageRequest(keyset_body(everything), SAMPLE, "lowest task ids",
                        {"include_total": "true"}),
            PageRequest(keyset_body(everything, direction="desc"), SAMPLE, "highest task ids"),
            PageRequest(keyset_body(everything), 3, "three lowest ids"),
            PageRequest(keyset_body(everything, direction="desc"), 1, "highest id"))
    except MixpeekAPIError as error:
        if error.status not in (400, 422):
            raise
        for assumption in TASK_ID_ORDER:
            report.refute(assumption, f"a sort on task_id was refused: {error}")
        pages = [ask(PageRequest({}, SAMPLE, "first page", {"include_total": "true"}))]
    total = (pages[0].get("pagination") or {}).get("total")
    report.total = total if isinstance(total, int) and not isinstance(total, bool) else None
    report.total_given = report.total is not None
    if not report.total_given:
        report.reasons["total_given"] = "include_total=true answered no total"
    if report.sort_by_task_id is None:
        read_task_id_order(report, *[task_ids(page["results"]) for page in pages])
    read_sample(report, [t for page in pages for t in page["results"]])
    return report


def read_sample(report: ProbeReport, records: list) -> None:
    """Keep the listed records, one per task_id, and say whether they carry created_at."""
    report.sample = list({t["task_id"]: t for t in records
                          if isinstance(t, dict) and isinstance(t.get("task_id"), str)}.values())
    bare = sum(not isinstance(t.get("created_at"), str) for t in report.sample)
    report.settle("created_at_given", told=bool(report.sample), refuted_by=(
        f"{bare} of {len(report.sample)} sampled records carry no created_at") if bare else None)


def read_task_id_order(report: ProbeReport, low: list[str], high: list[str],
                       first_three: list[str], highest: list[str]) -> None:
    """What the four answers on task_id order say: whether the sort is honoured, and applied
    before the limit."""
    report.id_sample = low + high
    report.lowest_ids = low
    if low != sorted(low) or high != sorted(high, reverse=True):
        report.refute("sort_by_task_id", "a page sorted by task_id came back out of order")
    elif len(low) > 1:
        report.sort_by_task_id = True
    # Compared by range, not id by id: tasks created or deleted between two requests of a
    # live account move the lowest ids a little, a sort applied after the limit moves them
    # anywhere (and makes the lowest and the highest page the same tasks).
    disjoint = not set(low) & set(high)
    moved = (first_three and low and first_three[0] > low[min(2, len(low) - 1)]) or (
        highest and high and highest[0] < high[min(1, len(high) - 1)]) or (
        report.total is not None and report.total >= 2 * SAMPLE and not disjoint)
    report.settle("sort_before_limit", told=len(low) > 3, refuted_by=(
        "the lowest ids depend on the limit asked for: the service takes a page, then sorts "
        "it, so keyset paging would skip tasks") if moved else None)


def ask_range_filters(report: ProbeReport, ask: ProbeRequests) -> None:
    low = report.lowest_ids
    if report.task_id_range_filters is not None or len(low) <= 2:
        return
    pivot = low[len(low) // 2]
    after = task_ids(ask(PageRequest(keyset_body(TaskIdRange(), after=pivot), 5,
                                     "ids after the middle one"))["results"])
    narrowed = after and min(after) > pivot and after[0] <= low[-1]
    report.settle("task_id_range_filters", refuted_by=None if narrowed else (
        f"a filter task_id > {pivot!r} did not narrow the listing to the ids after it"))


def _created(tasks: list) -> list[str] | None:
    """The created_at of each record, or None when any record lacks one."""
    values = [t.get("created_at") if isinstance(t, dict) else None for t in tasks]
    return values if all(isinstance(v, str) for v in values) else None


def ask_created_at_sort(report: ProbeReport, ask: ProbeRequests) -> None:
    body = {"sort": {"field": "created_at", "direction": "asc"}}
    try:
        oldest, first_three = [_created(page["results"]) for page in ask.together(
            PageRequest(body, SAMPLE, "oldest tasks"), PageRequest(body, 3, "three oldest tasks"))]
    except MixpeekAPIError as error:
        if error.status not in (400, 422):
            raise
        report.refute("created_at_sort", f"a sort on created_at was refused: {error}")
        return
    if oldest is None or first_three is None:
        report.refute("created_at_sort", "records carry no created_at to check the order by")
        return
    ordered = oldest == sorted(oldest) and not (
        first_three and oldest and first_three[0] > oldest[min(2, len(oldest) - 1)])
    report.settle("created_at_sort", told=len(oldest) > 3, refuted_by=None if ordered else (
        "a sort on created_at came back out of order, or was applied after the limit"))


def ask_cursor(report: ProbeReport, ask: ProbeRequests) -> None:
    first = ask(PageRequest({}, SAMPLE, "first page of the default order"))
    following = (first.get("pagination") or {}).get("next_cursor")
    if not following:
        if report.total is not None and report.total > len(first["results"]):
            report.refute("next_cursor_moves_forward",
                          f"a page of {len(first['results'])} of {report.total} tasks came "
                          "with no next_cursor")
        return
    second = task_ids(ask(PageRequest({}, SAMPLE, "second page of the default order",
                                      {"cursor": following}))["results"])
    # A few repeats are what tasks created meanwhile cause (the strategy drops them); a page
    # of nothing new means the cursor did not move.
    repeated = second and set(second) <= set(task_ids(first["results"]))
    report.settle("next_cursor_moves_forward", refuted_by=(
        "the page after next_cursor held only tasks of the first page") if repeated else None)


def _text(task: Any, name: str) -> str:
    value = task.get(name) if isinstance(task, dict) else None
    return value if isinstance(value, str) else ""


def filter_narrows(report: ProbeReport, ask: ProbeRequests, assumption: str, what: str,
                   *sides: tuple[PageRequest, Callable[[Any], bool]]) -> None:
    """Ask each side's filter at once and check every record listed against it: a filter the
    service ignores lists the same tasks for every side, so some side lists a task its filter
    excludes. It holds when every side listed something and nothing stray; a side that lists
    nothing leaves it unknown."""
    try:
        pages = ask.together(*(request for request, _ in sides))
    except MixpeekAPIError as error:
        if error.status not in (400, 422):
            raise
        report.refute(assumption, f"{what} was refused: {error}")
        return
    for (request, keeps), page in zip(sides, pages):
        strays = sum(not keeps(t) for t in page["results"])
        if strays:
            report.refute(assumption, (
                f"{what} did not narrow the listing: {strays} of the {len(page['results'])} "
                f"{request.label} listed do not match it"))
            return
    report.settle(assumption, refuted_by=None, told=all(page["results"] for page in pages))


def ask_created_at_filter(report: ProbeReport, ask: ProbeRequests) -> None:
    """Whether filters on created_at list the tasks created since a moment, and only them:
    asked on both sides of the middle creation time of the sample."""
    if report.created_at_filter is not None:
        return
    if report.created_at_given is False:
        report.refute("created_at_filter", "records carry no created_at: what a filter on it "
                                           "lists cannot be checked")
        return
    created = sorted({_text(t, "created_at") for t in report.sample} - {""})
    if len(created) < 2:
        return
    pivot = created[len(created) // 2]
    filter_narrows(
        report, ask, "created_at_filter", "a filter on created_at",
        (PageRequest(created_since(pivot), SAMPLE, "tasks created since the middle one"),
         lambda t: _text(t, "created_at") >= pivot),
        (PageRequest(created_before(pivot), SAMPLE, "tasks created before the middle one"),
         lambda t: "" < _text(t, "created_at") < pivot))


def _membership_narrows(report: ProbeReport, ask: ProbeRequests, assumption: str, what: str,
                        field_name: str, body: Callable[[Any], dict],
                        *sides: tuple[str, Any]) -> None:
    """filter_narrows for `field_name` in each side's values, the body made by `body`."""
    filter_narrows(report, ask, assumption, what, *(
        (PageRequest(body(values), SAMPLE, label),
         lambda t, values=values: _text(t, field_name) in values) for label, values in sides))


def ask_status_filter(report: ProbeReport, ask: ProbeRequests) -> None:
    """Whether a filter on status lists the unfinished tasks, and only them."""
    if report.status_filter is None:
        _membership_narrows(report, ask, "status_filter", "a filter on status", "status",
                            with_status, ("unfinished tasks", UNFINISHED),
                            ("finished tasks", FINISHED))


def ask_task_id_in_filter(report: ProbeReport, ask: ProbeRequests) -> None:
    """Whether a task_id `in` filter lists those tasks, and only them: two handfuls of sampled
    ids, each asked for alone, from an account the sample shows holds more."""
    ids = sorted(task_ids(report.sample))
    if report.task_id_in_filter is None and len(ids) > 2 * IN_SAMPLE:
        _membership_narrows(report, ask, "task_id_in_filter", "a task_id `in` filter",
                            "task_id", with_ids, ("tasks of the lowest sampled ids",
                                                  ids[:IN_SAMPLE]),
                            ("tasks of the highest sampled ids", ids[-IN_SAMPLE:]))


def ask_get_by_id(report: ProbeReport, ask: ProbeRequests) -> None:
    """Whether `GET /v1/tasks/{id}` answers a listed task: the lowest and highest sampled."""
    ids = sorted(task_ids(report.sample))
    if report.get_by_id is not None or not ids:
        return
    asked = sorted({ids[0], ids[-1]})
    try:
        answers = ask.together(*(PageRequest({}, 1, f"task {task_id} by id", task_id=task_id)
                                 for task_id in asked))
    except MixpeekAPIError as error:
        if error.status not in (400, 405, 422):
            raise
        report.refute("get_by_id", f"GET /v1/tasks/{{id}} was refused: {error}")
        return
    wrong = [task_id for task_id, answer in zip(asked, answers)
             if task_ids(answer["results"]) != [task_id]]
    report.settle("get_by_id", refuted_by=(
        f"GET /v1/tasks/{{id}} did not answer the listed task {wrong[0]!r} with its record")
        if wrong else None)
