"""Knowing when an observation fails: a run-failure alert. (Staleness is the snapshot's
FreshnessPolicy, which Dagster's daemon evaluates without launching anything.)"""

from __future__ import annotations

from datetime import datetime, timezone

from dagster import DefaultSensorStatus, RunFailureSensorContext, run_failure_sensor

from mixpeek_tasks import settings
from mixpeek_tasks.alerts import failure_text, post_alert
from pipelines.jobs import nightly_export_job


@run_failure_sensor(monitored_jobs=[nightly_export_job], default_status=DefaultSensorStatus.RUNNING,
                    description="posts a failed nightly export to MIXPEEK_ALERT_WEBHOOK_URL")
def nightly_export_failure_alert(context: RunFailureSensorContext) -> None:
    webhook = settings.ALERT_WEBHOOK_URL.read()
    if not webhook:
        return
    run = context.dagster_run
    failed = context.get_step_failure_events()
    step = failed[0].step_key if failed else None
    cause = context.failure_event.message or "the run failed"
    if failed:
        data = failed[0].step_failure_data
        described = data.user_failure_data.description if data.user_failure_data else None
        cause = described or (data.error.message if data.error else cause)
    base = settings.WEBSERVER_URL.read()
    record = context.instance.get_run_record_by_id(run.run_id)
    started = (datetime.fromtimestamp(record.start_time, timezone.utc).strftime(
        "%Y-%m-%d %H:%M UTC") if record and record.start_time else None)
    text = failure_text(started, step, cause,
                        f"{base.rstrip('/')}/runs/{run.run_id}" if base else None)
    if post_alert(webhook, text, secret=settings.API_KEY.read()):
        context.log.info(f"alert posted for run {run.run_id}")
    else:
        context.log.warning(f"the alert webhook did not take the alert for run {run.run_id}")

