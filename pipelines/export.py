"""One export: every task the API lists now -> a Parquet snapshot for one export date.

The same function serves the Dagster asset, the benchmark and the tests. It streams: each
page is flattened and appended to the staging file as it arrives, so memory stays flat
however many tasks the account has, and only a complete export is published.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipelines.client import MixpeekClient, split_task_ids
from pipelines.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA, flatten_tasks
from pipelines.parquet_store import SnapshotWriter

TASKS_DATASET = "tasks"
QUARANTINE_DATASET = "task_quarantine"
PROGRESS_EVERY_SECONDS = 5.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SnapshotResult:
    tasks_path: Path
    quarantine_path: Path
    rows: int
    quarantined: int
    pages: int
    requests: int
    bytes_received: int
    seconds: float
    throttled_seconds: float


def export_snapshot(
    client: MixpeekClient,
    parquet_root: Path,
    export_date: date,
    *,
    concurrency: int = 4,
    progress: Callable[[str], None] = log.info,
) -> SnapshotResult:
    """Page through every task and publish `export_date`'s tasks and quarantine files."""
    started = time.monotonic()
    tasks = SnapshotWriter(parquet_root, TASKS_DATASET, export_date, TASK_SCHEMA)
    quarantine = SnapshotWriter(parquet_root, QUARANTINE_DATASET, export_date, QUARANTINE_SCHEMA)
    pages = bytes_received = 0
    last_report = started
    try:
        for page in client.iter_pages(split_task_ids(concurrency), concurrency=concurrency):
            flat = flatten_tasks(page.tasks, export_date, page.fetched_at)
            tasks.write(flat.tasks)
            quarantine.write(flat.quarantine)
            pages += 1
            bytes_received += page.size_bytes
            now = time.monotonic()
            if now - last_report >= PROGRESS_EVERY_SECONDS:
                last_report = now
                progress(f"{pages} pages, {tasks.rows:,} tasks, {quarantine.rows:,} quarantined "
                         f"({tasks.rows / (now - started):,.0f} tasks/s)")
        quarantine_path = quarantine.commit()
        tasks_path = tasks.commit()
    except BaseException:
        tasks.abort()
        quarantine.abort()
        raise
    return SnapshotResult(
        tasks_path=tasks_path,
        quarantine_path=quarantine_path,
        rows=tasks.rows,
        quarantined=quarantine.rows,
        pages=pages,
        requests=client.requests_sent,
        bytes_received=bytes_received,
        seconds=time.monotonic() - started,
        throttled_seconds=client.budget.waited_seconds,
    )
