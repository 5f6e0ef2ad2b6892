"""The code location: one Definitions object, loaded by workspace.yaml and the dagster CLI."""

from __future__ import annotations

import os

from dagster import Definitions, EnvVar

from assets.analytics import task_analytics, terminal_counts_add_up, terminal_status_never_regresses
from assets.report import task_report
from assets.snapshot import (
    listing_reaches_old_tasks,
    snapshot_complete,
    task_ids_unique,
    task_snapshot,
)
from assets.warehouse import snapshot_rows_match_parquet, warehouse_tasks
from pipelines.jobs import nightly_export_job, nightly_export_schedule, reload_warehouse_job
from pipelines.resources import ExportStorage, MixpeekResource
from pipelines.sensors import nightly_export_failure_alert


def _env_or_default(name: str, default, kind=EnvVar):
    """Read `name` from the environment at run time when it is set, else use `default`."""
    return kind(name) if os.environ.get(name) else default


defs = Definitions(
    assets=[task_snapshot, warehouse_tasks, task_analytics, task_report],
    asset_checks=[task_ids_unique, snapshot_complete, listing_reaches_old_tasks,
                  snapshot_rows_match_parquet, terminal_counts_add_up,
                  terminal_status_never_regresses],
    jobs=[nightly_export_job, reload_warehouse_job],
    schedules=[nightly_export_schedule],
    sensors=[nightly_export_failure_alert],
    resources={
        "mixpeek": MixpeekResource(
            api_key=_env_or_default("MIXPEEK_API_KEY", ""),
            base_url=_env_or_default("MIXPEEK_BASE_URL", "https://api.mixpeek.com"),
            max_requests_per_minute=_env_or_default(
                "MIXPEEK_MAX_REQUESTS_PER_MINUTE", None, EnvVar.int),
            paging=_env_or_default("MIXPEEK_PAGING", "auto"),
        ),
        "storage": ExportStorage(
            export_dir=_env_or_default("MIXPEEK_EXPORT_DIR", "./data"),
            warehouse_path=_env_or_default("MIXPEEK_WAREHOUSE", None),
            staging_dir=_env_or_default("MIXPEEK_STAGING_DIR", None),
        ),
    },
)
