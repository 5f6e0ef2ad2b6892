"""The HTML report, rendered in headless Chromium, and the analytics assets' metadata."""

import os
import re
import shutil
import subprocess

import pytest
from dagster import DagsterInstance, materialize

from assets.analytics import (
    task_analytics,
    terminal_counts_add_up,
    terminal_status_never_regresses,
)
from assets.report import task_report
from pipelines.resources import ExportStorage
from tests.support.multiday import DATES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHARTS = {"success": "trace scatter", "latency": "trace scatter", "failures": "trace bars",
          "stuck": "trace bars"}


@pytest.fixture(scope="module")
def materialized(history):
    with DagsterInstance.ephemeral() as instance:
        return {night: materialize(
            [task_analytics, terminal_counts_add_up, terminal_status_never_regresses, task_report],
            partition_key=night.isoformat(), instance=instance,
            resources={"storage": ExportStorage(
                export_dir=str(history.warehouse.path.parent))})
            for night in (DATES[2], DATES[3])}


def _chromium(*args, tmp_path):
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=5000"]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True,
                          timeout=120, check=True)


def test_the_report_asset_writes_a_self_contained_page(history, materialized):
    result = materialized[DATES[3]]
    assert result.success
    (event,) = [e for e in result.get_asset_materialization_events()
                if e.asset_key.to_user_string() == "task_report"]
    path = event.materialization.metadata["path"].value
    assert path == str(history.warehouse.path.parent / "report" / "index.html")
    page = open(path, encoding="utf-8").read()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)  # nothing to fetch
    assert page.count('class="plotly-graph-div"') == len(CHARTS)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/run installs it)")
def test_chromium_draws_every_chart(history, materialized, tmp_path):
    page = history.warehouse.path.parent / "report" / "index.html"
    dom = _chromium("--dump-dom", page.as_uri(), tmp_path=tmp_path).stdout
    for key, trace in CHARTS.items():
        chart = dom[dom.index(f'id="chart-{key}"'):]
        chart = chart[:chart.index("</section>")]
        assert 'class="main-svg"' in chart, key
        assert re.search(rf'class="{trace}', chart), key  # its data was drawn, not just axes
        assert re.search(r'<path[^>]+d="M[\d.]+', chart), key
    screenshot = tmp_path / "report.png"
    _chromium("--window-size=1300,3600", f"--screenshot={screenshot}", page.as_uri(),
              tmp_path=tmp_path)
    assert screenshot.stat().st_size > 50_000
    if os.environ.get("REPORT_SCREENSHOT"):
        shutil.copy(screenshot, os.environ["REPORT_SCREENSHOT"])


def test_analytics_metadata_has_tables_charts_and_flags_regressions(history, materialized):
    def outcome(night):
        result = materialized[night]
        (event,) = [e for e in result.get_asset_materialization_events()
                    if e.asset_key.to_user_string() == "task_analytics"]
        checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
                  for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
        return {k: v.value for k, v in event.materialization.metadata.items()}, checks

    metadata, checks = outcome(DATES[3])
    assert "| task_type | tasks | terminal | success_rate |" in metadata["success_rate_by_type"]
    assert "| export_date | tasks_listed |" in metadata["daily_summary"]
    assert "Ray job <id> exceeded memory limit of <n> GiB" in metadata["top_failure_reasons"]
    assert metadata["failure_reasons_chart"].startswith("```") and "█" in metadata[
        "failure_reasons_chart"]
    (stuck,) = history.warehouse.query("SELECT count(*) FROM stuck_tasks").rows[0]
    assert metadata["stuck_task_count"] == stuck
    regression = checks["terminal_status_never_regresses"]
    assert regression.passed is False
    assert regression.metadata["regressions"].value == len(history.regressed)
    assert checks["terminal_counts_add_up"].passed
    assert outcome(DATES[2])[1]["terminal_status_never_regresses"].passed
