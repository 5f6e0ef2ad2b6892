"""One observation: every task the API lists now -> a Parquet snapshot of that moment.

The service has no as-of query, so an export can only ever observe the present: the run mints
the observation's id at its start (observation.py) and no caller chooses a date for it.

The same function serves the Dagster asset, the benchmark and the tests. It first probes the
service and picks a paging strategy whose assumptions hold there (api/paging/probe.py and
choice.py). Then it streams (PageStager): pages are flattened as they arrive and staged in
parts of PART_ROWS rows with a checkpoint of the paging position (staging.py), so memory stays
flat however many tasks the account has and an interrupted listing resumes. Last it reconciles
the snapshot with the service's counts and publishes it (reconcile_and_publish), publishing
nothing it cannot show complete (reconcile.py).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

import pyarrow as pa

from mixpeek_tasks.api.budget import RequestPlan
from mixpeek_tasks.api.paging.choice import choose
from mixpeek_tasks.api.paging.modes import PagingMode
from mixpeek_tasks.api.paging.pages import Page, PagingStrategy
from mixpeek_tasks.api.paging.probe import ProbeReport, probe
from mixpeek_tasks.api.paging.runner import PagingRunner
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.settings import FULL_LISTING_EVERY
from mixpeek_tasks.snapshot.coverage import Coverage, ServiceCounts
from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA, flatten_tasks
from mixpeek_tasks.snapshot.increment import (
    INCREMENT_CHECK_REQUESTS,
    Increment,
    IncrementDoubt,
    KnownState,
    choose_increment,
    measure_increment,
)
from mixpeek_tasks.snapshot.observation import Observation
from mixpeek_tasks.snapshot.reconcile import (
    CLOCK_MARGIN,
    END_COUNT_REQUESTS,
    EndCount,
    count_created_before,
    read_content,
    verdict_for,
)
from mixpeek_tasks.snapshot.staging import SnapshotStaging, StreamProgress
from mixpeek_tasks.snapshot.tree import SnapshotTree

PROGRESS_EVERY_SECONDS = 5.0
# Rows staged per part: bounds memory and how much an interrupted export fetches again.
PART_ROWS = 25_000

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotResult:
    observation: Observation
    tasks_path: Path | str  # an s3:// URI for a tree on S3
    quarantine_path: Path | str
    rows: int
    quarantined: int
    pages: int
    resumed_rows: int
    requests: int
    bytes_received: int
    seconds: float
    throttled_seconds: float
    coverage: Coverage


def progress_line(pages: int, records: int, per_second: float, total: int | None) -> str:
    """One progress line: pages, tasks and rate, and with the service's total, how far and
    how long still (the total moves as tasks are created, so the share is capped at 99%)."""
    line = f"{pages:,} pages, {records:,} tasks, {per_second:,.0f} tasks/s"
    if total and per_second > 0:
        share = min(records / total, 0.99)
        left = max(total - records, 0) / per_second
        line += f", {share:.0%} of {total:,}, about {left:,.0f}s left"
    return line


class PageStager:
    """Flattens pages as they arrive and stages them in parts of at least `part_rows` records,
    each with the positions its pages reached, reporting progress every few seconds."""

    def __init__(self, staging: SnapshotStaging, *, part_rows: int,
                 progress: Callable[[str], None], total: int | None, started: float,
                 note: Callable[[], str] | None = None):
        self.staging = staging
        # The files' export_date column: the observation's UTC date.
        self.observed_on = staging.observation().observed_on
        self.part_rows = part_rows
        self.progress = progress
        self.total = total
        self.started = started
        self.note = note  # more for the progress line (the requests planned and left)
        self.bytes_received = 0
        self._tasks: list[pa.Table] = []
        self._quarantine: list[pa.Table] = []
        self._reached: dict[str, StreamProgress] = {}
        self._buffered = self._pages = 0

    @property
    def records(self) -> int:
        """Records listed so far: staged, by this run or the one it resumes, and buffered."""
        return self.staging.rows + self.staging.quarantined + self._buffered

    def stage(self, pages: Iterable[Page], *, listed: Callable[[int], None]) -> None:
        """Stage every page; `listed` hears how many records the listing holds with each."""
        resumed_records = self.records
        last_report = self.started
        for page in pages:
            listed(self.records + len(page.tasks))
            self._add(page)
            now = time.monotonic()
            if now - last_report >= PROGRESS_EVERY_SECONDS:
                last_report = now
                line = progress_line(
                    self.staging.pages + self._pages, self.records,
                    (self.records - resumed_records) / (now - self.started), self.total)
                self.progress(f"{line}; {self.note()}" if self.note else line)
        self._flush()

    def _add(self, page: Page) -> None:
        self.staging.note_page(page.fetched_at)
        flat = flatten_tasks(page.tasks, self.observed_on, page.fetched_at)
        self._tasks.append(flat.tasks)
        self._quarantine.append(flat.quarantine)
        self._reached[page.stream] = StreamProgress(page.after, page.is_last)
        self._buffered += len(page.tasks)
        self._pages += 1
        self.bytes_received += page.size_bytes
        if self._buffered >= self.part_rows:
            self._flush()

    def _flush(self) -> None:
        if not self._pages:
            return
        self.staging.add_part(
            pa.concat_tables(self._tasks) if self._tasks else TASK_SCHEMA.empty_table(),
            pa.concat_tables(self._quarantine) if self._quarantine
            else QUARANTINE_SCHEMA.empty_table(),
            self._pages, dict(self._reached))
        self._tasks.clear(), self._quarantine.clear(), self._reached.clear()
        self._buffered = self._pages = 0


def planned_requests(strategy: PagingStrategy, total: int | None, page_size: int) -> int | None:
    """The requests a whole listing of `total` tasks by `strategy` still sends: a page per
    `page_size` tasks and at most one short page more per stream, and the reconciliation's
    counts; None when there is no total to count the pages by."""
    if total is None:
        return None
    pages = -(-total // page_size) + len(strategy.plan())
    return pages + END_COUNT_REQUESTS + (1 if strategy.positional else 0)


def reconcile_and_publish(staging: SnapshotStaging, strategy: PagingStrategy, reason: str,
                          report: ProbeReport, *, at_start: ServiceCounts,
                          at_end: ServiceCounts, requests: int,
                          progress: Callable[[str], None],
                          increment: Callable[[Path], Increment] | None = None,
                          ) -> tuple[Coverage, Observation, Path | str, Path | str]:
    """Check the staged snapshot against the service's counts and publish it with its coverage
    record (SnapshotIncomplete, and nothing published, if it cannot be shown complete); return
    the record, the observation and where its tasks and quarantine files are. An incremental
    listing is judged by its `increment` record instead (IncrementDoubt if it is not exact)."""
    cutoff = staging.started_at - CLOCK_MARGIN
    content = read_content(staging.finished_tasks_file(), staging.quarantined, cutoff)
    record = None if increment is None else increment(staging.finished_tasks_file())
    verdict = (verdict_for(at_start, at_end, content, positional=strategy.positional)
               if record is None else record.verdict())
    coverage = Coverage(strategy=strategy.name, reason=reason, positional=strategy.positional,
                        cutoff=cutoff, at_start=at_start, at_end=at_end, content=content,
                        requests=requests, probe=report.as_metadata(),
                        strategy_facts=strategy.facts(), verdict=verdict,
                        increment=None if record is None else asdict(record))
    progress(f"reconciled: {coverage.verdict}")
    observation, tasks_path, quarantine_path = staging.publish(coverage.to_json())
    staging.discard()
    return coverage, observation, tasks_path, quarantine_path


def export_snapshot(
    client: MixpeekClient,
    tree: SnapshotTree | Path | str,
    *,
    concurrency: int = 4,
    progress: Callable[[str], None] = log.info,
    resume_within: timedelta = timedelta(hours=12),
    lock_timeout: float = 3600.0,
    part_rows: int = PART_ROWS,
    paging: PagingMode | str = PagingMode.AUTO,
    full: bool = False,
    full_every: int | None = None,
) -> SnapshotResult:
    """List the tasks and publish them, with the quarantine, as a new observation in `tree`
    (a SnapshotTree, or its root).

    After a complete observation, the next lists only the tasks created since and those not
    terminal then, where the probe vouches for all this relies on (snapshot/increment.py);
    every `full_every`th observation (None: MIXPEEK_FULL_LISTING_EVERY), one with `full`, and
    any whose incremental listing cannot be shown exact list every task, the reason logged and
    recorded.
    A listing interrupted less than `resume_within` ago is resumed from its checkpoint, as the
    same observation; a concurrent listing is waited for up to `lock_timeout` seconds.
    `paging` forces a strategy of a full listing (MixpeekProtocolError if the probe shows it
    cannot work here).
    """
    started = time.monotonic()
    runner = PagingRunner.of(client)
    report = probe(runner)
    tree = tree if isinstance(tree, SnapshotTree) else SnapshotTree(tree)
    observe = partial(_observe, client, runner, report, tree, started=started,
                      concurrency=concurrency, progress=progress, resume_within=resume_within,
                      lock_timeout=lock_timeout, part_rows=part_rows)
    if PagingMode(paging) is PagingMode.AUTO:
        increment, known, why = choose_increment(
            runner, report, tree, on_demand=full,
            full_every=FULL_LISTING_EVERY.read() if full_every is None else full_every)
    else:
        increment, known, why = None, None, f"paging is set to {PagingMode(paging).value}"
    if increment is not None:
        progress(f"paging incrementally: {why}")
        try:
            return observe(increment, f"incremental: {why}", known)
        except IncrementDoubt as doubt:
            why = f"the incremental listing could not be shown exact: {doubt}"
            log.warning("listing every task: %s", why)
    progress(f"listing every task: {why}")
    strategy, reason = choose(runner, report, paging, concurrency=concurrency)
    return observe(strategy, f"{reason} (listing every task: {why})", None)


def _observe(client: MixpeekClient, runner: PagingRunner, report: ProbeReport,
             tree: SnapshotTree, strategy: PagingStrategy, reason: str,
             known: KnownState | None, *, started: float, concurrency: int,
             progress: Callable[[str], None], resume_within: timedelta, lock_timeout: float,
             part_rows: int) -> SnapshotResult:
    """Page `strategy` into a staged observation and publish it once it is shown complete (an
    incremental one, by `known`, the history it builds on: IncrementDoubt, and nothing
    published, if it cannot be)."""
    progress(f"paging by {strategy.name}: {reason}")
    plan = None
    if client.budget.max_per_minute is not None:
        # An incremental listing: a request per batch of ids and its counts, and the new tasks'
        # pages, which no count tells ahead (at least one).
        planned = (planned_requests(strategy, report.total, client.page_size) if known is None
                   else len(strategy.plan()) + INCREMENT_CHECK_REQUESTS)
        plan = None if planned is None else RequestPlan(client.requests_sent + planned,
                                                        client.budget)
        what = ("the listing plans" if known is None else
                f"the incremental listing plans, and a page per {client.page_size:,} new tasks")
        progress(plan.announce(what) if plan else
                 "the service gives no total: the listing's requests cannot be counted ahead")
    with SnapshotStaging.open(tree, strategy, resume_within=resume_within,
                              lock_timeout=lock_timeout) as staging:
        cutoff = staging.started_at - CLOCK_MARGIN
        # A listing by position can skip a task for every task deleted while it runs, and a
        # deletion also hides a miss in the counts: such a listing counts what exists before
        # its first page, and is refused if anything went.
        start_count = (count_created_before(client, cutoff, "at the start")
                       if strategy.positional else None)
        end_count = EndCount(client, cutoff, total=report.total, positional=strategy.positional)
        resumed_rows = staging.rows
        if staging.resumed:
            progress(f"resuming the listing of observation {staging.observation_id}: "
                     f"{staging.rows:,} tasks in {staging.pages} pages already staged")
        else:
            progress(f"observation {staging.observation_id}")
        stager = PageStager(staging, part_rows=part_rows, progress=progress,
                            total=None if known else report.total, started=started,
                            note=plan and (lambda: plan.progress(client.requests_sent)))
        # Closed however staging ends: a Ctrl-C's traceback keeps the generator alive, and
        # its workers, blocked on a full queue, would hold the interpreter's exit for ever.
        with contextlib.closing(runner.pages(strategy, staging.pending(),
                                             concurrency=concurrency)) as pages:
            stager.stage(pages, listed=end_count.listed if known is None else lambda _: None)
        if known is None:
            at_end, increment = end_count.counts(), None
        else:
            at_end = ServiceCounts(None, None)
            increment = partial(measure_increment, runner, known, strategy, cutoff=cutoff)
        # The total must be from before the first page (a task created at the head of the
        # listing after it is never seen by a positional listing): the probe's is.
        try:
            coverage, observation, tasks_path, quarantine_path = reconcile_and_publish(
                staging, strategy, reason, report,
                at_start=ServiceCounts(report.total, start_count), at_end=at_end,
                requests=client.requests_sent, progress=progress, increment=increment)
        except IncrementDoubt:
            staging.discard()
            raise
    return SnapshotResult(
        observation=observation,
        tasks_path=tasks_path,
        quarantine_path=quarantine_path,
        rows=staging.rows,
        quarantined=staging.quarantined,
        pages=staging.pages,
        resumed_rows=resumed_rows,
        requests=client.requests_sent,
        bytes_received=stager.bytes_received,
        seconds=time.monotonic() - started,
        throttled_seconds=client.budget.waited_seconds,
        coverage=coverage,
    )
