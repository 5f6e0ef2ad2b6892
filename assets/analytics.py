"""The analytics assets: the analysts' views and their previews, the HTML report, with checks."""

from datetime import date
from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from assets.export import GROUP, warehouse_tasks
from assets.partitions import export_partitions
from assets.resources import ExportStorage
from pipelines.html_report import write_report
from pipelines.report import (
    DAILY_SUMMARY,
    FAILURE_REASONS,
    LATENCY,
    REGRESSIONS,
    STUCK,
    SUCCESS_BY_TYPE,
    TERMINAL_MISMATCHES,
    bar_chart,
    markdown_table,
)
from pipelines.warehouse import DEFAULT_STUCK_AFTER_HOURS


class AnalyticsConfig(Config):
    stuck_after_hours: float = Field(
        default=DEFAULT_STUCK_AFTER_HOURS, gt=0,
        description="in-flight tasks older than this are listed in stuck_tasks")


@asset(
    deps=[warehouse_tasks],
    partitions_def=export_partitions,
    group_name=GROUP,
    kinds={"duckdb"},
    check_specs=[
        AssetCheckSpec("terminal_counts_add_up", asset="task_analytics",
                       description="terminal = completed + partial + failed + canceled"),
        AssetCheckSpec("terminal_status_never_regresses", asset="task_analytics",
                       description="no record of the date reports a finished task as anything"
                                   " else (the first terminal status is kept either way)"),
    ],
)
def task_analytics(context: AssetExecutionContext, config: AnalyticsConfig,
                   storage: ExportStorage) -> MaterializeResult:
    """The analysts' views (success rate, latency, failures, stuck tasks, batches, daily
    summary), with a preview of each as markdown tables and text charts."""
    export_date = date.fromisoformat(context.partition_key)
    warehouse = storage.warehouse()
    warehouse.build_views(stuck_after_hours=config.stuck_after_hours)
    success = warehouse.query(SUCCESS_BY_TYPE)
    latency = warehouse.query(LATENCY)
    failures = warehouse.query(FAILURE_REASONS)
    stuck = warehouse.query(STUCK)
    daily = warehouse.query(DAILY_SUMMARY)
    regressions = warehouse.query(REGRESSIONS, {"d": export_date})
    mismatched = warehouse.query(TERMINAL_MISMATCHES).rows[0][0]
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
            "finished_per_export_chart": MetadataValue.md(bar_chart(daily, "export_date",
                                                                    "finished")),
            "task_types": len(success.rows),
            "stuck_task_count": len(stuck.rows),
        },
        check_results=[
            AssetCheckResult(check_name="terminal_counts_add_up", passed=mismatched == 0,
                             metadata={"mismatched_rows": mismatched}),
            AssetCheckResult(
                check_name="terminal_status_never_regresses",
                passed=not regressions.rows,
                severity=AssetCheckSeverity.WARN,
                metadata={"regressions": len(regressions.rows),
                          "examples": MetadataValue.md(markdown_table(regressions, limit=10))},
            ),
        ],
    )


@asset(
    deps=[task_analytics],
    partitions_def=export_partitions,
    group_name=GROUP,
    kinds={"html"},
)
def task_report(storage: ExportStorage) -> MaterializeResult:
    """A self-contained HTML report with charts: success rate over time, latency, top failure
    reasons and stuck tasks (`<export_dir>/report/index.html`)."""
    path = write_report(storage.warehouse(), Path(storage.export_dir) / "report")
    return MaterializeResult(metadata={"path": MetadataValue.path(str(path)),
                                       "bytes": path.stat().st_size})
