"""The observations of the Parquet tree loaded into the DuckDB warehouse, with its check."""


from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    Config,
    Failure,
    MaterializeResult,
    asset,
    asset_check,
)
from pydantic import Field

from assets import GROUP, OWNERS
from assets.catalog import ROW_COUNT, TABLE_NAME, URI, materializations, qualified_name, uri
from assets.snapshot import task_snapshot
from mixpeek_tasks.snapshot.tree import TASKS
from mixpeek_tasks.warehouse.dictionary import LOAD
from pipelines.resources import ExportStorage

WAREHOUSE_POOL = "mixpeek_duckdb"
NOTHING_LOADED = AssetCheckResult(passed=True, description="no observation loaded yet")


class WarehouseConfig(Config):
    rebuild: bool = Field(
        default=False,
        description="rebuild from every observation of the tree, without a new one (what"
                    " `python -m pipelines.run --date D` does for a date already observed)")


@asset(
    deps=[task_snapshot],
    group_name=GROUP,
    # DuckDB takes one writer: with a pool limit of 1 (dagster.yaml) runs queue for the load;
    # the warehouse's file lock holds regardless.
    pool=WAREHOUSE_POOL,
    owners=OWNERS,
    kinds={"duckdb"},
)
def warehouse_tasks(context: AssetExecutionContext, config: WarehouseConfig,
                    storage: ExportStorage) -> MaterializeResult:
    """Every published observation the warehouse does not hold yet, read where it lies in the
    Parquet tree: appended when newer than every observation loaded (each run's own), else
    the status history, `tasks` and the per-observation facts are rebuilt from the tree. Run
    again, it changes nothing."""
    warehouse = storage.warehouse()
    loaded = warehouse.rebuild() if config.rebuild else warehouse.load()
    if loaded.observation_id is None:
        raise Failure(f"no observation is published in {warehouse.tree}: materialize"
                      " task_snapshot first")
    for event in materializations(warehouse, LOAD):
        context.log_event(event)
    return MaterializeResult(
        metadata={
            "observation": loaded.observation_id,
            "observations_loaded": loaded.observations_loaded,
            "snapshot_rows": loaded.snapshot_rows,
            "quarantine_rows": loaded.quarantine_rows,
            ROW_COUNT: loaded.tasks_rows,
            TABLE_NAME: qualified_name(warehouse, "tasks"),
            "history_update": loaded.history_update,
            URI: uri(warehouse.path),
        },
    )


@asset_check(asset=warehouse_tasks,
             description="the newest observation's tasks in DuckDB equal its Parquet file's"
                         " rows")
def snapshot_rows_match_parquet(storage: ExportStorage) -> AssetCheckResult:
    warehouse = storage.warehouse()
    newest = warehouse.newest_observation()
    if newest is None:
        return NOTHING_LOADED
    observation_id, duckdb_rows = newest
    # The manifest counted the file's rows when it was published: no download from S3.
    observation = warehouse.tree.observation(observation_id)
    manifest = warehouse.tree.manifest(observation) if observation else None
    if manifest is None:
        return AssetCheckResult(passed=False, description=f"observation {observation_id} is"
                                                          " not published in the tree")
    parquet_rows = manifest.files[TASKS].rows
    return AssetCheckResult(passed=duckdb_rows == parquet_rows,
                            metadata={"observation": observation_id,
                                      "duckdb_rows": duckdb_rows, "parquet_rows": parquet_rows})
