"""The date's snapshot loaded into the DuckDB warehouse, with its check."""


from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    asset,
    asset_check,
)

from assets import GROUP, OWNERS
from assets.catalog import ROW_COUNT, TABLE_NAME, URI, materializations, qualified_name, uri
from assets.snapshot import task_snapshot
from mixpeek_tasks.snapshot.tree import TASKS
from mixpeek_tasks.warehouse.dictionary import LOAD
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
    owners=OWNERS,
    kinds={"duckdb"},
)
def warehouse_tasks(context: AssetExecutionContext, storage: ExportStorage) -> MaterializeResult:
    """The date's snapshot brought into DuckDB, read where it lies in the Parquet tree: the
    status history, `tasks` and the per-night facts appended for a new night, else rebuilt
    from every night of the tree."""
    export_date = export_date_of(context)
    warehouse = storage.warehouse()
    try:
        loaded = warehouse.load_night(export_date)
    except FileNotFoundError as missing:
        raise Failure(f"{missing}: materialize task_snapshot first") from None
    for event in materializations(warehouse, LOAD):
        context.log_event(event)
    return MaterializeResult(
        metadata={
            "snapshot_rows": loaded.snapshot_rows,
            "quarantine_rows": loaded.quarantine_rows,
            ROW_COUNT: loaded.tasks_rows,
            TABLE_NAME: qualified_name(warehouse, "tasks"),
            "history_update": "appended" if loaded.appended else "rebuilt",
            URI: uri(warehouse.path),
        },
    )


@asset_check(asset=warehouse_tasks,
             description="the night's tasks in DuckDB equal its Parquet file's rows")
def snapshot_rows_match_parquet(context: AssetCheckExecutionContext,
                                storage: ExportStorage) -> AssetCheckResult:
    export_date = export_date_of(context)
    warehouse = storage.warehouse()
    # The manifest counted the file's rows when it was published: no download from S3.
    manifest = warehouse.tree.manifest(export_date)
    if manifest is None:
        return AssetCheckResult(passed=False,
                                description=f"no published snapshot for {export_date}")
    parquet_rows = manifest.files[TASKS].rows
    duckdb_rows = warehouse.query(
        "SELECT tasks_listed FROM export_nights WHERE export_date = $d", {"d": export_date}
    ).rows[0][0]
    return AssetCheckResult(passed=duckdb_rows == parquet_rows,
                            metadata={"duckdb_rows": duckdb_rows, "parquet_rows": parquet_rows})
