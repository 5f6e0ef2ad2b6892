"""Whether an observation may be incremental, and whether one that was is exact.

An incremental observation (api/paging/incremental.py) reads only the tasks created since the
last complete observation began, less the clock margin, and the tasks that were not terminal
then. It is only as good as what it relies on, so it is chosen only where all of it holds, and
checked by the service's own counts before it is published; any doubt makes the run a full
listing, and the reason is logged and recorded.

The known state is what the history holds after its last complete observation: every task
alive then, with its status and creation time (a table of task_id, status, created_at).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mixpeek_tasks.api.paging.changes import (
    FINISHED,
    IDS_PER_REQUEST,
    created_before,
    created_since,
)
from mixpeek_tasks.api.paging.incremental import IncrementalPaging
from mixpeek_tasks.api.paging.pages import PageRequest
from mixpeek_tasks.api.paging.probe import (
    ProbeReport,
    ProbeRequests,
    ask_created_at_filter,
    ask_get_by_id,
    ask_range_filters,
    ask_task_id_in_filter,
)
from mixpeek_tasks.api.paging.runner import PagingRunner
from mixpeek_tasks.api.vocabulary import api_timestamp
from mixpeek_tasks.snapshot.coverage import Coverage
from mixpeek_tasks.snapshot.observation import Observation
from mixpeek_tasks.snapshot.reconcile import CLOCK_MARGIN
from mixpeek_tasks.snapshot.tree import SnapshotTree

# What the known state holds of each task.
STATE_COLUMNS = ("task_id", "status", "created_at")
# What measure_increment asks: the tasks created before the margin, and since it.
INCREMENT_CHECK_REQUESTS = 2

# What the plan relies on, with why each is needed; and the two ways it reads the unfinished
# tasks again, the cheaper first.
RELIED_ON = {
    "created_at_given": "the records carry created_at",
    "created_at_filter": "a created_at filter lists the tasks created since a moment",
    "sort_by_task_id": "the new tasks are listed in task_id order",
    "task_id_range_filters": "the new tasks are listed in task_id order",
    "sort_before_limit": "the new tasks are listed in task_id order",
    "total_given": "the service counts what it lists, to check the plan by",
}
READS = {"task_id_in_filter": "a task_id `in` filter lists the tasks asked for",
         "get_by_id": "GET /v1/tasks/{id} answers a listed task"}


class IncrementDoubt(Exception):
    """An incremental listing that cannot be shown exact: the run lists everything instead."""


@dataclass(frozen=True)
class KnownState:
    """The history after its last complete observation `observation_id`, whose listing began
    at `listing_started_at`: `tasks` (task_id, status, created_at) alive then, and how many
    observations since the last full listing (0: that one was)."""

    observation_id: str
    listing_started_at: datetime
    tasks: pa.Table
    since_full: int

    @property
    def since(self) -> datetime:
        """Tasks created from this moment on may be unknown to the history."""
        return self.listing_started_at - CLOCK_MARGIN

    @property
    def since_text(self) -> str:
        return api_timestamp(self.since)

    def unfinished(self) -> list[str]:
        """The tasks not terminal then: the ones whose record may have changed."""
        finished = pc.is_in(self.tasks["status"], pa.array(FINISHED))
        return self.tasks.filter(pc.invert(finished))["task_id"].to_pylist()

    def created_before_since(self) -> int | None:
        """How many known tasks were created before `since`; None if any has no created_at."""
        created = self.tasks["created_at"]
        if created.null_count:
            return None
        return pc.sum(pc.less(created, pa.scalar(self.since, created.type))).as_py() or 0

    def known(self, task_ids: list[str]) -> list[bool]:
        """Whether each of `task_ids` is a known task."""
        return pc.is_in(pa.array(task_ids, pa.string()), self.tasks["task_id"]).to_pylist()

    def counted_before_since(self, task_ids: list[str]) -> int:
        """How many of `task_ids` are known tasks created before `since`."""
        named = self.tasks.filter(pc.is_in(self.tasks["task_id"], pa.array(task_ids, pa.string())))
        created = named["created_at"]
        return pc.sum(pc.less(created, pa.scalar(self.since, created.type))).as_py() or 0


def why_full(known: KnownState | None, *, full_every: int, on_demand: bool) -> str | None:
    """Why this observation must list every task, before the probe is asked anything more;
    None when it may be incremental."""
    if on_demand:
        return "a full listing was asked for (--full)"
    if known is None:
        return "no complete observation before this one to build on"
    if known.since_full + 1 >= full_every:
        return (f"every {full_every}th observation lists every task (the last full listing was "
                f"{known.since_full} observation(s) ago)")
    if known.created_before_since() is None:
        return "the history holds tasks without created_at, which the plan's counts need"
    return None


def plan_increment(known: KnownState, report: ProbeReport, *,
                   full_requests: int | None) -> IncrementalPaging | str:
    """The incremental listing, once the probe was asked ask_increment_questions, or why
    every task must be listed: something it relies on that the probe does not vouch for, or
    unfinished tasks to read again that cost `full_requests` (what listing everything costs)
    or more."""
    failed = [name for name in RELIED_ON if getattr(report, name) is not True]
    if failed:
        return "the probe does not vouch for the plan: " + "; ".join(
            f"{RELIED_ON[name]} ({report.reasons.get(name, 'too few tasks to tell')})"
            for name in failed)
    unfinished = known.unfinished()
    if report.task_id_in_filter is True:
        strategy, reads = IncrementalPaging(known.since_text, unfinished), -(
            -len(unfinished) // IDS_PER_REQUEST)
    elif report.get_by_id is True:
        strategy = IncrementalPaging(known.since_text, unfinished, one_by_one=True)
        reads = len(unfinished)
    else:
        return "the probe vouches for no way to read the unfinished tasks again: " + "; ".join(
            f"{why} ({report.reasons.get(name, 'too few tasks to tell')})"
            for name, why in READS.items())
    if full_requests is not None and reads >= full_requests:
        return (f"reading the {len(unfinished):,} unfinished tasks again takes {reads:,} "
                f"requests, listing every task {full_requests:,}")
    return strategy


def ask_increment_questions(report: ProbeReport, ask: ProbeRequests) -> None:
    """What plan_increment needs the probe to have asked (GET by id only where the `in`
    filter fails)."""
    for question in (ask_range_filters, ask_created_at_filter, ask_task_id_in_filter):
        question(report, ask)
    if report.task_id_in_filter is not True:
        ask_get_by_id(report, ask)


def choose_increment(runner: PagingRunner, report: ProbeReport, tree: SnapshotTree, *,
                     full_every: int, on_demand: bool
                     ) -> tuple[IncrementalPaging | None, KnownState | None, str]:
    """The incremental listing for this observation with what it builds on and why, or None
    with the reason every task must be listed."""
    known = known_state(tree)
    reason = why_full(known, full_every=full_every, on_demand=on_demand)
    if reason is not None:
        return None, known, reason
    ask_increment_questions(report, ProbeRequests(runner, report))
    full_requests = None if report.total is None else -(-report.total // runner.page_size)
    planned = plan_increment(known, report, full_requests=full_requests)
    if isinstance(planned, str):
        return None, known, planned
    how = "one by one" if planned.one_by_one else "in task_id `in` batches"
    return planned, known, (
        f"the tasks created since {known.since_text} and the {len(planned.unfinished):,} "
        f"unfinished at observation {known.observation_id}, read again {how}; terminal "
        "statuses never change, and the probe vouches for every filter this relies on")


def known_state(tree: SnapshotTree) -> KnownState | None:
    """The history after the newest observation: its tasks and those it carried, back to the
    full listing it builds on; None without one (or with an observation that has no coverage
    record, or an increment that does not build on the observation before it)."""
    chain: list[tuple[Observation, Coverage]] = []
    for observation in reversed(tree.observations()):
        raw = tree.coverage(observation)
        if raw is None:
            return None
        coverage = Coverage.from_json(raw)
        if chain and chain[-1][1].increment["base_observation"] != observation.id:
            return None
        chain.append((observation, coverage))
        if coverage.increment is None:
            break
    else:
        return None
    state: pa.Table | None = None
    started = None
    for observation, coverage in reversed(chain):
        with tree.files(observation) as files:
            listed = pq.read_table(files.tasks, columns=list(STATE_COLUMNS))
            started = files.observation.listing_started_at
        if state is None:
            state = listed
            continue
        dropped = pa.concat_arrays([listed["task_id"].combine_chunks(),
                                    pa.array(coverage.increment["gone"], pa.string())])
        state = pa.concat_tables([
            state.filter(pc.invert(pc.is_in(state["task_id"], dropped))), listed])
    return KnownState(chain[0][0].id, started, state, since_full=len(chain) - 1)


@dataclass(frozen=True)
class Increment:
    """An incremental observation's record, in its coverage: the observation `base` it builds
    on, the moment `since` from which it listed every task created, the counts that checked
    it, the tasks it carried unchanged from `base` (listed there, or carried there from an
    earlier one) and the unfinished tasks asked for by id that the service no longer has."""

    base_observation: str
    since: str
    known_before_since: int
    gone_before_since: int
    counted_before_since: int | None
    counted_since: int | None
    listed_since: int
    carried: int
    gone: list[str]

    def verdict(self) -> str:
        """The verdict on the listing, or IncrementDoubt naming the numbers.

        The service's count of tasks created before `since` must be the history's known ones
        less those gone: fewer means finished tasks were deleted, which the plan cannot see;
        more, tasks exist that no observation listed. Its count of tasks created from `since`
        to this listing's cutoff must all be listed (a keyed listing within the filter: every
        one that still exists is in it)."""
        if self.counted_before_since is None or self.counted_since is None:
            raise IncrementDoubt("the service gave no count to check the incremental listing by")
        expected = self.known_before_since - self.gone_before_since
        if self.counted_before_since != expected:
            raise IncrementDoubt(
                f"the service counts {self.counted_before_since:,} tasks created before "
                f"{self.since}, the history {self.known_before_since:,} alive of which "
                f"{self.gone_before_since:,} went: " + (
                    "finished tasks were deleted, which only a full listing sees"
                    if self.counted_before_since < expected else
                    "tasks exist that no observation listed"))
        if self.listed_since < self.counted_since:
            raise IncrementDoubt(
                f"the listing holds {self.listed_since:,} tasks created since {self.since}, "
                f"the service counts {self.counted_since:,}")
        return (f"exact: {expected:,} tasks from before {self.since} known ({len(self.gone):,} "
                f"gone), {self.listed_since:,} created since listed of the "
                f"{self.counted_since:,} counted; {self.carried:,} carried unchanged from "
                f"observation {self.base_observation}")


def increment_of(known: KnownState, *, listed: list[str], missing: list[str],
                 counted_before_since: int | None, counted_since: int | None,
                 listed_since: int) -> Increment:
    """The record of an incremental listing that listed the tasks `listed` and did not find
    the unfinished `missing`, with the service's counts (Increment.verdict judges them)."""
    gone = sorted(task_id for task_id, is_known in zip(missing, known.known(missing))
                  if is_known)
    listed_known = sum(known.known(listed))
    return Increment(
        base_observation=known.observation_id, since=known.since_text,
        known_before_since=known.created_before_since() or 0,
        gone_before_since=known.counted_before_since(missing),
        counted_before_since=counted_before_since, counted_since=counted_since,
        listed_since=listed_since, carried=known.tasks.num_rows - listed_known - len(gone),
        gone=gone)


def measure_increment(runner: PagingRunner, known: KnownState, strategy: IncrementalPaging,
                      tasks_file: Path, cutoff: datetime) -> Increment:
    """The record of the incremental listing staged in `tasks_file`, with the service's counts
    now (one round trip): every task created before `known.since`, and from it to `cutoff`."""
    cut = api_timestamp(cutoff)
    since_to_cutoff = {"filters": {"AND": [
        *created_since(known.since_text)["filters"]["AND"],
        *created_before(cut)["filters"]["AND"]], "case_sensitive": True}}
    answers = runner.ask_together([
        PageRequest(created_before(known.since_text), 1,
                    f"check: tasks created before {known.since_text}", {"include_total": "true"}),
        PageRequest(since_to_cutoff, 1, f"check: tasks created from {known.since_text} to {cut}",
                    {"include_total": "true"})])
    before, since = [_total(answer) for answer in answers]
    table = pq.read_table(tasks_file, columns=["task_id", "created_at"])
    created = table["created_at"]
    in_window = pc.and_(pc.greater_equal(created, pa.scalar(known.since, created.type)),
                        pc.less(created, pa.scalar(cutoff, created.type)))
    return increment_of(known, listed=table["task_id"].to_pylist(), missing=strategy.missing(),
                        counted_before_since=before, counted_since=since,
                        listed_since=pc.sum(in_window).as_py() or 0)


def _total(answer: dict) -> int | None:
    value = (answer.get("pagination") or {}).get("total")
    return value if isinstance(value, int) and not isinstance(value, bool) else None
