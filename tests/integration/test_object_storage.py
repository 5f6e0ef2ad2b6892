"""MIXPEEK_EXPORT_DIR on S3: a local S3 server (moto) takes whole exports, re-runs and a kill
mid-upload, and the tree reads back exactly what was published, and nothing else."""

import logging
import signal
import socket
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta, timezone

import duckdb
import orjson
import pyarrow.dataset as ds
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest
from dagster import DagsterInstance, materialize

from assets.snapshot import listing_reaches_old_tasks, snapshot_complete, task_ids_unique
from assets.snapshot import task_snapshot as task_snapshot_asset
from mixpeek_emulator import running_emulator
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.preflight import PreflightError, WarehouseNotSet, check_object_store
from mixpeek_tasks.snapshot.coverage import Coverage
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.snapshot.flatten import flatten_tasks
from mixpeek_tasks.snapshot.object_store import ObjectStoreError, s3_filesystem
from mixpeek_tasks.snapshot.tree import SnapshotTree
from mixpeek_tasks.warehouse.database import Warehouse
from pipelines.resources import ExportStorage, MixpeekResource
from tests.support import ROOT
from tests.support.snapshots import publish_tables

moto_server = pytest.importorskip(
    "moto.server", reason="moto[server] is not installed (pip install -e '.[test]' brings it)")
boto3 = pytest.importorskip("boto3", reason="moto[server] brings boto3; it is not installed")

BUCKET = "exports"
SECRET = "aws_SENTINEL_secret_5f4dcc3b5aa765d61d8327deb882cf99"
DAY_ONE, DAY_TWO = date(2026, 11, 22), date(2026, 11, 23)
CHILD = ROOT / "tests" / "support" / "s3_crash_child.py"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """A moto S3 server on a free port, with the standard AWS variables pointing at it and a
    bucket; the variables are inherited by the child processes the tests start."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    with pytest.MonkeyPatch.context() as env:
        for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": SECRET,
                            "AWS_DEFAULT_REGION": "us-east-1",
                            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}.items():
            env.setenv(name, value)
        env.delenv("AWS_ENDPOINT_URL_S3", raising=False)
        boto3.client("s3").create_bucket(Bucket=BUCKET)
        yield
    server.stop()


@pytest.fixture
def uri(s3_endpoint) -> str:
    """A fresh prefix of the bucket for each test."""
    return f"s3://{BUCKET}/{uuid.uuid4().hex[:12]}/parquet"


def _objects(uri: str) -> list[str]:
    """Every object under the prefix, relative to it."""
    base = uri.removeprefix("s3://")
    found = s3_filesystem().get_file_info(pafs.FileSelector(base, recursive=True))
    return sorted(info.path.removeprefix(base + "/") for info in found
                  if info.type == pafs.FileType.File)


def _glob_rows(uri: str, dataset: str) -> dict[str, int]:
    """Rows per export date as a glob reader (Spark, Trino) sees the dataset: every file below
    it except those starting with `_` or `.` (the files hold their export_date too)."""
    table = ds.dataset(f"{uri.removeprefix('s3://')}/{dataset}", filesystem=s3_filesystem(),
                       format="parquet").to_table(columns=["export_date"])
    days = table.column("export_date").to_pylist()
    return {str(day): days.count(day) for day in set(days)}


def _export(server, tree: SnapshotTree, export_date: date):
    with MixpeekClient("sk_test_s3", server.base_url, page_size=500) as client:
        return export_snapshot(client, tree, export_date, concurrency=2,
                               progress=lambda _: None)


def test_an_export_to_s3_reads_back_exactly_and_duckdb_reads_the_local_copies(uri, tmp_path):
    tree = SnapshotTree(uri, staging_dir=tmp_path / "staging")
    with running_emulator(tasks=1800, seed=41) as server:
        listed = set(server.store.tasks)
        result = _export(server, tree, DAY_ONE)

    night_folder = f"tasks/export_date={DAY_ONE}"
    assert not tree.is_local and result.tasks_path == f"{uri}/{night_folder}/data.parquet"
    assert _objects(uri) == [f"task_quarantine/export_date={DAY_ONE}/data.parquet",
                             f"{night_folder}/_coverage.json", f"{night_folder}/_manifest.json",
                             f"{night_folder}/data.parquet"]  # no upload left behind
    assert tree.published_dates() == [DAY_ONE]
    assert tree.glob("tasks") == f"{uri}/tasks/export_date=*/data.parquet"
    manifest = tree.manifest(DAY_ONE)
    assert manifest.files["tasks"].rows == result.rows == len(listed)
    with tree.night(DAY_ONE) as night:
        copies = (night.tasks, night.quarantine)
        assert all(path.is_file() and str(tmp_path) not in str(path) for path in copies)
        ids = pq.read_table(night.tasks, columns=["task_id"]).column("task_id").to_pylist()
        assert set(ids) == listed and len(ids) == len(listed)
        assert Coverage.from_json(night.coverage).verdict.startswith("exact")
        with duckdb.connect() as con:
            assert con.execute("SELECT count(*), count(DISTINCT task_id), min(export_date)"
                               " FROM read_parquet(?)", [str(night.tasks)]).fetchone() == (
                len(listed), len(listed), DAY_ONE)
    assert not any(path.exists() for path in copies)  # the downloads go with the block
    # The warehouse reads the night through the tree too; its views need only what it derived.
    warehouse = Warehouse(tmp_path / "warehouse.duckdb", tree)
    assert warehouse.load_night(DAY_ONE).snapshot_rows == len(listed)
    warehouse.build_views()
    assert warehouse.query("SELECT export_date, tasks_listed FROM daily_summary").rows == [
        (DAY_ONE, len(listed))]
    assert warehouse.query("SELECT count(*) FROM tasks").rows == [(len(listed),)]
    # Staging is local and emptied once published (the date's lock file stays).
    assert [p.name for p in (tmp_path / "staging").iterdir()] == [
        f"export_date={DAY_ONE}.lock"]


def test_rerunning_a_date_on_s3_replaces_it(uri, tmp_path):
    tree = SnapshotTree(uri, staging_dir=tmp_path / "staging")
    with running_emulator(tasks=700, seed=42) as server:
        _export(server, tree, DAY_ONE)
    first = tree.manifest(DAY_ONE)
    with running_emulator(tasks=1100, seed=43) as server:
        rerun = _export(server, tree, DAY_ONE)

    again = tree.manifest(DAY_ONE)
    assert rerun.rows == again.files["tasks"].rows == 1100
    assert again.published_at > first.published_at
    assert again.files["tasks"].bytes != first.files["tasks"].bytes
    assert _glob_rows(uri, "tasks") == {str(DAY_ONE): 1100}  # replaced, not doubled
    with tree.night(DAY_ONE) as night:
        assert pq.read_metadata(night.tasks).num_rows == 1100


def _start(server, uri: str, staging, export_date: date, *flags: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(CHILD), server.base_url, uri, str(staging),
         export_date.isoformat(), *flags],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_mid_upload(server, uri: str, staging, export_date: date) -> None:
    child = _start(server, uri, staging, export_date, "--stall-upload")
    try:
        assert child.stdout.readline().strip() == "uploading", child.stderr.read()[-2000:]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL


def test_a_kill_mid_upload_keeps_the_published_nights_and_the_next_run_publishes(uri, tmp_path):
    staging = tmp_path / "staging"
    tree = SnapshotTree(uri, staging_dir=staging)
    with running_emulator(tasks=1500, seed=44) as server:
        tasks = len(server.store.tasks)
        done = _start(server, uri, staging, DAY_ONE)
        assert done.communicate(timeout=120)[0].split() == [str(tasks), "0"]
        published = tree.manifest(DAY_ONE)

        _kill_mid_upload(server, uri, staging, DAY_TWO)   # a new night
        _kill_mid_upload(server, uri, staging, DAY_ONE)   # a re-run of a published one
        assert tree.published_dates() == [DAY_ONE]
        assert tree.manifest(DAY_ONE) == published and tree.manifest(DAY_TWO) is None
        with tree.night(DAY_ONE) as night:
            assert pq.read_metadata(night.tasks).num_rows == tasks
        with pytest.raises(FileNotFoundError, match=str(DAY_TWO)):
            with tree.night(DAY_TWO):
                pass
        # A glob reader sees the published night alone: the killed uploads are hidden.
        assert _glob_rows(uri, "tasks") == {str(DAY_ONE): tasks}
        assert not any(key.startswith("tasks/export_date=2026-11-23") for key in _objects(uri))

        resumed = _start(server, uri, staging, DAY_TWO)
        out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err[-2000:]
    assert out.split() == [str(tasks), str(tasks)]  # every page came from the killed run
    assert tree.published_dates() == [DAY_ONE, DAY_TWO]
    assert _glob_rows(uri, "tasks") == {str(DAY_ONE): tasks, str(DAY_TWO): tasks}
    leftovers = [key for key in _objects(uri) if key.startswith("_uploads/")]
    assert leftovers and all(f"export_date={DAY_ONE}" in key for key in leftovers)
    tree.sweep_uploads(timedelta(hours=1))  # a run of any date sweeps them only once stale
    assert [key for key in _objects(uri) if key.startswith("_uploads/")] == leftovers
    tree.sweep_uploads(timedelta(0))
    assert not any(key.startswith("_uploads/") for key in _objects(uri))


def test_a_missing_bucket_fails_preflight_and_publish_in_one_line_without_the_secret(
        s3_endpoint, tmp_path):
    tree = SnapshotTree(f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/p", tmp_path)
    with pytest.raises(PreflightError) as refused:
        check_object_store(tree)
    tables = flatten_tasks([{"task_id": "t1", "task_type": "thumbnail", "status": "FAILED"}],
                           DAY_ONE, datetime(2026, 11, 22, 2, tzinfo=timezone.utc))
    with pytest.raises(ObjectStoreError) as failed:
        publish_tables(tree, DAY_ONE, tables.tasks, tables.quarantine)
    for message, says in ((str(refused.value), "not writable"),
                          (str(failed.value), "its manifest was not written")):
        assert "\n" not in message and SECRET not in message
        assert says in message and "NO_SUCH_BUCKET" in message


def test_an_s3_export_dir_needs_a_local_warehouse_path(tmp_path):
    storage = ExportStorage(export_dir="s3://exports/nightly")
    with pytest.raises(WarehouseNotSet, match="set MIXPEEK_WAREHOUSE"):
        storage.warehouse()
    located = ExportStorage(export_dir="s3://exports/nightly/",
                            warehouse_path=str(tmp_path / "w.duckdb"))
    assert located.warehouse().path == tmp_path / "w.duckdb"
    assert str(located.tree()) == "s3://exports/nightly/parquet"
    assert ExportStorage(export_dir=str(tmp_path)).warehouse().path == (
        tmp_path / "warehouse.duckdb")


def test_the_snapshot_asset_and_its_checks_run_on_s3_and_never_log_the_secret(uri, tmp_path):
    export_dir = uri.removesuffix("/parquet")
    storage = ExportStorage(export_dir=export_dir, warehouse_path=str(tmp_path / "w.duckdb"),
                            staging_dir=str(tmp_path / "staging"))
    with running_emulator(tasks=400, seed=45) as server:
        result = materialize(
            [task_snapshot_asset, task_ids_unique, snapshot_complete, listing_reaches_old_tasks],
            partition_key=DAY_ONE.isoformat(), instance=DagsterInstance.ephemeral(),
            resources={"mixpeek": MixpeekResource(api_key="sk_test_s3",
                                                  base_url=server.base_url),
                       "storage": storage})
    assert result.success
    checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert checks == {"quarantine_share": True, "task_ids_unique": True,
                      "snapshot_complete": True, "listing_reaches_old_tasks": True}
    assert SECRET not in orjson.dumps([str(e) for e in result.all_events]).decode()
    assert storage.tree().published_dates() == [DAY_ONE]
