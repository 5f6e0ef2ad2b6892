"""The date's snapshot loaded into the DuckDB warehouse, with its check."""


import pyarrow.parquet as pq
from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)

from assets import GROUP
from assets.snapshot import task_snapshot
from mixpeek_tasks.snapshot.parquet_files import (
    QUARANTINE_DATASET,
    TASKS_DATASET,
    coverage_path,
    partition_path,
)
from mixpeek_tasks.snapshot.reconcile import Coverage
from pipelines.partitions import export_date_of, export_partitions
from pipelines.resources import ExportStorage

WAREHOUSE_POOL = "mixpeek_duckdb"


@asset(
    deps=[task_snapshot],
    partitions_def=export_partitions,
    group_name=GROUP,
    # DuckDB takes one writer: with a pool limit of 1 (dagster.yaml) backfill runs queue for
    # the load while their extracts run in parallel; the warehouse's file lock holds regardless.
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
)
def warehouse_tasks(context: AssetExecutionContext, storage: ExportStorage) -> MaterializeResult:
    """The date's snapshot loaded into DuckDB (task_snapshots, task_quarantine), and the status
    history and `tasks` brought up to date: appended for a new night, else rebuilt."""
    export_date = export_date_of(context)
    tasks_path = partition_path(storage.parquet_root, TASKS_DATASET, export_date)
    quarantine_path = partition_path(storage.parquet_root, QUARANTINE_DATASET, export_date)
    if not tasks_path.exists() or not quarantine_path.exists():
        raise Failure(
            f"no snapshot for {export_date} at {tasks_path}: materialize task_snapshot first")
    coverage_file = coverage_path(storage.parquet_root, export_date)
    # Snapshots published before the exporter reconciled have no coverage record.
    coverage = (Coverage.from_json(coverage_file.read_bytes()).as_metadata()
                if coverage_file.exists() else None)
    loaded = storage.warehouse().load_snapshot(export_date, tasks_path, quarantine_path,
                                               coverage)
    return MaterializeResult(
        metadata={
            "snapshot_rows": loaded.snapshot_rows,
            "quarantine_rows": loaded.quarantine_rows,
            "tasks_rows": loaded.tasks_rows,
            "history_update": "appended" if loaded.appended else "rebuilt",
            "database": MetadataValue.path(str(storage.warehouse().path)),
        },
    )


@asset_check(asset=warehouse_tasks, description="the date's DuckDB rows equal its Parquet rows")
def snapshot_rows_match_parquet(context: AssetCheckExecutionContext,
                                storage: ExportStorage) -> AssetCheckResult:
    export_date = export_date_of(context)
    parquet_rows = pq.read_metadata(
        partition_path(storage.parquet_root, TASKS_DATASET, export_date)).num_rows
    duckdb_rows = storage.warehouse().query(
        "SELECT count(*) FROM task_snapshots WHERE export_date = $d", {"d": export_date}
    ).rows[0][0]
    return AssetCheckResult(passed=duckdb_rows == parquet_rows,
                            metadata={"duckdb_rows": duckdb_rows, "parquet_rows": parquet_rows})
