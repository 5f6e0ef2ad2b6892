"""Property-based: arbitrary JSON tasks never crash the flattening or the load, and every
task_id that came in is found again, typed or quarantined."""

import json
from datetime import date, datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA, flatten_tasks
from pipelines.parquet_store import SnapshotWriter
from pipelines.warehouse import Warehouse

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
    tasks = SnapshotWriter(root, "tasks", EXPORT_DATE, TASK_SCHEMA)
    quarantine = SnapshotWriter(root, "task_quarantine", EXPORT_DATE, QUARANTINE_SCHEMA)
    typed_ids: set[str] = set()
    for page in page_list:
        flat = flatten_tasks(page, EXPORT_DATE, EXPORTED_AT)
        tasks.write(flat.tasks)
        quarantine.write(flat.quarantine)
        typed_ids.update(flat.tasks.column("task_id").to_pylist())
    warehouse = Warehouse(root / "warehouse.duckdb")
    warehouse.load_snapshot(EXPORT_DATE, tasks.commit(), quarantine.commit())
    landed = {row[0] for row in warehouse.query(
        "SELECT task_id FROM task_snapshots UNION SELECT task_id FROM task_quarantine"
        " WHERE task_id IS NOT NULL").rows}
    assert set().union(*map(wanted_ids, page_list)) <= landed
    counts = warehouse.query("SELECT (SELECT count(*) FROM task_snapshots),"
                             " (SELECT count(*) FROM task_quarantine)").rows[0]
    # A task listed on two pages keeps one row in task_snapshots: the load de-duplicates.
    assert counts == (len(typed_ids), quarantine.rows)
