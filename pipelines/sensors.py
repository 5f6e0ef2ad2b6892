"""Knowing when a night fails or goes stale: a run-failure alert and the freshness sensor."""

from __future__ import annotations

import warnings

from dagster import (
    DefaultSensorStatus,
    RunFailureSensorContext,
    SupersessionWarning,
    build_sensor_for_freshness_checks,
    run_failure_sensor,
)

from assets.snapshot import freshness_checks
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
    text = failure_text(run.tags.get("dagster/partition"), step, cause,
                        f"{base.rstrip('/')}/runs/{run.run_id}" if base else None)
    if post_alert(webhook, text, secret=settings.API_KEY.read()):
        context.log.info(f"alert posted for run {run.run_id}")
    else:
        context.log.warning(f"the alert webhook did not take the alert for run {run.run_id}")


# The window is read once, when the code location loads: a check is defined with it.
snapshot_freshness_checks = freshness_checks(hours=settings.FRESHNESS_HOURS.read())

with warnings.catch_warnings():
    # Superseded by FreshnessPolicy, kept for the reason given beside the check.
    warnings.simplefilter("ignore", SupersessionWarning)
    snapshot_freshness_sensor = build_sensor_for_freshness_checks(
        freshness_checks=snapshot_freshness_checks, name="snapshot_freshness_sensor",
        default_status=DefaultSensorStatus.RUNNING)
