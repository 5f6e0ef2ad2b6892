"""The analysts' views over the warehouse, their previews as metadata, and their checks."""


from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetExecutionContext,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
)
from pydantic import Field

from assets import GROUP, OWNERS
from assets.catalog import URI, materializations, uri
from assets.warehouse import NOTHING_LOADED, warehouse_tasks
from mixpeek_tasks.reporting.markdown import bar_chart, markdown_table
from mixpeek_tasks.reporting.queries import (
    DAILY_SUMMARY,
    FAILURE_REASONS,
    LATENCY,
    REGRESSIONS,
    STUCK,
    SUCCESS_BY_TYPE,
    TERMINAL_MISMATCHES,
)
from mixpeek_tasks.warehouse.database import DEFAULT_STUCK_AFTER_HOURS
from mixpeek_tasks.warehouse.dictionary import VIEWS
from pipelines.resources import ExportStorage


class AnalyticsConfig(Config):
    stuck_after_hours: float = Field(
        default=DEFAULT_STUCK_AFTER_HOURS, gt=0,
        description="in-flight tasks older than this are listed in stuck_tasks")


@asset(
    deps=[warehouse_tasks],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"duckdb"},
)
def task_analytics(context: AssetExecutionContext, config: AnalyticsConfig,
                   storage: ExportStorage) -> MaterializeResult:
    """The analysts' views (success rate, latency, failures, stuck tasks, batches, daily
    summary), with a preview of each as markdown tables and text charts."""
    warehouse = storage.warehouse()
    warehouse.build_views(stuck_after_hours=config.stuck_after_hours)
    success = warehouse.query(SUCCESS_BY_TYPE)
    latency = warehouse.query(LATENCY)
    failures = warehouse.query(FAILURE_REASONS)
    stuck = warehouse.query(STUCK)
    daily = warehouse.query(DAILY_SUMMARY)
    for event in materializations(warehouse, VIEWS):
        context.log_event(event)
    return MaterializeResult(
        metadata={
            "success_rate_by_type": MetadataValue.md(markdown_table(success)),
            "success_rate_chart": MetadataValue.md(bar_chart(success, "task_type",
                                                             "success_rate")),
            "latency_seconds": MetadataValue.md(markdown_table(latency)),
            "top_failure_reasons": MetadataValue.md(markdown_table(failures, limit=15)),
            "failure_reasons_chart": MetadataValue.md(bar_chart(failures, "reason", "failures")),
            "stuck_tasks": MetadataValue.md(markdown_table(stuck)),
            "daily_summary": MetadataValue.md(markdown_table(daily, limit=14)),
            "finished_per_observation_chart": MetadataValue.md(
                bar_chart(daily, "observation_id", "finished")),
            "task_types": len(success.rows),
            "stuck_task_count": len(stuck.rows),
            URI: uri(warehouse.path),
        },
    )


@asset_check(asset=task_analytics,
             description="terminal = completed + partial + failed + canceled")
def terminal_counts_add_up(storage: ExportStorage) -> AssetCheckResult:
    mismatched = storage.warehouse().query(TERMINAL_MISMATCHES).rows[0][0]
    return AssetCheckResult(passed=mismatched == 0, metadata={"mismatched_rows": mismatched})


@asset_check(asset=task_analytics,
             description="no record of the newest observation reports a finished task as"
                         " anything else (the first terminal status is kept either way)")
def terminal_status_never_regresses(storage: ExportStorage) -> AssetCheckResult:
    warehouse = storage.warehouse()
    newest = warehouse.newest_observation()
    if newest is None:
        return NOTHING_LOADED
    regressions = warehouse.query(REGRESSIONS, {"observation": newest[0]})
    return AssetCheckResult(
        passed=not regressions.rows,
        severity=AssetCheckSeverity.WARN,
        metadata={"observation": newest[0], "regressions": len(regressions.rows),
                  "examples": MetadataValue.md(markdown_table(regressions, limit=10))},
    )
