"""Reconcile a snapshot with the service's own counts before it is published.

A paging strategy can only vouch for what it saw; the count asks the service. At the start the
probe asked for `include_total`; at the end the export asks again, for every task and for the
tasks created before the export started that still exist (`created_at` filter). Every one of
those must be in the snapshot. Tasks created during the run may or may not be; tasks deleted
during the run may be. A strategy that pages by position (cursor) cannot tell a deletion from
a skip, so deletions during its run leave the snapshot unprovable, and it is refused.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from mixpeek_tasks.api.errors import MixpeekAPIError, MixpeekError
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.api.vocabulary import api_timestamp
from mixpeek_tasks.snapshot.coverage import ServiceCounts, SnapshotContent

# Tasks created this long before the export started count as created during it: the service's
# clock and ours may disagree, and a task created in that margin may rightly be missing.
CLOCK_MARGIN = timedelta(minutes=10)
log = logging.getLogger(__name__)


class SnapshotIncomplete(MixpeekError):
    """The snapshot holds fewer tasks than the service reports, or cannot be shown to hold
    them all: it is not published."""


def _total(client: MixpeekClient, body: dict, label: str) -> int | None:
    payload, _ = client.request_page(body, limit=1, what=f"reconcile: {label}",
                                     params={"include_total": "true"})
    value = (payload.get("pagination") or {}).get("total")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def count_created_before(client: MixpeekClient, moment: datetime, when: str) -> int | None:
    """The service's count of tasks created before `moment` (None if it refuses the filter)."""
    try:
        return _total(client, {"filters": {"AND": [
            {"field": "created_at", "operator": "lt", "value": api_timestamp(moment)}]}},
            f"tasks created before {api_timestamp(moment)} {when}")
    except MixpeekAPIError as error:
        log.warning("the service refused a created_at filter (%s); reconciling on totals", error)
        return None


# What count_service asks: the total, the tasks created before the cutoff, and a control.
END_COUNT_REQUESTS = 3


def count_service(client: MixpeekClient, cutoff: datetime) -> ServiceCounts:
    """Ask the service, now, for its total and for the tasks created before `cutoff`."""
    # One round trip: requests a moment apart count the same account. Nothing was created
    # before 1970: a service that counts anything there ignores the filter, and its count
    # proves nothing.
    with ThreadPoolExecutor(max_workers=2) as pool:
        asked = pool.submit(count_created_before, client, cutoff, "at the end")
        control = pool.submit(count_created_before, client,
                              datetime(1970, 1, 2, tzinfo=timezone.utc), "(a control)")
        everything = _total(client, {}, "total at the end")
        before = asked.result() if control.result() == 0 else None
    return ServiceCounts(everything, before)


class EndCount:
    """The service's counts at the end of an export, asked while its last pages are still
    coming where that cannot hide a missing task, so that their round trip costs nothing.

    A task that existed for the whole export exists whenever the count is asked: counted
    earlier, no missing task goes unnoticed; only a task deleted between the count and its
    page is required in vain (a false refusal). So the count starts as late as still hides its
    round trip: once the listing holds the probe's total, when the ranges' empty pages are
    what is left. Two cases count after the last page instead: a listing by position, whose
    end count also measures the deletions that can make it skip; and counts without
    created_before, whose totals are net of tasks created meanwhile, where earlier is not
    stricter.
    """

    def __init__(self, client: MixpeekClient, cutoff: datetime, *, total: int | None,
                 positional: bool):
        self.client = client
        self.cutoff = cutoff
        self.start_at = None if positional else total
        self.early: Future | None = None

    def listed(self, records: int) -> None:
        """The listing holds `records` so far: start the count once they reach the total."""
        if self.early is None and self.start_at is not None and records >= self.start_at:
            pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mixpeek-count")
            self.early = pool.submit(count_service, self.client, self.cutoff)
            pool.shutdown(wait=False)  # its thread ends with the count, even if the export fails

    def counts(self) -> ServiceCounts:
        """The counts, once the last page is in: the early ones if they can be used."""
        if self.early is not None:
            early = self.early.result()
            if early.created_before is not None:
                return early
        return count_service(self.client, self.cutoff)


def read_content(tasks_file: Path, quarantined: int, cutoff: datetime) -> SnapshotContent:
    """Count what the (unpublished) tasks file holds; a record without created_at counts as
    created before the cutoff."""
    table = pq.read_table(tasks_file, columns=["created_at", "from_mongodb"])
    created = table.column("created_at")
    newer = pc.sum(pc.greater_equal(created, cutoff)).as_py() or 0
    mongo = pc.sum(table.column("from_mongodb").fill_null(False)).as_py() or 0
    return SnapshotContent(
        listed=table.num_rows + quarantined,
        listed_from_before=table.num_rows + quarantined - newer,
        oldest_created_at=pc.min(created).as_py(),
        newest_created_at=pc.max(created).as_py(),
        from_mongodb_share=round(mongo / table.num_rows, 6) if table.num_rows else None,
    )


def verdict_for(at_start: ServiceCounts, at_end: ServiceCounts, content: SnapshotContent, *,
                positional: bool) -> str:
    """The verdict on a snapshot: a line for the metadata, or SnapshotIncomplete naming the
    numbers."""
    if at_end.total is None:
        if positional:
            raise SnapshotIncomplete(
                "the service gives no total (include_total), so a snapshot listed by position "
                "cannot be reconciled; it is not published")
        return "unreconciled: the service gives no total; the probe vouched for keyset paging"
    if at_end.created_before is not None:
        # Every task created before the export that still exists at its end was there all
        # along: each must be listed.
        required, listed = at_end.created_before, content.listed_from_before
        counted = "created before the export"
        deleted = (None if at_start.created_before is None
                   else max(0, at_start.created_before - at_end.created_before))
    else:
        start = at_start.total if at_start.total is not None else at_end.total
        required, listed = min(start, at_end.total), content.listed
        counted = "in the listing at its start and its end"
        deleted = None if at_start.total is None else max(0, start - at_end.total)
    if listed < required:
        raise SnapshotIncomplete(
            f"the snapshot holds {listed:,} tasks {counted}, the service reports {required:,}: "
            f"at least {required - listed:,} missing (totals: {at_start.total} at the start, "
            f"{at_end.total} at the end); it is not published")
    if positional and deleted is None:
        raise SnapshotIncomplete(
            "the tasks deleted while the export paged by position were not counted, and each "
            "could hide a skipped task; the snapshot cannot be shown complete and is not "
            "published")
    if positional and deleted:
        raise SnapshotIncomplete(
            f"{deleted:,} tasks were deleted while the export paged by position, which can skip "
            "as many tasks without a trace; the snapshot cannot be shown complete and is not "
            "published (re-run, or use a strategy that pages by key)")
    return f"exact: {listed:,} listed of the {required:,} tasks {counted} the service reports"
