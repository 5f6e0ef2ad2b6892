"""The nightly export job and the schedule that runs it."""

from dagster import AssetSelection, build_schedule_from_partitioned_job, define_asset_job

from assets import GROUP

nightly_export_job = define_asset_job(
    "nightly_export",
    selection=AssetSelection.groups(GROUP),
    description="Snapshot every Mixpeek task, load it into DuckDB, refresh the analytics views.",
)

# 02:00 UTC, filed under the date it runs on (pipelines/partitions.py).
nightly_export_schedule = build_schedule_from_partitioned_job(
    nightly_export_job, hour_of_day=2, minute_of_hour=0, name="nightly_export_schedule")
