"""The analytics assets: the analysts' views and their previews, with their checks."""

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from assets.export import GROUP, warehouse_tasks
from assets.partitions import export_partitions
from assets.resources import ExportStorage
from pipelines.report import LATENCY, SUCCESS_BY_TYPE, markdown_table


@asset(
    deps=[warehouse_tasks],
    partitions_def=export_partitions,
    group_name=GROUP,
    kinds={"duckdb"},
    check_specs=[AssetCheckSpec("terminal_counts_add_up", asset="task_analytics",
                                description="terminal = completed + partial + failed + canceled")],
)
def task_analytics(context: AssetExecutionContext, storage: ExportStorage) -> MaterializeResult:
    """The analysts' views `task_success_rate` and `task_latency`, with a preview of each."""
    warehouse = storage.warehouse()
    warehouse.build_views()
    success = warehouse.query(SUCCESS_BY_TYPE)
    latency = warehouse.query(LATENCY)
    mismatched = warehouse.query(
        "SELECT count(*) FROM task_success_rate"
        " WHERE terminal <> completed + completed_with_errors + failed + canceled").rows[0][0]
    return MaterializeResult(
        metadata={
            "success_rate_by_type": MetadataValue.md(markdown_table(success)),
            "latency_seconds": MetadataValue.md(markdown_table(latency)),
            "task_types": len(success.rows),
        },
        check_results=[AssetCheckResult(check_name="terminal_counts_add_up",
                                        passed=mismatched == 0,
                                        metadata={"mismatched_rows": mismatched})],
    )
