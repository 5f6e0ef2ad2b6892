import os
import subprocess
import sys
from datetime import datetime, timezone

from dagster import build_schedule_context

from mixpeek_tasks.warehouse.dictionary import OBJECTS
from pipelines.definitions import defs
from tests.support import ROOT


def test_definitions_load_with_unpartitioned_jobs_and_a_nightly_schedule():
    # No partitions: nothing in the UI or a backfill can file a listing under a past date.
    for name in ("nightly_export", "reload_warehouse"):
        assert defs.resolve_job_def(name).partitions_def is None
    schedule = defs.resolve_schedule_def("nightly_export_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "UTC")
    assert {k.to_user_string() for k in defs.resolve_all_asset_keys()} == {
        "task_snapshot", "warehouse_tasks", "task_analytics", "task_report",
        *(f"warehouse/{obj.name}" for obj in OBJECTS)}
    # The catalog's specs are made by those four: the nightly job runs the four alone.
    nightly = defs.resolve_job_def("nightly_export")
    assert {k.to_user_string() for k in nightly.asset_layer.executable_asset_keys} == {
        "task_snapshot", "warehouse_tasks", "task_analytics", "task_report"}
    reload_steps = {key.to_user_string() for key in
                    defs.resolve_job_def("reload_warehouse").asset_layer.executable_asset_keys}
    assert reload_steps == {"warehouse_tasks", "task_analytics", "task_report"}


def test_a_scheduled_tick_observes_now_with_no_date_to_choose():
    schedule = defs.resolve_schedule_def("nightly_export_schedule")
    tick = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
    with build_schedule_context(scheduled_execution_time=tick) as context:
        (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key is None


def test_the_schedule_s_cron_comes_from_the_environment():
    probe = subprocess.run(
        [sys.executable, "-c", "from pipelines.definitions import defs; print(defs."
         "resolve_schedule_def('nightly_export_schedule').cron_schedule)"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
        env={**os.environ, "MIXPEEK_SCHEDULE_CRON": "0 * * * *"})
    assert probe.stdout.strip() == "0 * * * *", probe.stderr


def test_the_workspace_serves_the_nightly_job_from_a_code_server():
    # As `dagster dev` loads it: workspace.yaml names the code location, which Dagster
    # starts in a code-server process of its own.
    listed = subprocess.run(
        [sys.executable, "-m", "dagster", "job", "list", "-w", "workspace.yaml"],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "Job: nightly_export" in listed.stdout.splitlines()


def test_the_dagster_cli_lists_the_assets():
    listed = subprocess.run(
        [sys.executable, "-m", "dagster", "asset", "list", "-m", "pipelines.definitions"],
        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["task_analytics", "task_report", "task_snapshot",
                                     "warehouse_tasks"]


def test_the_code_location_runs_arrow_on_the_system_allocator():
    probe = subprocess.run(
        [sys.executable, "-c", "import pipelines.definitions, pyarrow;"
         " print(pyarrow.default_memory_pool().backend_name)"],
        capture_output=True, text=True, cwd=ROOT, timeout=120, env={
            k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"})
    assert probe.stdout.strip() == "system", probe.stderr
