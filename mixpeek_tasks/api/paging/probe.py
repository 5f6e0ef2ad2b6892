"""Ask the service, in a handful of small requests, what each paging strategy relies on, and
choose the first strategy whose assumptions all hold.

None of it is documented: whether a sort on task_id is honoured, whether range filters on
task_id narrow the result, whether the sort is applied before the limit, whether
`next_cursor` moves forward, whether `include_total` gives a number. So the export asks
instead of assuming, and says what it found.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

from mixpeek_tasks.api.errors import MixpeekAPIError, MixpeekProtocolError
from mixpeek_tasks.api.paging.cursor import CursorPaging
from mixpeek_tasks.api.paging.keyset import KeysetPaging, TaskIdRange, keyset_body, ranges_between
from mixpeek_tasks.api.paging.pages import PagingStrategy, task_ids
from mixpeek_tasks.api.paging.sliced import SlicedPaging
from mixpeek_tasks.api.transport import MixpeekClient

SAMPLE = 50
log = logging.getLogger(__name__)


class PagingMode(str, Enum):
    AUTO = "auto"
    KEYSET = "keyset"
    SLICED = "sliced"
    CURSOR = "cursor"


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
    id_sample: list[str] = field(default_factory=list, repr=False)
    lowest_ids: list[str] = field(default_factory=list, repr=False)
    reasons: dict[str, str] = field(default_factory=dict)
    requests: int = 0

    def holds(self, *assumptions: str) -> bool:
        return all(getattr(self, name) is not False for name in assumptions)

    def as_metadata(self) -> dict[str, Any]:
        facts = asdict(self)
        facts.pop("id_sample"), facts.pop("lowest_ids")
        return facts


KEYSET_NEEDS = ("sort_by_task_id", "task_id_range_filters", "sort_before_limit")
SLICED_NEEDS = ("created_at_sort", "total_given")
CURSOR_NEEDS = ("next_cursor_moves_forward",)


class _Asker:
    """The probe's small requests, counted in the report, several at once where they do not
    depend on each other: at 150 ms a request, the probe costs one round trip before paging
    starts, and its last question travels with the first pages."""

    def __init__(self, client: MixpeekClient, report: ProbeReport):
        self.client = client
        self.report = report
        self._lock = threading.Lock()

    def __call__(self, body: dict, limit: int, what: str, params: dict | None = None) -> dict:
        with self._lock:
            self.report.requests += 1
        payload, _ = self.client.request_page(body, limit=limit, what=f"probe: {what}",
                                              params=params)
        return payload

    def together(self, *asks: tuple) -> list[dict]:
        with ThreadPoolExecutor(max_workers=len(asks)) as pool:
            return list(pool.map(lambda ask: self(*ask), asks))


def probe(client: MixpeekClient) -> ProbeReport:
    """Ask how the service sorts by task_id, and for the total (1 round trip, 4 requests);
    keyset paging's range filter question, and the other strategies' questions, are asked by
    `choose` when it gets to them."""
    report = ProbeReport()
    ask = _Asker(client, report)
    try:
        pages = ask.together(
            (keyset_body(TaskIdRange()), SAMPLE, "lowest task ids", {"include_total": "true"}),
            (keyset_body(TaskIdRange(), direction="desc"), SAMPLE, "highest task ids"),
            (keyset_body(TaskIdRange()), 3, "three lowest ids"),
            (keyset_body(TaskIdRange(), direction="desc"), 1, "highest id"))
    except MixpeekAPIError as error:
        if error.status not in (400, 422):
            raise
        for assumption in KEYSET_NEEDS:
            setattr(report, assumption, False)
            report.reasons[assumption] = f"a sort on task_id was refused: {error}"
        pages = [ask({}, SAMPLE, "first page", {"include_total": "true"})]
    total = (pages[0].get("pagination") or {}).get("total")
    report.total = total if isinstance(total, int) and not isinstance(total, bool) else None
    report.total_given = report.total is not None
    if not report.total_given:
        report.reasons["total_given"] = "include_total=true answered no total"
    if report.sort_by_task_id is None:
        _judge_task_id_order(report, *[task_ids(page["results"]) for page in pages])
    return report


def _judge_task_id_order(report: ProbeReport, low: list[str], high: list[str],
                         first_three: list[str], highest: list[str]) -> None:
    report.id_sample = low + high
    report.lowest_ids = low
    if low != sorted(low) or high != sorted(high, reverse=True):
        report.sort_by_task_id = False
        report.reasons["sort_by_task_id"] = "a page sorted by task_id came back out of order"
    elif len(low) > 1:
        report.sort_by_task_id = True
    # Compared by range, not id by id: tasks created or deleted between two requests of a
    # live account move the lowest ids a little, a sort applied after the limit moves them
    # anywhere (and makes the lowest and the highest page the same tasks).
    disjoint = not set(low) & set(high)
    if (first_three and low and first_three[0] > low[min(2, len(low) - 1)]) or (
            highest and high and highest[0] < high[min(1, len(high) - 1)]) or (
            report.total is not None and report.total >= 2 * SAMPLE and not disjoint):
        report.sort_before_limit = False
        report.reasons["sort_before_limit"] = (
            "the lowest ids depend on the limit asked for: the service takes a page, then "
            "sorts it, so keyset paging would skip tasks")
    elif len(low) > 3:
        report.sort_before_limit = True


def _probe_range_filters(report: ProbeReport, ask: _Asker) -> None:
    low = report.lowest_ids
    if report.task_id_range_filters is not None or len(low) <= 2:
        return
    pivot = low[len(low) // 2]
    after = task_ids(ask(keyset_body(TaskIdRange(), after=pivot), 5,
                         "ids after the middle one")["results"])
    if not after or min(after) <= pivot or after[0] > low[-1]:
        report.task_id_range_filters = False
        report.reasons["task_id_range_filters"] = (
            f"a filter task_id > {pivot!r} did not narrow the listing to the ids after it")
    else:
        report.task_id_range_filters = True


def _created(tasks: list) -> list[str] | None:
    """The created_at of each record, or None when any record lacks one."""
    values = [t.get("created_at") if isinstance(t, dict) else None for t in tasks]
    return values if all(isinstance(v, str) for v in values) else None


def _probe_created_at_sort(report: ProbeReport, ask: _Asker) -> None:
    body = {"sort": {"field": "created_at", "direction": "asc"}}
    try:
        oldest, first_three = [_created(page["results"]) for page in ask.together(
            (body, SAMPLE, "oldest tasks"), (body, 3, "three oldest tasks"))]
    except MixpeekAPIError as error:
        if error.status not in (400, 422):
            raise
        report.created_at_sort = False
        report.reasons["created_at_sort"] = f"a sort on created_at was refused: {error}"
        return
    if oldest is None or first_three is None:
        report.created_at_sort = False
        report.reasons["created_at_sort"] = "records carry no created_at to check the order by"
    elif oldest != sorted(oldest) or (first_three and oldest and
                                      first_three[0] > oldest[min(2, len(oldest) - 1)]):
        report.created_at_sort = False
        report.reasons["created_at_sort"] = (
            "a sort on created_at came back out of order, or was applied after the limit")
    elif len(oldest) > 3:
        report.created_at_sort = True


def _probe_cursor(report: ProbeReport, ask: _Asker) -> None:
    first = ask({}, SAMPLE, "first page of the default order")
    following = (first.get("pagination") or {}).get("next_cursor")
    if not following:
        if report.total is not None and report.total > len(first["results"]):
            report.next_cursor_moves_forward = False
            report.reasons["next_cursor_moves_forward"] = (
                f"a page of {len(first['results'])} of {report.total} tasks came with no "
                "next_cursor")
        return
    second = task_ids(ask({}, SAMPLE, "second page of the default order",
                          {"cursor": following})["results"])
    # A few repeats are what tasks created meanwhile cause (the strategy drops them); a page
    # of nothing new means the cursor did not move.
    if second and set(second) <= set(task_ids(first["results"])):
        report.next_cursor_moves_forward = False
        report.reasons["next_cursor_moves_forward"] = (
            "the page after next_cursor held only tasks of the first page")
    else:
        report.next_cursor_moves_forward = True


def choose(client: MixpeekClient, report: ProbeReport, mode: PagingMode | str,
           concurrency: int) -> tuple[PagingStrategy, str]:
    """The strategy for this export and the reason, or MixpeekProtocolError naming what the
    service did not honour. `auto` takes the first strategy whose assumptions all hold (for
    sliced paging, also whose plan the service's counts allow)."""
    mode = PagingMode(mode)
    wanted = list(STRATEGIES) if mode is PagingMode.AUTO else [mode]
    refused = []
    for name in wanted:
        needs, build, reason = STRATEGIES[name]
        # A strategy nothing has disproved yet starts while its last questions are asked
        # (keyset paging sends its first pages); nothing of it is read unless they all hold,
        # and then only what they vouch for.
        strategy = build(client, report, concurrency) if report.holds(*needs) else None
        if strategy is not None:
            strategy.start()
        for ask_about in QUESTIONS[name]:
            ask_about(report, _Asker(client, report))
        failed = [a for a in needs if not report.holds(a)]
        if failed:
            refused.append(f"{name.value} paging needs {', '.join(failed)}: "
                           + "; ".join(report.reasons[a] for a in failed))
            continue
        try:
            strategy.plan()  # sliced paging asks the service's counts here
        except MixpeekProtocolError as error:
            refused.append(f"{name.value} paging: {error}")
            continue
        if refused:
            reason += " (" + " | ".join(refused) + ")"
        return strategy, reason
    raise MixpeekProtocolError("no paging strategy can list every task here: "
                               + " | ".join(refused))


# What `choose` asks the service before it tries a strategy (the probe asked the rest of
# keyset's).
QUESTIONS = {PagingMode.KEYSET: (_probe_range_filters,),
             PagingMode.SLICED: (_probe_created_at_sort,), PagingMode.CURSOR: (_probe_cursor,)}

# In the order `auto` tries them: what each needs, how it is built, why it was chosen.
STRATEGIES = {
    PagingMode.KEYSET: (
        KEYSET_NEEDS,
        lambda client, report, concurrency: KeysetPaging(
            client, ranges_between(report.id_sample, concurrency)),
        "the service honours sort and range filters on task_id, sorted before limit"),
    PagingMode.SLICED: (
        SLICED_NEEDS,
        lambda client, report, concurrency: SlicedPaging(client, report.total),
        "the service sorts by created_at before the limit and counts what it lists"),
    PagingMode.CURSOR: (
        CURSOR_NEEDS,
        lambda client, report, concurrency: CursorPaging(client),
        "next_cursor moves forward"),
}
