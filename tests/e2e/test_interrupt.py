"""Ctrl-C in the middle of `python -m pipelines.run`: one line saying the run was interrupted
and what the next run resumes from, and the next run completes the snapshot exactly."""

import json
import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq

from mixpeek_emulator import Faults, running_emulator
from tests.support import ROOT


def _start(server, tmp_path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIXPEEK_", "DAGSTER_"))}
    env.update({"MIXPEEK_API_KEY": "sk_test_interrupt_0123456789",
                "MIXPEEK_BASE_URL": server.base_url, "MIXPEEK_EXPORT_DIR": str(tmp_path / "data"),
                "DAGSTER_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT),
                # A SIGINT that lands while every worker waits on a dripping answer can be held
                # until that answer's deadline (one run in several here, under load): a short
                # one keeps that wait inside the test's bound.
                "MIXPEEK_ANSWER_DEADLINE_SECONDS": "20"})
    # A session of its own, so the SIGINT can go to the whole group, as a terminal's Ctrl-C does.
    return subprocess.Popen([sys.executable, "-m", "pipelines.run"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def test_ctrl_c_says_what_the_next_run_resumes_from_and_the_next_run_is_exact(tmp_path):
    checkpoint = tmp_path / "data" / "parquet" / "_staging" / "listing" / "checkpoint.json"
    # Dagster greets a new instance with a banner about telemetry; this one has met it.
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with running_emulator(tasks=40_000, seed=5, latency_ms=200) as server:
        expected = set(server.store.tasks)
        child = _start(server, tmp_path)
        started = time.monotonic()
        while not checkpoint.exists():
            assert child.poll() is None and time.monotonic() - started < 240, child.stderr.read()
            time.sleep(0.05)
        # The first part is staged (25,000 tasks; at 200 ms a page the other 15 pages take over a
        # second, so the listing is still under way): hold every further answer, press Ctrl-C.
        server.faults = Faults(rate=1.0, kinds=("drip",), drip_seconds=0.2)
        os.killpg(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=120)
        saved = json.loads(checkpoint.read_text())
        staged, observation = saved["rows"], saved["observation"]
        server.faults = Faults()
        rerun = _start(server, tmp_path)
        rerun_out, rerun_err = rerun.communicate(timeout=300)
    assert child.returncode == 130, out + err
    assert err.strip().splitlines() == [
        "The observation was interrupted; the next run within 12 hours resumes it from the "
        f"{staged:,} tasks it staged."]
    assert "Traceback" not in out + err
    assert rerun.returncode == 0, rerun_err
    assert f"resuming the listing of observation {observation}: {staged:,} tasks" in rerun_out
    (tasks,) = (tmp_path / "data" / "parquet" / "tasks").rglob("*.parquet")
    ids = pq.read_table(tasks, columns=["task_id"]).column("task_id").to_pylist()
    assert len(ids) == len(set(ids)) and set(ids) == expected
