"""MIXPEEK_EXPORT_DIR on S3: a local S3 server (moto) takes whole exports, re-runs and a kill
mid-upload, and the tree reads back exactly what was published, and nothing else."""

import logging
import signal
import socket
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

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
from mixpeek_tasks.snapshot.observation import Observation
from mixpeek_tasks.snapshot.tree import SnapshotTree
from mixpeek_tasks.warehouse.database import Warehouse
from pipelines.resources import ExportStorage, MixpeekResource
from tests.support import ROOT
from tests.support.snapshots import observation_at, publish_tables

moto_server = pytest.importorskip(
    "moto.server", reason="moto[server] is not installed (pip install -e '.[test]' brings it)")
boto3 = pytest.importorskip("boto3", reason="moto[server] brings boto3; it is not installed")

BUCKET = "exports"
SECRET = "aws_SENTINEL_secret_5f4dcc3b5aa765d61d8327deb882cf99"
TODAY = datetime.now(timezone.utc).date()
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
    """Rows per observation folder as a glob reader (Spark, Trino) sees the dataset: every
    file below it except those starting with `_` or `.`."""
    files = ds.dataset(f"{uri.removeprefix('s3://')}/{dataset}", filesystem=s3_filesystem(),
                       format="parquet").files
    return {path.split("/")[-2]: pq.read_metadata(path, filesystem=s3_filesystem()).num_rows
            for path in files}


def _export(server, tree: SnapshotTree):
    with MixpeekClient("sk_test_s3", server.base_url, page_size=500) as client:
        return export_snapshot(client, tree, concurrency=2, progress=lambda _: None)


def test_an_export_to_s3_reads_back_exactly_and_duckdb_reads_the_local_copies(uri, tmp_path):
    tree = SnapshotTree(uri, staging_dir=tmp_path / "staging")
    with running_emulator(tasks=1800, seed=41) as server:
        listed = set(server.store.tasks)
        result = _export(server, tree)

    observation = result.observation
    night_folder = f"tasks/observation={observation.id}"
    assert not tree.is_local and result.tasks_path == f"{uri}/{night_folder}/data.parquet"
    metadata = f"_observations/observation={observation.id}"
    assert _objects(uri) == [f"{metadata}/_coverage.json", f"{metadata}/_manifest.json",
                             f"task_quarantine/observation={observation.id}/data.parquet",
                             f"{night_folder}/data.parquet"]  # no upload left behind
    assert tree.observations() == [Observation.new(observation.id)]
    assert tree.glob("tasks") == f"{uri}/tasks/*=*/data.parquet"
    manifest = tree.manifest(observation)
    assert manifest.files["tasks"].rows == result.rows == len(listed)
    assert manifest.listing_started_at == observation.listing_started_at
    with tree.files(observation) as night:
        copies = (night.tasks, night.quarantine)
        assert all(path.is_file() and str(tmp_path) not in str(path) for path in copies)
        ids = pq.read_table(night.tasks, columns=["task_id"]).column("task_id").to_pylist()
        assert set(ids) == listed and len(ids) == len(listed)
        assert Coverage.from_json(night.coverage).verdict.startswith("exact")
        with duckdb.connect() as con:
            assert con.execute("SELECT count(*), count(DISTINCT task_id), min(export_date)"
                               " FROM read_parquet(?)", [str(night.tasks)]).fetchone() == (
                len(listed), len(listed), TODAY)
    assert not any(path.exists() for path in copies)  # the downloads go with the block
    # The warehouse reads the night through the tree too; its views need only what it derived.
    warehouse = Warehouse(tmp_path / "warehouse.duckdb", tree)
    assert warehouse.load().snapshot_rows == len(listed)
    warehouse.build_views()
    assert warehouse.query("SELECT observation_id, tasks_listed FROM daily_summary").rows == [
        (observation.id, len(listed))]
    assert warehouse.query("SELECT count(*) FROM tasks").rows == [(len(listed),)]
    # Staging is local and emptied once published (the listing's lock file stays).
    assert [p.name for p in (tmp_path / "staging").iterdir()] == ["listing.lock"]


def test_a_second_run_on_s3_is_a_second_observation_beside_the_first(uri, tmp_path):
    tree = SnapshotTree(uri, staging_dir=tmp_path / "staging")
    with running_emulator(tasks=700, seed=42) as server:
        first = _export(server, tree).observation
    with running_emulator(tasks=1100, seed=43) as server:
        second = _export(server, tree).observation

    assert [o.id for o in tree.observations()] == [first.id, second.id]
    assert tree.manifest(first).files["tasks"].rows == 700
    assert tree.manifest(second).files["tasks"].rows == 1100
    assert _glob_rows(uri, "tasks") == {first.folder: 700, second.folder: 1100}
    with tree.files(second) as files:
        assert pq.read_metadata(files.tasks).num_rows == 1100


def _start(server, uri: str, staging, *flags: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(CHILD), server.base_url, uri, str(staging), *flags],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_mid_upload(server, uri: str, staging) -> None:
    child = _start(server, uri, staging, "--stall-upload")
    try:
        assert child.stdout.readline().strip() == "uploading", child.stderr.read()[-2000:]
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL


def test_a_kill_mid_upload_keeps_the_published_observations_and_the_next_run_publishes(
        uri, tmp_path):
    staging = tmp_path / "staging"
    tree = SnapshotTree(uri, staging_dir=staging)
    with running_emulator(tasks=1500, seed=44) as server:
        tasks = len(server.store.tasks)
        done = _start(server, uri, staging)
        rows, resumed_rows, first_id = done.communicate(timeout=120)[0].split()
        assert (rows, resumed_rows) == (str(tasks), "0")
        (first,) = tree.observations()
        published = tree.manifest(first)

        _kill_mid_upload(server, uri, staging)   # a new observation
        _kill_mid_upload(server, uri, staging)   # its resumption, killed at the same step
        checkpoint = orjson.loads((staging / "listing" / "checkpoint.json").read_bytes())
        killed = checkpoint["observation"]
        assert killed > first_id
        assert tree.observations() == [first] and not tree.is_published(killed)
        assert tree.manifest(first) == published
        with tree.files(first) as files:
            assert pq.read_metadata(files.tasks).num_rows == tasks
        # A glob reader sees the published observation alone: the killed uploads are hidden.
        assert _glob_rows(uri, "tasks") == {first.folder: tasks}
        assert not any(killed in key for key in _objects(uri) if not key.startswith("_"))

        resumed = _start(server, uri, staging)
        out, err = resumed.communicate(timeout=120)
        assert resumed.returncode == 0, err[-2000:]
        # Every page came from the killed runs, and it is their observation that is published.
        assert out.split() == [str(tasks), str(tasks), killed]
        assert [o.id for o in tree.observations()] == [first_id, killed]
        assert _glob_rows(uri, "tasks") == {first.folder: tasks, f"observation={killed}": tasks}
        assert not any(key.startswith("_uploads/") for key in _objects(uri))
        _kill_mid_upload(server, uri, staging)   # a third listing leaves its upload behind
    leftovers = [key for key in _objects(uri) if key.startswith("_uploads/")]
    assert leftovers
    tree.sweep_uploads(timedelta(hours=1))  # a run sweeps them only once stale
    assert [key for key in _objects(uri) if key.startswith("_uploads/")] == leftovers
    tree.sweep_uploads(timedelta(0))
    assert not any(key.startswith("_uploads/") for key in _objects(uri))


def test_a_missing_bucket_fails_preflight_and_publish_in_one_line_without_the_secret(
        s3_endpoint, tmp_path):
    tree = SnapshotTree(f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/p", tmp_path)
    with pytest.raises(PreflightError) as refused:
        check_object_store(tree)
    tables = flatten_tasks([{"task_id": "t1", "task_type": "thumbnail", "status": "FAILED"}],
                           TODAY, datetime(2026, 11, 22, 2, tzinfo=timezone.utc))
    with pytest.raises(ObjectStoreError) as failed:
        publish_tables(tree, observation_at(datetime(2026, 11, 22, 2, tzinfo=timezone.utc)),
                       tables.tasks, tables.quarantine)
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
            instance=DagsterInstance.ephemeral(),
            resources={"mixpeek": MixpeekResource(api_key="sk_test_s3",
                                                  base_url=server.base_url),
                       "storage": storage})
    assert result.success
    checks = {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
              for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert checks == {"quarantine_share": True, "task_ids_unique": True,
                      "snapshot_complete": True, "listing_reaches_old_tasks": True}
    assert SECRET not in orjson.dumps([str(e) for e in result.all_events]).decode()
    (observation,) = storage.tree().observations()
    assert observation.observed_on == TODAY
