"""kill -9 in the middle of an export or a load: no reader ever sees a torn partition or a
half-loaded warehouse, and the next run completes the data."""

import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from mixpeek_emulator import running_emulator
from tests.support import ROOT

CHILD = ROOT / "tests" / "support" / "crash_child.py"
DATES = [date(2026, 11, 21), date(2026, 11, 22)]


def start(base_url: str, export_dir: Path, export_date: date, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(CHILD), base_url, str(export_dir),
                             export_date.isoformat(), *flags], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def assert_readers_see_whole_data(export_dir: Path, expected_rows: dict) -> None:
    for path in (export_dir / "parquet" / "tasks").rglob("*.parquet"):
        ids = pq.read_table(path, columns=["task_id"]).column("task_id").to_pylist()
        assert len(ids) == len(set(ids))
        assert len(ids) == expected_rows[path.parent.name.split("=")[1]]
    database = export_dir / "warehouse.duckdb"
    if database.exists():
        with duckdb.connect(str(database), read_only=True) as con:
            if con.execute("SELECT count(*) FROM information_schema.tables"
                           " WHERE table_name = 'task_snapshots'").fetchone()[0]:
                for day, rows in con.execute(
                        "SELECT export_date, count(*) FROM task_snapshots GROUP BY ALL").fetchall():
                    assert rows == expected_rows[day.isoformat()]


@pytest.mark.slow
def test_kill_minus_nine_at_random_moments_never_tears_data(tmp_path):
    rng = random.Random(7)
    with running_emulator(tasks=6000, seed=31) as server:
        expected = {d.isoformat(): len(server.store.tasks) for d in DATES}
        outcomes = []
        for attempt in range(8):
            export_date = DATES[attempt % 2]
            child = start(server.base_url, tmp_path, export_date)
            time.sleep(rng.uniform(0.8, 3.0))
            child.send_signal(signal.SIGKILL)
            child.wait()
            outcomes.append(child.returncode)
            assert_readers_see_whole_data(tmp_path, expected)
        for export_date in DATES:
            child = start(server.base_url, tmp_path, export_date)
            out, err = child.communicate(timeout=120)
            assert child.returncode == 0, err
        assert_readers_see_whole_data(tmp_path, expected)
    assert -signal.SIGKILL in outcomes  # at least some kills landed mid-run
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*), count(DISTINCT task_id) FROM tasks").fetchone() == (
            6000, 6000)


@pytest.mark.slow
def test_kill_minus_nine_inside_duckdb_loads_keeps_the_warehouse_whole(tmp_path):
    rng = random.Random(8)
    with running_emulator(tasks=10_000, seed=32) as server:
        expected = {DATES[0].isoformat(): len(server.store.tasks)}
        for _ in range(4):
            child = start(server.base_url, tmp_path, DATES[0], "--load-forever")
            assert child.stdout.readline().strip() == "loaded"  # export done, loads running
            time.sleep(rng.uniform(0.05, 0.6))
            child.send_signal(signal.SIGKILL)
            child.wait()
            assert child.returncode == -signal.SIGKILL
            assert_readers_see_whole_data(tmp_path, expected)
