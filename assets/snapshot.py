"""The date's snapshot: every task the API lists, flattened into Parquet, with its checks."""

import warnings
from datetime import date, timedelta

import pyarrow.compute as pc
import pyarrow.parquet as pq
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    SupersessionWarning,
    asset,
    asset_check,
    build_last_update_freshness_checks,
)
from pydantic import Field

from assets import GROUP
from mixpeek_tasks.api.errors import MixpeekError
from mixpeek_tasks.snapshot.coverage import Coverage
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.snapshot.reconcile import SnapshotIncomplete, verdict_for
from mixpeek_tasks.snapshot.tree import SnapshotTree
from pipelines.partitions import export_date_of, export_partitions
from pipelines.resources import ExportStorage, MixpeekResource


class SnapshotConfig(Config):
    max_quarantine_share: float = Field(
        default=0.01, ge=0, le=1,
        description="the quarantine check fails above this share of records quarantined")


@asset(
    partitions_def=export_partitions,
    group_name=GROUP,
    kinds={"parquet"},
    check_specs=[
        AssetCheckSpec("quarantine_share", asset="task_snapshot",
                       description="share of records kept in task_quarantine because they could"
                                   " not be rows stays small"),
    ],
)
def task_snapshot(context: AssetExecutionContext, config: SnapshotConfig,
                  mixpeek: MixpeekResource, storage: ExportStorage) -> MaterializeResult:
    """Every task the API lists at run time, flattened, as the Parquet snapshot of the date."""
    export_date = export_date_of(context)
    # Every way the export can fail for the user's setup or the service's answers is a
    # MixpeekError with a one-line message: the run's failure leads with it, not a traceback.
    try:
        for note in mixpeek.preflight():
            context.log.warning(note)
        storage.preflight()
        with mixpeek.client() as client, client.reporting_slow_requests(context.log.info):
            result = export_snapshot(client, storage.tree(), export_date,
                                     concurrency=mixpeek.concurrency, paging=mixpeek.paging,
                                     progress=context.log.info)
    except MixpeekError as error:
        raise Failure(description=str(error)) from None
    context.log.info(f"{result.rows:,} tasks in {result.pages} pages, {result.seconds:.1f}s")
    coverage = result.coverage
    records = result.rows + result.quarantined
    share = result.quarantined / records if records else 0.0
    return MaterializeResult(
        metadata={
            "rows": result.rows,
            "quarantined": result.quarantined,
            "pages": result.pages,
            "requests": result.requests,
            "bytes_received": result.bytes_received,
            "duration_seconds": round(result.seconds, 3),
            "throttled_seconds": round(result.throttled_seconds, 3),
            "path": MetadataValue.path(str(result.tasks_path)),
            "paging_strategy": coverage.strategy,
            "coverage": MetadataValue.json(coverage.as_metadata()),
            "probe": MetadataValue.json(coverage.probe),
        },
        check_results=[
            AssetCheckResult(
                check_name="quarantine_share",
                passed=share <= config.max_quarantine_share,
                severity=AssetCheckSeverity.ERROR,
                metadata={"quarantined": result.quarantined, "share": round(share, 6),
                          "max_share": config.max_quarantine_share},
            ),
        ],
    )


@asset_check(asset=task_snapshot, blocking=True,
             description="every task appears once in the snapshot")
def task_ids_unique(context: AssetCheckExecutionContext,
                    storage: ExportStorage) -> AssetCheckResult:
    with storage.tree().night(export_date_of(context)) as night:
        ids = pq.read_table(night.tasks, columns=["task_id"]).column("task_id")
    distinct = pc.count_distinct(ids).as_py()
    return AssetCheckResult(passed=distinct == len(ids),
                            metadata={"rows": len(ids), "distinct_task_ids": distinct})


def _coverage(tree: SnapshotTree, export_date: date) -> Coverage:
    """The night's coverage record, which every export publishes with its files."""
    raw = tree.coverage(export_date)
    if raw is None:
        raise Failure(description=f"no coverage record for {export_date}: the night is not"
                                  " published, or not by an export; export that date again")
    return Coverage.from_json(raw)


@asset_check(asset=task_snapshot, blocking=True,
             description="the snapshot holds every task the service counted (reconciled before"
                         " publishing; re-judged here from the stored counts)")
def snapshot_complete(context: AssetCheckExecutionContext,
                      storage: ExportStorage) -> AssetCheckResult:
    return completeness(_coverage(storage.tree(), export_date_of(context)))


def completeness(coverage: Coverage) -> AssetCheckResult:
    """snapshot_complete's verdict on a stored coverage record."""
    try:
        verdict = verdict_for(coverage.at_start, coverage.at_end, coverage.content,
                        positional=coverage.positional)
    except SnapshotIncomplete as incomplete:
        return AssetCheckResult(passed=False, description=str(incomplete),
                                metadata=coverage.as_metadata())
    return AssetCheckResult(passed=True, description=verdict, metadata=coverage.as_metadata())


@asset_check(asset=task_snapshot,
             description="the listing still reaches tasks older than a day when earlier nights"
                         " did (the API may list only its 24-hour Redis window)")
def listing_reaches_old_tasks(context: AssetCheckExecutionContext,
                              storage: ExportStorage) -> AssetCheckResult:
    export_date = export_date_of(context)
    tree = storage.tree()
    coverage = _coverage(tree, export_date)
    oldest = coverage.content.oldest_created_at
    reached_before = [night for night in tree.published_dates() if night < export_date
                      and _old_tasks_listed(_coverage(tree, night))]
    passed = _old_tasks_listed(coverage) or not reached_before
    if not passed:
        context.log.warning(
            f"the listing of {export_date} holds no task older than a day (oldest {oldest}), "
            f"while {len(reached_before)} earlier night(s) listed older ones: the service may "
            "now list only recent tasks")
    return AssetCheckResult(passed=passed, severity=AssetCheckSeverity.WARN,
                            metadata={"oldest_created_at": str(oldest),
                                      "earlier_nights_with_older_tasks": len(reached_before)})


def _old_tasks_listed(coverage: Coverage) -> bool:
    oldest = coverage.content.oldest_created_at
    return oldest is not None and oldest < coverage.cutoff - timedelta(days=1)


def freshness_checks(*, hours: float) -> list:
    """A silently disabled schedule, or a night that never ran, shows red: the snapshot must
    have been materialized within `hours` (MIXPEEK_FRESHNESS_HOURS). Dagster marks these
    checks superseded by FreshnessPolicy, which its daemon evaluates out of sight; a check can
    be run, and tested, on its own (tests/dagster/test_alerts.py)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SupersessionWarning)  # a choice made, said above
        return build_last_update_freshness_checks(
            assets=[task_snapshot], lower_bound_delta=timedelta(hours=hours))
