"""The Dagster assets, materialized into a temporary folder against the emulator."""

import duckdb
import pytest
from dagster import AssetSelection, DagsterInstance, Failure, build_op_context, materialize

from assets.analytics import task_analytics, terminal_counts_add_up, terminal_status_never_regresses
from assets.catalog import ROW_COUNT
from assets.snapshot import (
    completeness,
    listing_reaches_old_tasks,
    snapshot_complete,
    task_ids_unique,
    task_snapshot,
)
from assets.warehouse import snapshot_rows_match_parquet, warehouse_tasks
from mixpeek_emulator import running_emulator
from mixpeek_tasks.snapshot.coverage import Coverage
from mixpeek_tasks.snapshot.parquet_files import coverage_key
from mixpeek_tasks.warehouse.dictionary import OBJECTS
from pipelines.resources import ExportStorage, MixpeekResource

ASSETS = [task_snapshot, task_ids_unique, snapshot_complete, listing_reaches_old_tasks,
          warehouse_tasks, snapshot_rows_match_parquet,
          task_analytics, terminal_counts_add_up, terminal_status_never_regresses]


def run(server, export_dir, instance, full_listing_every=None, **config):
    return materialize(
        ASSETS,
        instance=instance,
        resources={
            "mixpeek": MixpeekResource(api_key="sk_test_asset", base_url=server.base_url,
                                       concurrency=2, full_listing_every=full_listing_every),
            "storage": ExportStorage(export_dir=str(export_dir)),
        },
        run_config={"ops": {"task_snapshot": {"config": config}}} if config else None,
        raise_on_error=False,
    )


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral() as ephemeral:
        yield ephemeral


def metadata_of(result, asset_name):
    (event,) = [e for e in result.get_asset_materialization_events()
                if e.asset_key.to_user_string() == asset_name]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def checks_of(result):
    return {e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data.passed
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def test_materializing_observes_now_loads_and_describes_it(tmp_path, instance):
    with running_emulator(tasks=2500, seed=2) as server:
        result = run(server, tmp_path, instance)
        expected = len(server.store.tasks)
    assert result.success
    snapshot = metadata_of(result, "task_snapshot")
    assert snapshot["dagster/row_count"] == expected and snapshot["quarantined"] == 0
    assert snapshot["pages"] >= 3 and snapshot["duration_seconds"] > 0
    observation = snapshot["observation"]
    assert snapshot["dagster/uri"] == (
        tmp_path / f"parquet/tasks/observation={observation}/data.parquet").resolve().as_uri()
    assert snapshot["listing_started_at"] <= snapshot["listing_finished_at"]
    loaded = metadata_of(result, "warehouse_tasks")
    assert (loaded["observation"], loaded["snapshot_rows"]) == (observation, expected)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT strategy, listed FROM export_coverage").fetchall() == [
            ("keyset", expected)]
    warehouse = metadata_of(result, "warehouse_tasks")
    assert (warehouse["dagster/row_count"], warehouse["dagster/table_name"]) == (
        expected, "warehouse.main.tasks")
    assert warehouse["dagster/uri"] == (tmp_path / "warehouse.duckdb").resolve().as_uri()
    # Every table and view in the catalog, materialized with the rows the file holds.
    tables = {e.asset_key.path[1]: e.materialization.metadata
              for e in result.get_asset_materialization_events()
              if e.asset_key.path[0] == "warehouse"}
    assert set(tables) == {obj.name for obj in OBJECTS}
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        for name, metadata in tables.items():
            assert metadata["dagster/row_count"].value == con.execute(
                f'SELECT count(*) FROM "{name}"').fetchone()[0], name
            assert metadata["dagster/table_name"].value == f"warehouse.main.{name}"
    assert tables["tasks"]["dagster/row_count"].value == expected
    analytics = metadata_of(result, "task_analytics")
    assert "| task_type | tasks | terminal | success_rate |" in analytics["success_rate_by_type"]
    assert "api_buckets_batches_process" in analytics["latency_seconds"]
    assert checks_of(result) == {"quarantine_share": True, "task_ids_unique": True,
                                 "snapshot_complete": True, "listing_reaches_old_tasks": True,
                                 "snapshot_rows_match_parquet": True,
                                 "terminal_counts_add_up": True,
                                 "terminal_status_never_regresses": True}


def test_a_second_run_is_a_second_observation_beside_the_first(tmp_path, instance):
    with running_emulator(tasks=800, seed=3, churn=25) as server:
        assert run(server, tmp_path, instance).success
        before_second = len(server.store.tasks)
        second = run(server, tmp_path, instance)
        total = len(server.store.tasks)
    assert second.success
    observation = metadata_of(second, "task_snapshot")["observation"]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        rows, distinct = con.execute(
            "SELECT count(*), count(DISTINCT task_id) FROM task_snapshots"
            " WHERE observation_id = $o", {"o": observation}).fetchone()
        observations = con.execute("SELECT count(*) FROM export_nights").fetchone()[0]
    assert rows == distinct == metadata_of(second, "task_snapshot")["dagster/row_count"]
    # Tasks created while the second run paged may or may not be in it; no others are missing.
    assert before_second <= rows <= total
    assert observations == 2
    assert metadata_of(second, "warehouse_tasks")["history_update"] == "appended"


def test_quarantine_check_fails_above_the_configured_share(tmp_path, instance):
    with running_emulator(tasks=300, seed=4) as server:
        broken = next(iter(server.store.tasks))
        server.store.add_record({"task_id": broken, "task_type": None, "status": "FAILED"})
        result = run(server, tmp_path, instance, max_quarantine_share=0.0)
    assert result.success  # a failed check flags the data; it does not lose the export
    assert metadata_of(result, "task_snapshot")["quarantined"] == 1
    assert checks_of(result)["quarantine_share"] is False
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT task_id, reason FROM task_quarantine").fetchall() == [
            (broken, "task_type is missing or not a non-empty string")]


def test_an_api_failure_fails_the_run_and_keeps_the_warehouse(tmp_path, instance):
    with running_emulator(tasks=500, seed=5) as server:
        assert run(server, tmp_path, instance).success
        server.api_key = "sk_test_other_key"  # the account's key was revoked
        failed = run(server, tmp_path, instance)
    assert not failed.success
    assert "401" in str(failed.all_events)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM task_snapshots").fetchone()[0] == 500


def test_a_setup_problem_fails_the_step_with_its_one_line(tmp_path, instance):
    with running_emulator(tasks=100, seed=6) as server:
        result = materialize(
            ASSETS, instance=instance, raise_on_error=False,
            resources={"mixpeek": MixpeekResource(api_key="", base_url=server.base_url),
                       "storage": ExportStorage(export_dir=str(tmp_path))})
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_failure_data.user_failure_data.description.startswith(
        "MIXPEEK_API_KEY is not set")
    assert not (tmp_path / "parquet" / "tasks").exists()


def test_the_completeness_check_judges_the_stored_coverage_and_fails_without_it(
        tmp_path, instance):
    with running_emulator(tasks=300, seed=7) as server:
        result = run(server, tmp_path, instance)
    assert result.success
    folder = f"observation={metadata_of(result, 'task_snapshot')['observation']}"
    stored = tmp_path / "parquet" / coverage_key(folder)
    exact = completeness(Coverage.from_json(stored.read_bytes()))
    assert exact.passed and exact.description.startswith("exact: 300 listed")
    stored.unlink()
    context = build_op_context(instance=instance,
                               resources={"storage": ExportStorage(export_dir=str(tmp_path))})
    with pytest.raises(Failure) as failed:
        snapshot_complete(context)
    assert failed.value.description == (
        f"no coverage record for {folder.replace('=', ' ')}: it is not published, or not by an"
        " export")


def test_a_night_listing_only_recent_tasks_after_nights_that_reached_older_ones_warns(
        tmp_path, instance):
    with running_emulator(tasks=400, seed=8) as server:
        assert checks_of(run(server, tmp_path, instance))["listing_reaches_old_tasks"] is True
    with running_emulator(tasks=400, seed=8, profile="recent_window") as server:
        result = run(server, tmp_path, instance)
    assert result.success  # a warning: the observation is kept, and said to look thin
    assert checks_of(result)["listing_reaches_old_tasks"] is False


def test_checks_on_an_instance_that_never_observed_pass_saying_so(tmp_path, instance):
    result = materialize(
        [task_snapshot, task_ids_unique, snapshot_complete, listing_reaches_old_tasks],
        selection=AssetSelection.checks(task_ids_unique, snapshot_complete,
                                        listing_reaches_old_tasks),
        instance=instance, raise_on_error=False,
        resources={"mixpeek": MixpeekResource(api_key="k", base_url="http://127.0.0.1:9"),
                   "storage": ExportStorage(export_dir=str(tmp_path))})
    evaluations = [e.asset_check_evaluation_data for e in result.all_events
                   if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(evaluations) == 3
    assert all(e.passed and e.description.startswith("nothing observed yet")
               for e in evaluations)


def test_a_second_run_is_incremental_its_checks_pass_and_the_warehouse_keeps_every_task(
        tmp_path, instance):
    with running_emulator(tasks=1500, seed=41) as server:
        first = run(server, tmp_path, instance, full_listing_every=7)
        with server.store.lock:
            server.store.create(30)
            server.store.finish(20)
        second = run(server, tmp_path, instance, full_listing_every=7)
        third = run(server, tmp_path, instance, full_listing_every=7, full=True)
        total = len(server.store.tasks)
    assert first.success and second.success and third.success
    snapshot = metadata_of(second, "task_snapshot")
    assert snapshot["paging_strategy"] == "incremental"
    assert snapshot["incremental_from"] == metadata_of(first, "task_snapshot")["observation"]
    assert snapshot[ROW_COUNT] < total / 5
    assert all(checks_of(second).values()), checks_of(second)
    third_snapshot = metadata_of(third, "task_snapshot")
    assert third_snapshot["paging_strategy"] != "incremental" and third_snapshot[ROW_COUNT] == total
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM tasks").fetchone()[0] == total
