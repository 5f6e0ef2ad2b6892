"""kill -9 in the middle of an export or a load: no reader ever sees a torn observation or a
half-loaded warehouse, and the next run completes the data."""

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from mixpeek_emulator import running_emulator
from tests.support import ROOT

CHILD = ROOT / "tests" / "support" / "crash_child.py"


def start(base_url: str, export_dir: Path, *flags: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(CHILD), base_url, str(export_dir), *flags],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def assert_readers_see_whole_data(export_dir: Path, expected_rows: int) -> None:
    """Every observation published, in the tree and in the warehouse, holds the account's
    every task once (the emulator does not change between them)."""
    for path in (export_dir / "parquet" / "tasks").rglob("*.parquet"):
        ids = pq.read_table(path, columns=["task_id"]).column("task_id").to_pylist()
        assert len(ids) == len(set(ids)) == expected_rows
    database = export_dir / "warehouse.duckdb"
    if database.exists():
        with duckdb.connect(str(database), read_only=True) as con:
            if con.execute("SELECT count(*) FROM information_schema.tables"
                           " WHERE table_name = 'task_snapshots'").fetchone()[0]:
                for _, rows in con.execute("SELECT observation_id, count(*)"
                                           " FROM task_snapshots GROUP BY ALL").fetchall():
                    assert rows == expected_rows


@pytest.mark.slow
def test_kill_minus_nine_at_random_moments_never_tears_data(tmp_path):
    rng = random.Random(7)
    with running_emulator(tasks=6000, seed=31) as server:
        expected = len(server.store.tasks)
        outcomes = []
        for _ in range(8):
            child = start(server.base_url, tmp_path)
            time.sleep(rng.uniform(0.8, 3.0))
            child.send_signal(signal.SIGKILL)
            child.wait()
            outcomes.append(child.returncode)
            assert_readers_see_whole_data(tmp_path, expected)
        for _ in range(2):
            child = start(server.base_url, tmp_path)
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
        expected = len(server.store.tasks)
        for _ in range(4):
            child = start(server.base_url, tmp_path, "--load-forever")
            assert child.stdout.readline().strip() == "loaded"  # export done, loads running
            time.sleep(rng.uniform(0.05, 0.6))
            child.send_signal(signal.SIGKILL)
            child.wait()
            assert child.returncode == -signal.SIGKILL
            assert_readers_see_whole_data(tmp_path, expected)
