"""Property-based: arbitrary JSON tasks never crash the flattening or the load, and every
task_id that came in is found again, typed or quarantined."""

import json
from datetime import date, datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA, flatten_tasks
from mixpeek_tasks.snapshot.parquet_files import SnapshotWriter
from mixpeek_tasks.snapshot.tree import SnapshotTree
from mixpeek_tasks.warehouse.database import Warehouse
from tests.support.snapshots import observation_at, publish_tables, write_snapshot

EXPORT_DATE = date(2026, 11, 23)
EXPORTED_AT = datetime(2026, 11, 23, 2, tzinfo=timezone.utc)
DOCUMENTED = ["batch_id", "bucket_id", "namespace_id", "job_id", "current_tier", "total_tiers",
              "object_count", "collection_ids", "sample_object_ids", "error", "from_mongodb",
              "started_at", "completed_at", "duration_ms"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=12,
)
hostile_keys = st.sampled_from(['x"; DROP TABLE tasks; --', "a.b", "with space", "semi;colon",
                                "\u00e9t\u00e9", "k" * 10_000, ""])
additional_data = json_values | st.dictionaries(
    st.sampled_from(DOCUMENTED) | hostile_keys | st.text(max_size=8), json_values, max_size=8)
task_ids = st.text(min_size=1, max_size=40) | json_values
records = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"task_id": task_ids},
        optional={
            "task_type": st.sampled_from(["thumbnail", "api_brand_new", ""]) | json_values,
            "status": st.sampled_from(["COMPLETED", "FAILED", "HIBERNATING"]) | json_values,
            "additional_data": additional_data,
            "inputs": json_values, "outputs": json_values, "error": json_values,
            "created_at": st.sampled_from(["2026-11-20T08:00:00Z", "2026-13-45", "0"])
            | json_values,
            "queue_position": json_values,
        },
    ).flatmap(lambda task: st.dictionaries(hostile_keys, json_values, max_size=2).map(
        lambda extra: {**extra, **task})),
)
pages = st.lists(records, max_size=25)


def wanted_ids(page: list) -> set[str]:
    return {r["task_id"] for r in page
            if isinstance(r, dict) and isinstance(r.get("task_id"), str) and r["task_id"]}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages)
def test_flattening_never_raises_and_accounts_for_every_record(page):
    flat = flatten_tasks(page, EXPORT_DATE, EXPORTED_AT)
    assert flat.tasks.num_rows + flat.quarantine.num_rows == len(page)
    found = set(flat.tasks.column("task_id").to_pylist()) | set(
        flat.quarantine.column("task_id").to_pylist())
    assert wanted_ids(page) <= found
    for row in flat.quarantine.to_pylist():
        assert row["reason"]
        json.loads(row["raw_json"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(pages, min_size=1, max_size=3))
def test_every_task_id_lands_in_snapshots_or_quarantine(tmp_path_factory, page_list):
    root = tmp_path_factory.mktemp("prop")
    tree = SnapshotTree(root)
    observation = observation_at(EXPORTED_AT)
    tasks = SnapshotWriter(tree.staging_dir, "tasks", observation.id, TASK_SCHEMA)
    quarantine = SnapshotWriter(tree.staging_dir, "task_quarantine", observation.id,
                                QUARANTINE_SCHEMA)
    typed_ids: set[str] = set()
    for page in page_list:
        flat = flatten_tasks(page, EXPORT_DATE, EXPORTED_AT)
        tasks.write(flat.tasks)
        quarantine.write(flat.quarantine)
        typed_ids.update(flat.tasks.column("task_id").to_pylist())
    publish_tables(tree, observation, tasks, quarantine)
    warehouse = Warehouse(root / "warehouse.duckdb", tree)
    warehouse.load()
    landed = {row[0] for row in warehouse.query(
        "SELECT task_id FROM tasks UNION SELECT task_id FROM task_quarantine"
        " WHERE task_id IS NOT NULL").rows}
    assert set().union(*map(wanted_ids, page_list)) <= landed
    counts = warehouse.query("SELECT (SELECT count(*) FROM tasks),"
                             " (SELECT tasks_listed FROM export_nights),"
                             " (SELECT count(*) FROM task_quarantine)").rows[0]
    # A task listed on two pages is one task: the load de-duplicates.
    assert counts == (len(typed_ids), len(typed_ids), quarantine.rows)


night_records = st.fixed_dictionaries(
    {"status": st.sampled_from(["PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELED",
                                "SKIPPED", "HIBERNATING"])},
    optional={
        "additional_data": st.none() | st.dictionaries(
            st.sampled_from(["batch_id", "object_count", "from_mongodb", "note"]),
            st.none() | st.booleans() | st.integers(0, 9) | st.sampled_from(["b1", "b2"]),
            max_size=3),
        "error": st.none() | st.sampled_from(["boom", "late"]),
        "queue_position": st.none() | st.integers(0, 5),
    })
histories = st.lists(  # nights, each {task number: record}
    st.dictionaries(st.integers(0, 5), night_records, max_size=6), min_size=1, max_size=5)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(histories, st.randoms(use_true_random=False))
def test_any_load_order_gives_the_warehouse_of_a_rebuild(tmp_path_factory, nights, rng):
    """Observations that reach the tree in time order are appended, in any other order they
    rebuild: the history, the regressions and `tasks` come out the same, and equal to one
    rebuild of them all."""
    root = tmp_path_factory.mktemp("order")
    pages = [[{"task_id": f"task-{number}", "task_type": "thumbnail", **record}
              for number, record in sorted(records.items())] for records in nights]
    reads = [datetime(2026, 11, 1 + night, 2, tzinfo=timezone.utc) for night in range(len(nights))]
    loads = [observation_at(read_at).id for read_at in reads]
    shuffled = rng.sample(range(len(nights)), len(nights))
    derived = ("SELECT * FROM tasks ORDER BY task_id",
               "SELECT * FROM task_status_history ORDER BY task_id, interval_no",
               "SELECT * FROM task_status_regressions ORDER BY task_id, observation_id")
    results = []
    for name, order in (("in_order", range(len(nights))), ("shuffled", shuffled)):
        # Each warehouse over a tree of its own, which gets the observations in `order`.
        warehouse = Warehouse(root / name / "warehouse.duckdb", merge_bucket_rows=2)
        for night in order:
            write_snapshot(root / name, pages[night], reads[night])
            warehouse.load()
        results.append([warehouse.query(query) for query in derived])
    warehouse.rebuild()
    results.append([warehouse.query(query) for query in derived])
    assert results[0] == results[1] == results[2]
    seen: dict[str, list[tuple[str, dict]]] = {}
    for observation_id, records in zip(loads, nights):
        for number, record in records.items():
            seen.setdefault(f"task-{number}", []).append((observation_id, record))

    def full(record: dict) -> bool:
        extra = record.get("additional_data")
        return not (isinstance(extra, dict) and extra.get("from_mongodb") is True)

    # Each task as the rules say, night by night: how often and when it was seen, its latest
    # status and queue position, its richest error, its last record that was not a fallback.
    expected = {task_id: (
        len(records), records[0][0], records[-1][0], records[-1][1]["status"],
        records[-1][1].get("queue_position"),
        next((r["error"] for _, r in reversed(records) if r.get("error") is not None), None),
        max((night for night, r in records if full(r)), default=None))
        for task_id, records in seen.items()}
    assert {row[0]: row[1:] for row in warehouse.query(
        "SELECT task_id, snapshots, first_observation, last_observation, reported_status,"
        " queue_position, error, last_full_record_observation FROM tasks").rows} == expected
