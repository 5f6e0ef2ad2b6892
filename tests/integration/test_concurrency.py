"""Runs that overlap: two listings at once, and many runs launched at once: each is an
observation of its own, whole, and the warehouse takes them all."""

import os
import subprocess
import sys
import threading

import duckdb
import pyarrow.parquet as pq
import pytest

from mixpeek_emulator import running_emulator
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.warehouse.database import Warehouse
from tests.support import ROOT


def test_two_runs_at_once_are_two_whole_observations(tmp_path):
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
    # The second waited on the listing's lock, then listed anew: a later observation.
    assert len({r.observation.id for r in results}) == 2
    for result in results:
        ids = pq.read_table(result.tasks_path).column("task_id").to_pylist()
        assert len(ids) == len(set(ids)) == result.rows
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        listed = dict(con.execute("SELECT observation_id, tasks_listed FROM export_nights")
                      .fetchall())
        distinct = con.execute("SELECT count(DISTINCT task_id) FROM tasks").fetchone()[0]
    assert listed == {r.observation.id: r.rows for r in results}
    assert distinct == max(r.rows for r in results)


@pytest.mark.slow
def test_many_runs_launched_at_once_complete(tmp_path):
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
             "pipelines.definitions", "--select", "*"],
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(4)]
        failures = [run.communicate(timeout=600)[1][-2000:] for run in runs
                    if run.wait(timeout=600) != 0]
    assert failures == []
    with duckdb.connect(str(tmp_path / "data" / "warehouse.duckdb"), read_only=True) as con:
        per_observation = con.execute(
            "SELECT observation_id, count(*) FROM task_snapshots GROUP BY ALL").fetchall()
        tasks = con.execute("SELECT count(*) FROM tasks").fetchone()[0]
    assert [rows for _, rows in per_observation] == [3000] * 4
    assert tasks == 3000
