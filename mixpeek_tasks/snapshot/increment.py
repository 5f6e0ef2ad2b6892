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

import pyarrow as pa
import pyarrow.compute as pc

from mixpeek_tasks.api.paging.changes import FINISHED, IDS_PER_REQUEST
from mixpeek_tasks.api.paging.incremental import IncrementalPaging
from mixpeek_tasks.api.paging.probe import ProbeReport
from mixpeek_tasks.api.vocabulary import api_timestamp
from mixpeek_tasks.snapshot.reconcile import CLOCK_MARGIN

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


def plan_increment(known: KnownState | None, report: ProbeReport, *, full_every: int,
                   on_demand: bool, full_requests: int | None) -> IncrementalPaging | str:
    """The incremental listing for this observation, or why it must list every task: what
    `why_full` says, or unfinished tasks to read again that cost `full_requests` (what
    listing everything costs) or more."""
    reason = why_full(known, report, full_every=full_every, on_demand=on_demand)
    if reason is not None:
        return reason
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


def why_full(known: KnownState | None, report: ProbeReport, *, full_every: int,
             on_demand: bool) -> str | None:
    """Why this observation must list every task, before it is costed; None when it may be
    incremental."""
    if on_demand:
        return "a full listing was asked for (--full)"
    if known is None:
        return "no complete observation before this one to start from"
    if known.since_full + 1 >= full_every:
        return (f"every {full_every}th observation lists every task (the last full listing was "
                f"{known.since_full} observation(s) ago)")
    if known.created_before_since() is None:
        return "the history holds tasks without created_at, which the plan's counts need"
    failed = [name for name in RELIED_ON if getattr(report, name) is not True]
    if failed:
        return "the probe does not vouch for the plan: " + "; ".join(
            f"{RELIED_ON[name]} ({report.reasons.get(name, 'too few tasks to tell')})"
            for name in failed)
    return None


def check_increment(known: KnownState, *, missing: list[str], counted_before_since: int | None,
                    counted_since: int | None, listed_since: int) -> str:
    """The verdict on an incremental listing, or IncrementDoubt naming the numbers.

    `counted_before_since`: the service's count, at the end, of tasks created before
    `known.since`: the history's known ones less those gone (asked for by id and not
    listed: `missing`); a different number means tasks were deleted that the plan cannot see
    (finished ones), or tasks exist that the history never listed. `counted_since`: its count
    of tasks created from `known.since` to this listing's cutoff (when it began, less the
    margin), of which the listing holds `listed_since`: a keyed listing within the filter, so
    every one of them that still exists is in it."""
    if counted_before_since is None or counted_since is None:
        raise IncrementDoubt("the service gave no count to check the incremental listing by")
    before = known.created_before_since() or 0
    gone_before = known.counted_before_since(missing)
    expected = before - gone_before
    if counted_before_since != expected:
        raise IncrementDoubt(
            f"the service counts {counted_before_since:,} tasks created before "
            f"{known.since_text}, the history {before:,} alive of which {gone_before:,} went: "
            + ("finished tasks were deleted, which only a full listing sees"
               if counted_before_since < expected else
               "tasks exist that no observation listed"))
    if listed_since < counted_since:
        raise IncrementDoubt(
            f"the listing holds {listed_since:,} tasks created since {known.since_text}, the "
            f"service counts {counted_since:,}")
    return (f"exact: {expected:,} tasks from before {known.since_text} known ({len(missing):,} "
            f"gone), {listed_since:,} created since listed of the {counted_since:,} counted")
