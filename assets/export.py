"""The export's assets, each with the checks that judge it. They only wire the library."""

from datetime import date

import pyarrow.compute as pc
import pyarrow.parquet as pq
from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from assets.partitions import export_partitions
from assets.resources import ExportStorage, MixpeekResource
from pipelines.export import export_snapshot
from pipelines.parquet_store import QUARANTINE_DATASET, TASKS_DATASET, partition_path

GROUP = "mixpeek_tasks"
WAREHOUSE_POOL = "mixpeek_duckdb"


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
                       description="share of records that could not be typed stays small"),
        AssetCheckSpec("task_ids_unique", asset="task_snapshot", blocking=True,
                       description="every task appears once in the snapshot"),
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
    ids = pq.read_table(result.tasks_path, columns=["task_id"]).column("task_id")
    distinct = pc.count_distinct(ids).as_py()
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
            AssetCheckResult(
                check_name="task_ids_unique",
                passed=distinct == result.rows,
                metadata={"rows": result.rows, "distinct_task_ids": distinct},
            ),
        ],
    )


@asset(
    deps=[task_snapshot],
    partitions_def=export_partitions,
    group_name=GROUP,
    # DuckDB takes one writer: with a pool limit of 1 (dagster.yaml) backfill runs queue for
    # the load while their extracts run in parallel; the warehouse's file lock holds regardless.
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    check_specs=[AssetCheckSpec("snapshot_rows_match_parquet", asset="warehouse_tasks",
                                description="the date's DuckDB rows equal its Parquet rows")],
)
def warehouse_tasks(context: AssetExecutionContext, storage: ExportStorage) -> MaterializeResult:
    """The date's snapshot loaded into DuckDB (task_snapshots, task_quarantine), and the status
    history and `tasks` brought up to date: appended for a new night, else rebuilt."""
    export_date = date.fromisoformat(context.partition_key)
    tasks_path = partition_path(storage.parquet_root, TASKS_DATASET, export_date)
    quarantine_path = partition_path(storage.parquet_root, QUARANTINE_DATASET, export_date)
    if not tasks_path.exists() or not quarantine_path.exists():
        raise Failure(
            f"no snapshot for {export_date} at {tasks_path}: materialize task_snapshot first")
    loaded = storage.warehouse().load_snapshot(export_date, tasks_path, quarantine_path)
    parquet_rows = pq.read_metadata(tasks_path).num_rows
    return MaterializeResult(
        metadata={
            "snapshot_rows": loaded.snapshot_rows,
            "quarantine_rows": loaded.quarantine_rows,
            "tasks_rows": loaded.tasks_rows,
            "history_update": "appended" if loaded.appended else "rebuilt",
            "database": MetadataValue.path(str(storage.warehouse().path)),
        },
        check_results=[AssetCheckResult(
            check_name="snapshot_rows_match_parquet",
            passed=loaded.snapshot_rows == parquet_rows,
            metadata={"duckdb_rows": loaded.snapshot_rows, "parquet_rows": parquet_rows},
        )],
    )
