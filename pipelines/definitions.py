"""The code location: one Definitions object, loaded by workspace.yaml and the dagster CLI.

Loading it is where a Dagster process starts (the webserver, the daemon, each run and step
process, `python -m pipelines.run`), so the process-wide settings are made first, before
anything below imports pyarrow.
"""

# The imports below follow the process settings on purpose.
# ruff: noqa: E402

from mixpeek_tasks.process import use_system_allocator

use_system_allocator()

from dagster import Definitions, EnvVar

from assets.analytics import task_analytics, terminal_counts_add_up, terminal_status_never_regresses
from assets.catalog import warehouse_table_specs
from assets.report import task_report
from assets.snapshot import (
    listing_reaches_old_tasks,
    snapshot_complete,
    task_ids_unique,
    task_snapshot,
)
from assets.warehouse import snapshot_rows_match_parquet, warehouse_tasks
from mixpeek_tasks import settings
from mixpeek_tasks.settings import Setting
from pipelines.jobs import nightly_export_job, nightly_export_schedule, reload_warehouse_job
from pipelines.resources import ExportStorage, MixpeekResource
from pipelines.sensors import nightly_export_failure_alert


def _from_environment(**fields: Setting) -> dict:
    """The resource fields whose variable is set, as EnvVar: Dagster reads them at run time
    and shows the name, never the value, in a run's config. An EnvVar of an unset variable
    fails the run, so the other fields keep the resource's defaults (the settings' too)."""
    return {field: EnvVar.int(setting.name) if setting.kind is int else EnvVar(setting.name)
            for field, setting in fields.items() if setting.is_set()}


defs = Definitions(
    assets=[task_snapshot, warehouse_tasks, task_analytics, task_report,
            *warehouse_table_specs],
    asset_checks=[task_ids_unique, snapshot_complete, listing_reaches_old_tasks,
                  snapshot_rows_match_parquet, terminal_counts_add_up,
                  terminal_status_never_regresses],
    jobs=[nightly_export_job, reload_warehouse_job],
    schedules=[nightly_export_schedule],
    sensors=[nightly_export_failure_alert],
    resources={
        "mixpeek": MixpeekResource(**_from_environment(
            api_key=settings.API_KEY, base_url=settings.BASE_URL,
            max_requests_per_minute=settings.MAX_REQUESTS_PER_MINUTE, paging=settings.PAGING,
            answer_deadline_seconds=settings.ANSWER_DEADLINE_SECONDS,
            full_listing_every=settings.FULL_LISTING_EVERY)),
        "storage": ExportStorage(**_from_environment(
            export_dir=settings.EXPORT_DIR, warehouse_path=settings.WAREHOUSE,
            staging_dir=settings.STAGING_DIR)),
    },
)
