"""The code location: one Definitions object, loaded by workspace.yaml and the dagster CLI."""

from __future__ import annotations

import os

from dagster import (
    AssetSelection,
    Definitions,
    EnvVar,
    build_schedule_from_partitioned_job,
    define_asset_job,
)

from assets.analytics import task_analytics, task_report
from assets.export import GROUP, task_snapshot, warehouse_tasks
from assets.resources import ExportStorage, MixpeekResource


def _env_or_default(name: str, default, kind=EnvVar):
    """Read `name` from the environment at run time when it is set, else use `default`."""
    return kind(name) if os.environ.get(name) else default


nightly_export_job = define_asset_job(
    "nightly_export",
    selection=AssetSelection.groups(GROUP),
    description="Snapshot every Mixpeek task, load it into DuckDB, refresh the analytics views.",
)

defs = Definitions(
    assets=[task_snapshot, warehouse_tasks, task_analytics, task_report],
    jobs=[nightly_export_job],
    schedules=[build_schedule_from_partitioned_job(
        nightly_export_job, hour_of_day=2, minute_of_hour=0, name="nightly_export_schedule")],
    resources={
        "mixpeek": MixpeekResource(
            api_key=EnvVar("MIXPEEK_API_KEY"),
            base_url=_env_or_default("MIXPEEK_BASE_URL", "https://api.mixpeek.com"),
            max_requests_per_minute=_env_or_default(
                "MIXPEEK_MAX_REQUESTS_PER_MINUTE", None, EnvVar.int),
        ),
        "storage": ExportStorage(export_dir=_env_or_default("MIXPEEK_EXPORT_DIR", "./data")),
    },
)
