"""Runs that overlap: the same date twice at once, and a backfill of many dates at once."""

import os
import subprocess
import sys
import threading
from datetime import date, timedelta

import duckdb
import pyarrow.parquet as pq
import pytest

from mixpeek_emulator import running_emulator
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.warehouse.database import Warehouse
from tests.support import ROOT

EXPORT_DATE = date(2026, 11, 23)


def test_two_runs_of_one_date_at_once_leave_it_whole_and_single(tmp_path):
    results, errors = [], []

    def run(server):
        try:
            with MixpeekClient("k", server.base_url, page_size=200) as client:
                result = export_snapshot(client, tmp_path / "parquet",
                                         concurrency=2)
            Warehouse(tmp_path / "warehouse.duckdb").load()
            results.append(result)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    with running_emulator(tasks=4000, seed=6, churn=3) as server:
        threads = [threading.Thread(target=run, args=(server,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == [] and len(results) == 2
    ids = pq.read_table(results[0].tasks_path).column("task_id").to_pylist()
    assert len(ids) == len(set(ids)) == max(r.rows for r in results)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        rows, distinct = con.execute(
            "SELECT (SELECT tasks_listed FROM export_nights), count(DISTINCT task_id)"
            " FROM tasks").fetchone()
    assert rows == distinct == len(ids)


@pytest.mark.slow
def test_a_backfill_of_many_dates_launched_at_once_completes(tmp_path):
    dates = [EXPORT_DATE - timedelta(days=i) for i in range(4)]
    with running_emulator(tasks=3000, seed=7) as server:
        env = {**os.environ, "MIXPEEK_API_KEY": "sk_test_backfill",
               "MIXPEEK_BASE_URL": server.base_url, "MIXPEEK_EXPORT_DIR": str(tmp_path / "data"),
               "DAGSTER_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
        (tmp_path / "home").mkdir()
        # A Dagster instance is created once (as the UI's is); many processes creating its
        # SQLite storage at the same moment race inside Dagster, not in this pipeline.
        subprocess.run([sys.executable, "-m", "dagster", "instance", "info"], env=env,
                       check=True, capture_output=True)
        runs = [subprocess.Popen(
            [sys.executable, "-m", "dagster", "asset", "materialize", "-m",
             "pipelines.definitions", "--select", "*", "--partition", day.isoformat()],
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for day in dates]
        failures = [run.communicate(timeout=600)[1][-2000:] for run in runs
                    if run.wait(timeout=600) != 0]
    assert failures == []
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        per_date = dict(con.execute(
            "SELECT export_date, count(*) FROM task_snapshots GROUP BY ALL").fetchall())
        tasks = con.execute("SELECT count(*) FROM tasks").fetchone()[0]
    assert per_date == dict.fromkeys(dates, 3000)
    assert tasks == 3000
