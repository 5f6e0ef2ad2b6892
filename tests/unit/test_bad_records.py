"""The bad records a long-running export will meet, each kept: typed, or quarantined."""

import json
from datetime import date, datetime, timezone

import orjson
import pytest

from mixpeek_tasks.snapshot.flatten import flatten_tasks

EXPORT_DATE = date(2026, 11, 23)
EXPORTED_AT = datetime(2026, 11, 23, 2, tzinfo=timezone.utc)


def nested(levels: int) -> dict:
    value: dict = {"leaf": True}
    for level in range(levels):
        value = {f"level{level}": value}
    return value


@pytest.mark.parametrize(
    "additional_data",
    [
        nested(50),
        {"notes": "x" * 1_000_000, "batch_id": "b" * 1_000_000},
        {"k" * 10_000: 1, 'quote"key': 2, "semi;colon": 3, "with space": 4, "dot.ted": 5,
         "\u65e5\u672c\u8a9e": 6},
        {"collection_ids": ["a", 1, None, {"b": 2}], "sample_object_ids": "not a list"},
    ],
    ids=["50-levels", "1MB-strings", "odd-keys", "mixed-lists"],
)
def test_unusual_additional_data_lands_typed_with_everything_kept(additional_data):
    task = {"task_id": "t1", "task_type": "thumbnail", "status": "COMPLETED",
            "additional_data": additional_data}
    page = flatten_tasks([task], EXPORT_DATE, EXPORTED_AT)
    (row,) = page.tasks.to_pylist()
    assert page.quarantine.num_rows == 0
    assert orjson.loads(row["additional_data_json"]) == additional_data
    if isinstance(additional_data.get("batch_id"), str):
        assert row["batch_id"] == additional_data["batch_id"]


def test_a_whole_task_nested_past_what_orjson_writes_is_still_kept():
    task = {"task_id": "t1", "task_type": "thumbnail", "status": "COMPLETED",
            "additional_data": nested(400)}
    (row,) = flatten_tasks([task], EXPORT_DATE, EXPORTED_AT).tasks.to_pylist()
    assert json.loads(row["additional_data_json"]) == nested(400)


@pytest.mark.parametrize("column", ["duration_ms", "created_at", "object_count"])
def test_integers_past_any_column_type_are_issues_not_crashes(column):
    task = {"task_id": "t1", "task_type": "thumbnail", "status": "COMPLETED",
            "additional_data": {column: 10**400}}
    (row,) = flatten_tasks([task], EXPORT_DATE, EXPORTED_AT).tasks.to_pylist()
    assert row[column] is None
    assert row["flatten_issues"][0].startswith(f"{column}: ")
