from datetime import date, datetime, timezone

import orjson
import pyarrow as pa
import pytest

from mixpeek_tasks.snapshot.flatten import QUARANTINE_SCHEMA, TASK_SCHEMA, flatten_tasks

EXPORT_DATE = date(2026, 11, 23)
EXPORTED_AT = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)

BATCH_TASK = {
    "task_id": "2d322a05-3178-4eca-aac6-b82b0a0313aa",
    "task_type": "api_buckets_batches_process",
    "status": "IN_PROGRESS",
    "inputs": ["batch_xyz789"],
    "additional_data": {
        "batch_id": "btch_xyz789", "bucket_id": "bkt_products", "namespace_id": "ns_abc123",
        "job_id": "ray_job_123", "current_tier": 1, "total_tiers": 3, "object_count": 10000,
        "collection_ids": ["col_tier0", "col_tier1", "col_tier2"],
        "sample_object_ids": ["obj_001", "obj_002", "obj_003", "obj_004", "obj_005"],
    },
    "description": "Multi-tier batch processing task in progress (tier 1 of 3) with 10k objects",
}


def flat_rows(*records):
    return flatten_tasks(list(records), EXPORT_DATE, EXPORTED_AT).tasks.to_pylist()


def test_documented_batch_shape_lands_in_typed_columns():
    (row,) = flat_rows(BATCH_TASK)
    assert row["batch_id"] == "btch_xyz789"
    assert (row["current_tier"], row["total_tiers"], row["object_count"]) == (1, 3, 10000)
    assert row["collection_ids"] == ["col_tier0", "col_tier1", "col_tier2"]
    assert row["sample_object_ids"][4] == "obj_005"
    assert row["namespace_id"] == "ns_abc123" and row["job_id"] == "ray_job_123"
    assert row["from_mongodb"] is None and row["flatten_issues"] is None
    assert orjson.loads(row["additional_data_json"]) == BATCH_TASK["additional_data"]
    assert orjson.loads(row["inputs_json"]) == ["batch_xyz789"]
    assert orjson.loads(row["extra_json"]) == {"description": BATCH_TASK["description"]}
    assert row["export_date"] == EXPORT_DATE and row["exported_at"] == EXPORTED_AT


@pytest.mark.parametrize(
    "additional_data, column, expected",
    [
        ({"error": "Object obj_1 not found"}, "error", "Object obj_1 not found"),
        ({"error": "boom", "from_mongodb": True}, "from_mongodb", True),
        ({"job_id": "raysubmit_1"}, "job_id", "raysubmit_1"),
        ({"current_tier": None, "total_tiers": 2}, "current_tier", None),
        ({"object_count": "12"}, "object_count", 12),
        ({"object_count": 12.0}, "object_count", 12),
        ({"object_count": 2**40}, "object_count", 2**40),
        ({"duration_ms": 1500}, "duration_ms", 1500.0),
        ({"started_at": "2026-11-22T10:00:00Z"}, "started_at",
         datetime(2026, 11, 22, 10, tzinfo=timezone.utc)),
        ({"completed_at": "2026-11-22T12:00:00+02:00"}, "completed_at",
         datetime(2026, 11, 22, 10, tzinfo=timezone.utc)),
        ({"completed_at": 1763805600000}, "completed_at",
         datetime(2025, 11, 22, 10, tzinfo=timezone.utc)),
    ],
)
def test_additional_data_keys_are_typed(additional_data, column, expected):
    (row,) = flat_rows({**BATCH_TASK, "additional_data": additional_data})
    assert row[column] == expected
    assert row["flatten_issues"] is None


@pytest.mark.parametrize(
    "additional_data, column, issue",
    [
        ({"object_count": -1}, "object_count", "object_count: -1 is outside"),
        ({"object_count": 1e30}, "object_count",
         "object_count: 1000000000000000019884624838656 is outside"),
        ({"object_count": True}, "object_count", "object_count: expected a number, got a boolean"),
        ({"object_count": 1.5}, "object_count", "object_count: expected a whole number"),
        ({"total_tiers": "three"}, "total_tiers", "total_tiers: expected a number, got text"),
        ({"collection_ids": ["a", 1]}, "collection_ids", "collection_ids: list holds values"),
        ({"batch_id": {"nested": 1}}, "batch_id", "batch_id: expected text, got dict"),
        ({"started_at": "yesterday"}, "started_at", "started_at: not an ISO 8601 timestamp"),
        ({"from_mongodb": "yes"}, "from_mongodb", "from_mongodb: expected a boolean"),
    ],
)
def test_untypable_values_become_null_with_a_reason_and_stay_in_json(
        additional_data, column, issue):
    (row,) = flat_rows({**BATCH_TASK, "additional_data": additional_data})
    assert row[column] is None
    assert any(i.startswith(issue) for i in row["flatten_issues"]), row["flatten_issues"]
    assert orjson.loads(row["additional_data_json"]) == additional_data


def test_unknown_keys_statuses_and_types_are_kept():
    task = {"task_id": "t1", "task_type": "api_brand_new_thing", "status": "HIBERNATING",
            "created_at": "2026-11-20T08:00:00.123Z", "shiny_new_field": {"a": [1, 2]},
            "additional_data": {"never_seen_key": "x", "batch_id": "b1"}}
    (row,) = flat_rows(task)
    assert (row["task_type"], row["status"]) == ("api_brand_new_thing", "HIBERNATING")
    assert row["created_at"] == datetime(2026, 11, 20, 8, 0, 0, 123000, tzinfo=timezone.utc)
    assert orjson.loads(row["extra_json"]) == {"created_at": "2026-11-20T08:00:00.123Z",
                                               "shiny_new_field": {"a": [1, 2]}}
    assert orjson.loads(row["additional_data_json"])["never_seen_key"] == "x"


def test_top_level_error_wins_over_additional_data_error():
    (row,) = flat_rows({**BATCH_TASK, "status": "FAILED", "error": "short",
                        "additional_data": {"error": "long form"}})
    assert row["error"] == "short"


@pytest.mark.parametrize("additional_data", ["a string", [1, 2, 3]])
def test_additional_data_that_is_not_an_object_is_kept_as_json(additional_data):
    (row,) = flat_rows({**BATCH_TASK, "additional_data": additional_data})
    assert orjson.loads(row["additional_data_json"]) == additional_data
    assert row["batch_id"] is None
    assert row["flatten_issues"][0].startswith("additional_data is ")


@pytest.mark.parametrize(
    "record, reason",
    [
        ({"task_type": "thumbnail", "status": "COMPLETED"}, "task_id is missing"),
        ({"task_id": "", "task_type": "thumbnail", "status": "COMPLETED"}, "task_id is missing"),
        ({"task_id": 7, "task_type": "thumbnail", "status": "COMPLETED"}, "task_id is missing"),
        ({"task_id": "t", "status": "COMPLETED"}, "task_type is missing"),
        ({"task_id": "t", "task_type": "thumbnail", "status": None}, "status is missing"),
        ("just a string", "record is str, not an object"),
        (None, "record is NoneType, not an object"),
    ],
)
def test_records_that_cannot_be_rows_are_quarantined_with_reason(record, reason):
    page = flatten_tasks([record, BATCH_TASK], EXPORT_DATE, EXPORTED_AT)
    assert page.tasks.num_rows == 1
    (quarantined,) = page.quarantine.to_pylist()
    assert quarantined["reason"].startswith(reason)
    assert orjson.loads(quarantined["raw_json"]) == record


def test_repeated_task_id_in_a_page_keeps_the_first_and_quarantines_the_rest():
    later = {**BATCH_TASK, "status": "COMPLETED"}
    page = flatten_tasks([BATCH_TASK, later], EXPORT_DATE, EXPORTED_AT)
    assert page.tasks.column("status").to_pylist() == ["IN_PROGRESS"]
    assert page.quarantine.column("reason").to_pylist() == ["task_id repeated within one page"]
    assert page.quarantine.column("task_id").to_pylist() == [BATCH_TASK["task_id"]]


def test_schemas_are_explicit_and_empty_pages_keep_them():
    page = flatten_tasks([], EXPORT_DATE, EXPORTED_AT)
    assert page.tasks.schema == TASK_SCHEMA and page.tasks.num_rows == 0
    assert page.quarantine.schema == QUARANTINE_SCHEMA
    assert TASK_SCHEMA.field("object_count").type == pa.int64()
    assert TASK_SCHEMA.field("current_tier").type == pa.int32()
    assert TASK_SCHEMA.field("created_at").type == pa.timestamp("us", tz="UTC")
