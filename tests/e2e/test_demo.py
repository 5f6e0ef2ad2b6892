"""The README's promise: `make demo` runs one whole observation on a fresh machine, recorded in
the Dagster instance `make ui` opens, and ends by naming the report, the query command and the
UI."""

import os
import re
import shlex
import subprocess
import sys
from datetime import datetime, timezone

import duckdb
import pytest

from tests.support import ROOT


@pytest.mark.slow
def test_demo_exports_the_emulator_and_prints_the_report(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIXPEEK_", "DAGSTER_"))}
    env["PYTHONPATH"] = str(ROOT)
    demo = subprocess.run([sys.executable, "-m", "pipelines.demo"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert demo.returncode == 0, demo.stderr[-3000:]
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    exported = re.search(rf"Observation ({today}T\d{{6}}Z): ([\d,]+) tasks in the snapshot",
                         demo.stdout)
    assert exported, demo.stdout
    observation, listed = exported.groups()
    assert "Success rate by task type" in demo.stdout and "p50_seconds" in demo.stdout
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        (rows,) = con.execute("SELECT count(*) FROM tasks").fetchone()
    assert f"{rows:,}" == listed
    folder = tmp_path / "data" / "parquet" / "tasks" / f"observation={observation}"
    assert (folder / "data.parquet").exists()
    # The run is in ./.dagster_home, the instance `make ui` opens.
    recorded = subprocess.run(
        [sys.executable, "-c", "from dagster import DagsterInstance; i = DagsterInstance.get();"
         " print([r.job_name for r in i.get_runs()])"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**env, "DAGSTER_HOME": str(tmp_path / ".dagster_home")})
    assert recorded.stdout.strip() == "['nightly_export']", recorded.stderr[-2000:]
    assert "emulator-demo-key" not in demo.stdout + demo.stderr
    # It ends by naming what to open next, and each of them is there.
    report_line, query_line, ui_line = demo.stdout.splitlines()[-3:]
    report = tmp_path / "data" / "report" / "index.html"
    assert report_line == f"Report:   {report}"
    assert report.read_text().startswith("<!DOCTYPE html>")
    assert ui_line == "UI:       make ui"
    command = query_line.removeprefix("Query:    ")
    assert command.endswith('-m mixpeek_tasks.reporting.query "SELECT * FROM daily_summary"')
    queried = subprocess.run(shlex.split(command), cwd=tmp_path, env=env, capture_output=True,
                             text=True, timeout=120)
    assert queried.returncode == 0, queried.stderr
    assert observation in queried.stdout and listed.replace(",", "") in queried.stdout
