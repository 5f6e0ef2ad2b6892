"""The HTML report of the warehouse: one self-contained page of charts and tables."""

from dagster import MaterializeResult, asset

from assets import GROUP, OWNERS
from assets.analytics import task_analytics
from assets.catalog import URI, uri
from mixpeek_tasks.reporting.html import write_report
from pipelines.resources import ExportStorage


@asset(
    deps=[task_analytics],
    group_name=GROUP,
    owners=OWNERS,
    kinds={"html"},
)
def task_report(storage: ExportStorage) -> MaterializeResult:
    """A self-contained HTML report with charts: success rate over time, latency, top failure
    reasons and stuck tasks (`report/index.html` beside the warehouse)."""
    warehouse = storage.warehouse()
    path = write_report(warehouse, warehouse.path.parent / "report")
    return MaterializeResult(metadata={URI: uri(path), "bytes": path.stat().st_size})
