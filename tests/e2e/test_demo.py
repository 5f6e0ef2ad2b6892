"""The README's promise: `make demo` runs the whole nightly export on a fresh machine."""

import os
import re
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
    today = datetime.now(timezone.utc).date().isoformat()
    exported = re.search(rf"Export of {today}: ([\d,]+) tasks in the snapshot", demo.stdout)
    assert exported, demo.stdout
    assert "Success rate by task type" in demo.stdout and "p50_seconds" in demo.stdout
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        (rows,) = con.execute("SELECT count(*) FROM tasks").fetchone()
    assert f"{rows:,}" == exported.group(1)
    partition = tmp_path / "data" / "parquet" / "tasks" / f"export_date={today}"
    assert (partition / "data.parquet").exists()
    assert "emulator-demo-key" not in demo.stdout + demo.stderr
