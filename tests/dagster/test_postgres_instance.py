"""The production instance (deploy/dagster.yaml) on a real Postgres: a materialization through
it is stored there, and another process opening the same DAGSTER_HOME sees the run and its
events. Postgres is Debian's (`apt-get install postgresql`, which .ci/run does), started on a
free local port for this module; the test is skipped where its binaries are not installed."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2  # installed with dagster-postgres
import pytest
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


def postgres_bin() -> Path | None:
    """The newest of Debian's /usr/lib/postgresql/<major>/bin, or None."""
    found = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "pg_ctl").exists()]
    return max(found, default=None,
               key=lambda p: [int(n) for n in p.parent.name.split(".") if n.isdigit()])


@dataclass(frozen=True)
class Postgres:
    port: int
    user: str = "dagster"
    db: str = "dagster"
    host: str = "127.0.0.1"

    def connect(self):
        return psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=self.db)

    def env(self) -> dict[str, str]:
        """What deploy/dagster.yaml reads; trust authentication ignores the password."""
        return {"DAGSTER_PG_HOST": self.host, "DAGSTER_PG_PORT": str(self.port),
                "DAGSTER_PG_USER": self.user, "DAGSTER_PG_PASSWORD": "unused",
                "DAGSTER_PG_DB": self.db}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("Postgres server binaries not installed (/usr/lib/postgresql/*/bin/pg_ctl):"
                    " apt-get install postgresql")
    # Postgres refuses to run as root: as root, run it as Debian's `postgres` user.
    as_user: list[str] = []
    owner = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no `postgres` user to run Postgres as")
        as_user = ["runuser", "-u", "postgres", "--"]
    # Not under pytest's tmp_path: as root that is 0700 and the postgres user cannot enter it.
    root = Path(tempfile.mkdtemp(prefix="mixpeek-pg-"))
    if owner is not None:
        os.chown(root, owner.pw_uid, owner.pw_gid)
    data = root / "data"

    def pg(*args: str) -> None:
        done = subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise RuntimeError(f"{Path(args[0]).name} failed: {done.stderr or done.stdout}")

    server = Postgres(port=free_port())
    started = False
    try:
        pg(str(bin_dir / "initdb"), "-D", str(data), "-U", server.user, "--auth=trust",
           "-E", "UTF8", "--no-sync")
        pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "postgres.log"), "-w",
           "-t", "30", "-o", f"-p {server.port} -k {root} -c listen_addresses={server.host}"
                             " -c fsync=off", "start")
        started = True
        pg(str(bin_dir / "createdb"), "-h", server.host, "-p", str(server.port),
           "-U", server.user, server.db)
        yield server
    finally:
        if started:
            pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


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
                           r.asset_materialization.metadata["rows"].value] for r in records],
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
