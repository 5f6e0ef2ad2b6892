"""The DuckDB load and the analytics views, against figures computed independently here."""

import json
import shutil
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mixpeek_emulator import running_emulator
from mixpeek_tasks.api.transport import MixpeekClient
from mixpeek_tasks.snapshot.export import export_snapshot
from mixpeek_tasks.snapshot.flatten import TASK_SCHEMA
from mixpeek_tasks.warehouse.database import Warehouse
from mixpeek_tasks.warehouse.schema import DERIVED_TABLES
from tests.support.snapshots import observation_at, publish_night, write_snapshot

EARLIER = datetime(2026, 11, 22, 2, tzinfo=timezone.utc)
TERMINAL = {"COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED", "CANCELED"}
IN_FLIGHT = {"PENDING", "QUEUED", "IN_PROGRESS", "PROCESSING"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Two observations of one account whose tasks move on between them, each loaded after
    it was made."""
    root = tmp_path_factory.mktemp("export")
    warehouse = Warehouse(root / "warehouse.duckdb")
    with running_emulator(tasks=4000, seed=17) as server:
        with MixpeekClient("k", server.base_url) as client:
            day_one = export_snapshot(client, root / "parquet", concurrency=2)
            assert warehouse.load().history_update == "appended"
            server.store.churn(300)
            day_two = export_snapshot(client, root / "parquet", concurrency=2)
            assert warehouse.load().history_update == "appended"
        final = {k: dict(v) for k, v in server.store.tasks.items()}
    warehouse.build_views()
    return warehouse, final, day_one, day_two


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts).astimezone(timezone.utc)


def test_snapshots_keep_each_observation_and_tasks_keep_the_latest_state(exported):
    warehouse, final, day_one, day_two = exported
    one, two = day_one.observation.id, day_two.observation.id
    per_observation = dict(warehouse.query(
        "SELECT observation_id, count(*) FROM task_snapshots GROUP BY ALL").rows)
    assert per_observation == {one: day_one.rows, two: day_two.rows}
    statuses = dict(warehouse.query("SELECT task_id, status FROM tasks").rows)
    assert statuses == {k: v["status"] for k, v in final.items()}
    seen = warehouse.query(
        "SELECT count(*) FILTER (WHERE first_observation = $a AND last_observation = $b),"
        " count(*) FILTER (WHERE first_observation = $b),"
        " count(*) FILTER (WHERE first_seen_at > last_seen_at)"
        " FROM tasks", {"a": one, "b": two}).rows[0]
    assert seen == (day_one.rows, 300, 0)


def test_loading_again_or_rebuilding_gives_the_same_rows_not_twice(exported):
    warehouse, _, _, day_two = exported
    queries = ("SELECT * FROM tasks ORDER BY task_id",
               "SELECT * FROM export_nights ORDER BY observation_id",
               "SELECT * FROM task_quarantine ORDER BY ALL",
               "SELECT * FROM batch_observations ORDER BY ALL")
    before = [warehouse.query(query).rows for query in queries]
    again = warehouse.load()
    assert [warehouse.query(query).rows for query in queries] == before
    assert (again.observation_id, again.snapshot_rows, again.observations_loaded,
            again.history_update) == (day_two.observation.id, day_two.rows, 0, "unchanged")
    rebuilt = warehouse.rebuild()
    assert [warehouse.query(query).rows for query in queries] == before
    assert (rebuilt.snapshot_rows, rebuilt.observations_loaded) == (day_two.rows, 2)


@pytest.mark.parametrize("later_by, listed", [(1, "first"), (0, "last")])
def test_a_task_listed_twice_in_one_export_loads_once_as_its_latest_row(exported, tmp_path,
                                                                         later_by, listed):
    # The row read later wins; of two read at the same instant, the one listed last.
    _, _, day_one, _ = exported
    rows = pq.read_table(day_one.tasks_path).slice(0, 50).to_pylist()
    later = {**rows[10], "status": "CANCELED",
             "exported_at": rows[10]["exported_at"] + timedelta(seconds=later_by)}
    listing = [later, *rows] if listed == "first" else [*rows, later]
    publish_night(tmp_path, EARLIER, pa.Table.from_pylist(listing, TASK_SCHEMA))
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    assert warehouse.load().snapshot_rows == 50
    assert warehouse.query("SELECT reported_status, last_seen_at FROM tasks WHERE task_id = $t",
                           {"t": later["task_id"]}).rows == [("CANCELED", later["exported_at"])]


def test_a_first_load_bigger_than_a_duckdb_row_group_builds_tasks_and_history(tmp_path):
    # DuckDB 2.0 writes an insert of a row group or more (122,880 rows) straight to the file;
    # into a table created empty in the same transaction, it is then invisible to scans until
    # the database is reopened, so `tasks` came out empty on a big account's first load.
    rows = 130_000
    columns = {field.name: pa.nulls(rows, field.type) for field in TASK_SCHEMA}
    columns.update(
        export_date=pa.repeat(pa.scalar(EARLIER.date(), pa.date32()), rows),
        exported_at=pa.repeat(pa.scalar(datetime(2026, 11, 22, 2, tzinfo=timezone.utc),
                                        TASK_SCHEMA.field("exported_at").type), rows),
        task_id=pa.array([f"task-{n:06d}" for n in range(rows)]),
        task_type=pa.repeat(pa.scalar("thumbnail"), rows),
        status=pa.array(["COMPLETED", "FAILED", "PENDING"] * (rows // 3) + ["QUEUED"]),
    )
    publish_night(tmp_path, EARLIER, pa.Table.from_pydict(columns, TASK_SCHEMA))
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    assert warehouse.load().tasks_rows == rows
    assert warehouse.query(
        "SELECT (SELECT count(*) FROM tasks WHERE status IS NOT NULL),"
        " (SELECT count(*) FROM task_status_history),"
        " (SELECT count(*) FROM task_status_history WHERE status IN ('PENDING', 'QUEUED')),"
        " (SELECT tasks_listed FROM export_nights)").rows == [(rows, rows, rows // 3 + 1, rows)]


def test_a_failed_load_leaves_the_previous_warehouse_intact(exported):
    warehouse, _, _, day_two = exported
    queries = ("SELECT * FROM export_nights ORDER BY observation_id",
               "SELECT * FROM tasks ORDER BY task_id",
               "SELECT * FROM task_status_history ORDER BY task_id, interval_no")
    before = [warehouse.query(query).rows for query in queries]
    day_three = publish_night(warehouse.path.parent,
                              day_two.observation.listing_finished_at + timedelta(minutes=1),
                              pq.read_table(day_two.tasks_path))
    damaged = warehouse.tree.location("tasks", day_three)
    data = bytearray(damaged.read_bytes())
    data[100:-100] = bytes(len(data) - 200)  # the size the manifest says, the pages zeroed
    damaged.write_bytes(data)
    try:
        with pytest.raises(duckdb.Error):
            warehouse.load()
    finally:
        shutil.rmtree(damaged.parent)
        shutil.rmtree(warehouse.tree.location("task_quarantine", day_three).parent)
    assert [warehouse.query(query).rows for query in queries] == before


def test_success_rate_view_matches_an_independent_count(exported):
    warehouse, final, _, _ = exported
    expected: dict = defaultdict(Counter)
    for task in final.values():
        key = (task["task_type"], _parse(task["created_at"]).date())
        status = task["status"]
        expected[key]["tasks"] += 1
        expected[key][status] += 1
        expected[key]["terminal"] += status in TERMINAL
        expected[key]["in_flight"] += status in IN_FLIGHT
        expected[key]["other"] += status not in TERMINAL | IN_FLIGHT
    result = warehouse.query(
        "SELECT task_type, day, tasks, terminal, completed, completed_with_errors, failed,"
        " canceled, in_flight, other_status, success_rate, partial_success_rate"
        " FROM task_success_rate")
    assert len(result.rows) == len(expected)
    for (task_type, day, tasks, terminal, completed, partial, failed, canceled, in_flight, other,
         success_rate, partial_rate) in result.rows:
        want = expected[(task_type, day)]
        assert (tasks, terminal, completed, partial, failed, canceled, in_flight, other) == (
            want["tasks"], want["terminal"], want["COMPLETED"], want["COMPLETED_WITH_ERRORS"],
            want["FAILED"], want["CANCELED"], want["in_flight"], want["other"])
        if want["terminal"]:
            assert success_rate == pytest.approx(want["COMPLETED"] / want["terminal"])
            assert partial_rate == pytest.approx(want["COMPLETED_WITH_ERRORS"] / want["terminal"])
        else:
            assert success_rate is None


def test_latency_view_matches_independent_percentiles_per_source(exported):
    warehouse, final, _, _ = exported
    samples: dict = defaultdict(list)
    for task in final.values():
        if task["status"] not in TERMINAL:
            continue
        extra = task.get("additional_data") or {}
        if "duration_ms" in extra:
            samples[(task["task_type"], "api_duration")].append(extra["duration_ms"] / 1000)
        elif "updated_at" in task:
            end = _parse(extra.get("completed_at") or task["updated_at"])
            start = _parse(extra.get("started_at") or task["created_at"])
            samples[(task["task_type"], "api_timestamps")].append((end - start).total_seconds())
    rows = warehouse.query("SELECT task_type, duration_source, tasks, p50_seconds, p90_seconds,"
                           " p99_seconds FROM task_latency").rows
    assert {(r[0], r[1]) for r in rows} == set(samples)
    for task_type, source, count, p50, p90, p99 in rows:
        values = samples[(task_type, source)]
        assert count == len(values)
        assert (p50, p90, p99) == pytest.approx(
            tuple(np.percentile(values, [50, 90, 99])), rel=1e-6, abs=1e-3)


def test_a_task_the_api_no_longer_lists_is_not_stuck(tmp_path):
    with running_emulator(tasks=3000, seed=23) as server:
        with MixpeekClient("k", server.base_url) as client:
            first = export_snapshot(client, tmp_path / "parquet", concurrency=2)
            server.store.churn(0, deletes=1000)
            export_snapshot(client, tmp_path / "parquet", concurrency=2)
        listed = set(server.store.tasks)
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    warehouse.load()
    warehouse.build_views(stuck_after_hours=1)
    stuck = {row[0] for row in warehouse.query("SELECT task_id FROM stuck_tasks").rows}
    gone_in_flight = warehouse.query(
        "SELECT count(*) FROM tasks JOIN task_status_classes USING (status)"
        " WHERE status_class = 'in_flight' AND last_observation = $o",
        {"o": first.observation.id}).rows[0][0]
    assert gone_in_flight > 0 and stuck and stuck <= listed


FULL = {"task_id": "t-1", "task_type": "thumbnail", "status": "COMPLETED",
        "additional_data": {"batch_id": "b-1", "object_count": 3}}
FALLBACK = {**FULL, "additional_data": {"from_mongodb": True}}


@pytest.mark.parametrize("records, last_full_night, batch_id", [
    ([FULL, FULL, FULL], 3, "b-1"),
    ([FULL, FALLBACK, FALLBACK], 1, "b-1"),
    ([FALLBACK, FALLBACK, FULL], 3, "b-1"),
    ([FULL, FALLBACK, FULL], 3, "b-1"),
    ([FALLBACK, FALLBACK, FALLBACK], None, None),
])
def test_a_record_listed_again_unchanged_only_moves_when_it_was_seen(tmp_path, records,
                                                                     last_full_night, batch_id):
    # A record equal to the one `tasks` holds skips the merge (load/03_tasks_seen_again.sql):
    # what it tells must still come out as if it had been merged.
    reads = [datetime(2026, 11, 20 + n, 2, tzinfo=timezone.utc) for n in range(3)]
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    nights = []
    for read_at, record in zip(reads, records):
        nights.append(write_snapshot(tmp_path, [record], read_at).id)
        assert warehouse.load().appended
    row = warehouse.query(
        "SELECT snapshots, first_observation, last_observation, last_full_record_observation,"
        " last_seen_at, batch_id, from_mongodb FROM tasks").rows
    assert row == [(3, nights[0], nights[2],
                    None if last_full_night is None else nights[last_full_night - 1],
                    datetime(2026, 11, 22, 2, tzinfo=timezone.utc), batch_id,
                    True if records[-1] is FALLBACK else None)]


@pytest.mark.parametrize("listed, expected", [
    # (status or None when the observation does not list the task) -> (status, valid_from,
    # valid_to, observed_in) per interval, observations numbered from 0
    (["PENDING", None, "PENDING", "COMPLETED"],
     [("PENDING", 0, 3, [0, 2]), ("COMPLETED", 3, None, [3])]),
    (["PENDING", None, "COMPLETED", None, "COMPLETED"],
     [("PENDING", 0, 2, [0]), ("COMPLETED", 2, None, [2, 4])]),
    ([None, "FAILED", None, None, "PENDING", "FAILED"], [("FAILED", 1, None, [1, 4, 5])]),
])
def test_observations_a_task_was_not_listed_in_do_not_split_its_interval(tmp_path, listed,
                                                                         expected):
    # Hourly observations: an interval runs from the read time of the record that first
    # showed its status to that of the one that first showed the next.
    reads = [datetime(2026, 11, 20, n, 5, tzinfo=timezone.utc) for n in range(len(listed))]
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    nights = []
    for read_at, status in zip(reads, listed):
        other = {"task_id": "t-other", "task_type": "thumbnail", "status": "COMPLETED"}
        records = [other] + ([] if status is None else [
            {"task_id": "t-1", "task_type": "thumbnail", "status": status}])
        nights.append(write_snapshot(tmp_path, records, read_at).id)
        warehouse.load()
    rows = warehouse.query(
        "SELECT status, valid_from, valid_to, observed_in FROM task_status_history"
        " WHERE task_id = 't-1' ORDER BY interval_no").rows
    assert rows == [(status, reads[start], None if end is None else reads[end],
                     [nights[n] for n in observed]) for status, start, end, observed in expected]
    assert warehouse.query("SELECT snapshots FROM tasks WHERE task_id = 't-1'").rows == [
        (sum(status is not None for status in listed),)]
    # The observations missed, also as JSON text for SQL clients without lists.
    for unlisted, text in warehouse.query(
            "SELECT unlisted_in, unlisted_in_json FROM task_status_intervals"
            " WHERE task_id = 't-1'").rows:
        assert (None if text is None else json.loads(text)) == unlisted


def test_a_night_that_outgrows_the_memory_limit_loads_with_more(exported, tmp_path, caplog):
    # A limit too small for any merge: the load says so and tries again with more.
    _, _, day_one, _ = exported
    publish_night(tmp_path, EARLIER, pq.read_table(day_one.tasks_path))
    warehouse = Warehouse(tmp_path / "warehouse.duckdb", memory_limit="8MB")
    assert warehouse.load().tasks_rows == day_one.rows
    assert "ran out of DuckDB's memory limit; again with 256MB" in caplog.text


def test_a_new_warehouse_takes_every_observation_and_an_older_one_rebuilds_in_time_order(
        tmp_path):
    # Deleting warehouse.duckdb and loading gives every observation back, not the newest alone.
    reads = [datetime(2026, 11, 20 + n, 2, tzinfo=timezone.utc) for n in range(3)]

    def observe(read_at, tasks):
        records = [{"task_id": f"t-{k}", "task_type": "thumbnail", "status": "COMPLETED"}
                   for k in range(tasks)]
        return write_snapshot(tmp_path, records, read_at).id

    ids = [observe(read_at, n + 1) for n, read_at in enumerate(reads)]
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    loaded = warehouse.load()
    assert (loaded.observations_loaded, loaded.observation_id) == (3, ids[-1])
    assert warehouse.query("SELECT observation_id, tasks_listed FROM export_nights"
                           " ORDER BY 1").rows == [(i, n + 1) for n, i in enumerate(ids)]
    # A newer observation is appended; one older than the newest loaded rebuilds the history.
    ids.append(observe(reads[-1] + timedelta(hours=1), 4))
    assert warehouse.load().history_update == "appended"
    ids.insert(1, observe(reads[0] + timedelta(hours=1), 7))
    assert warehouse.load().history_update == "rebuilt"
    assert [row[0] for row in warehouse.query(
        "SELECT observation_id FROM export_nights ORDER BY listing_started_at").rows] == ids
    assert warehouse.query("SELECT first_observation FROM tasks WHERE task_id = 't-6'").rows == [
        (ids[1],)]


def test_a_warehouse_keyed_on_dates_heals_by_rebuilding_from_the_tree(tmp_path):
    # Files written before observations (the published one and the loads' writer file): the
    # history is keyed on dates a caller chose.
    for name in ("warehouse.duckdb", "warehouse.writer.duckdb"):
        with duckdb.connect(str(tmp_path / name)) as con:
            for table in DERIVED_TABLES:
                con.execute(f"CREATE TABLE {table} (export_date DATE)")
            con.execute("INSERT INTO export_nights VALUES (DATE '2026-11-15')")
    read_at = datetime(2026, 11, 20, 2, tzinfo=timezone.utc)
    observed = write_snapshot(tmp_path, [FULL], read_at)
    warehouse = Warehouse(tmp_path / "warehouse.duckdb")
    assert warehouse.load().history_update == "rebuilt"
    assert warehouse.query("SELECT observation_id, observed_on, listing_started_at"
                           " FROM export_nights").rows == [
        (observed.id, read_at.date(), read_at)]
    assert observed == observation_at(read_at)
