"""A failed observation posts one alert to a local webhook receiver; a failing webhook is given
up on; the snapshot's freshness is a policy that is calm before the first observation."""

import json
import re
from datetime import timedelta

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    build_run_status_sensor_context,
    materialize,
)

from assets.snapshot import task_snapshot
from mixpeek_emulator import running_emulator
from mixpeek_tasks.alerts import post_alert
from pipelines.definitions import defs
from pipelines.resources import ExportStorage, MixpeekResource
from pipelines.sensors import nightly_export_failure_alert
from tests.support.webhook import running_receiver

KEY = "sk_test_alert_key_0123456789"


@pytest.fixture
def receiver(request):
    with running_receiver(getattr(request, "param", 200)) as server:
        yield server


def _resources(base_url, export_dir):
    return {"mixpeek": MixpeekResource(api_key=KEY, base_url=base_url),
            "storage": ExportStorage(export_dir=str(export_dir))}


def _failed_run(tmp_path, instance):
    with running_emulator(tasks=100, seed=3, api_key="sk_test_the_right_one_987") as server:
        result = materialize([task_snapshot], instance=instance, raise_on_error=False,
                             resources=_resources(server.base_url, tmp_path))
    assert not result.success
    (failure,) = instance.all_logs(result.run_id, of_type=DagsterEventType.RUN_FAILURE)
    return result.dagster_run, failure.dagster_event


def evaluate_alert(run, failure, instance):
    context = build_run_status_sensor_context(
        sensor_name=nightly_export_failure_alert.name, dagster_event=failure,
        dagster_instance=instance, dagster_run=run).for_run_failure()
    nightly_export_failure_alert(context)


def test_a_failed_run_posts_when_it_started_its_step_and_cause(tmp_path, receiver,
                                                               monkeypatch):
    monkeypatch.setenv("MIXPEEK_ALERT_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("DAGSTER_WEBSERVER_URL", "http://dagster.example:3000/")
    monkeypatch.setenv("MIXPEEK_API_KEY", KEY)
    with DagsterInstance.ephemeral() as instance:
        run, failure = _failed_run(tmp_path, instance)
        evaluate_alert(run, failure, instance)
    (body,) = receiver.bodies
    assert set(body) == {"text"}
    started, rest = re.fullmatch(
        r":red_circle: Mixpeek task export started (\d{4}-\d\d-\d\d \d\d:\d\d UTC) (.*)",
        body["text"], re.DOTALL).groups()
    assert rest == (
        "failed at task_snapshot: Mixpeek API "
        "answered 401 (unauthorized): Invalid or missing API key\n"
        f"<http://dagster.example:3000/runs/{run.run_id}|Open the run>")
    assert KEY not in json.dumps(body)


@pytest.mark.parametrize("receiver", [500], indirect=True)
def test_a_failing_webhook_is_tried_twice_and_logged(tmp_path, receiver, monkeypatch, caplog):
    monkeypatch.setenv("MIXPEEK_ALERT_WEBHOOK_URL", receiver.url)
    with DagsterInstance.ephemeral() as instance:
        run, failure = _failed_run(tmp_path, instance)
        evaluate_alert(run, failure, instance)
    assert len(receiver.bodies) == 2
    assert "alert webhook attempt 2 of 2 failed: HTTP 500" in caplog.text


def test_no_webhook_configured_posts_nothing(tmp_path, receiver, monkeypatch):
    monkeypatch.delenv("MIXPEEK_ALERT_WEBHOOK_URL", raising=False)
    with DagsterInstance.ephemeral() as instance:
        run, failure = _failed_run(tmp_path, instance)
        evaluate_alert(run, failure, instance)
    assert receiver.bodies == []


@pytest.mark.parametrize("pasted", [KEY + "\n", KEY + "\r\n", KEY + "\t", " " + KEY])
def test_an_alert_masks_every_form_of_a_pasted_key(receiver, pasted):
    cause = (f"LocalProtocolError: Illegal header value {('Bearer ' + pasted).encode()!r}; "
             f"{pasted!r} {json.dumps(pasted)} {KEY}")
    assert post_alert(receiver.url, cause, secret=pasted)
    (body,) = receiver.bodies
    assert KEY not in json.dumps(body) and body["text"].count("***") == 4


def test_staleness_is_a_freshness_policy_and_a_fresh_instance_launches_nothing():
    # Dagster's daemon evaluates the policy: Unknown before the first materialization, Failed
    # only once the latest is older than the window. Nothing launches a run by itself: the
    # schedule starts stopped and no sensor targets a job.
    (spec,) = [spec for spec in defs.resolve_all_asset_specs() if spec.key == task_snapshot.key]
    policy = spec.freshness_policy
    assert policy.fail_window.to_timedelta() == timedelta(hours=26)
    (schedule,) = defs.schedules
    assert schedule.default_status == DefaultScheduleStatus.STOPPED
    assert [(sensor.name, sensor.default_status, sensor.targets) for sensor in defs.sensors] == [
        ("nightly_export_failure_alert", DefaultSensorStatus.RUNNING, [])]
    # No freshness check is left to show Failed on a fresh instance.
    assert all("freshness" not in check.name for spec in defs.asset_checks
               for check in spec.check_specs)
