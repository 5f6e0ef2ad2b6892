"""The production instance (deploy/dagster.yaml) on a real Postgres: a materialization through
it is stored there, and another process opening the same DAGSTER_HOME sees the run and its
events. Postgres is Debian's, started for this module by the `postgres` fixture
(tests/dagster/conftest.py); the test is skipped where its binaries are not installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster import DagsterInstance, materialize

from assets.analytics import task_analytics, terminal_counts_add_up, terminal_status_never_regresses
from assets.snapshot import (
    listing_reaches_old_tasks,
    snapshot_complete,
    task_ids_unique,
    task_snapshot,
)
from assets.warehouse import WAREHOUSE_POOL, snapshot_rows_match_parquet, warehouse_tasks
from mixpeek_emulator import running_emulator
from pipelines.resources import ExportStorage, MixpeekResource

DEPLOY_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "dagster.yaml"
ASSETS = [task_snapshot, task_ids_unique, snapshot_complete, listing_reaches_old_tasks,
          warehouse_tasks, snapshot_rows_match_parquet,
          task_analytics, terminal_counts_add_up, terminal_status_never_regresses]


# Run in a second interpreter: only DAGSTER_HOME (and the DAGSTER_PG_* it reads) in common.
SECOND_PROCESS = """
import json, sys
from dagster import AssetKey, AssetRecordsFilter, DagsterInstance
(run_id,) = sys.argv[1:]
with DagsterInstance.get() as instance:
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey("task_snapshot")), limit=10).records
    print(json.dumps({
        "run_storage": type(instance.run_storage).__name__,
        "runs": [[r.run_id, r.status.value, r.tags.get("dagster/partition")]
                 for r in instance.get_runs()],
        "events": len(instance.all_logs(run_id)),
        "task_snapshot": [[r.run_id, r.partition_key,
                           r.asset_materialization.metadata["observation"].value,
                           r.asset_materialization.metadata["dagster/row_count"].value]
                          for r in records],
    }))
"""


def test_a_run_is_stored_in_postgres_and_seen_from_another_process(tmp_path, postgres,
                                                                     monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_CONFIG, home / "dagster.yaml")
    for name, value in {**postgres.env(), "DAGSTER_HOME": str(home)}.items():
        monkeypatch.setenv(name, value)

    with DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        with running_emulator(tasks=400, seed=7) as server:
            result = materialize(
                ASSETS, instance=instance, raise_on_error=False,
                resources={"mixpeek": MixpeekResource(api_key="sk_test_pg",
                                                      base_url=server.base_url, concurrency=2),
                           "storage": ExportStorage(export_dir=str(tmp_path / "export"))})
            tasks = len(server.store.tasks)
        assert result.success
        run_id = result.run_id
        (observation,) = [o.id for o in ExportStorage(
            export_dir=str(tmp_path / "export")).tree().observations()]
        # dagster.yaml's `pools: default_limit: 1` is the limit of the warehouse's pool.
        assert instance.event_log_storage.get_concurrency_info(
            WAREHOUSE_POOL).slot_count == 1

    second = subprocess.run([sys.executable, "-c", SECOND_PROCESS, run_id],
                            capture_output=True, text=True, timeout=60, env=dict(os.environ),
                            cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    seen = json.loads(second.stdout.splitlines()[-1])
    assert seen["run_storage"] == "PostgresRunStorage"
    assert seen["runs"] == [[run_id, "SUCCESS", None]]
    assert seen["task_snapshot"] == [[run_id, None, observation, tasks]]
    assert seen["events"] > 20  # run and step events, materializations, check evaluations

    con = postgres.connect()
    try:
        with con.cursor() as cur:
            cur.execute("SELECT run_id, status, partition FROM runs")
            assert cur.fetchall() == [(run_id, "SUCCESS", None)]
            cur.execute("SELECT count(*) FROM event_logs WHERE run_id = %s", (run_id,))
            assert cur.fetchone()[0] == seen["events"]
    finally:
        con.close()
    print(f"run {run_id}: {seen['events']} event rows seen from a second process")
