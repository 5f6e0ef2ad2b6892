"""The export job, the job that reloads the warehouse from the tree, and the schedule.

No partitions: each run of `nightly_export` is one new observation, at the moment it runs
(assets/snapshot.py). A schedule is only how often: MIXPEEK_SCHEDULE_CRON (default nightly,
02:00 UTC; `0 * * * *` hourly), and two observations on one day are two points of the history.
"""

from dagster import AssetSelection, DefaultScheduleStatus, ScheduleDefinition, define_asset_job

from assets import GROUP
from mixpeek_tasks import settings

nightly_export_job = define_asset_job(
    "nightly_export",
    selection=AssetSelection.groups(GROUP),
    description="Observe every Mixpeek task now (a new observation), load every observation"
                " the warehouse lacks into DuckDB, refresh the analytics views and the report.",
)

# What a re-run of a date already observed means: its stored snapshot, read again. No request
# to the service (it could only answer with today's tasks).
reload_warehouse_job = define_asset_job(
    "reload_warehouse",
    selection=AssetSelection.groups(GROUP) - AssetSelection.assets("task_snapshot"),
    config={"ops": {"warehouse_tasks": {"config": {"rebuild": True}}}},
    description="Rebuild the warehouse from every observation stored in the Parquet tree, then"
                " the views and the report; asks the service nothing.",
)

nightly_export_schedule = ScheduleDefinition(
    name="nightly_export_schedule",
    job=nightly_export_job,
    # Read once, when the code location loads.
    cron_schedule=settings.SCHEDULE_CRON.read(),
    execution_timezone="UTC",
    # A person turns it on (UI, or `dagster schedule start`): a fresh instance observes
    # nothing before it is asked to.
    default_status=DefaultScheduleStatus.STOPPED,
    description="One observation per tick (MIXPEEK_SCHEDULE_CRON, UTC; default 02:00 nightly)",
)
