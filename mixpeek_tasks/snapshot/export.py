"""One observation: every task the API lists now -> a Parquet snapshot of that moment.

The service has no as-of query, so an export can only ever observe the present: the run mints
the observation's id at its start (observation.py) and no caller chooses a date for it.

The same function serves the Dagster asset, the benchmark and the tests. It first probes the
service and picks a paging strategy whose assumptions hold there (api/paging/probe.py), and
last reconciles the snapshot with the service's counts, publishing nothing it cannot show
complete (reconcile.py). In between it streams: pages are flattened as they arrive and
staged in parts of PART_ROWS rows with a checkpoint of the paging position (staging.py), so
memory stays flat however many tasks the account has and an interrupted listing resumes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pyarrow as pa

from mixpeek_tasks.api.paging.probe import PagingMode, choose, probe
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA, flatten_tasks
from mixpeek_tasks.snapshot.observation import Observation
from mixpeek_tasks.snapshot.reconcile import (
    CLOCK_MARGIN,
    Coverage,
    EndCount,
    ServiceCounts,
    count_created_before,
    judge,
    read_content,
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
) -> SnapshotResult:
    """Page through every task and publish them, with the quarantine, as a new observation
    in `tree` (a SnapshotTree, or its root).

    A listing interrupted less than `resume_within` ago is resumed from its checkpoint, as the
    same observation; a concurrent listing is waited for up to `lock_timeout` seconds.
    `paging` forces a strategy (MixpeekProtocolError if the probe shows it cannot work here).
    """
    started = time.monotonic()
    report = probe(client)
    strategy, reason = choose(client, report, paging, concurrency)
    progress(f"paging by {strategy.name}: {reason}")
    tree = tree if isinstance(tree, SnapshotTree) else SnapshotTree(tree)
    with SnapshotStaging.open(tree, strategy, resume_within=resume_within,
                              lock_timeout=lock_timeout) as staging:
        observed_on = staging.observation().observed_on
        cutoff = staging.started_at - CLOCK_MARGIN
        # A listing by position can skip a task for every task deleted while it runs, and a
        # deletion also hides a miss in the counts: such a listing counts what exists before
        # its first page, and is refused if anything went.
        start_count = (count_created_before(client, cutoff, "at the start")
                       if strategy.positional else None)
        end_count = EndCount(client, cutoff, total=report.total, positional=strategy.positional)
        resumed_rows = staging.rows
        resumed_records = staging.rows + staging.quarantined
        if staging.resumed:
            progress(f"resuming the listing of observation {staging.observation_id}: "
                     f"{staging.rows:,} tasks in {staging.pages} pages already staged")
        else:
            progress(f"observation {staging.observation_id}")
        tasks: list[pa.Table] = []
        quarantine: list[pa.Table] = []
        reached: dict[str, StreamProgress] = {}
        buffered = pages = bytes_received = 0
        last_report = started

        def flush() -> None:
            nonlocal buffered, pages
            staging.add_part(
                pa.concat_tables(tasks) if tasks else TASK_SCHEMA.empty_table(),
                pa.concat_tables(quarantine) if quarantine else QUARANTINE_SCHEMA.empty_table(),
                pages, dict(reached))
            tasks.clear(), quarantine.clear(), reached.clear()
            buffered = pages = 0

        for page in strategy.iter_pages(staging.pending(), concurrency=concurrency):
            buffered += len(page.tasks)
            end_count.listed(staging.rows + staging.quarantined + buffered)
            staging.note_page(page.fetched_at)
            flat = flatten_tasks(page.tasks, observed_on, page.fetched_at)
            tasks.append(flat.tasks)
            quarantine.append(flat.quarantine)
            reached[page.stream] = StreamProgress(page.after, page.is_last)
            pages += 1
            bytes_received += page.size_bytes
            if buffered >= part_rows:
                flush()
            now = time.monotonic()
            if now - last_report >= PROGRESS_EVERY_SECONDS:
                last_report = now
                records = staging.rows + staging.quarantined + buffered
                progress(progress_line(staging.pages + pages, records,
                                       (records - resumed_records) / (now - started),
                                       report.total))
        if pages:
            flush()
        # The total must be from before the first page (a task created at the head of the
        # listing after it is never seen by a positional listing): the probe's is.
        at_start = ServiceCounts(report.total, start_count)
        at_end = end_count.counts()
        content = read_content(staging.finished_tasks_file(), staging.quarantined, cutoff)
        verdict = judge(at_start, at_end, content, positional=strategy.positional)
        coverage = Coverage(strategy.name, reason, strategy.positional, cutoff, at_start, at_end,
                            content, client.requests_sent, report.as_metadata(),
                            strategy.facts(), verdict)
        progress(f"reconciled: {coverage.verdict}")
        observation, tasks_path, quarantine_path = staging.publish(coverage.to_json())
        staging.discard()
    return SnapshotResult(
        observation=observation,
        tasks_path=tasks_path,
        quarantine_path=quarantine_path,
        rows=staging.rows,
        quarantined=staging.quarantined,
        pages=staging.pages,
        resumed_rows=resumed_rows,
        requests=client.requests_sent,
        bytes_received=bytes_received,
        seconds=time.monotonic() - started,
        throttled_seconds=client.budget.waited_seconds,
        coverage=coverage,
    )
