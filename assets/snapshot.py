"""The date's snapshot: every task the API lists, flattened into Parquet, with its checks."""

from datetime import date

import pyarrow.compute as pc
import pyarrow.parquet as pq
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)
from pydantic import Field

from assets import GROUP
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.snapshot.parquet_files import TASKS_DATASET, partition_path
from pipelines.partitions import export_partitions
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
    export_date = date.fromisoformat(context.partition_key)
    with mixpeek.client() as client:
        result = export_snapshot(client, storage.parquet_root, export_date,
                                 concurrency=mixpeek.concurrency, progress=context.log.info)
    context.log.info(f"{result.rows:,} tasks in {result.pages} pages, {result.seconds:.1f}s")
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
    export_date = date.fromisoformat(context.op_execution_context.partition_key)
    path = partition_path(storage.parquet_root, TASKS_DATASET, export_date)
    ids = pq.read_table(path, columns=["task_id"]).column("task_id")
    distinct = pc.count_distinct(ids).as_py()
    return AssetCheckResult(passed=distinct == len(ids),
                            metadata={"rows": len(ids), "distinct_task_ids": distinct})
